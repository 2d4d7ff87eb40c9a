package httpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// The phone lane. A connection whose first bytes (after the TLS handshake
// on HTTPS) are "GET /prov/" is a phone's: it is served by fasthttp, which
// costs a fraction of net/http per request, with the same core call,
// answers and metrics as the net/http path (phoneFile). Every other
// connection goes to net/http. A request on the phone lane that the lane
// does not answer itself (another method or path, firmware, a HEAD, a
// path with escapes, a client outside the phone networks) hands the
// connection over to net/http: the request is written out again ahead of
// what the client sends next, and the connection stays with net/http for
// good. On HTTPS the lane makes the handshake itself (HTTP/1.1 only) and
// net/http, which then sees no *tls.Conn, gets the connection's TLS state
// through its context (withTLSState), so r.TLS is as before.

// phoneLanePrefix is how a phone's connection starts.
const phoneLanePrefix = "GET /prov/"

// Limits of the phone lane, as net/http's where fasthttp has the same
// knob. A request header over laneHeaderMax is answered 431 (net/http
// allows 64 KiB; no phone sends more than a few hundred bytes).
const laneHeaderMax = 8 << 10

// readTimeout bounds, on every listener, the TLS handshake and the first
// bytes of a connection, each request's read on the phone lane, a
// request's header on net/http (ReadHeaderTimeout) and the first bytes
// of a kept-alive connection's next request there (trackedConn.firmRead).
// A variable only for the tests of silent and slow clients.
var readTimeout = 10 * time.Second

// lane serves one listener: the phone lane (fast) and net/http (slow)
// side by side.
type lane struct {
	s     *Server
	fast  *fasthttp.Server
	fastQ *connQueue      // the listener fasthttp serves
	slow  *connQueue      // the listener net/http serves
	base  context.Context // the requests' context, cancelled after the grace period
	tls   *tls.Config     // HTTPS: the handshake route makes; nil on plain HTTP
	read  time.Duration   // readTimeout when the lane started
	lim   *laneLimits     // the timeouts its connections keep
}

// serveLanes is serveWith with the phone lane: route reads each
// connection's first bytes (after the TLS handshake when tlsCfg is given)
// and queues it for fasthttp (fastQ) or net/http (slow). Shutdown stops
// both within the grace period, then cancels what still runs.
func (s *Server) serveLanes(ctx context.Context, ln net.Listener, srv *http.Server, base context.Context, cancelBase context.CancelFunc, tlsCfg *tls.Config) error {
	l := &lane{s: s, fastQ: newConnQueue(ln.Addr()), slow: newConnQueue(ln.Addr()), base: base, read: readTimeout}
	l.lim = newLaneLimits(l.read, srv.IdleTimeout, srv.WriteTimeout)
	if tlsCfg != nil {
		l.tls = tlsCfg.Clone()
		l.tls.NextProtos = []string{"http/1.1"} // no HTTP/2: the lane reads HTTP/1.1
		srv.TLSConfig = nil
		srv.Handler = withTLSState(srv.Handler)
		srv.ConnContext = laneConnContext
	}
	l.fast = &fasthttp.Server{
		Handler:               l.handle,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReadBufferSize:        laneHeaderMax,
		// The read and idle timeouts are the connections' own (laneConn.Read),
		// the write timeout is set through laneConn.SetWriteDeadline.
		WriteTimeout:          srv.WriteTimeout,
		LazyRequestTime:       true, // the handler reads its own clock
		MaxRequestBodySize:    int(s.cfg.MaxBody),
		KeepHijackedConns:     true,
		CloseOnShutdown:       true,
		SecureErrorLogMessage: true,
		Logger:                laneLogger{s.log},
		ConnState:             laneConnState,
	}
	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(l.slow) }()
	go func() { errc <- l.fast.Serve(l.fastQ) }()
	var closing atomic.Bool
	go func() { errc <- l.accept(ln, &closing) }()
	select {
	case err := <-errc:
		closing.Store(true)
		ln.Close()
		srv.Close()
		l.fast.Shutdown() //nolint:errcheck // nothing to tell: it only closes
		l.fastQ.Close()
		return err
	case <-ctx.Done():
	}
	closing.Store(true)
	ln.Close()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	var fastErr error
	wg.Go(func() { fastErr = l.fast.ShutdownWithContext(sctx) })
	slowErr := srv.Shutdown(sctx)
	wg.Wait()
	// fasthttp's Shutdown knows no listener before its Serve has started
	// (a server stopped right after its start): end that Serve too.
	l.fastQ.Close()
	if slowErr != nil || fastErr != nil {
		s.log.Warn("requests still running after the shutdown grace period; cancelling them", "grace", s.cfg.ShutdownGrace)
		cancelBase()
		srv.Close()
	}
	for range 3 {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

// accept hands every connection of ln to route once the bound on open
// connections admits it (conns.go), backing off on errors that pass (too
// many open files), as net/http does.
func (l *lane) accept(ln net.Listener, closing *atomic.Bool) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if closing.Load() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.s.log.Warn("accept failed; retrying", "err", err, "in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		t := l.s.conns.admit(c)
		if t == nil {
			continue // at the bound, with no idle connection to close
		}
		go l.route(t)
	}
}

