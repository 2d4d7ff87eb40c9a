package central

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/metrics"
)

// Site states on the central (GET /api/v1/sites).
const (
	SitePending      = "pending"      // created, not enrolled yet
	SiteConnected    = "connected"    // its link is up
	SiteDisconnected = "disconnected" // enrolled, link down
	SiteRevoked      = "revoked"      // deleted: refused from now on
)

// TokenValidity is how long a site's enrolment token can be used.
const TokenValidity = 24 * time.Hour

// Auditor appends to the central's own audit log (the store).
type Auditor interface {
	AppendAudit(ctx context.Context, e autoprov.AuditEvent) error
}

// HubConfig configures the central's side.
type HubConfig struct {
	// Dir holds the site CA (ca.pem, ca-key.pem), the sites (sites.json)
	// and the events they delivered (events/<id>.jsonl), all 0600:
	// <data>/central.
	Dir string
	// Audit is the central's audit log; nil audits nothing.
	Audit Auditor
	Log   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Heartbeat is the multiplexer's keepalive on the links (30 s when 0).
	Heartbeat time.Duration
	// MaxEventsBytes bounds the disk one site's events take
	// (DefaultMaxEventsBytes when 0): before an append would take
	// events/<id>.jsonl past half of it, the file becomes
	// events/<id>.old.jsonl, dropping the one before (the oldest events),
	// and a new one starts. A site (or a stolen site certificate) cannot
	// fill the central's disk; the site's own audit log keeps everything.
	MaxEventsBytes int64
}

// DefaultMaxEventsBytes is HubConfig.MaxEventsBytes when 0: 32 MiB, some
// 100,000 events of a few hundred bytes.
const DefaultMaxEventsBytes = 32 << 20

// Hub is the central server's side of the sites: their enrolment, their
// links, the admin API under /api/v1/sites and the proxy through a link
// to a site's own admin API.
type Hub struct {
	cfg HubConfig
	log *slog.Logger
	ca  *siteCA

	mu     sync.Mutex
	sites  map[string]*siteRecord
	live   map[string]*liveLink
	closed bool

	events sync.Mutex // serialises appends to the events files

	quiet    *ratelimit.Keyed // refusal log lines: one a minute per kind, address and reason
	quietAll *ratelimit.Keyed // and a budget for all of them together
	unlogged atomic.Uint64    // refusals the budget kept out of the log since its last line
}

// The refusals' log budget across all addresses (an attacker has many): a
// burst of 20 lines, then one every 3 s.
const (
	refusalLogBurst = 20
	refusalLogEvery = 3 * time.Second
)

// siteRecord is one site as sites.json keeps it.
type siteRecord struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	CreatedAt     time.Time       `json:"created_at"`
	TokenHash     string          `json:"token_hash,omitempty"` // SHA-256 of the enrolment token; empty once spent
	TokenExpires  time.Time       `json:"token_expires"`
	EnrolledAt    *time.Time      `json:"enrolled_at,omitempty"`
	Serial        string          `json:"serial,omitempty"` // of its current client certificate
	RevokedAt     *time.Time      `json:"revoked_at,omitempty"`
	LastHeartbeat *time.Time      `json:"last_heartbeat,omitempty"`
	Address       string          `json:"address,omitempty"`
	Summary       json.RawMessage `json:"summary,omitempty"`
	LastEventID   uint            `json:"last_event_id"`
	Events        int             `json:"events"`

	savedBeat time.Time // when a heartbeat of it was last written to sites.json
}

// Bounds of a site's heartbeat: its summary (a few hundred bytes from a
// site; it is kept in sites.json and shown on every list), and how often
// one is written to sites.json (every write rewrites the file of all the
// sites under the hub's lock; one in between is kept in memory).
const (
	maxSummary = 64 << 10
	beatSaving = time.Second
)

// liveLink is a site's connected link.
type liveLink struct {
	id     string
	sess   *yamux.Session
	tr     http.RoundTripper
	client *http.Client
	addr   string
	since  time.Time
}

