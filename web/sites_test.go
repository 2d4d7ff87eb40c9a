package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
	"github.com/autoprov/autoprov/web"
)

type fakeSites []central.SiteView

func (f fakeSites) Sites() []central.SiteView { return f }

// SiteGet answers for s-berlin as its API would, over its link.
func (f fakeSites) SiteGet(_ context.Context, id, path, actor string) (int, []byte, error) {
	if id != "s-berlin" || !strings.HasPrefix(actor, "central@") {
		return 0, nil, central.ErrNotConnected
	}
	switch path {
	case "/api/v1/devices?state=unassigned&limit=100":
		return 200, []byte(`{"items":[{"mac":"805ec0aabb02","vendor":"yealink","model":"T54W","state":"unassigned","remote_ip":"10.1.2.3"}],"total":1,"limit":100,"offset":0}`), nil
	case "/api/v1/devices?state=assigned&limit=100":
		return 200, []byte(`{"items":[{"mac":"805ec0aabb01","vendor":"yealink","model":"T54W","label":"<reception>","state":"assigned"}],"total":1,"limit":100,"offset":0}`), nil
	case "/api/v1/central":
		return 200, []byte(`{"state":"connected","last_heartbeat":null,"grace_until":null,"alarms":0}`), nil
	}
	return 404, []byte(`{"error":"not found"}`), nil
}

type fakeLink central.Status

func (f fakeLink) Status() central.Status { return central.Status(f) }

// newEnvWith is newEnv with UI options.
func newEnvWith(t *testing.T, opts ...web.Option) *env {
	t.Helper()
	st, err := store.Open(t.TempDir() + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log}, st)
	ui, err := web.New(inv, log, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Log: log, AdminToken: token, Mount: ui.Mount})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, core: &core{phones, inv}, ts: ts, c: newClient(t)}
}

// TestSitesPage: the central's Sites page lists each site with its state,
// last heartbeat, what remains of a disconnected site's grace period,
// phones, inbox, open windows and alarms; a site's page shows its own
// link and its alarm.
func TestSitesPage(t *testing.T) {
	now := time.Now()
	hb, until := now.Add(-time.Hour), now.Add(10*24*time.Hour)
	sum, _ := json.Marshal(central.Summary{Phones: map[string]int{"assigned": 42, "unassigned": 3}, Inbox: 3, OpenWindows: 2,
		Alarms: []string{"no link since yesterday"}, State: "connected", GraceSeconds: 30 * 86400})
	sites := fakeSites{
		{ID: "s-berlin", Name: "Berlin office", State: central.SiteConnected, LastHeartbeat: &hb, Summary: sum},
		{ID: "s-hamburg", Name: "Hamburg <office>", State: central.SiteDisconnected, LastHeartbeat: &hb, GraceUntil: &until, Summary: sum},
		{ID: "s-new", Name: "New", State: central.SitePending, Summary: json.RawMessage("null")},
	}
	e := newEnvWith(t, web.WithSites(sites, nil))
	e.login()
	p := e.get("/ui/sites").want(t, http.StatusOK)
	for _, want := range []string{`href="/ui/sites" aria-current="page"`, "Berlin office", "s-berlin", ">connected<", `data-label="Phones">42<`, `data-label="Inbox">3<`, `data-label="Open windows">2<`,
		"no link since yesterday", "Hamburg &lt;office&gt;", ">disconnected<", "10 days (until", ">pending<", "/api/v1/sites/s-berlin/api/v1/"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the Sites page lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, "/api/v1/sites/s-hamburg/api/v1/") {
		t.Error("a disconnected site is offered through its link")
	}
	// A connected site's page, read over its link.
	p = e.get("/ui/sites/s-berlin").want(t, http.StatusOK)
	for _, want := range []string{"Inbox (1)", "80:5E:C0:AA:BB:02", "10.1.2.3", "Devices (1)", "80:5E:C0:AA:BB:01", "&lt;reception&gt;", "own view: <strong>connected</strong>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the site page lacks %q:\n%s", want, p.body)
		}
	}
	if p = e.get("/ui/sites/s-hamburg").want(t, http.StatusOK); !strings.Contains(p.body, "only while it is connected") {
		t.Errorf("a disconnected site's page:\n%s", p.body)
	}
	e.get("/ui/sites/s-nowhere").want(t, http.StatusNotFound)

	// A site: its own link, the alarm, the end of its grace period.
	e = newEnvWith(t, web.WithSites(nil, fakeLink{State: central.StateGrace, SiteID: "s-berlin", LastHeartbeat: &hb, GraceUntil: &until,
		Alarm: "no link to the central server since yesterday"}))
	e.login()
	p = e.get("/ui/sites").want(t, http.StatusOK)
	for _, want := range []string{"<strong>grace</strong>", "site s-berlin", "grace period until", `role="alert" lang="en">no link to the central server since yesterday`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the site's Sites page lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, "has no sites") {
		t.Errorf("a site is told it has no sites:\n%s", p.body)
	}

	// Neither: says how to become a central.
	e = newEnvWith(t)
	e.login()
	if p = e.get("/ui/sites").want(t, http.StatusOK); !strings.Contains(p.body, "--https") {
		t.Errorf("the page of a server without sites:\n%s", p.body)
	}
}

