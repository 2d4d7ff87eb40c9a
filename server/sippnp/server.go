// Package sippnp is the SIP multicast plug-and-play edge: it answers the
// SUBSCRIBE (Event: ua-profile) that unprovisioned phones multicast to
// 224.0.1.75:5060 at boot with 200 OK and a NOTIFY whose body is the
// provisioning URL, and records the phone in the inbox through a Recorder.
// See README.md in this directory for the protocol as implemented.
package sippnp

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/vendors"
)

// Recorder identifies and records a phone found by plug-and-play and
// returns the URL to hand to it. *provision.Phones satisfies it. req
// carries MAC (canonical, from the Request-URI, To or From; "" when none
// has one), UserAgent, RemoteAddr (the source IP) and Transport "sip". An
// error wrapping vendors.ErrNotFound means the phone has no MAC anywhere,
// its User-Agent included: it is not answered.
type Recorder interface {
	Discovered(ctx context.Context, req vendors.Request) (url string, err error)
}

// Config configures a Server. Zero durations take the defaults.
type Config struct {
	Recorder Recorder
	Log      *slog.Logger
	// T1 is the first NOTIFY retransmission interval (500 ms); it doubles
	// up to T2 (4 s) until the phone answers or Timeout (32 s) passes
	// (RFC 3261 §17.1.2, timers E and F).
	T1, T2, Timeout time.Duration
	// MACInterval is the least time between two answered SUBSCRIBEs of one
	// MAC with different Call-IDs (default 5 s); retransmissions of the
	// same Call-ID get the same 200 OK again and no second NOTIFY.
	MACInterval time.Duration
	// PerSource caps new transactions per source IP per minute (default
	// 30): a source may start PerSource at once, then one more each
	// minute/PerSource.
	PerSource int
	// Networks, when not empty, is where phones may be (--phone-networks):
	// datagrams from other sources are ignored (one log line a minute per
	// source), as if never received.
	Networks netlist.List
}

// Server answers plug-and-play SUBSCRIBEs. Serve runs it.
type Server struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	wg   sync.WaitGroup
	macs *ratelimit.Keyed // new transactions per MAC
	srcs *ratelimit.Keyed // new transactions per source IP
	logs *ratelimit.Keyed // repeated log lines

	maxTx int // maxTx; tests set less

	mu    sync.Mutex
	txs   map[string]*tx // by Call-ID
	order list.List      // of *tx: those in txs, oldest (first to expire) at the front
}

// maxTx bounds the transactions held at once (each lives Timeout). At
// the bound a new one drops the oldest (its NOTIFY retransmissions stop)
// rather than being ignored: a flood of distinct SUBSCRIBEs (forged
// sources, within the per-source limit each) then costs the phones caught
// in it their retransmissions, not their answer. A phone answers the
// first NOTIFY within milliseconds, and the 200 OK and the NOTIFY go out
// when the SUBSCRIBE is answered; refusing new transactions instead would
// leave every phone unanswered for as long as the flood lasts.
const maxTx = 4096

// tx is one answered SUBSCRIBE: its 200 OK (resent on retransmissions)
// and its NOTIFY (retransmitted until the phone answers).
type tx struct {
	ok       []byte
	okTo     *net.UDPAddr
	notify   []byte
	notifyTo *net.UDPAddr
	mac      string
	expires  time.Time
	answered chan struct{} // closed on the phone's final response to the NOTIFY, or when dropped
	once     sync.Once
	callID   string
	elem     *list.Element // in Server.order
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.T1 <= 0 {
		cfg.T1 = 500 * time.Millisecond
	}
	if cfg.T2 <= 0 {
		cfg.T2 = 4 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 32 * time.Second
	}
	if cfg.MACInterval <= 0 {
		cfg.MACInterval = 5 * time.Second
	}
	if cfg.PerSource <= 0 {
		cfg.PerSource = 30
	}
	s := &Server{cfg: cfg, log: cfg.Log.With("component", "sippnp"), now: time.Now, txs: map[string]*tx{}, maxTx: maxTx}
	// The limiters read s.now when they are asked, so a test's clock rules them.
	clock := func() time.Time { return s.now() }
	s.macs = ratelimit.New(ratelimit.Config{Every: cfg.MACInterval, Burst: 1, MaxKeys: maxKeys, Now: clock})
	s.srcs = ratelimit.New(ratelimit.Config{Every: time.Minute / time.Duration(cfg.PerSource), Burst: cfg.PerSource,
		MaxKeys: maxKeys, Now: clock})
	s.logs = ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: maxKeys, Now: clock})
	return s
}

