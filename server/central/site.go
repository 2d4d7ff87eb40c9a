package central

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"

	"github.com/autoprov/autoprov"
)

// Site states (GET /api/v1/central on the site).
const (
	StateNone      = "none"      // no central server configured
	StateConnected = "connected" // the link is up
	StateGrace     = "grace"     // the link is down, within the grace period
	StateExpired   = "expired"   // the link has been down past the grace period
)

// EventInboxArrived is the site's audit event of a phone that landed in
// its inbox (an unassigned device), written by the site so it reaches the
// central in order with the other events, whenever the link is up.
const EventInboxArrived = "inbox.arrived"

// EventAlarm is the site's audit event of its daily alarm while the link
// is down; it reaches the central with the other events once the link is
// back.
const EventAlarm = "central.alarm"

// ErrUnsupervised is the refusal of a site whose link has been down past
// its grace period: no new secret window, no adoption (it wraps
// autoprov.ErrConflict, so the API answers 409).
var ErrUnsupervised = autoprov.Conflict("this site has been cut off from its central server past its grace period: no new secret window opens and no phone is adopted until the link is back (GET /api/v1/central)")

// SiteConfig configures a site's side of the link.
type SiteConfig struct {
	// Dir holds the site's key and certificate (site-key.pem,
	// site-cert.pem) and its state (site.json), all 0600: <data>/central.
	Dir string
	// URL is the central server (--central), e.g. https://central.example.com.
	URL string
	// Ports are tried in turn (--central-ports); a port in URL comes first.
	Ports []string
	// RootCAs verify the central's certificate (--central-ca); nil: the
	// system's.
	RootCAs *x509.CertPool
	// SiteID and EnrollToken are needed at the first start only.
	SiteID, EnrollToken string
	// Heartbeat is the heartbeat interval (30 s when 0); Grace how long the
	// site works unsupervised once the link is down (30 days when 0).
	Heartbeat, Grace time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Handler is the site's own admin API, which the central's requests
	// reach with WithLinkActor in their context.
	Handler http.Handler
	// Summary tells what goes into a heartbeat.
	Summary func(ctx context.Context) (Summary, error)
	// Events returns up to limit audit events with an ID above after,
	// oldest first; Latest the newest event's ID (0 when none).
	Events func(ctx context.Context, after uint, limit int) ([]autoprov.AuditEvent, error)
	Latest func(ctx context.Context) (uint, error)
	// Arrivals returns the unassigned devices seen at or after since.
	Arrivals func(ctx context.Context, since time.Time) ([]autoprov.Device, error)
	// Audit is the site's audit log, where the alarms go.
	Audit Auditor
	Log   *slog.Logger
}

// siteState is what site.json keeps across restarts: the grace period
// runs from LastContact whatever the process does meanwhile.
type siteState struct {
	SiteID      string    `json:"site_id"`
	EnrolledAt  time.Time `json:"enrolled_at"`
	LastContact time.Time `json:"last_contact"`
	EventCursor uint      `json:"event_cursor"` // the last audit event the central confirmed
	LastAlarm   time.Time `json:"last_alarm"`
	// InboxCursor is when the newest inbox arrival already written to the
	// audit log was created.
	InboxCursor time.Time `json:"inbox_cursor"`
}

// Site is a site's side of the link to the central server.
type Site struct {
	cfg  SiteConfig
	log  *slog.Logger
	host string
	save sync.Mutex

	mu        sync.Mutex
	st        siteState
	connected bool
	refused   string // why the central refused the last attempt
	alarms    int    // alarms raised since start
}

