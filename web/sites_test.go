package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	for _, want := range []string{`href="/ui/sites" aria-current="page"`, "Berlin office", "s-berlin", ">connected<", "<td>42</td>", "<td>3</td>", "<td>2</td>",
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
	for _, want := range []string{"<strong>grace</strong>", "site s-berlin", "grace period until", `role="alert">no link to the central server since yesterday`} {
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
