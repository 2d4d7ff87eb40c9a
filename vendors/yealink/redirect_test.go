package yealink

import "testing"

func TestRedirect(t *testing.T) {
	d := newDriver(t)
	for path, want := range map[string]string{
		"805ec0aabb01.cfg":  "#!version:1.0.0.1\nstatic.auto_provision.server.url = https://other.example.com/prov/\n",
		"y000000000096.cfg": "#!version:1.0.0.1\nstatic.auto_provision.server.url = https://other.example.com/prov/\n",
		"805EC0AABB01.boot": "#!version:1.0.0.1\ninclude:config \"https://other.example.com/prov/805ec0aabb01.cfg\"\noverwrite_mode = 1\n",
	} {
		f, ok := d.Redirect(path, "https://other.example.com/prov/")
		if !ok || string(f.Body) != want {
			t.Errorf("%s: %v %q, want %q", path, ok, f, want)
		}
	}
	for _, path := range []string{"y000000000000.boot", "805ec0aabb01-local.cfg", "snomD785.htm"} {
		if _, ok := d.Redirect(path, "https://other.example.com/prov/"); ok {
			t.Errorf("%s: redirected", path)
		}
	}
}