// Status is where a site stands (GET /api/v1/central).
type Status struct {
	State         string     `json:"state"`
	Central       string     `json:"central,omitempty"`
	SiteID        string     `json:"site_id,omitempty"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	GraceUntil    *time.Time `json:"grace_until"`
	// Refused is why the central refused the link ("revoked", ...).
	Refused string `json:"refused,omitempty"`
	// Alarm is the current alarm, empty when none; AlarmText is the same
	// as a translatable Text (see vendors.Text), for this site's own UI.
	Alarm     string        `json:"alarm,omitempty"`
	AlarmText autoprov.Text `json:"-"`
	// Alarms counts the alarms raised since this process started.
	Alarms int `json:"alarms"`
}

// NewSite loads the site's state from cfg.Dir. Without a certificate
// there, it needs cfg.SiteID and cfg.EnrollToken (the first start).
func NewSite(cfg SiteConfig) (*Site, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 30 * time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * 24 * time.Hour
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("--central must be an https:// URL of the central server, e.g. https://central.example.com")
	}
	if p := u.Port(); p != "" {
		cfg.Ports = append([]string{p}, slices.DeleteFunc(slices.Clone(cfg.Ports), func(q string) bool { return q == p })...)
	}
	if len(cfg.Ports) == 0 {
		return nil, errors.New("--central-ports: no port to try")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	s := &Site{cfg: cfg, log: cfg.Log.With("component", "central-link"), host: u.Hostname()}
	b, err := os.ReadFile(s.path("site.json"))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s.st); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path("site.json"), err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if s.enrolled() {
		if cfg.SiteID != "" && cfg.SiteID != s.st.SiteID {
			return nil, fmt.Errorf("--site-id %s: this data directory is enrolled as site %s (remove %s to enrol again)", cfg.SiteID, s.st.SiteID, cfg.Dir)
		}
	} else if cfg.SiteID == "" || cfg.EnrollToken == "" {
		return nil, errors.New("--central: the first start needs --site-id and the enrolment token, AUTOPROV_ENROLL_TOKEN or --enroll-token (from POST /api/v1/sites on the central)")
	} else {
		s.st.SiteID = cfg.SiteID
	}
	if s.st.LastContact.IsZero() {
		// The grace period of a site that never reached its central runs
		// from its first start.
		s.st.LastContact = cfg.Now()
		if err := s.persist(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Site) path(name string) string { return filepath.Join(s.cfg.Dir, name) }

func (s *Site) enrolled() bool {
	_, err := os.Stat(s.path("site-cert.pem"))
	return err == nil && s.st.SiteID != ""
}

func (s *Site) persist() error {
	s.save.Lock()
	defer s.save.Unlock()
	s.mu.Lock()
	b, err := json.MarshalIndent(s.st, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFile(s.path("site.json"), b)
}

// Status tells where the site stands.
func (s *Site) Status() Status {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.st.LastContact
	until := last.Add(s.cfg.Grace)
	st := Status{Central: s.cfg.URL, SiteID: s.st.SiteID, Refused: s.refused, Alarms: s.alarms}
	if !s.st.EnrolledAt.IsZero() {
		st.LastHeartbeat = &last
	}
	switch {
	case s.connected:
		st.State = StateConnected
	case now.After(until):
		st.State = StateExpired
		st.GraceUntil = &until
	default:
		st.State = StateGrace
		st.GraceUntil = &until
	}
	if s.alarming(now) && !s.st.LastAlarm.IsZero() { // once alarmLoop has raised it (log line, audit event)
		st.AlarmText = s.alarmText(until, now)
		st.Alarm = st.AlarmText.String()
	}
	return st
}

// alarming reports whether the link has been down long enough to alarm:
// more than three heartbeats; s.mu is held.
func (s *Site) alarming(now time.Time) bool {
	return !s.connected && now.Sub(s.st.LastContact) > 3*s.cfg.Heartbeat
}

func (s *Site) alarmText(until, now time.Time) autoprov.Text {
	if now.After(until) {
		return autoprov.T("no link to the central server since %s; the grace period ended %s: no new secret window opens and no phone is adopted",
			s.st.LastContact.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	}
	return autoprov.T("no link to the central server since %s; grace period until %s",
		s.st.LastContact.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
}

// Unsupervised is nil while the site may hand out credentials: the link
// is up or within its grace period; else ErrUnsupervised.
func (s *Site) Unsupervised() error {
	if s.Status().State == StateExpired {
		return ErrUnsupervised
	}
	return nil
}

// Run keeps the link up until ctx is done: enrolment at the first start,
// then one connection at a time, trying the ports in turn with a backoff
// (1 s doubling up to the heartbeat interval, at most a minute), and the
// daily alarm while it is down.
func (s *Site) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.alarmLoop(ctx) })
	wg.Go(func() { s.inboxLoop(ctx) })
	defer wg.Wait()
	maxBackoff := min(max(s.cfg.Heartbeat, time.Second), time.Minute)
	backoff := time.Second
	for ctx.Err() == nil {
		var err error
		up := false
		if !s.enrolled() {
			if err = s.enroll(ctx); err == nil {
				continue // link at once
			}
		} else {
			up, err = s.connect(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		if up {
			backoff = time.Second
		}
		if err != nil {
			s.log.Warn("central link", "err", err, "retry_in", backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// alarmLoop raises the alarm while the link is down: once it has been down
// for three heartbeats, then once a day (error log line, audit event,
// Status.Alarms).
func (s *Site) alarmLoop(ctx context.Context) {
	t := time.NewTicker(min(s.cfg.Heartbeat, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		s.mu.Lock()
		due := s.alarming(now) && (s.st.LastAlarm.IsZero() || now.Sub(s.st.LastAlarm) >= 24*time.Hour)
		var text string
		if due {
			text = s.alarmText(s.st.LastContact.Add(s.cfg.Grace), now).String()
		}
		s.mu.Unlock()
		if !due {
			continue
		}
		s.log.Error("central link down: alarm", "alarm", text)
		if s.cfg.Audit != nil {
			if err := s.cfg.Audit.AppendAudit(ctx, autoprov.AuditEvent{At: now, Event: EventAlarm, Actor: "autoprov", Detail: text}); err != nil {
				s.log.Error("audit", "event", EventAlarm, "err", err)
			}
		}
		// Raised: Status shows it from now on (after its log line and audit
		// event) while the link is down; a heartbeat clears it.
		s.mu.Lock()
		s.st.LastAlarm = now
		s.alarms++
		s.mu.Unlock()
		if err := s.persist(); err != nil {
			s.log.Error("save link state", "err", err)
		}
	}
}

// inboxLoop writes each phone that lands in the inbox to the audit log
// once (EventInboxArrived), every heartbeat, link up or down: the audit
// log is the queue to the central.
func (s *Site) inboxLoop(ctx context.Context) {
	if s.cfg.Arrivals == nil || s.cfg.Audit == nil {
		return
	}
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	for {
		if err := s.recordArrivals(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("inbox arrivals", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Site) recordArrivals(ctx context.Context) error {
	s.mu.Lock()
	cursor := s.st.InboxCursor
	fresh := cursor.IsZero()
	if fresh {
		// From the enrolment on (or this start, before it): the inbox
		// before it is the site's history.
		cursor = s.st.EnrolledAt
		if cursor.IsZero() {
			cursor = s.cfg.Now()
		}
		s.st.InboxCursor = cursor
	}
	s.mu.Unlock()
	devs, err := s.cfg.Arrivals(ctx, cursor)
	if err != nil {
		return err
	}
	var news []autoprov.Device
	for _, d := range devs {
		if d.CreatedAt.After(cursor) {
			news = append(news, d)
		}
	}
	slices.SortFunc(news, func(a, b autoprov.Device) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, d := range news {
		detail := strings.TrimSpace(d.Vendor + " " + d.Model)
		if d.RemoteIP != "" {
			detail += " from " + d.RemoteIP
		}
		if err := s.cfg.Audit.AppendAudit(ctx, autoprov.AuditEvent{At: s.cfg.Now(), MAC: d.MAC, Event: EventInboxArrived, Actor: "autoprov", Detail: detail}); err != nil {
			return err
		}
		s.mu.Lock()
		s.st.InboxCursor = d.CreatedAt
		s.mu.Unlock()
	}
	if !fresh && len(news) == 0 {
		return nil
	}
	return s.persist()
}

func (s *Site) tlsConfig(withCert bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.cfg.RootCAs, ServerName: s.host}
	if withCert {
		cert, err := tls.LoadX509KeyPair(s.path("site-cert.pem"), s.path("site-key.pem"))
		if err != nil {
			return nil, fmt.Errorf("site certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (s *Site) addr(port string) string { return net.JoinHostPort(s.host, port) }

// enroll sends a CSR of a new key with the enrolment token and keeps the
// certificate it gets.
func (s *Site) enroll(ctx context.Context) error {
	key, err := s.key()
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: s.st.SiteID}}, key)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(enrollIn{SiteID: s.st.SiteID, Token: s.cfg.EnrollToken,
		CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))})
	tcfg, err := s.tlsConfig(false)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: tcfg}}
	defer client.CloseIdleConnections()
	var errs []error
	for _, port := range s.cfg.Ports {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+s.addr(port)+EnrollPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			errs = append(errs, fmt.Errorf("port %s: %w", port, err))
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			var e struct {
				Error string `json:"error"`
			}
			json.Unmarshal(b, &e)
			s.mu.Lock()
			s.refused = e.Error
			s.mu.Unlock()
			return fmt.Errorf("enrolment at %s: %s: %s", s.addr(port), resp.Status, e.Error)
		}
		var out enrollOut
		if err := json.Unmarshal(b, &out); err != nil {
			return fmt.Errorf("enrolment at %s: %w", s.addr(port), err)
		}
		if _, err := parseCert([]byte(out.Certificate)); err != nil {
			return fmt.Errorf("enrolment at %s: %w", s.addr(port), err)
		}
		latest := uint(0)
		if s.cfg.Latest != nil {
			if latest, err = s.cfg.Latest(ctx); err != nil {
				return err
			}
		}
		if err := writeFile(s.path("site-ca.pem"), []byte(out.CA)); err != nil {
			return err
		}
		if err := writeFile(s.path("site-cert.pem"), []byte(out.Certificate)); err != nil {
			return err
		}
		now := s.cfg.Now()
		s.mu.Lock()
		// Events from the enrolment on go to the central; the history
		// before it stays here.
		s.st.EnrolledAt, s.st.LastContact, s.st.EventCursor, s.refused = now, now, latest, ""
		s.mu.Unlock()
		if err := s.persist(); err != nil {
			return err
		}
		s.log.Info("enrolled with the central server", "site", s.st.SiteID, "central", s.addr(port))
		return nil
	}
	return fmt.Errorf("enrolment: %w", errors.Join(errs...))
}

// key returns the site's private key, generated (0600) at first use.
func (s *Site) key() (*ecdsa.PrivateKey, error) {
	if b, err := os.ReadFile(s.path("site-key.pem")); err == nil {
		k, err := parseKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path("site-key.pem"), err)
		}
		if ek, ok := k.(*ecdsa.PrivateKey); ok {
			return ek, nil
		}
		return nil, fmt.Errorf("%s: not an ECDSA key", s.path("site-key.pem"))
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return k, writeFile(s.path("site-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// dial opens the WebSocket on the first port that answers.
func (s *Site) dial(ctx context.Context) (*websocket.Conn, string, error) {
	tcfg, err := s.tlsConfig(true)
	if err != nil {
		return nil, "", err
	}
	var errs []error
	for _, port := range s.cfg.Ports {
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		tr := &http.Transport{TLSClientConfig: tcfg.Clone()}
		c, resp, err := websocket.Dial(dctx, "wss://"+s.addr(port)+LinkPath, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
		cancel()
		if err == nil {
			return c, port, nil
		}
		tr.CloseIdleConnections()
		if resp != nil && resp.StatusCode == http.StatusForbidden {
			why := resp.Header.Get(refusalHeader)
			if why == "" {
				why = "refused"
			}
			s.mu.Lock()
			s.refused = why
			s.mu.Unlock()
			s.log.Error("the central server refused this site's link", "central", s.addr(port), "site", s.st.SiteID, "reason", why)
			return nil, "", fmt.Errorf("link refused by %s: %s", s.addr(port), why)
		}
		errs = append(errs, fmt.Errorf("port %s: %w", port, err))
	}
	return nil, "", fmt.Errorf("no port of the central server answered: %w", errors.Join(errs...))
}

// connect runs one link until it ends; up reports whether it came up.
func (s *Site) connect(ctx context.Context) (up bool, err error) {
	c, port, err := s.dial(ctx)
	if err != nil {
		return false, err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sess, err := yamux.Client(websocket.NetConn(lctx, c, websocket.MessageBinary), yamuxConfig(s.cfg.Heartbeat))
	if err != nil {
		c.Close(websocket.StatusInternalError, "")
		return false, err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer sess.Close()
	wg.Go(func() { serveStreams(sess, s.linkHandler(), s.log, 0) })
	client := streamClient(sess, max(2*s.cfg.Heartbeat, 10*time.Second))
	defer client.CloseIdleConnections()

	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	for {
		if err := s.heartbeat(lctx, client); err != nil {
			if ctx.Err() != nil {
				return up, nil
			}
			s.down()
			return up, fmt.Errorf("link to %s: %w", s.addr(port), err)
		}
		if !up {
			up = true
			s.log.Info("central link up", "central", s.addr(port), "site", s.st.SiteID)
		}
		if err := s.deliver(lctx, client); err != nil && ctx.Err() == nil {
			s.log.Warn("central link: events not delivered yet", "err", err)
		}
		select {
		case <-ctx.Done():
			s.down()
			return up, nil
		case <-sess.CloseChan():
			s.down()
			return up, fmt.Errorf("link to %s closed", s.addr(port))
		case <-t.C:
		}
	}
}

func (s *Site) down() {
	s.mu.Lock()
	was := s.connected
	s.connected = false
	s.mu.Unlock()
	if was {
		s.log.Warn("central link down; the site keeps serving its phones", "site", s.st.SiteID)
	}
}

// heartbeat sends the summary; its answer is the central's half.
func (s *Site) heartbeat(ctx context.Context, client *http.Client) error {
	sum := Summary{Phones: map[string]int{}, Alarms: []string{}}
	if s.cfg.Summary != nil {
		var err error
		if sum, err = s.cfg.Summary(ctx); err != nil {
			s.log.Warn("heartbeat summary", "err", err)
		}
	}
	// The summary travels over the link, so it tells the link up, with no
	// alarm about it: Status says so only once this heartbeat is answered,
	// and the central would show a site that just linked (again) in its
	// grace period, and the old alarm, until the next heartbeat.
	sum.State, sum.GraceSeconds = StateConnected, int64(s.cfg.Grace/time.Second)
	if sum.Alarms == nil {
		sum.Alarms = []string{}
	}
	var reply heartbeatReply
	if err := post(ctx, client, heartbeatPath, sum, &reply); err != nil {
		return err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	cleared := !s.st.LastAlarm.IsZero()
	s.connected, s.refused = true, ""
	s.st.LastContact, s.st.LastAlarm = now, time.Time{}
	s.mu.Unlock()
	if cleared {
		s.log.Info("central link back: alarm cleared, grace period reset", "site", s.st.SiteID)
	}
	return s.persist()
}

// deliver sends the audit events after the cursor, in order, in batches,
// moving the cursor as the central confirms them.
func (s *Site) deliver(ctx context.Context, client *http.Client) error {
	if s.cfg.Events == nil {
		return nil
	}
	for range 100 {
		s.mu.Lock()
		cursor := s.st.EventCursor
		s.mu.Unlock()
		evs, err := s.cfg.Events(ctx, cursor, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		in := eventsIn{Events: make([]Event, len(evs))}
		for i, e := range evs {
			in.Events[i] = eventOf(e)
		}
		var reply eventsReply
		if err := post(ctx, client, eventsPath, in, &reply); err != nil {
			return err
		}
		s.mu.Lock()
		s.st.EventCursor = max(s.st.EventCursor, min(reply.LastID, evs[len(evs)-1].ID))
		s.mu.Unlock()
		if err := s.persist(); err != nil {
			return err
		}
		if len(evs) < 500 {
			return nil
		}
	}
	return nil
}

func post(ctx context.Context, client *http.Client, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://central"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

// linkHandler serves the central's requests on the site: the admin API
// only, with the central's actor in the context.
func (s *Site) linkHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := cleanActor(r.Header.Get(actorHeader))
		r.Header.Del(actorHeader)
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") || path.Clean(r.URL.Path) != strings.TrimSuffix(r.URL.Path, "/") || s.cfg.Handler == nil {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		s.cfg.Handler.ServeHTTP(w, r.WithContext(WithLinkActor(r.Context(), actor)))
	})
}

// cleanActor keeps an actor the central names printable and short, as it
// goes into the site's audit log.
func cleanActor(a string) string {
	a = strings.Map(func(r rune) rune {
		if r >= 0x20 && r < 0x7f {
			return r
		}
		return -1
	}, a)
	if len(a) > 100 {
		a = a[:100]
	}
	if !strings.HasPrefix(a, "central@") {
		return "central@unknown"
	}
	return a
}
