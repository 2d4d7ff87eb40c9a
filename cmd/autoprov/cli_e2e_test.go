package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIWriteReachesRunningServer: "autoprov firmware add" run against
// the data directory of a server that is running (not through its API)
// is seen by that server at once: the API lists the image, phones can
// download it, and a model target can name it.
func TestCLIWriteReachesRunningServer(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data)
	var before struct{ Total int }
	s.must(200, "GET", "/api/v1/firmware", nil, &before)

	img, want := randomImage(t, 50000)
	file := filepath.Join(t.TempDir(), "T54W-96.86.0.120.rom")
	if err := os.WriteFile(file, img, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := firmwareCommand(context.Background(), []string{"add", file, "--data", data, "--vendor", "yealink", "--models", "T54W", "--version", "96.86.0.120"},
		func(string) (string, bool) { return "", false }, &out, &errOut); err != nil {
		t.Fatalf("firmware add beside the server: %v\n%s", err, errOut.String())
	}
	var list struct {
		Total int
		Items []struct{ Version string }
	}
	s.must(200, "GET", "/api/v1/firmware?vendor=yealink", nil, &list)
	if list.Total != before.Total+1 || len(list.Items) == 0 || list.Items[0].Version != "96.86.0.120" {
		t.Fatalf("the running server does not list the CLI's image: %+v", list)
	}
	if code, got, _ := s.get("/firmware/"+want[:16]+"/T54W-96.86.0.120.rom", ""); code != 200 || sum(got) != want {
		t.Fatalf("the running server does not serve the CLI's image: %d", code)
	}
	s.must(200, "PUT", "/api/v1/models/yealink/T54W/firmware", map[string]any{"version": "96.86.0.120"}, nil)
}

// TestCLIBuilt: the real binary, linked with a version, answers
// "version", "help" and "--help" of every command (exit 0, a usage line,
// on its standard output or error), and an unknown command fails.
func TestCLIBuilt(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot build the binary")
	}
	bin := filepath.Join(t.TempDir(), "autoprov")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goBin, "build", "-ldflags", "-X main.buildVersion=9.8.7-test", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = []string{"HOME=" + work, "PATH=/usr/bin:/bin"}
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("version"); err != nil || !strings.HasPrefix(out, "autoprov 9.8.7-test go1.") {
		t.Errorf("version: %v %q", err, out)
	}
	out, err := run("help")
	if err != nil {
		t.Fatalf("help: %v %s", err, out)
	}
	for _, c := range append([]string{"serve"}, commandList()...) {
		if !strings.Contains(out, "\n  "+c+" ") || summaries[c] == "" || !strings.Contains(out, summaries[c]) {
			t.Errorf("help does not list %s with its summary:\n%s", c, out)
		}
		got, err := run(c, "--help")
		if err != nil || !strings.Contains(got, "usage: autoprov") {
			t.Errorf("%s --help: %v\n%s", c, err, got)
		}
	}
	if out, err := run("frobnicate"); err == nil || !strings.Contains(out, "unknown command") {
		t.Errorf("an unknown command: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(work, "data")); err == nil {
		t.Error("a --help created the data directory ./data")
	}
}

// commandList is the names of the commands in the table.
func commandList() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// TestServerRefusesDuringRestore: while a restore holds the data
// directory, a server does not start on it; once it is done, one does.
func TestServerRefusesDuringRestore(t *testing.T) {
	data := t.TempDir()
	unlock, err := lockData(data, true) // what restore holds
	if err != nil {
		t.Fatal(err)
	}
	_, err = runAutoprov(t, map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken}, "serve", "--data", data, "--http", "127.0.0.1:0", "--tftp", "")
	if err == nil || !strings.Contains(err.Error(), "running") {
		t.Fatalf("a server started during a restore: %v", err)
	}
	unlock()
	startWith(t, data)
}

// TestRunLockUnopenable: a data directory whose run lock cannot be opened
// (here a directory in its place; a read-only file system answers the
// same way) stops the server with one message naming --data, and restore
// with the reason, not "stop it first" (no server is running).
func TestRunLockUnopenable(t *testing.T) {
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "autoprov.lock"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := func(string) (string, bool) { return "", false }
	err := run(context.Background(), []string{"serve", "--data", data, "--http", "127.0.0.1:0", "--tftp", ""}, env, io.Discard, nil)
	if err == nil || strings.Count(err.Error(), "(--data)") != 1 {
		t.Errorf("serve: %v; want one mention of --data", err)
	}
	err = run(context.Background(), []string{"restore", "--data", data, filepath.Join(data, "none.tar")}, env, io.Discard, nil)
	if err == nil || strings.Contains(err.Error(), "stop it first") || !strings.Contains(err.Error(), "autoprov.lock") {
		t.Errorf("restore: %v; want the lock file's error, without \"stop it first\"", err)
	}
}

// TestCommandsNeedTheirData: a maintenance command given a data directory
// that does not exist (a typo in --data) says so and creates nothing:
// import used to make a new keyring and database there and import into
// them, export to print an empty inventory. A command given --server
// leaves the working directory alone (it made ./data).
func TestCommandsNeedTheirData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	sheet := filepath.Join(t.TempDir(), "one.csv")
	if err := os.WriteFile(sheet, []byte("mac,model,extension\n80:5e:c0:aa:bb:01,T54W,201\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"import", "--data", missing, sheet},
		{"export", "--data", missing},
		{"firmware", "list", "--data", missing},
		{"backup", "--data", missing, filepath.Join(t.TempDir(), "b.tar")},
		{"rotate-key", "--data", missing},
	} {
		log, err := runAutoprov(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("%v: %v\n%s\nwant an error naming %s", args, err, log, missing)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v created %s (%v)", args, missing, err)
		}
	}

	// firmware add may be a data directory's first use: it makes it.
	fresh := filepath.Join(t.TempDir(), "new")
	image := filepath.Join(t.TempDir(), "T54W-96.86.0.100.rom")
	if err := os.WriteFile(image, []byte("firmware image"), 0o600); err != nil {
		t.Fatal(err)
	}
	if log, err := runAutoprov(t, nil, "firmware", "add", "--data", fresh, "--vendor", "yealink", "--models", "T54W", "--version", "96.86.0.100", image); err != nil {
		t.Fatalf("firmware add on a new data directory: %v\n%s", err, log)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("firmware add made no private data directory: %v", err)
	}

	// PostgreSQL with the key in the environment uses nothing of --data:
	// the database's own error, not the directory's.
	pg := map[string]string{"AUTOPROV_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	if _, err := runAutoprov(t, pg, "export", "--data", missing, "--db", "postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"); err == nil || strings.Contains(err.Error(), "data directory") {
		t.Errorf("export on PostgreSQL with AUTOPROV_SECRET_KEY: %v, want the database's error", err)
	}

	t.Chdir(t.TempDir())
	env := map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken}
	for _, args := range [][]string{
		{"export", "--server", "http://127.0.0.1:1"},
		{"firmware", "list", "--server", "http://127.0.0.1:1"},
	} {
		if _, err := runAutoprov(t, env, args...); err == nil {
			t.Errorf("%v: no error from a server that is not there", args)
		}
		if _, err := os.Stat("data"); !os.IsNotExist(err) {
			t.Fatalf("%v made ./data (%v)", args, err)
		}
	}
}
