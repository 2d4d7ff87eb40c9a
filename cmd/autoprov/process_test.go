package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary run as the real server in a child process
// (AUTOPROV_E2E_CHILD=1), so tests can start several processes and signal them.
func TestMain(m *testing.M) {
	if os.Getenv("AUTOPROV_E2E_CHILD") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is a server process.
type child struct {
	cmd  *exec.Cmd
	base string
	log  *syncBuffer
	done chan error
}

// testFleetKey is the secret keyring the server processes of one test
// share, as the instances of a fleet share theirs (32 bytes, base64).
const testFleetKey = "YXV0b3Byb3YtdGVzdC1mbGVldC1rZXktMzItYnl0ZXM="

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	return startChildEnv(t, []string{"AUTOPROV_ADMIN_TOKEN=" + testToken, "AUTOPROV_SECRET_KEY=" + testFleetKey}, args...)
}

func startChildEnv(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(append(os.Environ(), "AUTOPROV_E2E_CHILD=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: &syncBuffer{}, done: make(chan error, 1)}
	started := make(chan string, 1)
	re := regexp.MustCompile(`autoprov started"? http=(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			c.log.Write([]byte(line + "\n"))
			if m := re.FindStringSubmatch(line); m != nil {
				started <- m[1]
			}
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	select {
	case addr := <-started:
		c.base = "http://" + addr
	case <-time.After(30 * time.Second):
		t.Fatalf("child did not start:\n%s", c.log.String())
	}
	return c
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, c.log.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit 20 s after SIGTERM\n%s", c.log.String())
	}
	if !strings.Contains(c.log.String(), "autoprov stopped") {
		t.Errorf("no clean shutdown in the log:\n%s", c.log.String())
	}
}

// TestTwoProcessesOneDatabase: two server processes share one SQLite file;
// 100 fetches against each, all in one open window: exactly one secret.
// Then SIGTERM stops both cleanly.
func TestTwoProcessesOneDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fleet.db")
	a := startChild(t, "--data", filepath.Join(dir, "a"), "--db", db, "--http", "127.0.0.1:0", "--tftp", "")
	b := startChild(t, "--data", filepath.Join(dir, "b"), "--db", db, "--http", "127.0.0.1:0", "--tftp", "")
	sa := &server{t: t, base: a.base, token: testToken, log: a.log}
	setup(sa, "805ec0aabb01", "T54W")

	served, challenged, with := race(t, []string{a.base, b.base}, "/prov/805ec0aabb01.cfg", yealinkUA, 200, sipPass)
	if served+challenged != 200 || served == 0 || with != 1 {
		t.Fatalf("of 200 fetches %d served, %d challenged, %d carried the secret; want all answered and exactly 1; the servers' warnings:\n%s", served, challenged, with, problems(a.log, b.log))
	}
	a.stop(t)
	b.stop(t)
	for _, c := range []*child{a, b} {
		if strings.Contains(c.log.String(), sipPass) {
			t.Error("secret in a child's log")
		}
	}
}

// TestSIGTERMLetsTransfersFinish: a TFTP transfer in flight when SIGTERM
// arrives still completes, and only then does the server exit.
func TestSIGTERMLetsTransfersFinish(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "--data", dir, "--http", "127.0.0.1:0", "--tftp", "127.0.0.1:0")
	m := regexp.MustCompile(`autoprov started.* tftp=(\S+)`).FindStringSubmatch(c.log.String())
	if m == nil {
		t.Fatalf("no tftp address in the log:\n%s", c.log.String())
	}
	tftpAddr := m[1]
	sc := &server{t: t, base: c.base, token: testToken, log: c.log}
	setup(sc, "805ec0aabb01", "T54W")

	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv, _ := net.ResolveUDPAddr("udp", tftpAddr)
	conn.WriteTo(append([]byte{0, 1}, "805ec0aabb01.cfg\x00octet\x00"...), srv)
	var body []byte
	buf := make([]byte, 1024)
	for block := 1; ; block++ {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("block %d: %v\n%s", block, err, c.log.String())
		}
		if n >= 4 && buf[1] == 3 && int(buf[2])<<8|int(buf[3]) == block-1 {
			block-- // the previous block again (our ACK was late): a phone ignores it
			continue
		}
		if n < 4 || buf[1] != 3 || int(buf[2])<<8|int(buf[3]) != block {
			t.Fatalf("block %d: unexpected packet %x", block, buf[:min(n, 16)])
		}
		body = append(body, buf[4:n]...)
		if block == 1 {
			// Stop the server while the transfer is in flight: once its
			// HTTP listener is closed, the shutdown is under way.
			c.cmd.Process.Signal(syscall.SIGTERM)
			waitFor(t, 30*time.Second, func() (bool, string) {
				resp, err := http.Get(c.base + "/healthz")
				if err != nil {
					return true, ""
				}
				resp.Body.Close()
				return false, resp.Status
			}, "the server still answers HTTP after SIGTERM")
		}
		conn.WriteTo([]byte{0, 4, buf[2], buf[3]}, from)
		if n-4 < 512 {
			break
		}
	}
	if !bytes.Contains(body, []byte("account.1.user_name = 201")) || !bytes.Contains(body, []byte(sipPass)) {
		t.Fatalf("transfer incomplete:\n%s", body)
	}
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(c.log.String(), "secrets transfer complete") {
		t.Errorf("the completed transfer was not committed:\n%s", c.log.String())
	}
}

// TestPortInUseNamesTheFlag: a taken port stops start-up with the flag to change.
func TestPortInUseNamesTheFlag(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	lookup := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http", tcp.Addr().String(), "--tftp", ""}, "--http"},
		{[]string{"--http", "127.0.0.1:0", "--tftp", udp.LocalAddr().String()}, "--tftp"},
		{[]string{"--http", "127.0.0.1:0", "--public-url", "prov.example.com"}, "--public-url"},
	} {
		var log bytes.Buffer
		err := run(context.Background(), append([]string{"--data", t.TempDir()}, tc.args...), lookup, &log, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to name %s", tc.args, err, tc.want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, func(string) (string, bool) { return "", false }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("err = %v", err)
	}
}

// TestAdminTokenFile: without AUTOPROV_ADMIN_TOKEN a token is generated
// into <data>/admin-token with mode 0600, its path (not its value) logged,
// and reused at the next start.
func TestAdminTokenFile(t *testing.T) {
	dir := t.TempDir()
	c := startChildEnv(t, nil, "--data", dir, "--http", "127.0.0.1:0", "--tftp", "")
	c.stop(t)
	path := filepath.Join(dir, "admin-token")
	if !strings.Contains(c.log.String(), "admin_token_file="+path) {
		t.Errorf("token path not logged:\n%s", c.log.String())
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token: %v %v", st, err)
	}
	tok, _ := os.ReadFile(path)
	if len(bytes.TrimSpace(tok)) < 32 {
		t.Fatalf("token too short: %d", len(tok))
	}
	if strings.Contains(c.log.String(), string(bytes.TrimSpace(tok))) {
		t.Error("the token itself is logged")
	}
	// The next start reuses it: the API accepts it.
	c2 := startChildEnv(t, nil, "--data", dir, "--http", "127.0.0.1:0", "--tftp", "")
	s := &server{t: t, base: c2.base, token: string(bytes.TrimSpace(tok))}
	s.must(200, "GET", "/api/v1/settings", nil, nil)
	c2.stop(t)
}

// TestDisclosureWindowFlag: --disclosure-window sets the window until the
// settings name one.
func TestDisclosureWindowFlag(t *testing.T) {
	s := start(t, "--disclosure-window", "90s")
	var st struct {
		Window int `json:"disclosure_window_seconds"`
	}
	s.must(200, "GET", "/api/v1/settings", nil, &st)
	if st.Window != 90 {
		t.Fatalf("window = %d, want 90", st.Window)
	}
	setup(s, "805ec0aabb01", "T54W")
	var dev struct {
		Disclosure struct {
			OpenedAt  time.Time `json:"opened_at"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"disclosure"`
	}
	s.must(200, "GET", "/api/v1/devices/805ec0aabb01", nil, &dev)
	if d := dev.Disclosure.ExpiresAt.Sub(dev.Disclosure.OpenedAt); d != 90*time.Second {
		t.Fatalf("window opened for %s, want 90s", d)
	}
}

// TestDatabasePasswordNotLogged: a PostgreSQL DSN's password stays out of
// the log, whether start-up succeeds or not.
func TestDatabasePasswordNotLogged(t *testing.T) {
	var log bytes.Buffer
	// Port 1 refuses at once: start-up fails after logging nothing secret.
	err := run(context.Background(), []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", "",
		"--db", "postgres://autoprov:Db-Secret-Pw@127.0.0.1:1/fleet?sslmode=disable&connect_timeout=2"},
		func(string) (string, bool) { return "", false }, &log, nil)
	if err == nil {
		t.Fatal("start-up against a closed port succeeded")
	}
	if strings.Contains(err.Error(), "Db-Secret-Pw") || strings.Contains(log.String(), "Db-Secret-Pw") {
		t.Fatalf("database password leaked: err=%v\nlog=%s", err, log.String())
	}
}

// postgresDSN returns a DSN for a fresh schema in the test PostgreSQL
// (AUTOPROV_TEST_POSTGRES, set by .ci/run), with a password in it that the
// trust-auth test cluster ignores, so tests can look for it in logs.
func postgresDSN(t *testing.T) (dsn, password string) {
	t.Helper()
	base := os.Getenv("AUTOPROV_TEST_POSTGRES")
	if base == "" {
		skipOrFail(t, "AUTOPROV_TEST_POSTGRES not set (a PostgreSQL DSN; .ci/run starts one)")
	}
	schema := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	if out, err := exec.Command("psql", base, "-qc", "CREATE SCHEMA "+schema).CombinedOutput(); err != nil {
		t.Fatalf("create schema: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("psql", base, "-qc", "DROP SCHEMA "+schema+" CASCADE").Run() })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	password = "Db-Secret-Pw-" + schema
	u.User = url.UserPassword(u.User.Username(), password)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), password
}

// TestTwoProcessesOnPostgres: the fleet set-up the product is built for:
// two instances on one PostgreSQL database, 200 fetches split between
// them in one open window: exactly one secret-bearing body, and the
// database password in no log.
func TestTwoProcessesOnPostgres(t *testing.T) {
	dsn, dbPass := postgresDSN(t)
	dir := t.TempDir()
	a := startChild(t, "--data", filepath.Join(dir, "a"), "--db", dsn, "--http", "127.0.0.1:0", "--tftp", "")
	b := startChild(t, "--data", filepath.Join(dir, "b"), "--db", dsn, "--http", "127.0.0.1:0", "--tftp", "")
	sa := &server{t: t, base: a.base, token: testToken, log: a.log}
	setup(sa, "805ec0aabb01", "T54W")
	for round := range 2 {
		if round > 0 {
			sa.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, nil)
		}
		served, challenged, with := race(t, []string{a.base, b.base}, "/prov/805ec0aabb01.cfg", yealinkUA, 200, sipPass)
		if served+challenged != 200 || served == 0 || with != 1 {
			t.Fatalf("round %d: of 200 fetches %d served, %d challenged, %d carried the secret; want all answered and exactly 1; the servers' warnings:\n%s", round+1, served, challenged, with, problems(a.log, b.log))
		}
		// Its end is recorded after its body went out, before the re-arm.
		if !waitComplete(t, sa, "805ec0aabb01") {
			t.Fatalf("round %d: the winning transfer is recorded as incomplete", round+1)
		}
	}
	// The winner of round 2 records its completion after it wrote its
	// body: wait until the newest event is its end, after its consume.
	var audit []struct{ Event, Detail string }
	waitFor(t, 30*time.Second, func() (bool, string) {
		audit = nil
		sa.must(200, "GET", "/api/v1/audit?mac=805ec0aabb01", nil, items(&audit))
		return len(audit) > 1 && audit[0].Event == "disclosure.transfer_ended" && audit[1].Event == "disclosure.consumed", fmt.Sprintf("%+v", audit)
	}, "the second round's winner is not audited as disclosure.consumed and disclosure.transfer_ended")
	if len(audit) != 7 {
		t.Errorf("audit has %d events, want device.created, 2 opens, 2 consumes and 2 ends: %+v", len(audit), audit)
	}
	a.stop(t)
	b.stop(t)
	for _, c := range []*child{a, b} {
		if l := c.log.String(); strings.Contains(l, sipPass) || strings.Contains(l, dbPass) {
			t.Errorf("a secret in a child's log:\n%s", l)
		}
	}
}

// TestPrivilegedPortNamesTheFlag: without CAP_NET_BIND_SERVICE a port
// below 1024 cannot be bound; start-up says which flag to change.
func TestPrivilegedPortNamesTheFlag(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		skipOrFail(t, "needs root and setpriv (util-linux) to drop CAP_NET_BIND_SERVICE (setpriv: %v)", err)
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil && strings.TrimSpace(string(b)) != "1024" {
		skipOrFail(t, "ports below 1024 are not privileged here (ip_unprivileged_port_start = %s, want 1024)", strings.TrimSpace(string(b)))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http", "127.0.0.1:81", "--tftp", ""}, "--http"},
		{[]string{"--http", "127.0.0.1:0", "--tftp", "127.0.0.1:69"}, "--tftp"},
	} {
		args := append([]string{"--bounding-set", "-net_bind_service", "--inh-caps", "-net_bind_service",
			os.Args[0], "serve", "--data", t.TempDir()}, tc.args...)
		cmd := exec.Command(setpriv, args...)
		cmd.Env = append(os.Environ(), "AUTOPROV_E2E_CHILD=1", "AUTOPROV_ADMIN_TOKEN="+testToken)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "permission denied") {
			t.Errorf("%v without CAP_NET_BIND_SERVICE: err=%v\n%s", tc.args, err, out)
		}
	}
}
