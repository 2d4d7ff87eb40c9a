package snom

import (
	"strings"
	"testing"
)

func TestRedirect(t *testing.T) {
	d := newSnom()
	f, ok := d.Redirect("000413AABBCC.xml", "https://other.example.com/prov/?a=1&b=2")
	if !ok || !strings.Contains(string(f.Body), `<setting_server perm="RW">https://other.example.com/prov/?a=1&amp;b=2</setting_server>`) {
		t.Fatalf("%v %q", ok, f)
	}
	if _, ok := d.Redirect("805ec0aabb01.cfg", "https://other.example.com/"); ok {
		t.Fatal("a Yealink name redirected")
	}
}
