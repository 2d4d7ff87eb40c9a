package httpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/httpd"
)

// connFile is a common file every phone gets (200).
const connFile = "/prov/y000000000000.cfg"

// expectClosed waits for the server to close rc: its read ends (EOF or a
// reset) with no answer, well before the timeouts that would close it
// otherwise (idle 120 s, lane read 10 s).
func expectClosed(t *testing.T, rc *rawConn, what string) {
	t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(rc.br)
	if len(b) > 0 {
		t.Fatalf("%s: answered %q, want closed without an answer", what, strings.SplitN(string(b), "\r\n", 2)[0])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: still open after 5 s", what)
	}
}

// phoneGets fetches connFile on rc and wants 200.
func phoneGets(t *testing.T, rc *rawConn, what string) {
	t.Helper()
	rc.send(laneGet(connFile, "User-Agent", yealinkUA))
	if a := rc.read("GET"); a.status != http.StatusOK {
		t.Fatalf("%s: %d, want 200", what, a.status)
	}
}

// TestConnBoundClosesIdle: at the bound on open connections (4 here), a
// new connection closes the oldest idle one, first one that has sent
// nothing, then one kept alive between requests, and the new phone gets
// its file; the others stay and are served. Over the phone lane, plain
// and TLS.
func TestConnBoundClosesIdle(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[overTLS], func(t *testing.T) {
			e := newEnv(t, options{maxConns: 4})
			e.setup()
			addr := e.serveLanesOver(overTLS)
			sc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			silent := &rawConn{t: t, c: sc, br: bufio.NewReader(sc)}
			waitFor(t, func() bool { return e.srv.IdleConns() == 1 }, "the silent connection is not counted idle")
			var kept []*rawConn
			for i := range 3 {
				c := dialRaw(t, addr, overTLS)
				phoneGets(t, c, "a phone below the bound")
				kept = append(kept, c)
				waitFor(t, func() bool { return e.srv.IdleConns() == 2+i }, "a kept-alive connection is not counted idle")
			}
			phoneGets(t, dialRaw(t, addr, overTLS), "a new phone at the bound")
			expectClosed(t, silent, "the connection that sent nothing (the oldest idle one)")
			phoneGets(t, dialRaw(t, addr, overTLS), "the next new phone")
			expectClosed(t, kept[0], "the oldest kept-alive connection")
			for _, c := range kept[1:] {
				phoneGets(t, c, "a younger kept-alive connection")
			}
			if n := e.srv.OpenConns(); n != 4 {
				t.Fatalf("%d connections open, want the bound, 4", n)
			}
			if !strings.Contains(e.log.String(), "HTTP connections at their bound") {
				t.Fatalf("nothing logged:\n%s", e.log)
			}
		})
	}
}

// TestConnBoundKeepsBusy: a connection with a request begun is never
// closed for a new one, on either lane (the phone lane's request, one
// net/http reads, one still being routed); when every connection is
// busy the new one is closed at once, without an answer. Once they are
// answered (and so idle), a new phone gets in again.
func TestConnBoundKeepsBusy(t *testing.T) {
	e := newEnv(t, options{maxConns: 3})
	e.setup()
	addr := e.serveLanes()
	lane := dialRaw(t, addr)
	lane.send("GET " + connFile + " HTTP/1.1\r\nHost: prov.example.com\r\n")
	slow := dialRaw(t, addr)
	slow.send("GET /healthz HTTP/1.1\r\n")
	routing := dialRaw(t, addr)
	routing.send("GE")
	waitFor(t, func() bool { return e.srv.OpenConns() == 3 && e.srv.IdleConns() == 0 }, "the three requests begun are not counted busy")

	late := dialRaw(t, addr)
	late.c.Write([]byte(laneGet(connFile, "User-Agent", yealinkUA))) //nolint:errcheck // it may be reset already
	expectClosed(t, late, "a new connection while every one is busy")

	lane.send("User-Agent: " + yealinkUA + "\r\n\r\n")
	if a := lane.read("GET"); a.status != http.StatusOK {
		t.Fatalf("the phone lane's request begun: %d", a.status)
	}
	slow.send("Host: prov.example.com\r\n\r\n")
	if a := slow.read("GET"); a.status != http.StatusOK {
		t.Fatalf("net/http's request begun: %d", a.status)
	}
	routing.send(strings.TrimPrefix(laneGet(connFile, "User-Agent", yealinkUA), "GE"))
	if a := routing.read("GET"); a.status != http.StatusOK {
		t.Fatalf("the request being routed: %d", a.status)
	}
	waitFor(t, func() bool { return e.srv.IdleConns() == 3 }, "the answered connections are not counted idle")
	phoneGets(t, dialRaw(t, addr), "a new phone once connections are idle")
}

