package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// unitDirectives reads docs/autoprov.service: every Key=value of the
// unit, in order (a key may repeat).
func unitDirectives(t *testing.T) [][2]string {
	t.Helper()
	f, err := os.Open("../../docs/autoprov.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not a directive: %q", line)
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// TestSystemdUnit: docs/autoprov.service passes "systemd-analyze verify"
// without a single warning, scores as well hardened by "systemd-analyze
// security" (exposure at most 2.5 of 10), and holds what the README
// promises: its own user, the data directory as its state directory, only
// CAP_NET_BIND_SERVICE and CAP_NET_RAW, ProtectSystem=strict; its
// environment is one the server accepts.
func TestSystemdUnit(t *testing.T) {
	ds := unitDirectives(t)
	get := func(k string) []string {
		var vs []string
		for _, d := range ds {
			if d[0] == k {
				vs = append(vs, d[1])
			}
		}
		return vs
	}
	for k, want := range map[string]string{
		"ProtectSystem": "strict", "DynamicUser": "yes", "User": "autoprov", "StateDirectory": "autoprov",
		"NoNewPrivileges": "yes", "ExecStart": "/usr/local/bin/autoprov serve",
		"AmbientCapabilities": "CAP_NET_BIND_SERVICE CAP_NET_RAW", "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE CAP_NET_RAW",
	} {
		if got := get(k); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	env := map[string]string{}
	for _, e := range get("Environment") {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	if env["AUTOPROV_DATA"] != "/var/lib/autoprov" {
		t.Errorf("AUTOPROV_DATA = %q, want the state directory /var/lib/autoprov", env["AUTOPROV_DATA"])
	}
	if _, err := parse([]string{"serve"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, os.Stderr); err != nil {
		t.Errorf("the unit's environment does not parse: %v", err)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		skipOrFail(t, "systemd-analyze not installed (apt-get install systemd)")
	}
	// verify wants ExecStart's binary to exist: the test binary stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../docs/autoprov.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "autoprov.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(src), "/usr/local/bin/autoprov", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", unit).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		// verify exits 0 on an unknown key or a bad value and only warns:
		// any output is a failure.
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, analyze, "security", "--offline=yes", "--threshold=25", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.5 (%v):\n%s", err, out)
	}
}
