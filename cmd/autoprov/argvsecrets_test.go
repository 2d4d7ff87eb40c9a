package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/internal/looptest"
)

// argvWarning is the warning's message, as slog's text handler quotes it.
const argvWarning = `msg="a secret was given on the command line`

// runBinary runs this test binary as the real autoprov with args and env
// until it exits, and returns what it wrote to stderr.
func runBinary(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "AUTOPROV_E2E_CHILD=1", "AUTOPROV_ADMIN_TOKEN="+testToken, "AUTOPROV_SECRET_KEY="+testFleetKey), env...)
	var out strings.Builder
	cmd.Stderr = &out
	_ = cmd.Run() // the database is unreachable: it fails, after the warning
	return out.String()
}

// TestSecretOnCommandLineWarned: a secret given as a flag is in the
// process's command line, which every local user can read; the server and
// the commands warn at start, naming the flag and its environment variable
// (never the secret), and say nothing when it comes from the environment.
func TestSecretOnCommandLineWarned(t *testing.T) {
	const pw = "Db-Argv-Pw-0123"
	dsn := "postgres://autoprov:" + pw + "@127.0.0.1:1/fleet?sslmode=disable&connect_timeout=2"
	base := []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", ""}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		warn bool
	}{
		{"serve --db", nil, append(append([]string{"serve"}, base...), "--db", dsn), true},
		{"serve AUTOPROV_DB", []string{"AUTOPROV_DB=" + dsn}, append([]string{"serve"}, base...), false},
		{"serve --db key=value", nil, append(append([]string{"serve"}, base...), "--db", "host=127.0.0.1 port=1 password = "+pw+" connect_timeout=2"), true},
		{"serve --db without a password", []string{"PGPASSWORD=" + pw}, append(append([]string{"serve"}, base...), "--db", "postgres://autoprov@127.0.0.1:1/fleet?connect_timeout=2"), false},
		{"export --db", nil, []string{"export", "--data", t.TempDir(), "--db", dsn}, true},
	} {
		out := runBinary(t, c.env, c.args...)
		if strings.Contains(out, pw) {
			t.Fatalf("%s: the password is in the output:\n%s", c.name, out)
		}
		warned := strings.Contains(out, argvWarning) && strings.Contains(out, "flag=--db env=AUTOPROV_DB")
		if warned != c.warn || strings.Count(out, argvWarning) > 1 {
			t.Fatalf("%s: warned %v, want %v:\n%s", c.name, warned, c.warn, out)
		}
	}

	// A site's enrolment token: the server starts (the central is not
	// there), warning when the token was a flag.
	const token = "enrol-argv-token-0123456789"
	site := []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", "", "--central", "https://127.0.0.1",
		"--central-ports", looptest.FreePort(t, "tcp"), "--site-id", "s-1"}
	flagged := startChild(t, append(site, "--enroll-token", token)...)
	flagged.stop(t)
	if out := flagged.log.String(); !strings.Contains(out, argvWarning) || !strings.Contains(out, "flag=--enroll-token env=AUTOPROV_ENROLL_TOKEN") || strings.Contains(out, token) {
		t.Fatalf("--enroll-token: no warning, or the token in the log:\n%s", out)
	}
	site[1] = t.TempDir()
	fromEnv := startChildEnv(t, []string{"AUTOPROV_ADMIN_TOKEN=" + testToken, "AUTOPROV_SECRET_KEY=" + testFleetKey, "AUTOPROV_ENROLL_TOKEN=" + token}, site...)
	fromEnv.stop(t)
	if out := fromEnv.log.String(); strings.Contains(out, argvWarning) || strings.Contains(out, token) {
		t.Fatalf("AUTOPROV_ENROLL_TOKEN: a warning, or the token in the log:\n%s", out)
	}
}

// TestUsageHidesEnvSecret: flag's usage text (on -h, and after a bad flag:
// a service's output is its log) shows each flag's default, which for
// --db is AUTOPROV_DB's value; a DSN with a password is shown without it,
// for the server and for the commands.
func TestUsageHidesEnvSecret(t *testing.T) {
	const pw = "Db-Usage-Pw-0123"
	lookup := func(k string) (string, bool) {
		if k == "AUTOPROV_DB" {
			return "postgres://autoprov:" + pw + "@db.example.com/fleet", true
		}
		return "", false
	}
	for _, args := range [][]string{{"--no-such-flag"}, {"-h"}} {
		var out strings.Builder
		if _, err := parse(args, lookup, &out); err == nil {
			t.Fatalf("serve %v: no error", args)
		}
		var cmdOut strings.Builder
		if _, _, err := cmdFlags("export", args, lookup, &cmdOut, 0, nil); err == nil {
			t.Fatalf("export %v: no error", args)
		}
		for name, o := range map[string]string{"serve": out.String(), "export": cmdOut.String()} {
			if strings.Contains(o, pw) || !strings.Contains(o, "-db") || !strings.Contains(o, "db.example.com") {
				t.Fatalf("%s %v: the password in the usage, or no --db default:\n%s", name, args, o)
			}
		}
	}
}