// NewHub loads (or, at first start, creates) the site CA and the sites
// from cfg.Dir.
func NewHub(cfg HubConfig) (*Hub, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 30 * time.Second
	}
	if cfg.MaxEventsBytes <= 0 {
		cfg.MaxEventsBytes = DefaultMaxEventsBytes
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := loadOrCreateCA(cfg.Dir, cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("site CA: %w", err)
	}
	h := &Hub{cfg: cfg, log: cfg.Log.With("component", "central"), ca: ca,
		sites: map[string]*siteRecord{}, live: map[string]*liveLink{},
		quiet:    ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: 4096, Now: cfg.Now}),
		quietAll: ratelimit.New(ratelimit.Config{Every: refusalLogEvery, Burst: refusalLogBurst, MaxKeys: 1, Now: cfg.Now})}
	b, err := os.ReadFile(h.sitesPath())
	switch {
	case err == nil:
		var list []*siteRecord
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("%s: %w", h.sitesPath(), err)
		}
		for _, r := range list {
			h.sites[r.ID] = r
			// The events file is appended (or rotated) before sites.json
			// records the last ID and the count: after a crash between the
			// two, the files know better (else the site's next delivery
			// would be stored twice).
			last, n, err := recoverEvents(h.eventsPath(r.ID), h.oldEventsPath(r.ID))
			if err != nil {
				return nil, fmt.Errorf("events of site %s: %w", r.ID, err)
			}
			r.LastEventID, r.Events = max(r.LastEventID, last), n
			if r.EnrolledAt != nil && r.RevokedAt == nil {
				metrics.SiteLink(r.ID, false) // down until it links
			}
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	return h, nil
}

// ClientCAs is the site CA, for the TLS listener to name when it asks
// clients for a certificate.
func (h *Hub) ClientCAs() *x509.CertPool { return h.ca.pool }

// CAPath is the site CA's certificate file.
func (h *Hub) CAPath() string { return filepath.Join(h.cfg.Dir, "ca.pem") }

// Run closes every link when ctx is done (the HTTP server's shutdown does
// not wait for hijacked connections).
func (h *Hub) Run(ctx context.Context) {
	<-ctx.Done()
	h.mu.Lock()
	h.closed = true
	links := make([]*liveLink, 0, len(h.live))
	for _, l := range h.live {
		links = append(links, l)
	}
	h.mu.Unlock()
	for _, l := range links {
		l.sess.Close()
	}
}

func (h *Hub) sitesPath() string { return filepath.Join(h.cfg.Dir, "sites.json") }

// saveLocked writes sites.json; h.mu is held.
func (h *Hub) saveLocked() error {
	list := make([]*siteRecord, 0, len(h.sites))
	for _, r := range h.sites {
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b *siteRecord) int { return a.CreatedAt.Compare(b.CreatedAt) })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(h.sitesPath(), b)
}

func (h *Hub) audit(ctx context.Context, event, actor, detail string) {
	if h.cfg.Audit == nil {
		return
	}
	if err := h.cfg.Audit.AppendAudit(context.WithoutCancel(ctx), autoprov.AuditEvent{At: h.cfg.Now(), Event: event, Actor: actor, Detail: detail}); err != nil {
		h.log.Error("audit", "event", event, "err", err)
	}
}

// Audit event names of the central.
const (
	EventSiteCreated  = "site.created"
	EventSiteEnrolled = "site.enrolled"
	EventSiteRevoked  = "site.revoked"
	// EventSiteProxied is a change made on a site through the central's
	// proxy (any method but GET and HEAD): "site <id>: POST /api/v1/devices: 201".
	EventSiteProxied = "site.proxied"
)

// ---- the link's paths: enrolment and the WebSocket ----

// LinkHandler serves EnrollPath and LinkPath on the central's HTTPS
// listener. Neither takes the admin token: enrolment takes the one-time
// token, the link a client certificate of the site CA.
func (h *Hub) LinkHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+EnrollPath, h.enroll)
	mux.HandleFunc("GET "+LinkPath, h.serveLink)
	return mux
}

type enrollIn struct {
	SiteID string `json:"site_id"`
	Token  string `json:"token"`
	CSR    string `json:"csr"`
}

type enrollOut struct {
	Certificate string `json:"certificate"`
	CA          string `json:"ca"`
}