// maxKeys bounds the MACs, source IPs and log lines each limiter remembers.
const maxKeys = 8192

// writer sends datagrams; a net.PacketConn is one.
type writer interface {
	WriteTo(b []byte, addr net.Addr) (int, error)
	LocalAddr() net.Addr
}

// Serve answers on the sockets until ctx is done, then closes them and
// waits for pending NOTIFY retransmissions to stop.
func (s *Server) Serve(ctx context.Context, c *Conns) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := []Receiver{c.Recv}
	if pc, ok := c.Recv.(net.PacketConn); !ok || pc != c.Send {
		conns = append(conns, c.Send)
	}
	errc := make(chan error, len(conns))
	for _, pc := range conns {
		go func() { errc <- s.read(ctx, pc, c.Send) }()
	}
	var err error
	running := len(conns)
	select {
	case <-ctx.Done():
	case err = <-errc:
		running--
	}
	cancel()
	c.Close() // unblocks the other readers
	// Every reader has returned before Serve does: one still in ReadFrom or
	// handle after Serve returned raced with the caller (seen under -race).
	for range running {
		<-errc
	}
	s.wg.Wait()
	return err
}

func (s *Server) read(ctx context.Context, pc Receiver, out net.PacketConn) error {
	buf := make([]byte, maxMessage+1)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sip pnp: read: %w", err)
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		s.handle(ctx, buf[:n], ua, out) // n is maxMessage+1 for a larger datagram: handle ignores it
	}
}