// route reads the first bytes of c (within readTimeout) and gives it
// to the phone lane when they are phoneLanePrefix, to net/http as soon as
// they differ.
func (l *lane) route(t *trackedConn) {
	var c net.Conn = t
	c.SetDeadline(time.Now().Add(l.read)) //nolint:errcheck // a failed read below says it
	var state *tls.ConnectionState
	if l.tls != nil {
		tc := tls.Server(c, l.tls)
		if err := tc.HandshakeContext(l.base); err != nil {
			// As net/http: scanners and phones without the CA make plenty.
			l.s.log.Debug("TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
			c.Close()
			return
		}
		st := tc.ConnectionState()
		state, c = &st, tc
		t.markIdle() // no request yet
	}
	buf := make([]byte, len(phoneLanePrefix))
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if n > 0 {
			t.markBusy() // a request has begun (TLS may have read it with the handshake)
		}
		if !strings.HasPrefix(phoneLanePrefix, string(buf[:n])) {
			break
		}
		if err != nil && n < len(buf) {
			c.Close() // gone or too slow before its request line: net/http closes it too
			return
		}
	}
	c.SetDeadline(time.Time{}) //nolint:errcheck // as above
	pc := &laneConn{Conn: c, pre: buf[:n], tls: state, tr: t}
	if n == len(buf) && string(buf) == phoneLanePrefix {
		pc.lim = l.lim // its first request has begun (waiting is false)
		l.fastQ.push(pc)
		return
	}
	t.netHTTP()
	l.slow.push(pc)
}

// tlsStateKey keys a lane connection's TLS state in net/http's request
// context (withTLSState).
type tlsStateKey struct{}

// withTLSState sets r.TLS from the lane connection's TLS state: net/http
// sets it only on a *tls.Conn.
func withTLSState(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok {
				r.TLS = st
			}
		}
		h.ServeHTTP(w, r)
	})
}

// laneConnContext puts a lane connection's TLS state into the context of
// its requests on net/http.
func laneConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*laneConn); ok && lc.tls != nil {
		return context.WithValue(ctx, tlsStateKey{}, lc.tls)
	}
	return ctx
}