// TestDashboardSites: a central's dashboard counts its sites by state and
// lists each site's alarms, linking to the Sites pages; without sites it
// has no such panel, and the nav shows Sites only where it means
// something.
func TestDashboardSites(t *testing.T) {
	hb := time.Now().Add(-time.Hour)
	kielHB := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	kielGrace := kielHB.Add(30 * 24 * time.Hour)
	sum, _ := json.Marshal(central.Summary{Alarms: []string{"no link since <yesterday>"}})
	sites := fakeSites{
		{ID: "s-berlin", Name: "Berlin office", State: central.SiteConnected, LastHeartbeat: &hb, Summary: json.RawMessage("{}")},
		{ID: "s-munich", Name: "Munich", State: central.SiteConnected, LastHeartbeat: &hb},
		{ID: "s-hamburg", Name: "Hamburg", State: central.SiteDisconnected, LastHeartbeat: &hb, Summary: sum},
		{ID: "s-new", Name: "New", State: central.SitePending},
		{ID: "s-kiel", Name: "Kiel", State: central.SiteDisconnected, LastHeartbeat: &kielHB, GraceUntil: &kielGrace},
	}
	e := newEnvWith(t, web.WithSites(sites, nil))
	e.login()
	p := e.get("/ui/dashboard").want(t, http.StatusOK)
	for _, want := range []string{`id="site-panel"`, `id="sites-connected">2<`, `id="sites-disconnected">2<`, `href="/ui/sites">pending or revoked</a> <span class="n">1<`,
		`<a href="/ui/sites/s-hamburg">Hamburg</a>: <span lang="en">no link since &lt;yesterday&gt;</span>`, `<a href="/ui/sites"`,
		// A disconnected site's alarm is the central's own: the site reports none while cut off.
		// Its times are written as the UI writes times (the fleet's zone, UTC by default).
		`<a href="/ui/sites/s-kiel">Kiel</a>: <span>no link since 2026-11-28 09:00:00 UTC; grace period until 2026-12-28 09:00:00 UTC</span>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the central's dashboard lacks %q:\n%s", want, p.body)
		}
	}
	// German: the panel, the states and the central's own alarm in
	// German, its times in the fleet's zone; a site's alarm sent as
	// English only stays English, marked so.
	tz := "Europe/Berlin"
	if _, err := e.core.PutSettings(context.Background(), autoprov.SettingsPatch{Timezone: &tz}, "test"); err != nil {
		t.Fatal(err)
	}
	e.getLang("/ui/dashboard", "de").want(t, http.StatusOK).has(t, ">Standorte</h2>", `href="/ui/sites">verbunden</a>`, `href="/ui/sites">getrennt</a>`,
		`<a href="/ui/sites/s-kiel">Kiel</a>: <span>keine Verbindung seit 2026-11-28 10:00:00 CET; Karenzzeit bis 2026-12-28 10:00:00 CET</span>`,
		`<a href="/ui/sites/s-hamburg">Hamburg</a>: <span lang="en">no link since &lt;yesterday&gt;</span>`).
		lacks(t, "grace period until")
	// Without a grace period known (a site that never said its own): the
	// last heartbeat alone.
	kielGrace0 := sites[4]
	kielGrace0.GraceUntil = nil
	e = newEnvWith(t, web.WithSites(fakeSites{kielGrace0}, nil))
	e.login()
	e.getLang("/ui/dashboard", "de").want(t, http.StatusOK).has(t, `<a href="/ui/sites/s-kiel">Kiel</a>: <span>keine Verbindung seit 2026-11-28 09:00:00 UTC</span>`)

	// A central without sites yet: no panel, but the nav's Sites link.
	e = newEnvWith(t, web.WithSites(fakeSites{}, nil))
	e.login()
	p = e.get("/ui/dashboard").want(t, http.StatusOK)
	if strings.Contains(p.body, `id="site-panel"`) || !strings.Contains(p.body, `<a href="/ui/sites"`) {
		t.Errorf("a central without sites:\n%s", p.body)
	}
	// Neither a central nor a site: no Sites link, no panel.
	e = newEnvWith(t)
	e.login()
	p = e.get("/ui/dashboard").want(t, http.StatusOK)
	if strings.Contains(p.body, `href="/ui/sites"`) || strings.Contains(p.body, `id="site-panel"`) {
		t.Errorf("a server without sites links to them:\n%s", p.body)
	}
}

// TestSiteBanner: a site whose link to its central is down shows a banner
// with the end of its grace period on every page (grace), or that it
// has ended and what that stops (expired); a connected site shows none.
func TestSiteBanner(t *testing.T) {
	hb := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC)
	link := &switchLink{st: central.Status{State: central.StateGrace, SiteID: "s-berlin", LastHeartbeat: &hb, GraceUntil: &until,
		Alarm: "no link to the central server since 2026-11-20"}}
	e := newEnvWith(t, web.WithSites(nil, link))
	e.login()
	for _, page := range []string{"/ui/dashboard", "/ui/inbox", "/ui/devices", "/ui/settings", "/ui/audit", "/ui/sites"} {
		p := e.get(page).want(t, http.StatusOK)
		for _, want := range []string{`id="central-banner"`, "the grace period ends 2026-12-20 09:00:00 UTC", `<p lang="en">no link to the central server since 2026-11-20</p>`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("%s lacks %q:\n%s", page, want, p.body)
			}
		}
	}
	if p := e.getLang("/ui/devices", "de").want(t, http.StatusOK); !strings.Contains(p.body, "die Karenzzeit endet 2026-12-20 09:00:00 UTC") {
		t.Errorf("the German banner:\n%s", p.body)
	}
	link.set(central.Status{State: central.StateExpired, LastHeartbeat: &hb, GraceUntil: &until})
	if p := e.get("/ui/inbox").want(t, http.StatusOK); !strings.Contains(p.body, "The grace period ended 2026-12-20 09:00:00 UTC.") ||
		!strings.Contains(p.body, "opens no secret windows and adopts no phones") {
		t.Errorf("the expired banner:\n%s", p.body)
	}
	link.set(central.Status{State: central.StateGrace})
	if p := e.get("/ui/inbox").want(t, http.StatusOK); !strings.Contains(p.body, "<strong>No link to the central server.</strong>") || strings.Contains(p.body, "ends never") {
		t.Errorf("the banner without a known end:\n%s", p.body)
	}
	link.set(central.Status{State: central.StateConnected, LastHeartbeat: &hb})
	if p := e.get("/ui/inbox").want(t, http.StatusOK); strings.Contains(p.body, `id="central-banner"`) {
		t.Errorf("a connected site shows the banner:\n%s", p.body)
	}
	// Not on the login page: nothing of the site before login.
	e.c = newClient(t)
	if p := e.get("/ui/login").want(t, http.StatusOK); strings.Contains(p.body, `id="central-banner"`) {
		t.Errorf("the login page shows the banner:\n%s", p.body)
	}
}

// switchLink is a Link whose status the test changes.
type switchLink struct {
	mu sync.Mutex
	st central.Status
}

func (l *switchLink) Status() central.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

func (l *switchLink) set(st central.Status) {
	l.mu.Lock()
	l.st = st
	l.mu.Unlock()
}