func (h *Hub) enroll(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		writeError(w, http.StatusForbidden, "enrolment is served over HTTPS only")
		return
	}
	var in enrollIn
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not valid JSON")
		return
	}
	now := h.cfg.Now()
	sum := sha256.Sum256([]byte(in.Token))
	h.mu.Lock()
	rec := h.sites[in.SiteID]
	var why string
	switch {
	case rec == nil:
		why = "unknown site"
	case rec.RevokedAt != nil:
		why = "site revoked"
	case rec.TokenHash == "":
		why = "token already spent"
	case now.After(rec.TokenExpires):
		why = "token expired"
	case subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(rec.TokenHash)) != 1:
		why = "wrong token"
	}
	if why != "" {
		h.mu.Unlock()
		h.logRefusal("site enrolment refused", in.SiteID, r.RemoteAddr, why, "")
		writeError(w, http.StatusForbidden, "enrolment refused: unknown site, or a wrong, expired or spent token")
		return
	}
	der, err := h.ca.sign(rec.ID, []byte(in.CSR), now)
	if err != nil {
		h.mu.Unlock()
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cert, _ := x509.ParseCertificate(der)
	rec.TokenHash, rec.EnrolledAt, rec.Serial = "", &now, cert.SerialNumber.Text(16)
	if h.live[rec.ID] == nil {
		metrics.SiteLink(rec.ID, false)
	}
	err = h.saveLocked()
	h.mu.Unlock()
	if err != nil {
		h.log.Error("save sites", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h.log.Info("site enrolled", "site", rec.ID, "name", rec.Name, "remote", r.RemoteAddr)
	h.audit(r.Context(), EventSiteEnrolled, "site:"+rec.ID+"@"+hostOf(r.RemoteAddr), "site "+rec.ID+" ("+rec.Name+")")
	writeJSON(w, http.StatusOK, enrollOut{Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), CA: string(h.ca.pem)})
}

// logRefusal logs a refused enrolment or link at most once a minute per
// message, client address and reason, and within a budget for all of them
// together: anyone who reaches the central's HTTPS port can be refused as
// often as they like, and must not flood its log. The next line after the
// budget held some back says how many. The site ID, which the client
// chose, is logged cut to 64 bytes.
func (h *Hub) logRefusal(msg, site, remote, reason, detail string) {
	if !h.quiet.Allow(msg + "\x00" + hostOf(remote) + "\x00" + reason) {
		return
	}
	if !h.quietAll.Allow("") {
		h.unlogged.Add(1)
		return
	}
	if n := h.unlogged.Swap(0); n > 0 {
		h.log.Warn("site refusals not logged: too many at once", "count", n)
	}
	attrs := []any{"site", clip(site, 64), "remote", remote, "reason", reason}
	if detail != "" {
		attrs = append(attrs, "detail", detail)
	}
	h.log.Warn(msg, attrs...)
}

// refuse answers a link attempt that gets no WebSocket.
func (h *Hub) refuse(w http.ResponseWriter, r *http.Request, site, reason, detail string) {
	h.logRefusal("site link refused", site, r.RemoteAddr, reason, detail)
	w.Header().Set(refusalHeader, reason)
	writeError(w, http.StatusForbidden, "link refused: "+reason)
}

func (h *Hub) serveLink(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		h.refuse(w, r, "", "certificate", "plain HTTP")
		return
	}
	leaf, err := h.ca.verify(r.TLS.PeerCertificates, h.cfg.Now())
	if err != nil {
		h.refuse(w, r, "", "certificate", err.Error())
		return
	}
	id := leaf.Subject.CommonName
	h.mu.Lock()
	rec := h.sites[id]
	switch {
	case rec == nil:
		h.mu.Unlock()
		h.refuse(w, r, id, "unknown site", "")
		return
	case rec.RevokedAt != nil:
		h.mu.Unlock()
		h.refuse(w, r, id, "revoked", "")
		return
	case rec.Serial != leaf.SerialNumber.Text(16):
		h.mu.Unlock()
		h.refuse(w, r, id, "certificate", "not the site's current certificate")
		return
	case h.closed:
		h.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	h.mu.Unlock()

	// The listener's read and write timeouts would cut the link: it lives
	// as long as its heartbeats.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		h.log.Warn("site link: websocket", "site", id, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	ycfg := yamuxConfig(h.cfg.Heartbeat)
	ycfg.AcceptBacklog = siteBacklog
	sess, err := yamux.Server(websocket.NetConn(ctx, c, websocket.MessageBinary), ycfg)
	if err != nil {
		c.Close(websocket.StatusInternalError, "")
		return
	}
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return sess.Open() }, DisableKeepAlives: true}
	link := &liveLink{id: id, sess: sess, tr: tr, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, addr: r.RemoteAddr, since: h.cfg.Now()}
	h.mu.Lock()
	old := h.live[id]
	refused := h.sites[id] == nil || h.sites[id].RevokedAt != nil || h.closed
	if !refused {
		h.live[id] = link
		h.sites[id].Address = r.RemoteAddr
		metrics.SiteLink(id, true)
	}
	h.mu.Unlock()
	if old != nil {
		old.sess.Close() // one link per site: the newest wins
	}
	if refused {
		sess.Close()
		return
	}
	h.log.Info("site connected", "site", id, "remote", r.RemoteAddr)
	serveStreams(sess, h.siteMux(id), h.log, siteStreams)
	h.mu.Lock()
	if h.live[id] == link {
		delete(h.live, id)
		metrics.SiteLink(id, false)
	}
	h.mu.Unlock()
	h.log.Info("site disconnected", "site", id, "remote", r.RemoteAddr)
}