// handle processes one datagram. It never panics on any input.
func (s *Server) handle(ctx context.Context, b []byte, from *net.UDPAddr, out writer) {
	if !s.cfg.Networks.AllowsIP(from.IP) {
		s.logOnce("outside|"+from.IP.String(), slog.LevelInfo, "ignored: source outside the phone networks", "remote", from.String())
		return
	}
	if len(b) > maxMessage {
		s.logOnce("size|"+from.IP.String(), slog.LevelInfo, "ignored: datagram larger than a plug-and-play SUBSCRIBE",
			"limit_bytes", maxMessage, "remote", from.String())
		return
	}
	m, err := parse(b)
	if err != nil {
		s.logOnce("malformed|"+from.IP.String(), slog.LevelDebug, "ignored: not a SIP message", "remote", from.String())
		return
	}
	if m.isResponse {
		s.response(m, from)
		return
	}
	if m.method != "SUBSCRIBE" {
		s.logOnce("method|"+from.IP.String(), slog.LevelDebug, "ignored: not a SUBSCRIBE", "method", m.method, "remote", from.String())
		return
	}
	event := m.get("event")
	if evType, _, _ := strings.Cut(event, ";"); !strings.EqualFold(strings.TrimSpace(evType), "ua-profile") {
		// Silence, not 489: the group is shared with other responders and
		// a PBX may see the same datagram; an error from us helps nobody.
		s.logOnce("event|"+from.IP.String(), slog.LevelDebug, "ignored: SUBSCRIBE for another event", "event", event, "remote", from.String())
		return
	}
	callID := m.get("call-id")
	vias := m.all("via")
	_, _, cseqOK := m.cseq()
	if callID == "" || len(vias) == 0 || m.get("from") == "" || m.get("to") == "" || !cseqOK {
		s.logOnce("incomplete|"+from.IP.String(), slog.LevelInfo, "ignored: SUBSCRIBE without Call-ID, Via, From, To or CSeq", "remote", from.String())
		return
	}
	v, ok := topVia(vias[0])
	if !ok || v.transport != "UDP" {
		s.logOnce("via|"+from.IP.String(), slog.LevelInfo, "ignored: SUBSCRIBE with an unusable Via", "via", vias[0], "remote", from.String())
		return
	}

	now := s.now()
	s.mu.Lock()
	if t := s.txs[callID]; t != nil && now.Before(t.expires) {
		s.mu.Unlock()
		// A retransmission: the same 200 OK again, no second NOTIFY.
		_, _ = out.WriteTo(t.ok, t.okTo)
		s.log.Debug("retransmitted SUBSCRIBE: 200 OK resent", "mac", t.mac, "remote", from.String())
		return
	}
	s.mu.Unlock()

	ua := m.get("user-agent")
	mac := s.mac(m)
	// Without a MAC in the headers only the core can find one (in the
	// User-Agent): only the per-source limit applies then.
	if (mac != "" && !s.macs.Allow(mac)) || !s.srcs.Allow(from.IP.String()) {
		s.logOnce("limit|"+mac+"|"+from.IP.String(), slog.LevelInfo, "ignored: plug-and-play SUBSCRIBE rate-limited", "mac", mac, "remote", from.String())
		return
	}

	url, err := s.cfg.Recorder.Discovered(ctx, vendors.Request{MAC: mac, UserAgent: ua, RemoteAddr: from.IP.String(), Transport: "sip"})
	switch {
	case errors.Is(err, vendors.ErrNotFound):
		s.logOnce("nomac|"+from.IP.String(), slog.LevelInfo, "ignored: plug-and-play SUBSCRIBE without a MAC", "user_agent", ua, "event", event, "remote", from.String())
		return
	case err != nil:
		s.log.Error("plug-and-play: cannot record the phone; not answering", "mac", mac, "remote", from.String(), "err", err)
		return
	}
	if strings.ContainsAny(url, "\r\n") {
		s.log.Error("plug-and-play: provisioning URL holds a line break; not answering", "mac", mac)
		return
	}

	t := s.build(m, v, from, out, url, mac, now)
	s.mu.Lock()
	if old := s.txs[callID]; old != nil && now.Before(old.expires) {
		s.mu.Unlock() // lost a race with the same SUBSCRIBE on the other socket
		return
	}
	s.purge(now)
	var dropped *tx
	if len(s.txs) >= s.maxTx {
		dropped = s.order.Front().Value.(*tx)
		s.remove(dropped)
	}
	t.callID = callID
	s.txs[callID] = t
	t.elem = s.order.PushBack(t)
	s.mu.Unlock()
	if dropped != nil {
		dropped.once.Do(func() { close(dropped.answered) }) // its retransmissions stop
		s.logOnce("full", slog.LevelWarn, "plug-and-play: too many open transactions; the oldest dropped (its NOTIFY no longer retransmitted)",
			"open", s.maxTx, "dropped_mac", dropped.mac, "mac", mac)
	}

	if _, err := out.WriteTo(t.ok, t.okTo); err != nil {
		s.log.Warn("plug-and-play: sending 200 OK", "mac", mac, "to", t.okTo.String(), "err", err)
	}
	s.log.Info("plug-and-play SUBSCRIBE answered", "mac", mac, "user_agent", ua, "event", event,
		"remote", from.String(), "url", url, "notify_to", t.notifyTo.String())
	s.wg.Add(1)
	go s.retransmit(ctx, t, out)
}

// mac finds the phone's MAC in the Request-URI user part, then To, then
// From (sip-pnp.md §3). The Event parameters are never used.
func (s *Server) mac(m *message) string {
	if u, ok := parseURI(m.uri); ok {
		if mac := macFromUser(u.user); mac != "" {
			return mac
		}
	}
	for _, h := range []string{"to", "from"} {
		raw, _, ok := nameAddr(m.get(h))
		if !ok {
			continue
		}
		if u, ok := parseURI(raw); ok {
			if mac := macFromUser(u.user); mac != "" {
				return mac
			}
		}
	}
	return ""
}