// TestConnBoundAcrossListeners: the bound counts the phone lane's
// listener and the WPI listener (net/http alone, TLS) together: a new
// phone on HTTP closes an idle WPI connection, and a new WPI connection
// is refused while the HTTP ones are busy.
func TestConnBoundAcrossListeners(t *testing.T) {
	e := newEnv(t, options{maxConns: 2})
	e.setup()
	addr := e.serveLanes()
	wpiAddr := serveWPI(t, e)

	w := dialRaw(t, wpiAddr, true)
	w.send("GET /dcmp/nothing HTTP/1.1\r\nHost: x\r\n\r\n")
	if a := w.read("GET"); a.status != http.StatusNotFound {
		t.Fatalf("WPI: %d, want 404", a.status)
	}
	waitFor(t, func() bool { return e.srv.IdleConns() == 1 }, "the kept-alive WPI connection is not counted idle")
	h := dialRaw(t, addr)
	phoneGets(t, h, "a phone below the bound")
	waitFor(t, func() bool { return e.srv.IdleConns() == 2 }, "the kept-alive HTTP connection is not counted idle")
	h2 := dialRaw(t, addr)
	phoneGets(t, h2, "a new phone at the bound")
	expectClosed(t, w, "the idle WPI connection (the oldest)")
	phoneGets(t, h, "the younger kept-alive connection")

	h.send("GET " + connFile + " HTTP/1.1\r\n")
	h2.send("GET " + connFile + " HTTP/1.1\r\n")
	waitFor(t, func() bool { return e.srv.IdleConns() == 0 }, "the requests begun are not counted busy")
	c, err := tls.Dial("tcp", wpiAddr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a test's own certificate
	if err == nil {
		c.Close()
		t.Fatal("a WPI connection was admitted while every connection is busy")
	}
}

// serveWPI runs the edge's ServeWPI on a loopback listener with a
// throwaway certificate and returns its address.
func serveWPI(t *testing.T, e *env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS() // for its certificate
	ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeWPI(ctx, ln, &tls.Config{Certificates: ts.TLS.Certificates}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeWPI: %v", err)
		}
	})
	return ln.Addr().String()
}

// TestWPIWithoutHTTP2: the WPI listener speaks HTTP/1.1 only, as the
// phone lane does. An HTTP/2 connection's frames between requests would
// mark it busy for the connection bound with nothing to mark it idle.
func TestWPIWithoutHTTP2(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	wpiAddr := serveWPI(t, e)
	c, err := tls.Dial("tcp", wpiAddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}) //nolint:gosec // a test's own certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p == "h2" {
		t.Fatalf("WPI negotiated %q, want HTTP/1.1", p)
	}
}