// handle answers a request on the phone lane, or hands the connection
// over to net/http (handOver) when it is not a phone's GET of its file.
func (l *lane) handle(ctx *fasthttp.RequestCtx) {
	s := l.s
	if !ctx.IsGet() {
		l.handOver(ctx)
		return
	}
	uri := ctx.Request.Header.RequestURI()
	path, query, _ := bytes.Cut(uri, []byte{'?'})
	if !bytes.HasPrefix(path, []byte("/prov/")) || bytes.IndexByte(path, '%') >= 0 {
		l.handOver(ctx) // net/http unescapes the path: leave it to it
		return
	}
	// The request's strings are views of fasthttp's buffer, valid until
	// this returns: ProvideBorrowed makes them the core's own.
	name, err := provision.CleanPath(b2s(path[len("/prov"):]))
	if err != nil || strings.HasPrefix(name, "firmware/") {
		l.handOver(ctx)
		return
	}
	lc := ctx.Conn().(*laneConn)
	ip, ok := lc.clientIP()
	if !ok {
		l.handOver(ctx)
		return
	}
	if !lc.allowed(s.cfg.PhoneNetworks, ip) {
		l.handOver(ctx) // net/http logs and refuses it
		return
	}
	start := time.Now()
	req := vendors.Request{
		Path: name, UserAgent: b2s(ctx.UserAgent()), RemoteAddr: ip,
		Transport: "http", BaseURL: s.baseURLOf(ctx.Host(), lc.tls != nil), Method: vendors.MethodGet,
	}
	if lc.tls != nil {
		req.Transport = "https"
		req.ClientCerts = clientCerts(lc.tls, s.cfg.PhoneCAs, start)
	}
	// Header names as fasthttp keeps them (normalized), so that looking
	// one up copies nothing.
	if a := ctx.Request.Header.PeekCanonical(headerAuthorization); len(a) > 0 && len(a) <= maxAuthorization {
		req.Authorization = b2s(a)
		req.Target = b2s(uri) // what a Digest answer signs
	}
	if len(query) > 0 {
		if q := queryValue(string(query), "mac"); q != "" {
			if mac, err := vendors.ParseMAC(q); err == nil {
				req.MAC = mac
			}
		}
	}
	for _, h := range preconditionKeys {
		if len(ctx.Request.Header.PeekCanonical(h)) > 0 {
			req.SecretFree = true
			break
		}
	}
	ctx.Response.Header.DisableNormalizing() // "ETag", as net/http writes it
	status := l.provide(ctx, req, start)
	s.laneAnswered.Add(1)
	metrics.HTTPRequest(phoneRoute, http.MethodGet, status, time.Since(start))
	if s.log.Enabled(l.base, slog.LevelDebug) {
		s.log.Debug("request", "method", http.MethodGet, "path", string(path), "status", status,
			"bytes", len(ctx.Response.Body()), "remote", ip, "duration", time.Since(start))
	}
}

// laneAnswer writes the refusal a and returns its status.
func laneAnswer(ctx *fasthttp.RequestCtx, a refused) int {
	for i := 0; i+1 < len(a.header); i += 2 {
		ctx.Response.Header.Add(a.header[i], a.header[i+1])
	}
	laneText(ctx, a.status, a.body)
	return a.status
}

// provide asks the core and answers as phoneFile does: the file, a 304,
// or the core's refusal. A file with secrets goes out through sendSecret.
// It returns the status.
func (l *lane) provide(ctx *fasthttp.RequestCtx, req vendors.Request, start time.Time) int {
	s := l.s
	lc := ctx.Conn().(*laneConn)
	pctx := lc.timeout(l.base, start.Add(s.cfg.ProvideTimeout))
	res, err := s.cfg.Phones.ProvideBorrowed(pctx, req)
	timedOut := err != nil && errors.Is(pctx.Err(), context.DeadlineExceeded) && l.base.Err() == nil
	lc.done(pctx)
	if err != nil {
		return laneAnswer(ctx, s.refusal(req, err, timedOut))
	}
	// Before any header: a refused body leaves no trace of the file.
	if err := res.Sending(); err != nil {
		res.End(provision.ErrNotDelivered)
		return laneAnswer(ctx, withdrawnAnswer)
	}
	h := &ctx.Response.Header
	for k, v := range res.Header {
		h.Set(k, v)
	}
	h.SetContentType(res.File.ContentType)
	h.SetCanonical(headerCacheControl, valueNoStore)
	if !res.Secret {
		h.SetCanonical(headerETag, s2b(res.ETag))
		if match := ctx.Request.Header.PeekCanonical(preconditionKeys[0]); len(match) > 0 && etagMatch(b2s(match), res.ETag) {
			h.SetContentType("") // as net/http: a 304 has no body
			ctx.SetStatusCode(http.StatusNotModified)
			res.End(nil)
			return http.StatusNotModified
		}
		// Nothing records its delivery (End is a no-op): fasthttp writes
		// the body when the handler returns.
		ctx.Response.SetBodyRaw(res.File.Body)
		res.End(nil)
		return http.StatusOK
	}
	l.sendSecret(ctx, res)
	return http.StatusOK
}

