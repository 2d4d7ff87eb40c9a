package httpd

import (
	"cmp"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov/internal/netlist"
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
// its answer not yet sent) does fairness by source decide (fairShare):
// the source holding the most connections loses its oldest one when it
// holds at least two more than the newcomer's source, else the new one
// is closed at once. Without the bound, one host that opens connections
// and leaves them idle holds each for the idle timeout (120 s) and about
// 25 KB, until the process runs out of file descriptors and accept fails
// for everyone; without fairness, one host that keeps every place busy
// (half-sent requests renewed within the read timeout) keeps every other
// phone out.
//
// A source is an IPv4 address or an IPv6 /64 (what one host or one
// subnet's router gets). A trusted reverse proxy (Config.TrustedProxies,
// matched by its own address) speaks for many phones: it never loses a
// connection to fairness, and its newcomer counts as a source holding
// none.
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
	max     int
	log     *slog.Logger
	quiet   *ratelimit.Keyed // the bound's log line: once a minute
	proxies netlist.List     // trusted reverse proxies: exempt from fairness (empty: none)
	read    time.Duration    // readTimeout when the set was made: firmRead's bound

	mu    sync.Mutex
	conns []*trackedConn       // open, unordered; trackedConn.idx is the index
	bySrc map[netip.Addr]int32 // open connections per source (sourceOf), trusted proxies' aside
	pick  []stamped            // makeRoom's scratch

	closed, refused, unfair atomic.Int64 // since the last log line
}

func newConnSet(limit int, log *slog.Logger, proxies netlist.List) *connSet {
	return &connSet{max: limit, log: log, proxies: proxies, read: readTimeout, bySrc: map[netip.Addr]int32{},
		quiet: ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: 1})}
}

// sourceOf is the source a connection from addr counts for: its IPv4
// address, or its IPv6 /64; the zero Addr (counted for nothing) when addr
// is not an IP address.
func sourceOf(addr net.Addr) netip.Addr {
	if v, ok := addr.(*net.TCPAddr); ok {
		return netlist.Host(v.AddrPort().Addr())
	}
	return netip.Addr{}
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
	set    *connSet
	state  atomic.Int64
	idx    int        // in set.conns; -1 once removed (under set.mu)
	src    netip.Addr // sourceOf(RemoteAddr); zero: counted for no source
	exempt bool       // a trusted proxy's (its address, not src): never in bySrc, its newcomer holds none (fairShare)
	since  int64      // when it was admitted (idleStamp): fairShare takes the oldest
	// firm: the connection is net/http's (firmRead); rd is its read
	// deadline as last set (UnixNano; 0: none).
	firm atomic.Bool
	rd   atomic.Int64
}