// build makes the 200 OK and the NOTIFY for a SUBSCRIBE (sip-pnp.md §4).
func (s *Server) build(m *message, v via, from *net.UDPAddr, out writer, url, mac string, now time.Time) *tx {
	vias := m.all("via")
	callID, fromH, toH := m.get("call-id"), m.get("from"), m.get("to")

	// Responses go to the source address when Via asks for rport, else to
	// the source IP ("received") and the Via port (RFC 3261 §18.2.2).
	okTo := &net.UDPAddr{IP: from.IP, Port: from.Port}
	if !v.rport {
		okTo.Port = v.port
		if okTo.Port == 0 {
			okTo.Port = 5060
		}
	}
	vias[0] = stampVia(vias[0], from)

	_, toParams, _ := nameAddr(toH)
	ourTag := randHex(6)
	toWithTag := toH
	if _, has := param(toParams, "tag"); has {
		ourTag, _ = param(toParams, "tag")
	} else {
		toWithTag = toH + ";tag=" + ourTag
	}

	local := s.localAddr(out, from)
	contact := "<sip:" + local.String() + ">"

	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, vv := range vias {
		b.WriteString("Via: " + vv + "\r\n")
	}
	b.WriteString("From: " + fromH + "\r\n")
	b.WriteString("To: " + toWithTag + "\r\n")
	b.WriteString("Call-ID: " + callID + "\r\n")
	b.WriteString("CSeq: " + m.get("cseq") + "\r\n")
	b.WriteString("Contact: " + contact + "\r\n")
	b.WriteString("Expires: 0\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	ok := []byte(b.String())

	// The NOTIFY goes to the Contact when it names the host that sent the
	// SUBSCRIBE, else back to the source address: a forged Contact must
	// not make us send to a third host.
	notifyTo := &net.UDPAddr{IP: from.IP, Port: from.Port}
	ruri := "sip:" + from.String()
	if raw, _, okc := nameAddr(m.get("contact")); okc {
		if cu, okp := parseURI(raw); okp && !strings.ContainsAny(raw, " \t") {
			if ip := hostIP(cu.host); ip != nil && ip.Equal(from.IP) {
				notifyTo.Port = cu.port
				if notifyTo.Port == 0 {
					notifyTo.Port = 5060
				}
				ruri = raw
			}
		}
	}
	event := m.get("event")
	b.Reset()
	b.WriteString("NOTIFY " + ruri + " SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/UDP " + local.String() + ";branch=z9hG4bK-" + randHex(8) + ";rport\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: " + stripTag(toH) + ";tag=" + ourTag + "\r\n")
	b.WriteString("To: " + fromH + "\r\n")
	b.WriteString("Call-ID: " + callID + "\r\n")
	b.WriteString("CSeq: 1 NOTIFY\r\n")
	b.WriteString("Contact: " + contact + "\r\n")
	b.WriteString("Event: " + event + "\r\n")
	b.WriteString("Subscription-State: terminated;reason=timeout\r\n")
	b.WriteString("Content-Type: application/url\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(url)) + "\r\n\r\n")
	b.WriteString(url)

	return &tx{ok: ok, okTo: okTo, notify: []byte(b.String()), notifyTo: notifyTo, mac: mac,
		expires: now.Add(s.cfg.Timeout), answered: make(chan struct{})}
}

// stampVia adds received= (and fills rport=) on the top Via value.
func stampVia(value string, from *net.UDPAddr) string {
	first, rest, multi := strings.Cut(value, ",")
	parts := strings.Split(first, ";")
	out := []string{strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "received":
			continue
		case "rport":
			out = append(out, "rport="+strconv.Itoa(from.Port))
		default:
			out = append(out, strings.TrimSpace(p))
		}
	}
	out = append(out, "received="+from.IP.String())
	v := strings.Join(out, ";")
	if multi {
		v += "," + rest
	}
	return v
}

// stripTag removes a ;tag= parameter from a From/To value.
func stripTag(v string) string {
	_, params, ok := nameAddr(v)
	if !ok || params == "" {
		return v
	}
	prefix := strings.TrimSuffix(v, params)
	var kept []string
	for _, p := range strings.Split(params, ";") {
		k, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.TrimSpace(p) == "" || strings.EqualFold(strings.TrimSpace(k), "tag") {
			continue
		}
		kept = append(kept, strings.TrimSpace(p))
	}
	if len(kept) == 0 {
		return prefix
	}
	return prefix + ";" + strings.Join(kept, ";")
}

// localAddr is our address as the phone sees it: the reply socket's IP
// when it is bound to one, else the local address the kernel routes to
// the phone from (a connected UDP socket sends nothing), with the reply
// socket's port.
func (s *Server) localAddr(out writer, to *net.UDPAddr) *net.UDPAddr {
	la, _ := out.LocalAddr().(*net.UDPAddr)
	if la == nil {
		la = &net.UDPAddr{}
	}
	res := &net.UDPAddr{IP: la.IP, Port: la.Port}
	if res.IP == nil || res.IP.IsUnspecified() {
		res.IP = net.IPv4(127, 0, 0, 1)
		if c, err := net.DialUDP("udp", nil, to); err == nil {
			if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
				res.IP = a.IP
			}
			c.Close()
		}
	}
	if ip4 := res.IP.To4(); ip4 != nil {
		res.IP = ip4
	}
	return res
}