// sendSecret writes a body with secrets itself, after fasthttp has
// flushed whatever went before it on the connection (a hijack), so that
// its delivery is known: the body counts as delivered once it is flushed
// to the connection (End(nil)), as on net/http. Then the lane goes on
// serving the connection. When fasthttp never gets that far (an earlier
// answer on the connection failed to go out), nothing was written of this
// one and the claim is released (End(ErrNotDelivered)).
func (l *lane) sendSecret(ctx *fasthttp.RequestCtx, res *provision.Result) {
	resp := fasthttp.AcquireResponse()
	ctx.Response.CopyTo(resp)
	resp.SetBodyRaw(res.File.Body)
	resp.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	closeAfter := ctx.Request.Header.ConnectionClose()
	if closeAfter {
		resp.SetConnectionClose()
	} else if !ctx.Request.Header.IsHTTP11() {
		resp.Header.Set("Connection", "keep-alive")
	}
	lc := ctx.Conn().(*laneConn)
	raw := lc.Conn
	var once sync.Once
	end := func(err error) { once.Do(func() { res.End(err); fasthttp.ReleaseResponse(resp) }) }
	lc.pending = end
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		c.SetWriteDeadline(time.Now().Add(l.fast.WriteTimeout)) //nolint:errcheck // the write below says it
		bw := bufio.NewWriterSize(c, 4096)
		err := resp.Write(bw)
		if err == nil {
			err = bw.Flush()
		}
		end(err)
		c.SetWriteDeadline(time.Time{}) //nolint:errcheck // as above
		if err != nil || closeAfter {
			raw.Close()
			return
		}
		l.fastQ.push(flatten(c, raw, lc))
	})
}

// The request headers the lane reads, as fasthttp normalizes their names.
var (
	headerAuthorization = []byte("Authorization")
	preconditionKeys    = func() [len(preconditions)][]byte {
		var k [len(preconditions)][]byte
		for i, h := range preconditions {
			k[i] = []byte(h)
		}
		return k
	}()
)

// The lane's own response headers, as net/http writes them ("ETag", not
// fasthttp's "Etag": normalizing is off).
var (
	headerCacheControl = []byte("Cache-Control")
	headerETag         = []byte("ETag")
	valueNoStore       = []byte("no-store")
)

// b2s is a string on b's bytes, not copied: valid while b is (for
// ProvideBorrowed, and lookups).
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// s2b is a string's bytes, not copied: for fasthttp calls that copy them.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// flattenMax bounds what flatten reads ahead: more than a few pipelined
// requests' worth (they are bounded by laneHeaderMax each).
const flattenMax = 4 * laneHeaderMax

// flatten returns the connection a hijack left (c: what fasthttp had
// buffered, then lc, which read through the hijack before it) as one
// laneConn on raw, holding what c had buffered: so a kept-alive
// connection that carries secret after secret does not stack a reader
// (and its buffer) per transfer, each read passing through all of them.
// With raw's read deadline already past, c gives up what its buffers
// hold (fasthttp's, then lc's pre) and stops at the socket, which the new
// connection reads itself afterwards: no byte is lost or reordered. Past
// flattenMax, or if a read fails otherwise, the new connection reads on
// through c instead.
func flatten(c, raw net.Conn, lc *laneConn) *laneConn {
	// next keeps raw's deadlines from now on, lc no more; it waits for a
	// request unless one is buffered.
	next := &laneConn{Conn: raw, tls: lc.tls, ip: lc.ip, allow: lc.allow, lim: lc.lim, tr: lc.tr}
	lc.lim = nil
	defer func() { next.waiting = len(next.pre) == 0 && next.r == nil }()
	if err := raw.SetReadDeadline(time.Now()); err != nil {
		next.r = c
		return next
	}
	buf := make([]byte, laneHeaderMax)
	for {
		n, err := c.Read(buf)
		next.pre = append(next.pre, buf[:n]...)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break // nothing more ready: the rest comes from raw itself
		}
		if err != nil || len(next.pre) >= flattenMax {
			next.r = c
			break
		}
	}
	raw.SetReadDeadline(time.Time{}) //nolint:errcheck // next sets its own before each read
	return next
}

