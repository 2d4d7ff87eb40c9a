package httpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
