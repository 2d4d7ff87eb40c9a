package cisco

import (
	"bytes"
	"testing"
)

func TestExport(t *testing.T) {
	var b bytes.Buffer
	if err := Export(&b, []string{"00562b0a0b0c", "cc5a53aabbcc"}); err != nil {
		t.Fatal(err)
	}
	if want := "MAC Address\n00562B0A0B0C\nCC5A53AABBCC\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	if got := ProfileRule("https://prov.example.com/prov/r/cisco/"); got != "https://prov.example.com/prov/r/cisco/$MA.cfg" {
		t.Fatal(got)
	}
}
