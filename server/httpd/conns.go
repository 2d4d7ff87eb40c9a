package httpd

import (
	"cmp"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/metrics"
)

// The bound on open connections, as nginx's worker_connections with its
// reuse of idle connections: every connection accepted on any of the
// server's HTTP listeners (Serve, ServeTLS, ServeWPI) counts until it is
// closed. When a new one arrives at the bound, the connections that are
// idle (sent nothing yet, or waiting between requests on keep-alive) are
// closed, oldest first, to make room (up to 32 at a time, as nginx); only
// when every connection is busy (a request begun: its first byte read,
// its answer not yet sent) is the new one closed at once. Without it, one
// host that opens connections and leaves them idle holds each for the
// idle timeout (120 s) and about 25 KB, until the process runs out of
// file descriptors and accept fails for everyone.
//
// The hot path costs a few atomic operations on the connection's own
// state (trackedConn.Read, markIdle); the set of connections is locked
// only to add one, remove one, or make room (a scan, rare: at the bound,
// once per up to 32 new connections).

// Bounds of the default (DefaultMaxConns).
const (
	// connsPerFile: the default takes a quarter of the process's
	// descriptors (RLIMIT_NOFILE, soft limit). A connection may hold a
	// second one (a firmware file it sends), so HTTP holds at most half;
	// the other half is left to the database, TFTP (4,096 transfers at
	// most), the sniffer, plug-and-play and the logs.
	connsPerFile = 4
	// maxConnsCap caps the default: an idle connection takes about 25 KB
	// on HTTP, 50 KB on HTTPS (measured against the built server), so
	// 4,096 take 100 to 200 MB.
	maxConnsCap = 4096
	// connsDrain is how many idle connections one new connection at the
	// bound closes at most (nginx: 32, or an eighth of the idle ones).
	connsDrain = 32
)

// DefaultMaxConns is the bound on open HTTP connections when
// Config.MaxConns is 0: a quarter of the process's file descriptors
// (RLIMIT_NOFILE, soft limit; Go raises it to the hard limit at start),
// at most 4,096 (100 to 200 MB of idle connections), at least 1. With
// the shipped systemd unit (LimitNOFILE=65536) it is 4,096; a limit below
// 16,384 gives less (1,024 descriptors: 256).
func DefaultMaxConns() int {
	n, ok := openFileLimit()
	if !ok {
		return maxConnsCap
	}
	return int(max(1, min(n/connsPerFile, maxConnsCap)))
}

// connSet is the server's open HTTP connections and their bound.
type connSet struct {
	max   int
	log   *slog.Logger
	quiet *ratelimit.Keyed // the bound's log line: once a minute

	mu    sync.Mutex
	conns []*trackedConn // open, unordered; trackedConn.idx is the index
	pick  []stamped      // makeRoom's scratch

	closed, refused atomic.Int64 // since the last log line
}

func newConnSet(limit int, log *slog.Logger) *connSet {
	return &connSet{max: limit, log: log, quiet: ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: 1})}
}

// A connection's state (trackedConn.state): busy, closing, or idle since
// that many nanoseconds after connEpoch (> 0).
const (
	connBusy    int64 = 0
	connClosing int64 = -1
)

var connEpoch = time.Now()

// idleStamp is an idle state for now: later ones are greater.
func idleStamp() int64 { return int64(time.Since(connEpoch)) + 1 }

// trackedConn is an accepted connection counted against the bound. Its
// reads mark it busy; the servers mark it idle (markIdle) when it waits
// for a request. It passes sendfile (ReadFrom) and CloseWrite through.
type trackedConn struct {
	net.Conn
	set   *connSet
	state atomic.Int64
	idx   int // in set.conns; -1 once removed (under set.mu)
}

// admit counts c, making room at the bound; it returns nil, having closed
// c, when there is none.
func (s *connSet) admit(c net.Conn) *trackedConn {
	t := &trackedConn{Conn: c, set: s}
	t.state.Store(idleStamp()) // nothing sent yet
	var victims []*trackedConn
	s.mu.Lock()
	if len(s.conns) >= s.max {
		victims = s.makeRoom()
	}
	ok := len(s.conns) < s.max
	if ok {
		t.idx = len(s.conns)
		s.conns = append(s.conns, t)
	}
	s.mu.Unlock()
	for _, v := range victims {
		v.Conn.Close()
	}
	if len(victims) > 0 {
		s.closed.Add(int64(len(victims)))
		metrics.HTTPConnsShed("closed_idle", len(victims))
	}
	if !ok {
		c.Close()
		s.refused.Add(1)
		metrics.HTTPConnsShed("refused", 1)
	}
	if len(victims) > 0 || !ok {
		s.report()
	}
	if !ok {
		return nil
	}
	return t
}