// dialRawFrom connects to addr from the loopback address src (all of
// 127.0.0.0/8 is loopback on Linux), over TLS when overTLS.
func dialRawFrom(t *testing.T, src, addr string, overTLS bool) *rawConn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	var c net.Conn
	var err error
	if overTLS {
		c, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a test's own certificate
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// hog opens n connections from src, each with a request begun and never
// finished (busy for the bound), and waits until the server counts them
// busy, busy in all.
func hog(t *testing.T, e *env, src, addr string, n, busy int) []*rawConn {
	t.Helper()
	var cs []*rawConn
	for range n {
		c := dialRawFrom(t, src, addr, false)
		c.send("GET " + connFile + " HTTP/1.1\r\nHost: prov.example.com\r\n")
		cs = append(cs, c)
	}
	waitFor(t, func() bool { return e.srv.OpenConns() == busy && e.srv.IdleConns() == 0 }, "the half-sent requests are not counted busy")
	return cs
}

// finish completes a request hog began and wants its file.
func finish(t *testing.T, c *rawConn, what string) {
	t.Helper()
	c.send("User-Agent: " + yealinkUA + "\r\n\r\n")
	if a := c.read("GET"); a.status != http.StatusOK {
		t.Fatalf("%s: %d, want 200", what, a.status)
	}
}

// TestConnBoundFairBySource: one host (127.0.0.2) keeps every place
// busy with half-sent requests, renewed as it loses them. A phone from
// another address still gets its file: the busiest source loses its
// oldest connection to it, and to a second phone; the host's own next
// connection is refused (it holds the most), and so is a newcomer from a
// source holding as many as every other. The host's other requests are
// not cut: they are answered when they end.
func TestConnBoundFairBySource(t *testing.T) {
	// The half-sent requests must outlive the test's steps on a loaded
	// machine.
	defer httpd.SetReadTimeout(time.Minute)()
	e := newEnv(t, options{maxConns: 4})
	e.setup()
	addr := e.serveLanes()
	hogs := hog(t, e, "127.0.0.2", addr, 4, 4)

	phoneGets(t, dialRawFrom(t, "127.0.0.3", addr, false), "a phone while one host keeps every place busy")
	expectClosed(t, hogs[0], "the busiest source's oldest connection")
	// The phone's connection, idle once answered, makes room for the
	// host's next.
	waitFor(t, func() bool { return e.srv.IdleConns() == 1 }, "the phone's answered connection is not counted idle")
	hogs = append(hogs[1:], hog(t, e, "127.0.0.2", addr, 1, 4)...)

	late := dialRawFrom(t, "127.0.0.2", addr, false)
	late.c.Write([]byte(laneGet(connFile, "User-Agent", yealinkUA))) //nolint:errcheck // it may be reset already
	expectClosed(t, late, "the busiest source's own newcomer")
	phoneGets(t, dialRawFrom(t, "127.0.0.4", addr, false), "a second phone")
	expectClosed(t, hogs[0], "the busiest source's next oldest connection")
	for i, c := range hogs[1:] {
		finish(t, c, fmt.Sprintf("the host's request %d, not cut", i+1))
	}
	if !strings.Contains(e.log.String(), "closed_busiest=") {
		t.Fatalf("the log does not say:\n%s", e.log)
	}

	// Two sources holding two each: a newcomer from either is refused,
	// one from a third source takes a place.
	e2 := newEnv(t, options{maxConns: 4})
	e2.setup()
	addr2 := e2.serveLanes()
	a := hog(t, e2, "127.0.0.2", addr2, 2, 2)
	b := hog(t, e2, "127.0.0.3", addr2, 2, 4)
	late = dialRawFrom(t, "127.0.0.3", addr2, false)
	late.c.Write([]byte(laneGet(connFile, "User-Agent", yealinkUA))) //nolint:errcheck // it may be reset already
	expectClosed(t, late, "a newcomer from a source holding as many as the busiest")
	phoneGets(t, dialRawFrom(t, "127.0.0.5", addr2, false), "a phone from a third source")
	// One of the two oldest made room; the younger ones are never taken.
	finish(t, a[1], "the first source's younger request")
	finish(t, b[1], "the second source's younger request")
}

// TestConnBoundSparesTrustedProxy: a trusted reverse proxy speaks for
// many phones: it never loses a busy connection to a newcomer from
// another source, however many it holds. An IPv6 proxy listed as one
// address is matched by that address, not by the /64 its connections
// count for (::1 here: its source is ::/64, which the list does not hold).
func TestConnBoundSparesTrustedProxy(t *testing.T) {
	defer httpd.SetReadTimeout(time.Minute)()
	for _, c := range []struct{ name, proxy, listen, proxyDials, lateDials string }{
		{"ipv4", "127.0.0.2", "127.0.0.1:0", "127.0.0.1", "127.0.0.1"},
		{"ipv6", "::1", ":0", "::1", "127.0.0.1"}, // dual stack: the newcomer over IPv4
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "ipv6" {
				ln, err := net.Listen("tcp6", "[::1]:0")
				if err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				ln.Close()
			}
			e := newEnv(t, options{maxConns: 3, trustedProxies: []string{c.proxy}})
			e.setup()
			_, port, _ := net.SplitHostPort(e.serveLanesAt(c.listen))
			proxied := hog(t, e, c.proxy, net.JoinHostPort(c.proxyDials, port), 3, 3)
			late := dialRawFrom(t, "127.0.0.3", net.JoinHostPort(c.lateDials, port), false)
			late.c.Write([]byte(laneGet(connFile, "User-Agent", yealinkUA))) //nolint:errcheck // it may be reset already
			expectClosed(t, late, "a newcomer while a trusted proxy holds every place")
			for i, pc := range proxied {
				finish(t, pc, fmt.Sprintf("the proxy's request %d", i))
			}
		})
	}
}

