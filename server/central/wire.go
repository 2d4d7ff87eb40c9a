package central

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/autoprov/autoprov"
)

// Paths of the link on the central's HTTPS listener. They sit outside
// /api/v1: the site authenticates with its enrolment token (enrol) or its
// client certificate (link), never with the admin token.
const (
	EnrollPath = "/central/enroll"
	LinkPath   = "/central/link"
)

// Paths the site calls over the link, on the central's side of it.
const (
	heartbeatPath = "/heartbeat"
	eventsPath    = "/events"
)

// actorHeader carries the central's actor to the site over the link; the
// site's link server moves it into the request context (WithLinkActor).
const actorHeader = "X-Autoprov-Actor"

// refusalHeader names why the central refused a site's link ("revoked",
// "unknown site", "certificate"): the site logs it and shows it.
const refusalHeader = "X-Autoprov-Refusal"

// Summary is what a site reports in each heartbeat.
type Summary struct {
	Version     string         `json:"version"`
	Phones      map[string]int `json:"phones"` // devices by state (assigned, unassigned)
	Inbox       int            `json:"inbox"`
	OpenWindows int            `json:"open_windows"`
	Alarms      []string       `json:"alarms"`
	// State is the site's link as it sent the summary: connected, since
	// the summary travels over it (a disconnected site's state and end of
	// grace are the central's to tell: SiteView); GraceSeconds is its
	// --central-grace, from which the central tells that end of grace.
	State        string `json:"state"`
	GraceSeconds int64  `json:"grace_seconds"`
}

// heartbeatReply is the central's half of the heartbeat.
type heartbeatReply struct {
	Time time.Time `json:"time"`
}

// Event is one audit event a site delivers to the central, in order.
type Event struct {
	ID     uint      `json:"id"`
	At     time.Time `json:"at"`
	MAC    string    `json:"mac,omitempty"`
	Event  string    `json:"event"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail,omitempty"`
}

func eventOf(e autoprov.AuditEvent) Event {
	return Event{ID: e.ID, At: e.At, MAC: e.MAC, Event: e.Event, Actor: e.Actor, Detail: e.Detail}
}

type eventsIn struct {
	Events []Event `json:"events"`
}

type eventsReply struct {
	LastID uint `json:"last_id"`
}

// yamuxConfig is the multiplexer's configuration on both ends: its own
// keepalive runs at the heartbeat's pace, so a dead link is noticed
// within about two heartbeats even when no request is in flight.
func yamuxConfig(heartbeat time.Duration) *yamux.Config {
	cfg := yamux.DefaultConfig()
	cfg.EnableKeepAlive = true
	cfg.KeepAliveInterval = heartbeat
	cfg.ConnectionWriteTimeout = max(heartbeat, 5*time.Second)
	cfg.LogOutput = io.Discard
	return cfg
}

// Bounds of what a site's link may make the central do at once (a site is
// a machine on another network, and its certificate may be stolen): it
// is served siteStreams streams at a time, siteBacklog more wait, and
// any stream past those is reset. A stream's request must arrive within
// siteReadTimeout and a kept-alive one idle no longer than that. A site
// itself sends one request at a time (heartbeat, then events).
const (
	siteStreams     = 4
	siteBacklog     = 16
	siteReadTimeout = time.Minute
)

// serveStreams serves HTTP on every stream the peer opens on sess, until
// the session closes; limit > 0 serves at most limit streams at once.
func serveStreams(sess *yamux.Session, h http.Handler, log *slog.Logger, limit int) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	var ln net.Listener = sess
	if limit > 0 {
		srv.ReadTimeout, srv.IdleTimeout = siteReadTimeout, siteReadTimeout
		ln = &limitListener{Session: sess, sem: make(chan struct{}, limit)}
	}
	srv.Serve(ln) // returns when the session is closed
	srv.Close()
}

// limitListener accepts a stream of its session only while fewer than
// cap(sem) accepted ones are open; the others wait in the session's
// backlog (yamux resets those past it).
type limitListener struct {
	*yamux.Session
	sem chan struct{}
}

// Accept waits for a free slot, then for a stream.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.CloseChan():
		return nil, net.ErrClosed
	}
	c, err := l.Session.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &slotConn{Conn: c, sem: l.sem}, nil
}

// slotConn gives its slot back when it is closed, once.
type slotConn struct {
	net.Conn
	sem  chan struct{}
	once sync.Once
}

func (c *slotConn) Close() error {
	c.once.Do(func() { <-c.sem })
	return c.Conn.Close()
}

// streamClient is an HTTP client whose connections are new streams of
// sess. The host in its URLs is ignored.
func streamClient(sess *yamux.Session, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return sess.Open() },
		// Each request gets its own stream: streams are cheap, and a
		// closed session leaves no pooled connection behind.
		DisableKeepAlives: true,
	}}
}
