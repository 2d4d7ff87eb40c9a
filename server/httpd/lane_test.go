package httpd_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/httpd"
)

// serveLanes runs the edge's Serve (the phone lane and net/http) on a
// loopback listener, over TLS with cfg when given, and returns its
// address; the server stops at the end of the test, and must stop within
// its grace period.
func (e *env) serveLanes(cfg ...*tls.Config) string {
	e.t.Helper()
	return e.serveLanesAt("127.0.0.1:0", cfg...)
}

// serveLanesAt is serveLanes on a listener at addr.
func (e *env) serveLanesAt(addr string, cfg ...*tls.Config) string {
	e.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		if len(cfg) > 0 {
			done <- e.srv.ServeTLS(ctx, ln, cfg[0])
		} else {
			done <- e.srv.Serve(ctx, ln)
		}
	}()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			e.t.Error("Serve did not return after its context ended")
		}
	})
	return ln.Addr().String()
}

// serveLanesOver is serveLanes over TLS (with a throwaway certificate)
// when overTLS, else plain.
func (e *env) serveLanesOver(overTLS bool) string {
	e.t.Helper()
	if !overTLS {
		return e.serveLanes()
	}
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS() // for its certificate
	ts.Close()
	return e.serveLanes(&tls.Config{Certificates: ts.TLS.Certificates})
}

// rawConn is one client connection: requests written as raw bytes,
// answers read in order.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects to addr, over TLS (trusting anything) when overTLS.
func dialRaw(t *testing.T, addr string, overTLS ...bool) *rawConn {
	t.Helper()
	var c net.Conn
	var err error
	if len(overTLS) > 0 && overTLS[0] {
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a test's own certificate
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *rawConn) send(reqs ...string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, strings.Join(reqs, "")); err != nil {
		rc.t.Fatal(err)
	}
}

// read reads one answer to a request of method, its body whole, Date and
// the Digest nonce blanked (they differ between any two answers).
func (rc *rawConn) read(method string) phoneAnswer {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatalf("reading an answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatal(err)
	}
	resp.Header.Del("Date")
	for k, vs := range resp.Header {
		for i, v := range vs {
			vs[i] = nonce.ReplaceAllString(v, `$1="-"`)
		}
		resp.Header[k] = vs
	}
	return phoneAnswer{resp.StatusCode, resp.Header, body}
}

func laneGet(path string, hdr ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: prov.example.com\r\n")
	for i := 0; i+1 < len(hdr); i += 2 {
		b.WriteString(hdr[i] + ": " + hdr[i+1] + "\r\n")
	}
	return b.String() + "\r\n"
}

// TestPhoneLaneAnswersAsNetHTTP: every phone request answered by the
// phone lane (Serve on a plain listener) gets the very answer net/http
// gives through the edge's handler, headers and body, for hits, misses,
// refusals and a 304, twice each; a first fetch carries the secrets once.
func TestPhoneLaneAnswersAsNetHTTP(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[overTLS], func(t *testing.T) {
			testPhoneLaneAnswersAsNetHTTP(t, overTLS)
		})
	}
}

var provCredential = regexp.MustCompile(`static\.auto_provision\.server\.(username|password) = (\S+)`)