// laneConnState tells a lane connection where fasthttp is: waiting for a
// request (idle: the idle timeout applies to its reads), or with one
// begun (active: its first byte has come, from the socket or from what
// fasthttp had buffered behind the last one; the read timeout applies);
// and it ends the transfer of a body with secrets whose hijack never ran
// (fasthttp closed the connection instead: see sendSecret). Waiting, the
// connection is idle for the bound on open connections (conns.go).
func laneConnState(c net.Conn, st fasthttp.ConnState) {
	lc, ok := c.(*laneConn)
	if !ok {
		return
	}
	switch st {
	case fasthttp.StateNew:
		if lc.waiting { // after a body with secrets (flatten), nothing buffered
			lc.tr.markIdle()
		}
	case fasthttp.StateIdle:
		lc.waiting = true
		lc.tr.markIdle()
	case fasthttp.StateActive:
		lc.waiting, lc.reqBy = false, time.Time{}
		lc.tr.markBusy()
	case fasthttp.StateClosed:
		if lc.pending != nil {
			lc.pending(provision.ErrNotDelivered)
		}
	}
}

// handOver gives the connection of ctx to net/http with this request
// written out again ahead of the rest of what the client sends (which
// fasthttp may already hold in its buffer). fasthttp writes nothing.
func (l *lane) handOver(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	body := ctx.Request.Body()
	if len(body) > 0 || h.ContentLength() != 0 {
		h.SetContentLength(len(body)) // fasthttp has read a chunked body whole
	}
	h.Del("Expect")   // fasthttp answered any 100-continue already
	hdr := h.Header() // fasthttp's buffer: copied
	replay := make([]byte, 0, len(hdr)+len(body))
	replay = append(append(replay, hdr...), body...)
	lc := ctx.Conn().(*laneConn)
	lc.lim = nil // net/http sets the deadlines from now on
	ctx.HijackSetNoResponse(true)
	lc.tr.netHTTP()
	ctx.Hijack(func(c net.Conn) {
		l.slow.push(&laneConn{Conn: lc.Conn, pre: replay, r: c, tls: lc.tls, tr: lc.tr})
	})
}

// laneText answers code with a plain-text body, as text does on net/http.
func laneText(ctx *fasthttp.RequestCtx, code int, body string) {
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(code)
	ctx.Response.SetBodyString(body)
}

// laneConn is a connection whose first bytes (pre) were read already, and
// then whose reads go through r (a hijacked fasthttp connection, which
// holds what fasthttp buffered) when set. Writes, ReadFrom (sendfile for
// firmware) and CloseWrite go to the connection itself.
type laneConn struct {
	net.Conn
	pre []byte
	r   io.Reader
	// pending ends a transfer with secrets waiting for its hijack (sendSecret).
	pending func(error)
	tls     *tls.ConnectionState // HTTPS: the handshake's outcome
	tr      *trackedConn         // the accepted connection beneath, counted against the bound
	ip      string               // clientIP's answer, once worked out
	allow   int8                 // allowed's answer: 0 not worked out, 1 yes, -1 no
	// spare is the last request's timeout, when nothing waited on it:
	// the next request on this connection resets it (requests on one
	// connection are served one after the other).
	spare *lazyTimeout

	// The phone lane's connections keep their read deadlines themselves
	// (lim set), net/http's set their own (lim nil: Read and the
	// deadlines go straight through).
	lim     *laneLimits
	waiting bool      // between requests (laneConnState): a read waits at most the idle timeout
	reqBy   time.Time // the request begun must have come whole by then (zero: not worked out yet)
	rd, wd  time.Time // the connection's read and write deadlines as set (zero: none)
}

// laneLimits are the timeouts a lane's connections keep themselves, for
// fasthttp, which then sets none but the write deadline (through
// laneConn.SetWriteDeadline).
//
// fasthttp would move a connection's read deadline twice per request
// (idle, then read) and its write deadline once, each time a runtime
// timer moved under a lock, with a clock reading (pprof: 3.2 % of the
// server's CPU in pollSetDeadline alone at 90,000 requests a second). A
// lane connection moves its read deadline only where the phase asks
// another (waiting for a request, or for the rest of one that came in
// parts), and keeps a deadline it set, read or write, while the one asked
// falls no later than it and at most two slacks before it (nextDeadline).
type laneLimits struct {
	idle, read            time.Duration
	readSlack, writeSlack time.Duration
}

// deadlineSlack: a lane connection's deadline falls at most 2/deadlineSlack
// of its timeout after the time asked, never before it.
const deadlineSlack = 8

