package central

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// freezer is a TCP proxy on loopback that can stop forwarding without
// closing anything: a silent network partition.
type freezer struct {
	ln     net.Listener
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, u)
			f.mu.Unlock()
			go f.pipe(c, u)
			go f.pipe(u, c)
		}
	}()
	return f
}

// pipe copies until an error; while frozen it reads nothing more.
func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		for f.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		n, err := src.Read(buf)
		if n > 0 && !f.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (f *freezer) port() string {
	_, p, _ := net.SplitHostPort(f.ln.Addr().String())
	return p
}

// central is a Hub behind a real TLS listener on loopback, as main wires
// it: the link under /central/, the API under /api/v1/sites.
type central struct {
	hub   *Hub
	ts    *httptest.Server
	roots *x509.CertPool
}

func newCentral(t *testing.T, hb time.Duration) *central {
	t.Helper()
	return newCentralWith(t, HubConfig{Heartbeat: hb})
}

// newCentralWith is newCentral with cfg (its Dir a new temporary one when
// empty).
func newCentralWith(t *testing.T, cfg HubConfig) *central {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	hub, err := NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	mux := http.NewServeMux()
	mux.Handle("/central/", hub.LinkHandler())
	api := hub.Handler()
	mux.Handle("/api/v1/sites", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(w, r.WithContext(WithAdminActor(r.Context(), "central@192.0.2.1")))
	}))
	mux.Handle("/api/v1/sites/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(w, r.WithContext(WithAdminActor(r.Context(), "central@192.0.2.1")))
	}))
	ts := httptest.NewUnstartedServer(mux)
	ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, ClientCAs: hub.ClientCAs(), MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	t.Cleanup(func() { cancel(); <-done; ts.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	return &central{hub: hub, ts: ts, roots: roots}
}

func (c *central) call(t *testing.T, method, path, body string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(method, c.ts.URL+path, strings.NewReader(body))
	resp, err := c.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// runSite creates a site named name on c and runs it with cfg (its
// directory, the central's CA, the site's id and enrolment token filled
// in; URL c's own when empty) until the test ends.
func runSite(t *testing.T, c *central, name string, cfg SiteConfig) (*Site, SiteView) {
	t.Helper()
	var created SiteView
	if code := c.call(t, "POST", "/api/v1/sites", `{"name":"`+name+`"}`, &created); code != 201 {
		t.Fatalf("create %s: %d", name, code)
	}
	cfg.Dir, cfg.RootCAs, cfg.SiteID, cfg.EnrollToken = t.TempDir(), c.roots, created.ID, created.EnrollToken
	if cfg.URL == "" {
		cfg.URL = c.ts.URL
	}
	site, err := NewSite(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { site.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return site, created
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSilentPartition: a link whose packets stop (no close, no reset) is
// noticed by both ends within a few heartbeats; the site enters its grace
// period and, once the path is back, links again by itself.
func TestSilentPartition(t *testing.T) {
	const hb = 200 * time.Millisecond
	c := newCentral(t, hb)
	f := newFreezer(t, c.ts.Listener.Addr().String())
	var seen atomic.Value
	site, created := runSite(t, c, "Berlin", SiteConfig{URL: "https://127.0.0.1", Ports: []string{f.port()}, Heartbeat: hb,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, _ := LinkActor(r.Context())
			seen.Store(a + " " + r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " auth=" + r.Header.Get("Authorization"))
			http.SetCookie(w, &http.Cookie{Name: "site", Value: "1"})
			fmt.Fprint(w, `{"ok":true}`)
		})})
	waitUntil(t, 30*time.Second, func() bool { return site.Status().State == StateConnected }, "the site never connected")

	// A call through the link reaches the site's handler with the actor,
	// without the central's token.
	req, _ := http.NewRequest("GET", c.ts.URL+"/api/v1/sites/"+created.ID+"/api/v1/devices?state=unassigned", nil)
	req.Header.Set("Authorization", "Bearer the-central-token")
	req.Header.Set(actorHeader, "central@forged")
	resp, err := c.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := seen.Load(); resp.StatusCode != 200 || got != "central@192.0.2.1 GET /api/v1/devices?state=unassigned auth=" {
		t.Fatalf("proxied call: %d, the site saw %q", resp.StatusCode, got)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Fatalf("the site's cookie came through the proxy: %q", c)
	}

	f.frozen.Store(true)
	waitUntil(t, 30*time.Second, func() bool { return site.Status().State == StateGrace }, "the site did not notice the silent partition")
	waitUntil(t, 30*time.Second, func() bool {
		var v SiteView
		c.call(t, "GET", "/api/v1/sites/"+created.ID, "", &v)
		return v.State == SiteDisconnected && v.GraceUntil != nil
	}, "the central did not notice the silent partition")
	f.frozen.Store(false)
	waitUntil(t, 30*time.Second, func() bool { return site.Status().State == StateConnected }, "the site did not link again")
}

// TestFirstHeartbeatConnected: the summary of the first heartbeat on a
// new link tells the central the site is connected, with no link alarm
// (with a heartbeat of a minute, it is the only one the test sees).
func TestFirstHeartbeatConnected(t *testing.T) {
	c := newCentral(t, time.Minute)
	_, created := runSite(t, c, "Hamburg", SiteConfig{Heartbeat: time.Minute})
	var v SiteView
	waitUntil(t, 30*time.Second, func() bool {
		c.call(t, "GET", "/api/v1/sites/"+created.ID, "", &v)
		return v.LastHeartbeat != nil
	}, "no heartbeat reached the central")
	var sum Summary
	if err := json.Unmarshal(v.Summary, &sum); err != nil {
		t.Fatalf("summary %s: %v", v.Summary, err)
	}
	if v.State != SiteConnected || sum.State != StateConnected || len(sum.Alarms) != 0 {
		t.Fatalf("after the first heartbeat: site %s, its summary %s", v.State, v.Summary)
	}
}

// auditRecorder keeps the events a site appends.
type auditRecorder struct {
	mu     sync.Mutex
	events []autoprov.AuditEvent
}

func (r *auditRecorder) AppendAudit(_ context.Context, e autoprov.AuditEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *auditRecorder) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Event == event {
			return true
		}
	}
	return false
}

// TestAlarmShownOnceRaised: a site whose link is down shows the alarm in
// its status only once the alarm has been raised (its audit event
// written), never before.
func TestAlarmShownOnceRaised(t *testing.T) {
	const hb = 100 * time.Millisecond
	c := newCentral(t, hb)
	f := newFreezer(t, c.ts.Listener.Addr().String())
	rec := &auditRecorder{}
	site, _ := runSite(t, c, "Bremen", SiteConfig{URL: "https://127.0.0.1", Ports: []string{f.port()}, Heartbeat: hb, Audit: rec})
	waitUntil(t, 30*time.Second, func() bool { return site.Status().State == StateConnected }, "the site never connected")
	f.frozen.Store(true)
	waitUntil(t, 30*time.Second, func() bool {
		st := site.Status()
		if st.Alarm != "" && !rec.has(EventAlarm) {
			t.Fatalf("the status shows an alarm not raised yet: %q", st.Alarm)
		}
		return st.Alarm != ""
	}, "the site never showed the alarm")
	// The same alarm as a Text, for the site's own UI to translate.
	if st := site.Status(); st.Alarm != "" && (st.AlarmText.String() != st.Alarm || !strings.HasPrefix(st.AlarmText.Format, "no link to the central server since %s")) {
		t.Errorf("alarm %q, as a Text %+v", st.Alarm, st.AlarmText)
	}
}

// TestCentralBadInput: the central's own API says what is wrong with a
// request: the unknown field of a new site, a MAC that is no MAC.
func TestCentralBadInput(t *testing.T) {
	c := newCentral(t, time.Second)
	var e struct {
		Error string `json:"error"`
	}
	if code := c.call(t, "POST", "/api/v1/sites", `{"name":"x","foo":1}`, &e); code != 400 || !strings.Contains(e.Error, `unknown field "foo"`) {
		t.Errorf("a site with an unknown field: %d %q", code, e.Error)
	}
	if code := c.call(t, "GET", "/api/v1/sites/devices?mac=bad", "", &e); code != 400 || !strings.Contains(e.Error, "not a MAC address") {
		t.Errorf("a search for a bad MAC: %d %q", code, e.Error)
	}
	if code := c.call(t, "GET", "/api/v1/sites/devices", "", &e); code != 400 || !strings.Contains(e.Error, "required") {
		t.Errorf("a search without a MAC: %d %q", code, e.Error)
	}
}

// TestEventsKeptOnce: a batch delivered twice (its answer was lost) is
// kept once, and only events newer than the last kept are appended.
func TestEventsKeptOnce(t *testing.T) {
	c := newCentral(t, time.Second)
	var created SiteView
	c.call(t, "POST", "/api/v1/sites", `{"name":"Berlin"}`, &created)
	batch := []Event{{ID: 5, Event: "a"}, {ID: 6, Event: "b"}}
	for range 2 {
		if last, err := c.hub.storeEvents(created.ID, batch); err != nil || last != 6 {
			t.Fatalf("storeEvents: %d %v", last, err)
		}
	}
	if last, err := c.hub.storeEvents(created.ID, []Event{{ID: 6, Event: "b"}, {ID: 7, Event: "c"}}); err != nil || last != 7 {
		t.Fatalf("storeEvents: %d %v", last, err)
	}
	var page struct {
		Items []Event `json:"items"`
		Total int     `json:"total"`
	}
	c.call(t, "GET", "/api/v1/sites/"+created.ID+"/events", "", &page)
	if page.Total != 3 || page.Items[0].ID != 7 || page.Items[2].ID != 5 {
		t.Fatalf("events: %+v", page)
	}
}

// TestEnrolmentRefusals: a wrong token, an expired one, a revoked site's
// and a spent one are all refused with the same answer.
func TestEnrolmentRefusals(t *testing.T) {
	c := newCentral(t, time.Second)
	now := time.Now()
	c.hub.cfg.Now = func() time.Time { return now }
	var a, b SiteView
	c.call(t, "POST", "/api/v1/sites", `{"name":"A"}`, &a)
	c.call(t, "POST", "/api/v1/sites", `{"name":"B"}`, &b)
	enrol := func(id, token string) int {
		return c.call(t, "POST", EnrollPath, fmt.Sprintf(`{"site_id":%q,"token":%q,"csr":"x"}`, id, token), nil)
	}
	if code := enrol(a.ID, b.EnrollToken); code != 403 {
		t.Fatalf("another site's token: %d", code)
	}
	now = now.Add(TokenValidity + time.Minute)
	if code := enrol(a.ID, a.EnrollToken); code != 403 {
		t.Fatalf("an expired token: %d", code)
	}
	now = now.Add(-TokenValidity)
	c.call(t, "DELETE", "/api/v1/sites/"+b.ID, "", nil)
	if code := enrol(b.ID, b.EnrollToken); code != 403 {
		t.Fatalf("a revoked site's token: %d", code)
	}
	// A bad CSR with the right token: 400, and the token is not spent.
	if code := enrol(a.ID, a.EnrollToken); code != 400 {
		t.Fatalf("a bad CSR: %d", code)
	}
	site, err := NewSite(SiteConfig{Dir: t.TempDir(), URL: "https://127.0.0.1", Ports: []string{portOf(c.ts.URL)}, RootCAs: c.roots,
		SiteID: a.ID, EnrollToken: a.EnrollToken, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.enroll(context.Background()); err != nil {
		t.Fatalf("enrolment: %v", err)
	}
	if code := enrol(a.ID, a.EnrollToken); code != 403 {
		t.Fatalf("a spent token: %d", code)
	}
	var list struct {
		Items []SiteView `json:"items"`
		Total int        `json:"total"`
	}
	c.call(t, "GET", "/api/v1/sites", "", &list)
	states := map[string]string{}
	for _, v := range list.Items {
		states[v.Name] = v.State
		if v.EnrollToken != "" {
			t.Errorf("the list shows an enrolment token: %+v", v)
		}
	}
	if list.Total != 2 || states["A"] != SiteDisconnected || states["B"] != SiteRevoked {
		t.Fatalf("sites: %+v", list)
	}
}

func portOf(u string) string {
	_, p, _ := net.SplitHostPort(strings.TrimPrefix(u, "https://"))
	return p
}

// TestLinkHandler: the site serves the central only its admin API, at a
// clean path, with the central's actor (never anything else as actor).
func TestLinkHandler(t *testing.T) {
	var got string
	s := &Site{cfg: SiteConfig{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := LinkActor(r.Context())
		got = fmt.Sprintf("%s %v%s", a, ok, r.Header.Get(actorHeader))
	})}}
	h := s.linkHandler()
	for _, c := range []struct {
		path, actor string
		code        int
		want        string
	}{
		{"/api/v1/devices", "central@192.0.2.1", 200, "central@192.0.2.1 true"},
		{"/api/v1/devices", "api@192.0.2.1", 200, "central@unknown true"},
		{"/api/v1/devices", "central@192.0.2.1\nX: y", 200, "central@192.0.2.1X: y true"},
		{"/api/v1/../ui/inbox", "central@192.0.2.1", 404, ""},
		{"/api/v1/./devices", "central@192.0.2.1", 404, ""},
		{"/ui/inbox", "central@192.0.2.1", 404, ""},
		{"/prov/805ec0aabb01.cfg", "central@192.0.2.1", 404, ""},
	} {
		got = ""
		req := httptest.NewRequest("GET", "http://site/", nil)
		req.URL.Path = c.path
		req.Header.Set(actorHeader, c.actor)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.code || got != c.want {
			t.Errorf("%s as %q: %d %q, want %d %q", c.path, c.actor, w.Code, got, c.code, c.want)
		}
	}
}

// TestEventsAfterCrash: a central killed after appending a batch but
// before sites.json recorded its last ID, with half an event torn off the
// file's end, keeps each event once when the site delivers them again.
func TestEventsAfterCrash(t *testing.T) {
	dir := t.TempDir()
	hub, err := NewHub(HubConfig{Dir: dir, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec := &siteRecord{ID: "s-1", Name: "Berlin", CreatedAt: time.Now()}
	hub.mu.Lock()
	hub.sites[rec.ID] = rec
	if err := hub.saveLocked(); err != nil {
		t.Fatal(err)
	}
	hub.mu.Unlock()
	// The crash: the events reached the file, sites.json still says 0, and
	// the next append was cut in the middle of a line.
	var buf []byte
	for _, e := range []Event{{ID: 1, Event: "a"}, {ID: 2, Event: "b"}} {
		b, _ := json.Marshal(e)
		buf = append(append(buf, b...), '\n')
	}
	buf = append(buf, `{"id":3,"eve`...)
	if err := os.MkdirAll(filepath.Dir(hub.eventsPath(rec.ID)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hub.eventsPath(rec.ID), buf, 0o600); err != nil {
		t.Fatal(err)
	}

	again, err := NewHub(HubConfig{Dir: dir, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if last, err := again.storeEvents(rec.ID, []Event{{ID: 1, Event: "a"}, {ID: 2, Event: "b"}, {ID: 3, Event: "c"}}); err != nil || last != 3 {
		t.Fatalf("storeEvents: %d %v", last, err)
	}
	evs, err := readEvents(again.eventsPath(rec.ID))
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []uint{1, 2, 3}) || evs[2].Event != "c" {
		t.Fatalf("events after the crash: %+v", evs)
	}
}