// siteMux serves what site id sends over its link.
func (h *Hub) siteMux(id string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+heartbeatPath, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxSummary+1))
		if err == nil && len(b) > maxSummary {
			h.log.Warn("site heartbeat too large", "site", id, "limit", maxSummary)
			writeError(w, http.StatusRequestEntityTooLarge, "summary too large")
			return
		}
		if err != nil || !json.Valid(b) {
			writeError(w, http.StatusBadRequest, "summary is not valid JSON")
			return
		}
		now := h.cfg.Now()
		h.mu.Lock()
		if rec := h.sites[id]; rec != nil {
			rec.LastHeartbeat, rec.Summary = &now, b
			if d := now.Sub(rec.savedBeat); d >= beatSaving || d < 0 {
				rec.savedBeat = now
				if err := h.saveLocked(); err != nil {
					h.log.Error("save sites", "err", err)
				}
			}
		}
		h.mu.Unlock()
		writeJSON(w, http.StatusOK, heartbeatReply{Time: now})
	})
	mux.HandleFunc("POST "+eventsPath, func(w http.ResponseWriter, r *http.Request) {
		var in eventsIn
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "events are not valid JSON")
			return
		}
		last, err := h.storeEvents(id, in.Events)
		if err != nil {
			h.log.Error("site events", "site", id, "err", err)
			writeError(w, http.StatusInternalServerError, "internal error")
			return
		}
		writeJSON(w, http.StatusOK, eventsReply{LastID: last})
	})
	return mux
}

// Bounds of one event a site delivers, as the central keeps it (the
// site's own audit log keeps it whole): each line of events/<id>.jsonl
// stays well within what readEvents reads as one line.
const (
	maxEventField  = 1 << 10
	maxEventDetail = 64 << 10
)

// clip cuts s to at most n bytes, at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…(cut)"
	i := n - len(mark)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + mark
}

func (h *Hub) eventsPath(id string) string {
	return filepath.Join(h.cfg.Dir, "events", id+".jsonl")
}

// oldEventsPath is where eventsPath goes when it is rotated.
func (h *Hub) oldEventsPath(id string) string {
	return filepath.Join(h.cfg.Dir, "events", id+".old.jsonl")
}