// TestSlowClientsCut: on every listener (HTTP and HTTPS with the phone
// lane, the WPI listener, HTTP behind trusted proxies: net/http alone) a
// client that trickles its request byte by byte is cut after the read
// timeout, and so is one that sends the first bytes of a kept-alive
// connection's next request and then nothing: net/http would wait for
// its fourth byte under the idle timeout (120 s), the connection busy
// for the bound all along.
func TestSlowClientsCut(t *testing.T) {
	const readTimeout = time.Second
	defer httpd.SetReadTimeout(readTimeout)()
	for _, l := range []struct {
		name    string
		overTLS bool
		serve   func(e *env) string
		req     string
	}{
		{"http", false, func(e *env) string { return e.serveLanes() }, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"http phone lane", false, func(e *env) string { return e.serveLanes() }, laneGet(connFile, "User-Agent", yealinkUA)},
		{"https", true, func(e *env) string { return e.serveLanesOver(true) }, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"wpi", true, func(e *env) string { return serveWPI(e.t, e) }, "GET /dcmp/contact-me HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"trusted proxies", false, func(e *env) string { return e.serveLanes() }, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(l.name, func(t *testing.T) {
			o := options{}
			if l.name == "trusted proxies" {
				o.trustedProxies = []string{"192.0.2.1"}
			}
			e := newEnv(t, o)
			e.setup()
			addr := l.serve(e)

			slow := dialRaw(t, addr, l.overTLS)
			start := time.Now()
			var err error
			for i := 0; err == nil && time.Since(start) < 20*time.Second; i++ {
				_, err = slow.c.Write([]byte{l.req[i%(len(l.req)-4)]}) // never the blank line
				time.Sleep(readTimeout / 10)
			}
			if err == nil {
				t.Fatalf("a request trickling in byte by byte was still read after %v", time.Since(start))
			}

			kept := dialRaw(t, addr, l.overTLS)
			kept.send(l.req)
			kept.read("GET")
			waitFor(t, func() bool { return e.srv.IdleConns() == 1 }, "the answered connection is not counted idle")
			kept.send("GE")
			waitFor(t, func() bool { return e.srv.IdleConns() == 0 }, "the request begun is not counted busy")
			kept.c.SetReadDeadline(time.Now().Add(15 * time.Second))
			_, err = io.Copy(io.Discard, kept.br)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("a kept-alive connection's next request, begun and never finished, was still open after 15 s")
			}
		})
	}
}