// retransmit sends the NOTIFY with timer E until the phone answers or
// timer F fires.
func (s *Server) retransmit(ctx context.Context, t *tx, out writer) {
	defer s.wg.Done()
	give := time.NewTimer(s.cfg.Timeout)
	defer give.Stop()
	interval := s.cfg.T1
	for {
		if _, err := out.WriteTo(t.notify, t.notifyTo); err != nil {
			s.log.Warn("plug-and-play: sending NOTIFY", "mac", t.mac, "to", t.notifyTo.String(), "err", err)
		}
		next := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			next.Stop()
			return
		case <-t.answered:
			next.Stop()
			return
		case <-give.C:
			next.Stop()
			// Once a minute for all phones, saying how many it left out:
			// SUBSCRIBEs from forged sources (each within its own limit)
			// get no answer to their NOTIFY, up to maxTx every Timeout.
			if ok, suppressed := s.logs.AllowCounted("noanswer"); ok {
				s.log.Warn("plug-and-play: no answer to the NOTIFY", "mac", t.mac, "to", t.notifyTo.String(), "suppressed", suppressed)
			}
			return
		case <-next.C:
		}
		interval = min(2*interval, s.cfg.T2)
	}
}

// response handles a phone's answer to our NOTIFY.
func (s *Server) response(m *message, from *net.UDPAddr) {
	_, method, ok := m.cseq()
	if !ok || method != "NOTIFY" || m.status < 200 {
		return
	}
	s.mu.Lock()
	t := s.txs[m.get("call-id")]
	s.mu.Unlock()
	if t == nil {
		return
	}
	t.once.Do(func() {
		close(t.answered)
		if m.status < 300 {
			s.log.Info("plug-and-play: phone accepted the provisioning URL", "mac", t.mac, "remote", from.String())
		} else {
			s.log.Warn("plug-and-play: phone refused the NOTIFY", "mac", t.mac, "status", m.status, "reason", m.reason, "remote", from.String())
		}
	})
}

// purge drops expired transactions (the oldest first: each lives
// Timeout); s.mu is held.
func (s *Server) purge(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		t := e.Value.(*tx)
		if now.Before(t.expires) {
			return
		}
		s.remove(t)
	}
}

// remove takes t out of the table; s.mu is held.
func (s *Server) remove(t *tx) {
	if s.txs[t.callID] == t {
		delete(s.txs, t.callID)
	}
	s.order.Remove(t.elem)
}

func (s *Server) logOnce(key string, level slog.Level, msg string, args ...any) {
	if s.logs.Allow(key) {
		s.log.Log(context.Background(), level, msg, args...)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}
