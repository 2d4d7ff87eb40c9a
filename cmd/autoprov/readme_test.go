package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
)

// readmeBlock returns the first ```sh block after the line heading in
// README.md.
func readmeBlock(t *testing.T, readme, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatalf("README.md has no sh block under %q", heading)
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatalf("README.md: the sh block under %q does not end", heading)
	}
	return block
}

// pasteReadme runs a README block in bash as a reader pastes it (set -e:
// every command must succeed) in dir, with this test binary for `go run
// ./cmd/autoprov`, after replacing each old (which must be there) with its
// new (free ports for the documented ones); what was started in the
// background is stopped and waited for at the end. It returns stdout and
// stderr; a failure ends the test with both.
func pasteReadme(t *testing.T, name, script, dir string, subst []struct{ old, new string }) (string, string) {
	t.Helper()
	subst = append(subst, struct{ old, new string }{"go run ./cmd/autoprov ", `"$AUTOPROV_TEST_BINARY" `})
	// All at once: one after the other, a free port put in for one
	// documented port could be another documented port (the Sites block's
	// 28443 and 29080 are in FreePort's range) and be replaced again.
	var pairs []string
	for _, r := range subst {
		if !strings.Contains(script, r.old) {
			t.Fatalf("README's %s block no longer has %q; update this test with it:\n%s", name, r.old, script)
		}
		pairs = append(pairs, r.old, r.new)
	}
	script = strings.NewReplacer(pairs...).Replace(script)
	script = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n" + script
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	env := []string{"AUTOPROV_E2E_CHILD=1", "AUTOPROV_TEST_BINARY=" + os.Args[0]}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTOPROV_") { // no token, no database from the caller
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("README's %s block failed when pasted: %v\nscript:\n%s\nstdout:\n%s\nstderr:\n%s", name, err, script, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestReadmeQuickStart pastes README's Quick start, then its keys example,
// into bash as a reader would (set -e: every command must succeed), in a
// fresh directory, with this test binary for `go run ./cmd/autoprov` and
// free ports for the documented ones. The phone's first HTTP fetch must
// carry the password, the one with its credential the file without it,
// the TFTP one the common file, and the keys land. Then the admin's tools:
// DHCP snippets (checked by dnsmasq), the CSV import with its bad line,
// replacing a phone, and the PBX side of an account.
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "dnsmasq"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, "%s not installed", tool)
		}
	}
	tftpClient(t)
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	script := readmeBlock(t, readme, "## Quick start") + readmeBlock(t, readme, "## Admin REST API") + readmeBlock(t, readme, "### Bulk changes") + readmeBlock(t, readme, "## Resync: fetch your config now") +
		readmeBlock(t, readme, "### DHCP snippets") + readmeBlock(t, readme, "### CSV import and export") +
		readmeBlock(t, readme, "### Replace a phone") + readmeBlock(t, readme, "### The PBX side of an account")
	httpPort, tftpPort := looptest.FreePort(t, "tcp"), looptest.FreePort(t, "udp")
	dir := t.TempDir()
	out, stderr := pasteReadme(t, "Quick start", script, dir, []struct{ old, new string }{
		{"127.0.0.1:18080", "127.0.0.1:" + httpPort},
		{"127.0.0.1 16969", "127.0.0.1 " + tftpPort},
		{"127.0.0.1:16969", "127.0.0.1:" + tftpPort},
	})
	// The PBX side: 201's generated password revealed, and as PJSIP.
	if !regexp.MustCompile(`(?:^|[}\n])201 \S{12,}\n`).MatchString(out) {
		t.Errorf("the pasted PBX example revealed no password of 201:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "pjsip_autoprov.conf")); err != nil || !strings.Contains(string(b), "[201]") {
		t.Errorf("the pasted PBX example wrote no PJSIP endpoint 201: %v\n%s", err, b)
	}
	for _, want := range []string{`"sip_server":"pbx.example.com"`, `"extension":"201"`,
		"account.1.user_name = 201", "account.1.password = ", `"type":"speed_dial","value":"5551234"`,
		`"dry_run":true`, `"created_keys":["805ec0aabb02","805ec0aabb03"],"updated_keys":["805ec0aabb01"]`, `"total":1`,
		`{"mac":"805ec0aabb01","status":"sent","detail":"`, `"results":[`,
		// DHCP snippets, the CSV dry run's bad line, the replaced phone.
		"option vendor-class-identifier", `"errors":[{"line":4,"field":"model"`, `"mac":"805ec0aabb44"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the pasted Quick start printed no %q:\n%s", want, out)
		}
	}
	// Both HTTP fetches print the account, only the first its password.
	if n, p := strings.Count(out, "account.1.user_name = 201"), strings.Count(out, "account.1.password = "); n != 2 || p != 1 {
		t.Errorf("the pasted Quick start printed the account %d times and its password %d times, want 2 and 1:\n%s", n, p, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "y000000000096.cfg"))
	if err != nil || !bytes.Contains(got, []byte("static.auto_provision.server.url = ")) || bytes.Contains(got, []byte("account.1")) {
		t.Errorf("the TFTP fetch (%v) should get the common file:\n%s\nstderr:\n%s", err, got, stderr)
	}
	if !strings.Contains(stderr, "provisioning credential applied") {
		t.Errorf("the second fetch did not present the credential:\n%s", stderr)
	}
	if tok, err := os.ReadFile(filepath.Join(dir, "demo-data", "admin-token")); err != nil || len(strings.TrimSpace(string(tok))) < 32 {
		t.Errorf("demo-data/admin-token: %v %q", err, tok)
	}
	if !strings.Contains(stderr, "autoprov stopped") {
		t.Errorf("the server did not stop cleanly:\n%s", stderr)
	}
}