// makeRoom takes the oldest idle connections (up to connsDrain, an eighth
// of the idle ones, at least one) out of the set, marked closing, and
// returns them to be closed. Called with s.mu held.
func (s *connSet) makeRoom() []*trackedConn {
	s.pick = s.pick[:0]
	for _, t := range s.conns {
		if v := t.state.Load(); v > 0 {
			s.pick = append(s.pick, stamped{t, v})
		}
	}
	if len(s.pick) == 0 {
		return nil
	}
	n := max(1, min(connsDrain, len(s.pick)/8))
	slices.SortFunc(s.pick, func(a, b stamped) int { return cmp.Compare(a.idle, b.idle) })
	var victims []*trackedConn
	for _, p := range s.pick {
		if len(victims) == n {
			break
		}
		// A connection whose state moved on since (a request begun)
		// fails the swap and stays.
		if p.t.state.CompareAndSwap(p.idle, connClosing) {
			s.remove(p.t)
			victims = append(victims, p.t)
		}
	}
	clear(s.pick)
	return victims
}

// stamped is an idle connection and its state when makeRoom read it.
type stamped struct {
	t    *trackedConn
	idle int64
}

// remove takes t out of the set. Called with s.mu held.
func (s *connSet) remove(t *trackedConn) {
	if t.idx < 0 {
		return
	}
	last := len(s.conns) - 1
	s.conns[t.idx] = s.conns[last]
	s.conns[t.idx].idx = t.idx
	s.conns[last] = nil
	s.conns = s.conns[:last]
	t.idx = -1
}

// report logs what the bound did since its last line, once a minute.
func (s *connSet) report() {
	if !s.quiet.Allow("bound") {
		return
	}
	s.log.Warn("HTTP connections at their bound: idle ones closed, or new ones refused when none was idle",
		"bound", s.max, "closed_idle", s.closed.Swap(0), "refused", s.refused.Swap(0))
}

// open is the number of connections counted.
func (s *connSet) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Read marks the connection busy when bytes arrive: a request has begun.
// Bytes read after makeRoom chose the connection to close are not handed
// up: that request would be served with no one to take its answer.
func (t *trackedConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.markBusy()
		if t.state.Load() == connClosing {
			return 0, net.ErrClosed
		}
	}
	return n, err
}

// markBusy: a request has begun (unless the connection is being closed).
func (t *trackedConn) markBusy() {
	if t == nil {
		return
	}
	for {
		v := t.state.Load()
		if v <= 0 || t.state.CompareAndSwap(v, connBusy) {
			return
		}
	}
}

// markIdle: the connection waits for a request.
func (t *trackedConn) markIdle() {
	if t == nil {
		return
	}
	v := t.state.Load()
	if v >= 0 {
		t.state.CompareAndSwap(v, idleStamp())
	}
}

// Close closes the connection and uncounts it.
func (t *trackedConn) Close() error {
	t.set.mu.Lock()
	t.set.remove(t)
	t.set.mu.Unlock()
	return t.Conn.Close()
}

// ReadFrom lets net/http send a file with sendfile.
func (t *trackedConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(t.Conn, r)
}

// CloseWrite lets net/http end a connection gracefully.
func (t *trackedConn) CloseWrite() error {
	if cw, ok := t.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// trackedOf is the trackedConn beneath c, if any.
func trackedOf(c net.Conn) *trackedConn {
	switch v := c.(type) {
	case *trackedConn:
		return v
	case *laneConn:
		return v.tr
	case *tls.Conn:
		t, _ := v.NetConn().(*trackedConn)
		return t
	}
	return nil
}

// connState is net/http's ConnState: a connection waiting for its next
// request is idle, one with a request under way busy (a pipelined request
// net/http had buffered already reads no new bytes). (Its first bytes
// mark it busy too: trackedConn.Read. A new connection is idle from its
// accept until then; one the lane hands over is busy already.)
func connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateIdle:
		if t := trackedOf(c); t != nil {
			t.markIdle()
		}
	case http.StateActive:
		if t := trackedOf(c); t != nil {
			t.markBusy()
		}
	}
}

// trackListener counts the connections of a listener served by net/http
// alone (ServeWPI; Serve behind trusted proxies) against the bound.
type trackListener struct {
	net.Listener
	set *connSet
}

// Accept returns the next connection admitted; one refused at the bound
// is closed and the next one waited for.
func (l trackListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if t := l.set.admit(c); t != nil {
			return t, nil
		}
	}
}