// rotateEvents makes site id's events file its old one when appending
// add bytes would take it past half of MaxEventsBytes, dropping the old
// one it replaced, and takes the events that one held off rec's count
// right away: once the rename is done they are gone whether the append
// that follows succeeds or not. A file that is empty is kept: one batch
// larger than half the bound still goes in whole. h.events is held.
func (h *Hub) rotateEvents(rec *siteRecord, id string, add int) error {
	path, old := h.eventsPath(id), h.oldEventsPath(id)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() == 0 || fi.Size()+int64(add) <= h.cfg.MaxEventsBytes/2 {
		return nil
	}
	dropped, err := countLines(old)
	if err != nil {
		return err
	}
	if err := os.Rename(path, old); err != nil {
		return err
	}
	h.mu.Lock()
	rec.Events = max(rec.Events-dropped, 0)
	h.mu.Unlock()
	return nil
}

// countLines counts the lines of the file at path (0 when there is none),
// reading it in pieces: an old events file is up to half of
// MaxEventsBytes.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	n := 0
	for {
		b, err := r.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			n++
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return n, nil
		default:
			return 0, err
		}
	}
}

// storeEvents appends the events newer than the last one kept, in order,
// and returns the ID of the last one kept: a batch delivered twice (the
// reply was lost) is kept once.
func (h *Hub) storeEvents(id string, evs []Event) (uint, error) {
	h.events.Lock()
	defer h.events.Unlock()
	h.mu.Lock()
	rec := h.sites[id]
	if rec == nil {
		h.mu.Unlock()
		return 0, errors.New("unknown site")
	}
	last := rec.LastEventID
	h.mu.Unlock()
	var buf []byte
	n := 0
	for _, e := range evs {
		if e.ID <= last {
			continue
		}
		e.MAC, e.Event, e.Actor = clip(e.MAC, maxEventField), clip(e.Event, maxEventField), clip(e.Actor, maxEventField)
		e.Detail = clip(e.Detail, maxEventDetail)
		b, err := json.Marshal(e)
		if err != nil {
			return 0, err
		}
		buf = append(append(buf, b...), '\n')
		last = e.ID
		n++
	}
	if n == 0 {
		return last, nil
	}
	if err := os.MkdirAll(filepath.Dir(h.eventsPath(id)), 0o700); err != nil {
		return 0, err
	}
	if err := h.rotateEvents(rec, id, len(buf)); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(h.eventsPath(id), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	if err := appendWhole(f, buf); err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rec.LastEventID = last
	rec.Events += n
	return last, h.saveLocked()
}

// appendWhole appends buf to f (opened for appending) and closes it. A
// write or sync that fails (a full disk) is cut back off the file, so that
// no torn line is left for the next append to run into: the site sends the
// batch again and it goes in whole, where a torn line would have taken the
// next event with it until a restart.
func appendWhole(f *os.File, buf []byte) error {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		if terr := f.Truncate(fi.Size()); terr != nil {
			err = errors.Join(err, fmt.Errorf("cutting the torn append back: %w", terr))
		}
		f.Close()
		return err
	}
	return f.Close()
}

// ---- the admin API: /api/v1/sites ----

// Handler serves the admin API under /api/v1/sites. The HTTP edge checks
// the admin token first and passes the actor (WithAdminActor).
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/sites", h.create)
	mux.HandleFunc("GET /api/v1/sites", h.list)
	mux.HandleFunc("GET /api/v1/sites/devices", h.searchDevices)
	mux.HandleFunc("GET /api/v1/sites/{id}", h.get)
	mux.HandleFunc("DELETE /api/v1/sites/{id}", h.revoke)
	mux.HandleFunc("GET /api/v1/sites/{id}/events", h.listEvents)
	mux.HandleFunc("/api/v1/sites/{id}/api/v1/{rest...}", h.proxy)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusNotFound, "not found") })
	return mux
}

