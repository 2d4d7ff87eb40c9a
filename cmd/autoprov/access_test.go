package main

import (
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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
)

// runErr runs the server with args and env and returns its start-up error
// (the server must refuse to start).
func runErr(t *testing.T, env map[string]string, args ...string) error {
	t.Helper()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, append([]string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", ""}, args...), lookup, io.Discard,
		func(net.Addr, net.Addr) { cancel() })
	if err == nil {
		t.Fatalf("started with %v %v", env, args)
	}
	return err
}

// TestShortAdminTokenRefused (issue [5], found 6): AUTOPROV_ADMIN_TOKEN=1,
// or any token under 24 characters from the environment or the token
// file, stops start-up with a message that says what to do; 24 is enough.
func TestShortAdminTokenRefused(t *testing.T) {
	for _, tok := range []string{"1", "admin", strings.Repeat("x", 23)} {
		err := runErr(t, map[string]string{"AUTOPROV_ADMIN_TOKEN": tok})
		if !strings.Contains(err.Error(), "AUTOPROV_ADMIN_TOKEN") || !strings.Contains(err.Error(), "at least 24") {
			t.Errorf("token %q: %v", tok, err)
		}
		if len(tok) > 3 && strings.Contains(err.Error(), tok) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	data := t.TempDir()
	writeFile(t, filepath.Join(data, "admin-token"), "short-token\n")
	err := run(context.Background(), []string{"serve", "--data", data, "--http", "127.0.0.1:0", "--tftp", ""},
		func(string) (string, bool) { return "", false }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(data, "admin-token")) || !strings.Contains(err.Error(), "at least 24") {
		t.Errorf("short token file: %v", err)
	}
	// Exactly 24 characters start.
	s := startWithEnv(t, map[string]string{"AUTOPROV_ADMIN_TOKEN": strings.Repeat("k", 24)})
	s.token = strings.Repeat("k", 24)
	s.must(200, "GET", "/api/v1/settings", nil, nil)
}

// startWithEnv is start with another environment.
func startWithEnv(t *testing.T, env map[string]string) *server {
	t.Helper()
	s := &server{t: t, data: t.TempDir(), log: &syncBuffer{}}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", s.data, "--http", "127.0.0.1:0", "--tftp", ""}, lookup, s.log,
			func(h, _ net.Addr) { s.base = "http://" + h.String(); close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// TestBadNetworksRefused: a list that is not CIDR stops start-up naming
// the flag and the variable.
func TestBadNetworksRefused(t *testing.T) {
	err := runErr(t, nil, "--phone-networks", "192.0.2.0/24,10.0.0.0/33")
	if !strings.Contains(err.Error(), "--phone-networks") || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Errorf("bad --phone-networks: %v", err)
	}
	err = runErr(t, map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken, "AUTOPROV_ADMIN_NETWORKS": "office"})
	if !strings.Contains(err.Error(), "--admin-networks") || !strings.Contains(err.Error(), "AUTOPROV_ADMIN_NETWORKS") {
		t.Errorf("bad AUTOPROV_ADMIN_NETWORKS: %v", err)
	}
}

// do sends one request and returns status and body.
func do(t *testing.T, c *http.Client, method, u string, body io.Reader, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rrqFrom sends a TFTP read request from src and returns the first answer.
func rrqFrom(t *testing.T, src, port, name string) (op uint16, payload string) {
	t.Helper()
	c := looptest.DialTFTPFrom(t, src, net.JoinHostPort("127.0.0.1", port))
	c.Send(t, looptest.RRQ(name, "octet"))
	op, p, err := c.TryRecv(10 * time.Second)
	if err != nil {
		t.Fatalf("TFTP %s from %s: %v", name, src, err)
	}
	if op == looptest.OpDATA { // acknowledge, or the server retransmits
		c.Send(t, looptest.ACK(1))
	}
	return op, string(p)
}

// TestAllowListsEndToEnd: the real server with --phone-networks
// 127.0.0.2/32 and --admin-networks 127.0.0.1/32: over HTTP and TFTP a
// phone elsewhere gets exactly a miss and the window stays open; the API
// and UI answer 403 elsewhere; /healthz is open.
func TestAllowListsEndToEnd(t *testing.T) {
	s := start(t, "--phone-networks", "127.0.0.2/32", "--admin-networks", "127.0.0.1/32")
	setup(s, "805ec0aabb01", "T54W")
	const ua = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"
	outsider, phone := looptest.HTTPClient("127.0.0.3", false), looptest.HTTPClient("127.0.0.2", false)
	admin := looptest.HTTPClient("127.0.0.1", false)

	missCode, miss := do(t, phone, "GET", s.base+"/prov/nothing.cfg", nil, "User-Agent", ua)
	for _, path := range []string{"/prov/805ec0aabb01.cfg", "/prov/y000000000096.cfg"} {
		for _, c := range []*http.Client{outsider, admin} {
			if code, body := do(t, c, "GET", s.base+path, nil, "User-Agent", ua); code != missCode || body != miss {
				t.Errorf("GET %s from outside: %d %q, want the miss %d %q", path, code, body, missCode, miss)
			}
		}
	}
	op, msg := rrqFrom(t, "127.0.0.2", s.tftpPort, "nothing.cfg")
	for _, src := range []string{"127.0.0.3", "127.0.0.1"} {
		if gop, gmsg := rrqFrom(t, src, s.tftpPort, "805ec0aabb01.cfg"); gop != op || gmsg != msg {
			t.Errorf("TFTP from %s: op %d %q, want the miss: op %d %q", src, gop, gmsg, op, msg)
		}
	}
	var dev struct {
		Disclosure struct{ State string } `json:"disclosure"`
	}
	s.must(200, "GET", "/api/v1/devices/805ec0aabb01", nil, &dev)
	if dev.Disclosure.State != "open" {
		t.Fatalf("window %q after fetches from outside, want open", dev.Disclosure.State)
	}
	if op, _ := rrqFrom(t, "127.0.0.2", s.tftpPort, "y000000000096.cfg"); op != 3 {
		t.Errorf("TFTP from the phone network: op %d, want DATA", op)
	}
	if code, _ := do(t, phone, "GET", s.base+"/prov/805ec0aabb01.cfg", nil, "User-Agent", ua); code != 200 {
		t.Errorf("GET from the phone network: %d", code)
	}

	for _, c := range []*http.Client{outsider, phone} {
		if code, _ := do(t, c, "GET", s.base+"/api/v1/settings", nil, "Authorization", "Bearer "+testToken); code != 403 {
			t.Errorf("API from outside the admin network: %d, want 403", code)
		}
		if code, _ := do(t, c, "GET", s.base+"/ui/login", nil); code != 403 {
			t.Errorf("UI from outside the admin network: %d, want 403", code)
		}
		if code, _ := do(t, c, "GET", s.base+"/healthz", nil); code != 200 {
			t.Errorf("/healthz: %d, want 200", code)
		}
	}
	if code, _ := do(t, admin, "GET", s.base+"/ui/login", nil); code != 200 {
		t.Errorf("UI from the admin network: %d", code)
	}
	if !strings.Contains(s.log.String(), "phone_networks=127.0.0.2/32 admin_networks=127.0.0.1/32") {
		t.Errorf("the start line does not name the lists:\n%s", s.log.String())
	}
}

// TestLoginFloodOverTheWire (issue [5] acceptance): 10,000 wrong logins
// from 10,000 loopback addresses over real TCP connections, then the right
// token from a fresh address logs in at once, and the right bearer token
// from another fresh address is answered.
func TestLoginFloodOverTheWire(t *testing.T) {
	s := start(t, "--log-level", "error")
	const n, workers = 10000, 8
	form := func(tok string) io.Reader { return strings.NewReader(url.Values{"token": {tok}}.Encode()) }
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				c := looptest.HTTPClient(fmt.Sprintf("127.%d.%d.%d", 10+i/65536, i/256%256, 1+i%250), false)
				req, _ := http.NewRequest("POST", s.base+"/ui/login", form("wrong"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if codes[http.StatusUnauthorized] != n {
		t.Errorf("answers to %d wrong logins: %v, want all 401", n, codes)
	}
	start := time.Now()
	code, _ := do(t, looptest.HTTPClient("127.250.0.1", false), "POST", s.base+"/ui/login", form(testToken), "Content-Type", "application/x-www-form-urlencoded")
	if code != http.StatusSeeOther {
		t.Errorf("right token from a fresh address after the flood: %d, want 303", code)
	}
	if code, _ := do(t, looptest.HTTPClient("127.250.0.2", false), "GET", s.base+"/api/v1/settings", nil, "Authorization", "Bearer "+testToken); code != 200 {
		t.Errorf("right bearer token from a fresh address after the flood: %d, want 200", code)
	}
	t.Logf("%d wrong logins from %d addresses; the right token then answered in %v", n, n, time.Since(start).Round(time.Millisecond))
}

// f2bRegexp is the Go equivalent of the failregex of
// docs/fail2ban/autoprov.conf: <HOST> becomes a named group.
func f2bRegexp(t *testing.T) (*regexp.Regexp, string) {
	t.Helper()
	conf := filepath.Join("..", "..", "docs", "fail2ban", "autoprov.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^failregex\s*=\s*(.+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no failregex in %s", conf)
	}
	re := strings.ReplaceAll(string(m[1]), "<HOST>", `(?P<host>[0-9A-Fa-f.:]+)`)
	return regexp.MustCompile(re), conf
}

// TestFail2banFilter: wrong tokens on the API and at the UI login, over
// real connections from three addresses, are matched by the shipped
// filter, once per failure with the right address; a right token, other
// requests and refusals are not. The Go equivalent of the regex always
// runs; fail2ban-regex too when fail2ban is installed.
func TestFail2banFilter(t *testing.T) {
	s := start(t)
	form := func(tok string) io.Reader { return strings.NewReader(url.Values{"token": {tok}}.Encode()) }
	api, ui := looptest.HTTPClient("127.0.0.5", false), looptest.HTTPClient("127.0.0.6", false)
	for range 3 {
		do(t, api, "GET", s.base+"/api/v1/settings", nil, "Authorization", "Bearer nope")
		do(t, ui, "POST", s.base+"/ui/login", form("nope"), "Content-Type", "application/x-www-form-urlencoded")
	}
	// The server listens on 127.0.0.1 here; an IPv6 client's line is
	// written as the server writes it (slog's text handler leaves it unquoted).
	s.log.Write([]byte(`time=2026-03-01T08:00:00.000+01:00 level=WARN msg="authentication failed" component=http remote=::1 via=api reason="wrong token"` + "\n"))
	s.must(200, "GET", "/api/v1/settings", nil, nil)  // a right token: no line
	do(t, api, "GET", s.base+"/api/v1/settings", nil) // no credentials: no line
	do(t, api, "GET", s.base+"/prov/nothing.cfg", nil)

	re, conf := f2bRegexp(t)
	got := map[string]int{}
	for _, line := range strings.Split(s.log.String(), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			got[m[re.SubexpIndex("host")]]++
		}
	}
	want := map[string]int{"127.0.0.5": 3, "127.0.0.6": 3, "::1": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("filter matched %v, want %v; log:\n%s", got, want, s.log.String())
	}

	bin, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("in CI: fail2ban-regex not installed (.ci/run must install fail2ban)")
		}
		t.Log("fail2ban-regex not installed (apt-get install fail2ban): checked with the Go regexp only")
		return
	}
	logFile := filepath.Join(t.TempDir(), "autoprov.log")
	writeFile(t, logFile, s.log.String())
	abs, _ := filepath.Abs(conf)
	out, err := exec.Command(bin, "-v", logFile, abs).CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-regex: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Failregex: 7 total") {
		t.Errorf("fail2ban-regex did not match 7 lines:\n%s", out)
	}
	var hosts []string
	for h := range want {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		if !strings.Contains(string(out), "      "+h+"  ") {
			t.Errorf("fail2ban-regex did not find host %s:\n%s", h, out)
		}
	}
}
