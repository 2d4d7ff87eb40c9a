package sippnp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
)

// sippBinary finds sipp (Debian package sip-tester); missing, the test is
// skipped, except in CI where it fails.
func sippBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sipp missing in CI: .ci/run must install sip-tester")
		}
		t.Skip("sipp not installed (apt-get install sip-tester)")
	}
	return bin
}

// runSIPp plays testdata/pnp_uac.xml against target, expecting the NOTIFY
// body to be want; it returns sipp's error (nil on exit status 0).
func runSIPp(t *testing.T, target, want string) ([]byte, error) {
	t.Helper()
	bin := sippBinary(t)
	xml, err := os.ReadFile(filepath.Join("testdata", "pnp_uac.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	scen := filepath.Join(dir, "pnp_uac.xml")
	quoted := strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;").Replace(regexp.QuoteMeta(want))
	if err := os.WriteFile(scen, []byte(strings.Replace(string(xml), "@WANT_URL@", quoted, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-sf", scen, "-m", "1", "-l", "1", "-i", "127.0.0.1",
		"-p", looptest.FreePort(t, "udp"), "-t", "u1", "-nostdin", "-timeout", "20s", "-timeout_error",
		"-recv_timeout", "10000", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"), "-trace_logs", "-log_file", filepath.Join(dir, "actions.log"), target)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	for _, f := range []string{"errors.log", "actions.log"} {
		if b, rerr := os.ReadFile(filepath.Join(dir, f)); rerr == nil {
			out = append(out, b...)
		}
	}
	return out, err
}

// startUnicast serves on a loopback unicast socket until the test ends.
func startUnicast(t *testing.T, rec Recorder) (*Conns, *syncBuf) {
	t.Helper()
	logs := &syncBuf{}
	return serveLoopback(t, Config{Recorder: rec, Log: slogTo(logs)}), logs
}

// TestSIPp drives the real server socket (unicast mode on loopback) with
// the real sipp client: SUBSCRIBE, 200 OK, NOTIFY with the URL, 200 OK.
func TestSIPp(t *testing.T) {
	sippBinary(t)
	rec := &fakeRecorder{}
	conns, logs := startUnicast(t, rec)
	out, err := runSIPp(t, conns.Recv.LocalAddr().String(), "http://prov.test/prov/")
	if err != nil {
		t.Fatalf("sipp failed: %v\n%s\nserver log:\n%s", err, out, logs.String())
	}
	calls := rec.calls()
	if len(calls) != 1 || calls[0].MAC != "001565f4f9e1" || calls[0].UserAgent != "Yealink W52P 25.81.0.10" ||
		calls[0].RemoteAddr != "127.0.0.1" || calls[0].Transport != "sip" {
		t.Errorf("recorded %+v", calls)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "phone accepted the provisioning URL") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not see sipp's 200 OK to the NOTIFY:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIPpCanFail: the scenario fails when the NOTIFY carries another URL.
func TestSIPpCanFail(t *testing.T) {
	sippBinary(t)
	conns, logs := startUnicast(t, &fakeRecorder{})
	out, err := runSIPp(t, conns.Recv.LocalAddr().String(), "http://elsewhere.test/")
	if err == nil {
		t.Fatalf("sipp accepted a NOTIFY with the wrong URL:\n%s", out)
	}
	if !strings.Contains(string(out), "Failed regexp match") || !strings.Contains(logs.String(), "SUBSCRIBE answered") {
		t.Errorf("sipp failed for another reason:\n%s\nserver log:\n%s", out, logs.String())
	}
}
