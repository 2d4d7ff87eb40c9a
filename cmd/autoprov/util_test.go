package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// skipOrFail skips a test that lacks a tool or privilege, except in CI (CI
// set), where .ci/run must provide it and the test fails instead.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("in CI: "+format+" (.ci/run must provide it)", args...)
	}
	t.Skipf(format, args...)
}

// waitFor calls cond until it reports true, and fails the test with msg
// (and cond's last word, when it gave one) if that takes longer than
// timeout. cond runs on the test's goroutine, so it may use t.Fatal.
func waitFor(t testing.TB, timeout time.Duration, cond func() (bool, string), msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if last != "" {
				msg = fmt.Sprintf("%s (last: %s)", msg, last)
			}
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(delay)
	}
}
