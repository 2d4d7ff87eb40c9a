package gigaset

import (
	"bytes"
	"testing"
)

func TestExport(t *testing.T) {
	var b bytes.Buffer
	err := Export(&b, []Entry{{MAC: "7c2f80aabb01", Code: "x1y2"}, {MAC: "7c2f80aabb02"}}, "https://prov.example.com/prov/r/gigaset/", "Example Telecom")
	if err != nil {
		t.Fatal(err)
	}
	want := "mac_id,url,provider\n" +
		"7C2F80AABB01-X1Y2,https://prov.example.com/prov/r/gigaset/%MACD.xml,Example Telecom\n" +
		"7C2F80AABB02-,https://prov.example.com/prov/r/gigaset/%MACD.xml,Example Telecom\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
