package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportExportCLI: "autoprov import" reports the bad line by number
// and writes nothing, imports the fixed file, "autoprov export" gives the
// rows back without a password; first on the data directory, then through
// the server running on it.
func TestImportExportCLI(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	sheet := "mac,model,label,extension,display_name,password\n" +
		"80-5E-C0-AA-BB-01,T54W,Desk 1,201,Alice,Typed-pass-201\n" +
		"80-5E-C0-AA-BB-02,T99,Desk 2,202,Bob,\n" +
		",,,203,Carol,\n"
	file := filepath.Join(dir, "phones.csv")
	if err := os.WriteFile(file, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(cmd func(context.Context, []string, func(string) (string, bool), *bytes.Buffer, *bytes.Buffer) error, env map[string]string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := cmd(context.Background(), args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errOut)
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, errOut.String())
		}
		return out.String(), err
	}
	imp := func(ctx context.Context, a []string, l func(string) (string, bool), o, e *bytes.Buffer) error {
		return importCommand(ctx, a, l, o, e)
	}
	exp := func(ctx context.Context, a []string, l func(string) (string, bool), o, e *bytes.Buffer) error {
		return exportCommand(ctx, a, l, o, e)
	}
	out, err := run(imp, nil, file, "--dry-run", "--data", data)
	if err == nil || !strings.Contains(out, "phones.csv:3: model: unknown model \"T99\"") {
		t.Fatalf("dry run of the bad file: %v\n%s", err, out)
	}
	if out, err := run(imp, nil, file, "--data", data); err == nil || !strings.Contains(out, ":3:") {
		t.Fatalf("import of the bad file: %v\n%s", err, out)
	}
	if out, err := run(exp, nil, "--data", data); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("a refused import wrote something: %v\n%s", err, out)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(sheet, "T99", "T57W", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(imp, nil, "--data", data, file)
	if err != nil || !strings.Contains(out, "accounts 3 created, 0 updated; devices 2 created") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	want := "mac,vendor,model,label,key_profile,extension,display_name,auth_user,password\n" +
		"80:5e:c0:aa:bb:01,yealink,T54W,Desk 1,,201,Alice,201,\n" +
		"80:5e:c0:aa:bb:02,yealink,T57W,Desk 2,,202,Bob,202,\n" +
		",,,,,203,Carol,203,\n"
	out, err = run(exp, nil, "--data", data)
	if err != nil || out != want {
		t.Fatalf("export: %v\n%s\nwant:\n%s", err, out, want)
	}

	// Through the running server (its token from the environment).
	s := startWith(t, data)
	env := map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken}
	if out, err := run(exp, env, "--server", s.base, "--data", data); err != nil || out != want {
		t.Fatalf("export --server: %v\n%s", err, out)
	}
	if err := os.WriteFile(file, []byte("mac,model,extension\n805ec0aabb03,T54W,204\n805ec0aabb04,Nope,205\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(imp, env, file, "--server", s.base, "--data", data); err == nil || !strings.Contains(out, "phones.csv:3: model:") {
		t.Fatalf("import --server of a bad file: %v\n%s", err, out)
	}
	outFile := filepath.Join(dir, "out.csv")
	if _, err := run(exp, env, "--server", s.base, "--data", data, "--out", outFile); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outFile); string(b) != want || strings.Contains(string(b), "Typed-pass") {
		t.Fatalf("--out: %s", b)
	}
}

// TestDHCPConfigCLI: the snippet for dnsmasq passes dnsmasq's own check.
func TestDHCPConfigCLI(t *testing.T) {
	var out, errOut bytes.Buffer
	env := map[string]string{"AUTOPROV_PUBLIC_URL": "http://prov.example.com:8080/"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := dhcpConfigCommand([]string{"--server", "dnsmasq", "--tftp", "192.0.2.10"}, lookup, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	if !strings.Contains(out.String(), `dhcp-option=tag:yealink,66,"http://prov.example.com:8080/prov/"`) {
		t.Fatalf("%s", out.String())
	}
	if err := dhcpConfigCommand([]string{"--server", "bind"}, lookup, &out, &errOut); err == nil || !strings.Contains(err.Error(), "isc, kea") {
		t.Fatalf("unknown server: %v", err)
	}
	if err := dhcpConfigCommand([]string{"--server", "isc"}, func(string) (string, bool) { return "", false }, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Fatalf("no URL: %v", err)
	}
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/dnsmasq"); err != nil {
			t.Skip("dnsmasq not installed")
		}
		bin = "/usr/sbin/dnsmasq"
	}
	out.Reset()
	if err := dhcpConfigCommand([]string{"--server", "dnsmasq", "--url", "http://10.0.0.5:8080/prov/"}, lookup, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(t.TempDir(), "dnsmasq.conf")
	if err := os.WriteFile(cf, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "--test", "--conf-file="+cf).CombinedOutput(); err != nil {
		t.Fatalf("dnsmasq --test: %v\n%s", err, b)
	}
}