// admit counts c, making room at the bound; it returns nil, having closed
// c, when there is none.
func (s *connSet) admit(c net.Conn) *trackedConn {
	t := &trackedConn{Conn: c, set: s, src: sourceOf(c.RemoteAddr()), since: idleStamp()}
	// The proxy's own address, not its source: an IPv6 proxy listed as
	// one address is not the /64 its source is.
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok && !s.proxies.Empty() {
		t.exempt = s.proxies.Allows(a.AddrPort().Addr())
	}
	t.state.Store(t.since) // nothing sent yet
	var victims []*trackedConn
	var unfair *trackedConn
	s.mu.Lock()
	if len(s.conns) >= s.max {
		victims = s.makeRoom()
		if len(s.conns) >= s.max {
			unfair = s.fairShare(t)
		}
	}
	ok := len(s.conns) < s.max
	if ok {
		t.idx = len(s.conns)
		s.conns = append(s.conns, t)
		if t.counted() {
			s.bySrc[t.src]++
		}
	}
	s.mu.Unlock()
	for _, v := range victims {
		v.Conn.Close()
	}
	if len(victims) > 0 {
		s.closed.Add(int64(len(victims)))
		metrics.HTTPConnsShed("closed_idle", len(victims))
	}
	if unfair != nil {
		unfair.Conn.Close()
		s.unfair.Add(1)
		metrics.HTTPConnsShed("closed_busiest", 1)
	}
	if !ok {
		c.Close()
		s.refused.Add(1)
		metrics.HTTPConnsShed("refused", 1)
	}
	if len(victims) > 0 || unfair != nil || !ok {
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

// fairShare, at the bound with no idle connection, takes the oldest
// connection of the source holding the most (trusted proxies aside) out
// of the set, marked closing, and returns it to be closed for the
// newcomer t, if that source holds at least two more than t's (a trusted
// proxy's newcomer counts as holding none): so one source cannot keep
// every place busy, and two sources that hold about as many never take
// places from each other back and forth. It returns nil when no source
// holds that many. Called with s.mu held.
func (s *connSet) fairShare(t *trackedConn) *trackedConn {
	if !t.src.IsValid() {
		return nil
	}
	var own int32
	if !t.exempt {
		own = s.bySrc[t.src]
	}
	var top netip.Addr
	var most int32
	for src, n := range s.bySrc { // trusted proxies' connections are not in it
		if n > most {
			top, most = src, n
		}
	}
	if most < own+2 {
		return nil
	}
	var victim *trackedConn
	for _, c := range s.conns {
		if c.src == top && !c.exempt && (victim == nil || c.since < victim.since) && c.state.Load() != connClosing {
			victim = c
		}
	}
	if victim == nil {
		return nil
	}
	victim.state.Store(connClosing)
	s.remove(victim)
	return victim
}

// counted tells whether t counts for its source in connSet.bySrc: it
// has one, and is not a trusted proxy's (those never lose a connection
// to fairShare, and a phone sharing a proxy's /64 holds its own only).
func (t *trackedConn) counted() bool { return t.src.IsValid() && !t.exempt }

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
	if t.counted() {
		if s.bySrc[t.src]--; s.bySrc[t.src] <= 0 {
			delete(s.bySrc, t.src)
		}
	}
}

// report logs what the bound did since its last line, once a minute.
func (s *connSet) report() {
	if !s.quiet.Allow("bound") {
		return
	}
	s.log.Warn("HTTP connections at their bound: idle ones closed; when none was idle, the busiest source's oldest closed or new ones refused",
		"bound", s.max, "closed_idle", s.closed.Swap(0), "closed_busiest", s.unfair.Swap(0), "refused", s.refused.Swap(0))
}

// open is the number of connections counted.
func (s *connSet) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Read marks the connection busy when bytes arrive: a request has begun.
// Bytes read after makeRoom or fairShare chose the connection to close
// are not handed up: that request would be served with no one to take
// its answer. On net/http's connections the first bytes of a request
// start its read bound (firmRead).
func (t *trackedConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		if t.markBusy() && t.firm.Load() {
			t.firmRead()
		}
		if t.state.Load() == connClosing {
			return 0, net.ErrClosed
		}
	}
	return n, err
}

// firmRead holds a request begun on a net/http connection to the read
// timeout from its first byte: its read deadline is brought forward to
// then, never put back. net/http waits for the first four bytes of a
// kept-alive connection's next request under the idle timeout (120 s)
// and starts its ReadHeaderTimeout only after them: one to three bytes
// would otherwise hold the connection busy (never reclaimed for a
// newcomer) for two minutes. The phone lane keeps its own (laneConn.Read).
func (t *trackedConn) firmRead() {
	by := time.Now().Add(t.set.read)
	if rd := t.rd.Load(); rd != 0 && rd <= by.UnixNano() {
		return
	}
	t.SetReadDeadline(by) //nolint:errcheck // the next read fails as a closed connection's
}

// SetReadDeadline sets the read deadline, and what t knows of it.
func (t *trackedConn) SetReadDeadline(d time.Time) error {
	t.noteRead(d)
	return t.Conn.SetReadDeadline(d)
}

// SetDeadline sets both deadlines, and what t knows of the read one.
func (t *trackedConn) SetDeadline(d time.Time) error {
	t.noteRead(d)
	return t.Conn.SetDeadline(d)
}

func (t *trackedConn) noteRead(d time.Time) {
	if d.IsZero() {
		t.rd.Store(0)
	} else {
		t.rd.Store(d.UnixNano())
	}
}

// markBusy: a request has begun (unless the connection is being closed).
// It reports whether the connection was idle until then.
func (t *trackedConn) markBusy() bool {
	if t == nil {
		return false
	}
	for {
		v := t.state.Load()
		if v <= 0 {
			return false
		}
		if t.state.CompareAndSwap(v, connBusy) {
			return true
		}
	}
}

// netHTTP marks t as served by net/http from now on (firmRead).
func (t *trackedConn) netHTTP() {
	if t != nil {
		t.firm.Store(true)
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
			t.netHTTP()
			return t, nil
		}
	}
}