func testPhoneLaneAnswersAsNetHTTP(t *testing.T, overTLS bool) {
	e := newEnv(t, options{})
	e.setup()
	refServer := httptest.NewUnstartedServer(e.srv.Handler())
	var laneAddr string
	if overTLS {
		refServer.StartTLS()
		laneAddr = e.serveLanes(&tls.Config{Certificates: refServer.TLS.Certificates})
	} else {
		refServer.Start()
		laneAddr = e.serveLanes()
	}
	t.Cleanup(refServer.Close)
	lane := dialRaw(t, laneAddr, overTLS)
	ref := dialRaw(t, refServer.Listener.Addr().String(), overTLS)

	// The first fetch, on the lane: the file with the secrets, once.
	lane.send(laneGet("/prov/"+devMAC+".cfg", "User-Agent", yealinkUA))
	first := lane.read("GET")
	if first.status != http.StatusOK || !bytes.Contains(first.body, []byte(sipPass)) {
		t.Fatalf("first fetch on the lane: %d, secrets in it: %v", first.status, bytes.Contains(first.body, []byte(sipPass)))
	}
	if first.header.Get("Cache-Control") != "no-store" || first.header.Get("ETag") != "" {
		t.Errorf("the file with secrets: Cache-Control %q, ETag %q", first.header.Get("Cache-Control"), first.header.Get("ETag"))
	}
	scheme := map[bool]string{false: "http", true: "https"}[overTLS]
	if !bytes.Contains(first.body, []byte(scheme+"://prov.example.com/prov/")) {
		t.Errorf("the file does not point at %s://prov.example.com/prov/:\n%s", scheme, first.body)
	}
	cred := map[string]string{}
	for _, m := range provCredential.FindAllSubmatch(first.body, -1) {
		cred[string(m[1])] = string(m[2])
	}
	if cred["username"] == "" || cred["password"] == "" {
		t.Fatalf("no provisioning credential in the first file:\n%s", first.body)
	}
	waitFor(t, func() bool {
		return e.device(devMAC).Disclosure.State != autoprov.DisclosureOpen
	}, "the window to be used up")

	lane.send(laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA))
	etag := lane.read("GET").header.Get("ETag")
	if etag == "" {
		t.Fatal("common file without an ETag on the lane")
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(cred["username"]+":"+cred["password"]))
	cases := [][]string{
		{"/prov/y000000000000.cfg", "User-Agent", yealinkUA},
		{"/prov/y000000000000.cfg", "User-Agent", yealinkUA, "If-None-Match", etag},
		{"/prov/" + devMAC + ".cfg", "User-Agent", yealinkUA},
		{"/prov/" + devMAC + ".cfg", "User-Agent", yealinkUA, "Authorization", "Basic eDp5"},
		{"/prov/" + devMAC + ".cfg", "User-Agent", yealinkUA, "Authorization", basic},
		{"/prov/805ec0ffff01.cfg", "User-Agent", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ff:01"},
		{"/prov/y000000000000.boot?mac=805ec0aabb01", "User-Agent", yealinkNoMAC},
		{"/prov/y000000000000.boot?a=%zz&mac=80%3A5E%3AC0%3AAA%3ABB%3A01;x&mac=805ec0aabb01", "User-Agent", yealinkNoMAC},
		{"/prov/y000000000000.boot?mac=nonsense", "User-Agent", yealinkNoMAC},
		{"/prov/nothing-here.cfg"},
	}
	lanes := e.srv.LaneAnswered()
	for _, c := range cases {
		for range 2 {
			ref.send(laneGet(c[0], c[1:]...))
			want := ref.read("GET")
			lane.send(laneGet(c[0], c[1:]...))
			got := lane.read("GET")
			if got.status != want.status || !maps.EqualFunc(got.header, want.header, slices.Equal) || !bytes.Equal(got.body, want.body) {
				t.Errorf("GET %s %v:\nlane     %d %v\n%s\nnet/http %d %v\n%s", c[0], c[1:], got.status, got.header, got.body,
					want.status, want.header, want.body)
			}
		}
	}
	if n := e.srv.LaneAnswered() - lanes; n != int64(2*len(cases)) {
		t.Errorf("the lane answered %d of the %d requests", n, 2*len(cases))
	}
	if bytes.Contains([]byte(e.log.String()), []byte(sipPass)) {
		t.Error("the SIP password is in the log")
	}
}

// TestPhoneLaneHandsOver: on a connection that opened with a phone's
// GET, whatever the lane does not answer itself (the admin API, a POST
// with a chunked body, a HEAD, a path with escapes) is answered by
// net/http, in order, pipelined or not, and the connection keeps working.
func TestPhoneLaneHandsOver(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[overTLS], func(t *testing.T) {
			testPhoneLaneHandsOver(t, overTLS)
		})
	}
}