func newLaneLimits(read, idle, write time.Duration) *laneLimits {
	if idle <= 0 {
		idle = read // as net/http and fasthttp: no idle timeout, the read timeout
	}
	return &laneLimits{idle: idle, read: read, readSlack: read / deadlineSlack, writeSlack: write / deadlineSlack}
}

// nextDeadline tells whether a deadline set at set must be set again for
// t, and to what: not while set falls no earlier than t and at most
// 2×slack after it; a deadline set falls slack after t, so that the next
// ones asked (each a little later) keep it for a while.
func nextDeadline(set, t time.Time, slack time.Duration) (time.Time, bool) {
	switch {
	case t.IsZero():
		return t, !set.IsZero()
	case !set.IsZero() && !set.Before(t) && set.Sub(t) <= 2*slack:
		return t, false
	}
	return t.Add(slack), true
}

// SetWriteDeadline sets the write deadline; on the lane, as nextDeadline
// says.
func (c *laneConn) SetWriteDeadline(t time.Time) error {
	if c.lim != nil {
		var ok bool
		if t, ok = nextDeadline(c.wd, t, c.lim.writeSlack); !ok {
			return nil
		}
	}
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.wd = t
	return nil
}

// timeout returns the lazy timeout of a request on c: its spare, reset,
// or a new one.
func (c *laneConn) timeout(parent context.Context, deadline time.Time) *lazyTimeout {
	if t := c.spare; t != nil {
		c.spare = nil
		t.reset(parent, deadline)
		return t
	}
	return &lazyTimeout{Context: parent, deadline: deadline}
}

// done releases t and keeps it as c's spare when nothing waited on it.
func (c *laneConn) done(t *lazyTimeout) {
	t.release()
	if t.reusable() {
		c.spare = t
	}
}

// clientIP is the client's address as clientIP(RemoteAddr) gives it,
// worked out once per connection; false where the lane leaves the
// connection to net/http (no TCP address, a zone).
func (c *laneConn) clientIP() (string, bool) {
	if c.ip == "" {
		addr, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok {
			return "", false
		}
		a := addr.AddrPort().Addr()
		if a.Zone() != "" {
			return "", false
		}
		c.ip = a.Unmap().String()
	}
	return c.ip, true
}

// allowed tells whether the phone networks allow the client at ip (c's),
// worked out once per connection.
func (c *laneConn) allowed(nets netlist.List, ip string) bool {
	if c.allow == 0 {
		c.allow = -1
		if nets.AllowsString(ip) {
			c.allow = 1
		}
	}
	return c.allow > 0
}

// Read reads what was read already, then the connection. On the lane it
// sets the read deadline first: between requests (laneConnState) the idle
// timeout from now; once a request has begun, the read timeout from the
// first read that waited for its rest (a request that comes in one piece,
// as a phone's does, moves no deadline).
func (c *laneConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	if c.lim != nil {
		now := time.Now()
		want := now.Add(c.lim.idle)
		if !c.waiting {
			if c.reqBy.IsZero() {
				c.reqBy = now.Add(c.lim.read)
			}
			want = c.reqBy
		}
		if t, ok := nextDeadline(c.rd, want, c.lim.readSlack); ok {
			if err := c.SetReadDeadline(t); err != nil {
				return 0, err
			}
		}
	}
	if c.r != nil {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

// SetDeadline sets both deadlines, and what c knows of them.
func (c *laneConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.rd, c.wd = t, t
	return nil
}

// SetReadDeadline sets the read deadline, and what c knows of it.
func (c *laneConn) SetReadDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	c.rd = t
	return nil
}

// ReadFrom lets net/http send a file with sendfile, as on its own
// connections.
func (c *laneConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// CloseWrite lets net/http end a connection gracefully, as on its own.
func (c *laneConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connQueue is the listener net/http serves: the connections route and
// handOver give it.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) push(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.done:
		c.Close()
	}
}

// Accept returns the next connection given to net/http.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close ends Accept.
func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

// Addr is the real listener's address.
func (q *connQueue) Addr() net.Addr { return q.addr }

// laneLogger takes fasthttp's log lines (connections that failed: a
// malformed request, a timeout) at debug level: phones and scanners make
// plenty, and none is the server's fault.
type laneLogger struct{ log *slog.Logger }

func (g laneLogger) Printf(format string, args ...any) {
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		g.log.Debug("phone lane", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
}
