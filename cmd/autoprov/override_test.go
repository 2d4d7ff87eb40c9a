package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
)

// TestTemplateOverride: a file in <data>/templates/<vendor>/ replaces the
// embedded template of that name; an override that would leak a secret
// outside the window is caught, and the phone gets a 404 instead.
func TestTemplateOverride(t *testing.T) {
	data := t.TempDir()
	sub, err := templates.FS("yealink")
	if err != nil {
		t.Fatal(err)
	}
	origB, err := fs.ReadFile(sub, "device.cfg.tmpl")
	orig := string(origB)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "templates", "yealink")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	custom := strings.Replace(orig, "{{template \"settings\" .}}", "{{template \"settings\" .}}\nfeatures.custom_by_admin = 1", 1)
	writeFile(t, filepath.Join(dir, "device.cfg.tmpl"), custom)

	s := startWith(t, data)
	setup(s, "805ec0aabb01", "T54W")
	code, body, _ := s.get("/prov/805ec0aabb01.cfg", yealinkUA)
	if code != 200 || !bytes.Contains(body, []byte("features.custom_by_admin = 1")) || !bytes.Contains(body, []byte(sipPass)) {
		t.Fatalf("override not used: %d\n%s", code, body)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// A careless override that prints the password whatever WithSecrets says.
	leaky := strings.Replace(orig, "{{template \"settings\" .}}", "{{template \"settings\" .}}\n{{range .Accounts}}# {{.Password}}{{end}}", 1)
	writeFile(t, filepath.Join(dir, "device.cfg.tmpl"), leaky)
	s2 := startWith(t, data)
	// The phone presents the credential its complete secrets transfer gave it.
	if code, body, _ := s2.getAs("/prov/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", credentialOf(t, body)); code != 404 || bytes.Contains(body, []byte(sipPass)) {
		t.Fatalf("leaky override served: %d\n%s", code, body)
	}
	if !strings.Contains(s2.log.String(), "missing WithSecrets guard") {
		t.Errorf("the refusal is not explained in the log:\n%s", s2.log.String())
	}

	// A broken override stops start-up with a message naming the file.
	writeFile(t, filepath.Join(dir, "device.cfg.tmpl"), "{{ .Broken")
	err = run(t.Context(), []string{"--data", data, "--http", "127.0.0.1:0", "--tftp", ""}, func(string) (string, bool) { return "", false }, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "device.cfg.tmpl") {
		t.Fatalf("broken override: err = %v", err)
	}
}