func testPhoneLaneHandsOver(t *testing.T, overTLS bool) {
	e := newEnv(t, options{})
	e.setup()
	addr := e.serveLanesOver(overTLS)
	c := dialRaw(t, addr, overTLS)
	c.send(laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA))
	common := c.read("GET")
	if common.status != http.StatusOK {
		t.Fatalf("common file: %d", common.status)
	}
	body := `{"extension":"202","display_name":"Bob","password":"` + sipPass + `2"}`
	chunked := "POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
		fmt.Sprintf("%x", len(body)) + "\r\n" + body + "\r\n0\r\n\r\n"
	// Pipelined: a phone GET, the API, a POST, a HEAD, a phone GET.
	c.send(laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA),
		laneGet("/api/v1/accounts", "Authorization", "Bearer "+token),
		chunked,
		"HEAD /prov/y000000000000.cfg HTTP/1.1\r\nHost: prov.example.com\r\nUser-Agent: "+yealinkUA+"\r\n\r\n",
		laneGet(strings.Replace("/prov/y000000000000.cfg", "y0", "y%30", 1), "User-Agent", yealinkUA),
		laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA))
	if a := c.read("GET"); a.status != http.StatusOK || !bytes.Equal(a.body, common.body) {
		t.Errorf("pipelined phone GET: %d", a.status)
	}
	if a := c.read("GET"); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"201"`)) {
		t.Errorf("GET /api/v1/accounts after a phone GET: %d %s", a.status, a.body)
	}
	if a := c.read("POST"); a.status != http.StatusCreated || !bytes.Contains(a.body, []byte(`"202"`)) {
		t.Errorf("chunked POST after a phone GET: %d %s", a.status, a.body)
	}
	if a := c.read("HEAD"); a.status != http.StatusOK || a.header.Get("ETag") != common.header.Get("ETag") || len(a.body) != 0 {
		t.Errorf("HEAD after a phone GET: %d %v", a.status, a.header)
	}
	for _, what := range []string{"escaped path", "phone GET"} {
		if a := c.read("GET"); a.status != http.StatusOK || !bytes.Equal(a.body, common.body) {
			t.Errorf("%s after the hand-over: %d %s", what, a.status, a.body)
		}
	}
	if n := e.srv.LaneAnswered(); n != 2 {
		t.Errorf("the lane answered %d requests, want the first two (then the connection is net/http's)", n)
	}

	// A connection that opens with anything else is net/http's at once.
	o := dialRaw(t, addr, overTLS)
	o.send(laneGet("/healthz"), laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA))
	if a := o.read("GET"); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"ok"`)) {
		t.Errorf("healthz: %d %s", a.status, a.body)
	}
	if a := o.read("GET"); a.status != http.StatusOK || !bytes.Equal(a.body, common.body) {
		t.Errorf("phone GET on net/http: %d", a.status)
	}
	if n := e.srv.LaneAnswered(); n != 2 {
		t.Errorf("the lane answered %d requests, want still 2", n)
	}
	// "GE" and then a pause: the lane waits for the rest.
	p := dialRaw(t, addr, overTLS)
	p.send("GE")
	time.Sleep(10 * time.Millisecond) // not a wait for a state: the bytes must arrive apart
	p.send(strings.TrimPrefix(laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA), "GE"))
	if a := p.read("GET"); a.status != http.StatusOK || !bytes.Equal(a.body, common.body) {
		t.Errorf("a request line in two parts: %d", a.status)
	}
	if n := e.srv.LaneAnswered(); n != 3 {
		t.Errorf("the lane answered %d requests, want 3", n)
	}
}

// A server stopped right after its start returns: fasthttp's own
// Shutdown does nothing before its Serve has begun, so the lane ends that
// Serve itself (it once waited for it forever).
func TestPhoneLaneStopsRightAfterStart(t *testing.T) {
	e := newEnv(t, options{})
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		cancel()
		go func() { done <- e.srv.Serve(ctx, ln) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Serve did not return")
		}
	}
}

// An attacker on the LAN: connections that send nothing, half a request
// line, "GET /prov/" and then nothing, or stop in the TLS handshake are
// closed after the read timeout, and while 200 of them hang a phone still
// gets its file on the lane.
func TestPhoneLaneDropsSilentClients(t *testing.T) {
	// The phone too must send its request (TLS handshake included) within
	// the read timeout: long enough that a busy machine (the race
	// detector, two cores, 200 connections being accepted) never delays
	// it past that, which 300 ms did not always.
	defer httpd.SetReadTimeout(2 * time.Second)()
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[overTLS], func(t *testing.T) {
			e := newEnv(t, options{})
			e.setup()
			addr := e.serveLanesOver(overTLS)
			var stalled []net.Conn
			for i := range 200 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				switch {
				case overTLS && i%2 == 1:
					c.Write([]byte{0x16, 0x03, 0x01}) // a ClientHello that never ends
				case i%4 == 1:
					c.Write([]byte("GE"))
				case i%4 == 2:
					c.Write([]byte("GET /prov/"))
				}
				stalled = append(stalled, c)
			}
			phone := dialRaw(t, addr, overTLS)
			phone.send(laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA))
			if a := phone.read("GET"); a.status != http.StatusOK {
				t.Fatalf("the phone's file while 200 connections hang: %d", a.status)
			}
			// Each stalled connection is closed by the server: its read ends
			// with EOF or a reset, long before the client's own deadline.
			for i, c := range stalled {
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				_, err := io.Copy(io.Discard, c)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("stalled connection %d was still open after 20 s", i)
				}
			}
		})
	}
}

