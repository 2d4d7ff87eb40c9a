package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/internal/testlog"
	"github.com/autoprov/autoprov/server/apispec"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer = testlog.Buffer

// server is a real autoprov started in-process on loopback ports.
type server struct {
	t        *testing.T
	base     string // http://127.0.0.1:port
	tftpPort string
	token    string
	data     string
	log      *syncBuffer
	// seen collects every admin API response body, to check for leaks.
	mu   sync.Mutex
	seen []string
	// creds holds the provisioning password each phone (by MAC) got with
	// its secrets, as the phone keeps it (phone.fetch).
	creds map[string]string
	stop  func() error
}

const testToken = "test-admin-token-0123456789"

// start runs the server with a temp data dir and the extra flags.
func start(t *testing.T, extra ...string) *server {
	t.Helper()
	data := t.TempDir()
	return startWith(t, data, extra...)
}

func startWith(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, token: testToken, data: data, log: &syncBuffer{}}
	args := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--tftp", "127.0.0.1:0", "--log-level", "debug"}, extra...)
	env := map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, lookup, s.log, func(h, tf net.Addr) {
			s.base = "http://" + h.String()
			if tf != nil {
				_, s.tftpPort, _ = net.SplitHostPort(tf.String())
			}
			close(ready)
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, s.log.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start in 30 s")
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("server did not stop in 30 s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// api calls the admin API and returns the status and body.
func (s *server) api(method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	// Every API call of these tests is held to the OpenAPI document.
	resp, err := (&http.Client{Transport: apispec.Transport(s.t, nil)}).Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	s.mu.Lock()
	s.seen = append(s.seen, string(out))
	s.mu.Unlock()
	return resp.StatusCode, out
}

// must calls the API and fails unless the status is want; it decodes the
// body into v when v is not nil.
func (s *server) must(want int, method, path string, body, v any) {
	s.t.Helper()
	code, out := s.api(method, path, body)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
	}
}

// get fetches a phone file over HTTP as a phone with the User-Agent would.
func (s *server) get(path, ua string) (int, []byte, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// getAs is get as a phone that holds its provisioning credential and
// presents it when challenged: a 401 with a Digest challenge is answered
// with user and pass.
func (s *server) getAs(path, ua, user, pass string) (int, []byte, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.base+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	c := &http.Client{Transport: &httpauth.DigestTransport{User: user, Password: pass}}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// provCred is the provisioning password a Yealink or Snom file carries
// ("" when none).
var provCred = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)|<http_client_pass[^>]*>([^<]+)<`)

// credentialOf returns the provisioning password in a secrets-bearing
// file, failing the test when it has none.
func credentialOf(t *testing.T, body []byte) string {
	t.Helper()
	m := provCred.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the file carries no provisioning credential:\n%.400s", body)
	}
	return string(m[1]) + string(m[2])
}

// tftp fetches a file with the real tftp-hpa client; ok is false when the
// client reported an error (its message is returned instead of the body).
func (s *server) tftp(name string) ([]byte, bool) {
	s.t.Helper()
	bin := tftpClient(s.t)
	out := filepath.Join(s.t.TempDir(), "got")
	cmd := exec.Command(bin, "127.0.0.1", s.tftpPort, "-m", "binary", "-c", "get", name, out)
	msg, err := cmd.CombinedOutput()
	body, rerr := os.ReadFile(out)
	if err != nil || rerr != nil || len(msg) > 0 && strings.Contains(strings.ToLower(string(msg)), "error") {
		return msg, false
	}
	return body, true
}

func tftpClient(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("tftp")
	if err != nil {
		skipOrFail(t, "tftp-hpa client not installed (apt-get install tftp-hpa)")
	}
	return bin
}

// leaks fails when any secret appears in the log or an API response.
func (s *server) leaks(secrets ...string) {
	s.t.Helper()
	log := s.log.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		if testlog.Holds(log, sec) {
			s.t.Errorf("secret %q… appears in the log", sec[:3])
		}
		for _, body := range s.seen {
			if testlog.Holds(body, sec) {
				s.t.Errorf("secret %q… appears in an API response: %.200s", sec[:3], body)
			}
		}
	}
}

// race fetches path n times at once, spread over the servers at bases in
// turn, and counts the answers: served (200), challenged (401 with a
// challenge: the per-device file needs the credential once the transfer
// that carried the secrets is complete, which may happen during the race)
// and the bodies holding secret. Each fetch is a phone's: told 503 (the
// server had no time for it), it comes back after Retry-After, as long as
// raceDeadline allows; a fetch that ends otherwise is logged with what it
// got last.
func race(t *testing.T, bases []string, path, ua string, n int, secret string) (served, challenged, with int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), raceDeadline)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	retried, retries := 0, 0
	for i := range n {
		base := bases[i%len(bases)]
		wg.Go(func() {
			code, body, h, tries, err := phoneFetch(ctx, base+path, ua)
			mu.Lock()
			defer mu.Unlock()
			if tries > 1 {
				retried++
				retries += tries - 1
			}
			switch {
			case err != nil:
				t.Logf("fetch %d: %v (after %d tries)", i, err, tries)
			case code == 200:
				served++
			case code == 401 && h.Get("WWW-Authenticate") != "" && !bytes.Contains(body, []byte("201")):
				challenged++
			default:
				t.Logf("fetch %d: status %d after %d tries: %.200s", i, code, tries, body)
			}
			if bytes.Contains(body, []byte(secret)) {
				with++
			}
		})
	}
	wg.Wait()
	if retried > 0 {
		t.Logf("%d of %d fetches were told 503 and came back (%d retries)", retried, n, retries)
	}
	return served, challenged, with
}

// problems returns the warnings and errors in the logs (at most 20, the
// same message once), to show why a fetch went unanswered.
func problems(logs ...*syncBuffer) string {
	var out []string
	seen := map[string]bool{}
	re := regexp.MustCompile(`level=(WARN|ERROR) msg=("[^"]*"|\S+)`)
	for _, l := range logs {
		for line := range strings.Lines(l.String()) {
			m := re.FindStringSubmatch(line)
			if m == nil || seen[m[2]] || len(out) == 20 {
				continue
			}
			seen[m[2]] = true
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, "\n")
}

// raceDeadline bounds race: generous, for a loaded machine under -race.
const raceDeadline = 4 * time.Minute

// phoneFetch GETs url as a phone does, coming back after Retry-After
// while it is told 503, until ctx ends.
func phoneFetch(ctx context.Context, url, ua string) (code int, body []byte, h http.Header, tries int, err error) {
	for {
		tries++
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return 0, nil, nil, tries, err
		}
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, nil, tries, err
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
			return resp.StatusCode, body, resp.Header, tries, err
		}
		wait, perr := strconv.Atoi(resp.Header.Get("Retry-After"))
		if perr != nil || wait < 1 {
			return resp.StatusCode, body, resp.Header, tries, fmt.Errorf("503 without a Retry-After in seconds: %q", resp.Header.Get("Retry-After"))
		}
		select {
		case <-ctx.Done():
			return resp.StatusCode, body, resp.Header, tries, fmt.Errorf("still told 503 when the test's deadline came: %w", ctx.Err())
		case <-time.After(time.Duration(wait) * time.Second):
		}
	}
}