// SiteView is a site as the admin API shows it.
type SiteView struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	State         string     `json:"state"`
	CreatedAt     time.Time  `json:"created_at"`
	EnrolledAt    *time.Time `json:"enrolled_at"`
	RevokedAt     *time.Time `json:"revoked_at"`
	TokenExpires  *time.Time `json:"enroll_token_expires_at,omitempty"`
	ConnectedAt   *time.Time `json:"connected_at"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	// GraceUntil is, for a disconnected site, when its grace period ends:
	// its last heartbeat plus the grace period it reported.
	GraceUntil *time.Time      `json:"grace_until"`
	Address    string          `json:"address,omitempty"`
	Events     int             `json:"events"`
	Summary    json.RawMessage `json:"summary"`
	// EnrollToken is shown once, in the answer to the creation.
	EnrollToken string `json:"enroll_token,omitempty"`
}

// viewLocked shows rec; h.mu is held.
func (h *Hub) viewLocked(rec *siteRecord) SiteView {
	v := SiteView{ID: rec.ID, Name: rec.Name, CreatedAt: rec.CreatedAt, EnrolledAt: rec.EnrolledAt, RevokedAt: rec.RevokedAt,
		LastHeartbeat: rec.LastHeartbeat, Address: rec.Address, Events: rec.Events, Summary: rec.Summary}
	if v.Summary == nil {
		v.Summary = json.RawMessage("null")
	}
	switch l := h.live[rec.ID]; {
	case rec.RevokedAt != nil:
		v.State = SiteRevoked
	case l != nil:
		v.State = SiteConnected
		since := l.since
		v.ConnectedAt = &since
	case rec.EnrolledAt == nil:
		v.State = SitePending
		exp := rec.TokenExpires
		v.TokenExpires = &exp
	default:
		v.State = SiteDisconnected
		var sum struct {
			GraceSeconds int64 `json:"grace_seconds"`
		}
		if rec.LastHeartbeat != nil && json.Unmarshal(rec.Summary, &sum) == nil && sum.GraceSeconds > 0 {
			until := rec.LastHeartbeat.Add(time.Duration(sum.GraceSeconds) * time.Second)
			v.GraceUntil = &until
		}
	}
	return v
}

type siteIn struct {
	Name string `json:"name"`
}

func (h *Hub) create(w http.ResponseWriter, r *http.Request) {
	var in siteIn
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		msg := "request body must be a JSON object with a name"
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			msg = "unknown field " + f + ": " + msg // the body's own words, quoted by encoding/json
		}
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 || strings.ContainsFunc(in.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "name is required: 1 to 200 characters, no control characters", "field": "name"})
		return
	}
	id, token := "s-"+randomHex(8), randomHex(24)
	sum := sha256.Sum256([]byte(token))
	now := h.cfg.Now()
	rec := &siteRecord{ID: id, Name: in.Name, CreatedAt: now, TokenHash: hex.EncodeToString(sum[:]), TokenExpires: now.Add(TokenValidity)}
	h.mu.Lock()
	h.sites[id] = rec
	err := h.saveLocked()
	v := h.viewLocked(rec)
	h.mu.Unlock()
	if err != nil {
		h.log.Error("save sites", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h.audit(r.Context(), EventSiteCreated, adminActor(r.Context()), "site "+id+" ("+in.Name+")")
	v.EnrollToken = token
	writeJSON(w, http.StatusCreated, v)
}

func (h *Hub) list(w http.ResponseWriter, r *http.Request) {
	limit, offset, ok := paging(w, r)
	if !ok {
		return
	}
	h.mu.Lock()
	all := make([]SiteView, 0, len(h.sites))
	for _, rec := range h.sites {
		all = append(all, h.viewLocked(rec))
	}
	h.mu.Unlock()
	slices.SortFunc(all, func(a, b SiteView) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	writePage(w, all, limit, offset)
}

// Sites lists every site (the web UI's page).
func (h *Hub) Sites() []SiteView {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := make([]SiteView, 0, len(h.sites))
	for _, rec := range h.sites {
		all = append(all, h.viewLocked(rec))
	}
	slices.SortFunc(all, func(a, b SiteView) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return all
}

func (h *Hub) get(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	rec := h.sites[r.PathValue("id")]
	var v SiteView
	if rec != nil {
		v = h.viewLocked(rec)
	}
	h.mu.Unlock()
	if rec == nil {
		writeError(w, http.StatusNotFound, "site not found")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// revoke marks the site revoked, which is final: its live link is closed
// at once and every later link or enrolment of it is refused.
func (h *Hub) revoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	now := h.cfg.Now()
	h.mu.Lock()
	rec := h.sites[id]
	if rec == nil {
		h.mu.Unlock()
		writeError(w, http.StatusNotFound, "site not found")
		return
	}
	already := rec.RevokedAt != nil
	if !already {
		rec.RevokedAt, rec.TokenHash = &now, ""
	}
	err := h.saveLocked()
	link := h.live[id]
	delete(h.live, id)
	metrics.ForgetSite(id) // a revoked site is gone for good
	v := h.viewLocked(rec)
	h.mu.Unlock()
	if link != nil {
		link.sess.Close()
	}
	if err != nil {
		h.log.Error("save sites", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if !already {
		h.log.Info("site revoked", "site", id, "had_link", link != nil)
		h.audit(r.Context(), EventSiteRevoked, adminActor(r.Context()), "site "+id+" ("+rec.Name+")")
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *Hub) listEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	limit, offset, ok := paging(w, r)
	if !ok {
		return
	}
	h.mu.Lock()
	known := h.sites[id] != nil
	h.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, "site not found")
		return
	}
	h.events.Lock()
	evs, err := readEvents(h.oldEventsPath(id))
	if err == nil {
		var cur []Event
		cur, err = readEvents(h.eventsPath(id))
		evs = append(evs, cur...)
	}
	h.events.Unlock()
	if err != nil {
		h.log.Error("site events", "site", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	slices.Reverse(evs) // newest first, as the audit log lists
	writePage(w, evs, limit, offset)
}

// recoverEvents cuts a torn last line (a crash during an append) off the
// events file at path, so that the next append starts on a line of its
// own, and returns the last event's ID and the number of events kept in
// it and in the rotated file at old.
func recoverEvents(path, old string) (last uint, n int, err error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return 0, 0, err
		}
	}
	evs, err := readEvents(old)
	if err != nil {
		return 0, 0, err
	}
	cur, err := readEvents(path)
	if err != nil {
		return 0, 0, err
	}
	evs = append(evs, cur...)
	if len(evs) == 0 {
		return 0, 0, nil
	}
	return evs[len(evs)-1].ID, len(evs), nil
}

func readEvents(path string) ([]Event, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return []Event{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	evs := []Event{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue // a torn last line after a crash
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}

// link returns the live link of site id, answering the request itself
// when there is none.
func (h *Hub) link(w http.ResponseWriter, id string) *liveLink {
	h.mu.Lock()
	rec, l := h.sites[id], h.live[id]
	h.mu.Unlock()
	switch {
	case rec == nil:
		writeError(w, http.StatusNotFound, "site not found")
	case rec.RevokedAt != nil:
		writeError(w, http.StatusConflict, "site revoked")
	case l == nil:
		writeError(w, http.StatusServiceUnavailable, "site not connected")
	}
	return l
}

// proxy passes an admin API call to the site over its link: the path
// after /api/v1/sites/{id}, the query and the body as they are; the
// admin's token and cookies stay here, the actor goes along; the site's
// Set-Cookie does not come back.
func (h *Hub) proxy(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	l := h.link(w, id)
	if l == nil {
		return
	}
	actor := adminActor(r.Context())
	path := "/api/v1/" + r.PathValue("rest")
	rw := &statusWriter{ResponseWriter: w}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "http", "site", "site"
			pr.Out.URL.Path, pr.Out.URL.RawPath = path, ""
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("Cookie")
			pr.Out.Header.Set(actorHeader, actor)
		},
		Transport: l.tr,
		// A site's cookies are not the central's: a browser must never keep
		// one for the central's origin.
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del("Set-Cookie")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			h.log.Warn("site proxy", "site", id, "path", path, "err", err)
			writeError(w, http.StatusBadGateway, "the site did not answer over its link")
		},
	}
	rp.ServeHTTP(rw, r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.audit(r.Context(), EventSiteProxied, actor, fmt.Sprintf("site %s: %s %s: %d", id, r.Method, path, rw.status()))
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// deviceHit is one site's answer to a MAC search.
type deviceHit struct {
	SiteID   string          `json:"site_id"`
	SiteName string          `json:"site_name"`
	Device   json.RawMessage `json:"device"`
}

type searchOut struct {
	Items  []deviceHit `json:"items"`
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	// Unreachable lists the connected sites that did not answer.
	Unreachable []string `json:"unreachable"`
	// Disconnected lists the enrolled sites that were not asked.
	Disconnected []string `json:"disconnected"`
}

// searchDevices asks every connected site for the device with ?mac=, at
// once, each within 10 s.
func (h *Hub) searchDevices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("mac")
	mac, err := autoprov.ParseMAC(q)
	if err != nil {
		msg := "mac: a MAC address is required"
		if q != "" {
			msg = "mac: not a MAC address: want 12 hex digits, with or without separators"
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg, "field": "mac"})
		return
	}
	type target struct {
		id, name string
		l        *liveLink
	}
	var targets []target
	out := searchOut{Items: []deviceHit{}, Unreachable: []string{}, Disconnected: []string{}}
	h.mu.Lock()
	for id, rec := range h.sites {
		switch l := h.live[id]; {
		case rec.RevokedAt != nil || rec.EnrolledAt == nil:
		case l == nil:
			out.Disconnected = append(out.Disconnected, id)
		default:
			targets = append(targets, target{id, rec.Name, l})
		}
	}
	h.mu.Unlock()
	actor := adminActor(r.Context())
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://site/api/v1/devices/"+mac, nil)
			req.Header.Set(actorHeader, actor)
			resp, err := t.l.client.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil || resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound,
				resp.StatusCode == http.StatusOK && !json.Valid(body): // it would break the whole reply
				out.Unreachable = append(out.Unreachable, t.id)
			case resp.StatusCode == http.StatusOK:
				out.Items = append(out.Items, deviceHit{SiteID: t.id, SiteName: t.name, Device: body})
			}
		})
	}
	wg.Wait()
	slices.SortFunc(out.Items, func(a, b deviceHit) int { return strings.Compare(a.SiteID, b.SiteID) })
	slices.Sort(out.Unreachable)
	slices.Sort(out.Disconnected)
	out.Total, out.Limit = len(out.Items), len(out.Items)
	writeJSON(w, http.StatusOK, out)
}

// ---- helpers ----

type pageOut[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// writePage answers a page of all, with the total in X-Total-Count as
// every list of the admin API.
func writePage[T any](w http.ResponseWriter, all []T, limit, offset int) {
	w.Header().Set("X-Total-Count", strconv.Itoa(len(all)))
	writeJSON(w, http.StatusOK, page(all, limit, offset))
}

func page[T any](all []T, limit, offset int) pageOut[T] {
	out := pageOut[T]{Items: []T{}, Total: len(all), Limit: limit, Offset: offset}
	if offset < len(all) {
		out.Items = all[offset:min(len(all), offset+limit)]
	}
	return out
}

// paging reads ?limit= (100 by default, at most 1000) and ?offset=.
func paging(w http.ResponseWriter, r *http.Request) (limit, offset int, ok bool) {
	limit, offset = autoprov.DefaultPageLimit, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > autoprov.MaxPageLimit {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a whole number from 1 to 1000", "field": "limit"})
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "offset must be a whole number, 0 or more", "field": "offset"})
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// CACert is the site CA's certificate.
func (h *Hub) CACert() *x509.Certificate { return h.ca.cert }

// SiteGet calls GET path (an /api/v1/ path with its query) of site id's
// admin API over its link, as actor, for the web UI's site page: the
// status and body the site answered. ErrNotConnected when the site has no
// link, autoprov.ErrNotFound when there is no such site.
func (h *Hub) SiteGet(ctx context.Context, id, path, actor string) (int, []byte, error) {
	if !strings.HasPrefix(path, "/api/v1/") {
		return 0, nil, errors.New("central: SiteGet takes an /api/v1/ path")
	}
	h.mu.Lock()
	rec, l := h.sites[id], h.live[id]
	h.mu.Unlock()
	switch {
	case rec == nil:
		return 0, nil, autoprov.ErrNotFound
	case l == nil:
		return 0, nil, ErrNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://site"+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set(actorHeader, actor)
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b, err
}

// ErrNotConnected: the site has no link to the central now.
var ErrNotConnected = errors.New("the site is not connected")