// TestPhoneLaneDeadlines: the lane keeps its connections' read deadlines
// itself. A kept-alive connection may wait longer than the read timeout
// between two requests (the idle timeout applies there), a request that
// comes in parts within the read timeout is served, request after request
// on one connection; a request that keeps trickling in is cut after the
// read timeout (and a little slack), as one that stops.
func TestPhoneLaneDeadlines(t *testing.T) {
	// Long enough that a busy machine's scheduling (the race detector, two
	// cores) never delays the second part of a request past it.
	const readTimeout = time.Second
	defer httpd.SetReadTimeout(readTimeout)()
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[overTLS], func(t *testing.T) {
			e := newEnv(t, options{})
			e.setup()
			addr := e.serveLanesOver(overTLS)
			lanes := e.srv.LaneAnswered()
			c := dialRaw(t, addr, overTLS)
			req := laneGet("/prov/y000000000000.cfg", "User-Agent", yealinkUA)
			for i := range 2 {
				c.send(req[:20])
				time.Sleep(readTimeout / 10) // the rest comes later, within the read timeout
				c.send(req[20:])
				if a := c.read("GET"); a.status != http.StatusOK {
					t.Fatalf("request %d in two parts: %d", i, a.status)
				}
				// Idle between requests: longer than the read timeout and
				// its slack (a quarter of it).
				time.Sleep(readTimeout * 3 / 2)
			}
			if n := e.srv.LaneAnswered() - lanes; n != 2 {
				t.Fatalf("the lane answered %d requests, want 2", n)
			}

			slow := dialRaw(t, addr, overTLS)
			slow.send("GET /prov/y000000000000.cfg HTTP/1.1\r\nX-Trickle: ")
			start := time.Now()
			var err error
			for err == nil && time.Since(start) < 10*time.Second {
				_, err = slow.c.Write([]byte("a"))
				time.Sleep(readTimeout / 10)
			}
			took := time.Since(start)
			if err == nil {
				t.Fatalf("a trickling request was still read after %v", took)
			}
			if took < readTimeout {
				t.Fatalf("a trickling request was cut after %v, before the read timeout (%v)", took, readTimeout)
			}

			// A request whole, and the first byte of the next one behind it
			// in the same packet, then nothing: the one begun is held to the
			// read timeout (not the idle timeout, 120 s), though its first
			// byte never passes another read of the connection.
			piped := dialRaw(t, addr, overTLS)
			piped.send(req + "G")
			if a := piped.read("GET"); a.status != http.StatusOK {
				t.Fatalf("the whole request before the begun one: %d", a.status)
			}
			start = time.Now()
			piped.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = io.Copy(io.Discard, piped.br) // fasthttp answers 408 or just closes
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("a pipelined request begun and never finished was still open after %v", time.Since(start))
			}
		})
	}
}

// TestPhoneLaneSecretsOnKeptConnection: one kept-alive connection carries
// the secrets of phone after phone (as a proxy or a test rig does), each
// with the next request pipelined behind it: every answer comes, in order,
// the secrets in their own file once; plain and TLS.
func TestPhoneLaneSecretsOnKeptConnection(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[overTLS], func(t *testing.T) {
			e := newEnv(t, options{})
			e.setup()
			macs := []string{devMAC}
			pass := map[string]string{devMAC: sipPass}
			for i := 2; i <= 6; i++ {
				ext, mac, pw := fmt.Sprintf("20%d", i), fmt.Sprintf("805ec0aabb%02x", i), fmt.Sprintf("kept-conn-secret-%d", i)
				e.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"extension": ext, "display_name": "P" + ext, "password": pw}, nil)
				e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": mac, "model": "T54W", "accounts": []string{ext}}, nil)
				macs, pass[mac] = append(macs, mac), pw
			}
			c := dialRaw(t, e.serveLanesOver(overTLS), overTLS)
			lanes := e.srv.LaneAnswered()
			for _, mac := range macs {
				ua := "Yealink SIP-T54W 96.86.0.100 " + mac
				c.send(laneGet("/prov/"+mac+".cfg", "User-Agent", ua), laneGet("/prov/y000000000000.cfg", "User-Agent", ua))
				dev := c.read("GET")
				if dev.status != http.StatusOK || bytes.Count(dev.body, []byte(pass[mac])) != 1 {
					t.Fatalf("%s: %d, its secret %d times", mac, dev.status, bytes.Count(dev.body, []byte(pass[mac])))
				}
				for other, pw := range pass {
					if other != mac && bytes.Contains(dev.body, []byte(pw)) {
						t.Fatalf("%s's file carries %s's secret", mac, other)
					}
				}
				if common := c.read("GET"); common.status != http.StatusOK || !bytes.Contains(common.body, []byte("#!version")) {
					t.Fatalf("%s: the request behind the secrets: %d %.80q", mac, common.status, common.body)
				}
			}
			if n := e.srv.LaneAnswered() - lanes; n < int64(2*len(macs)) {
				t.Errorf("the lane answered %d of %d requests", n, 2*len(macs))
			}
		})
	}
}
