package central

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/metrics"
)

// linkGauge scrapes the process's /metrics and returns the site's
// autoprov_site_link_up series: its value and whether it is there.
func linkGauge(t *testing.T, id string) (float64, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	v, err := metrics.Sample(body, "autoprov_site_link_up", map[string]string{"site": id})
	if err != nil {
		t.Fatal(err)
	}
	return v, strings.Contains(string(body), `autoprov_site_link_up{site="`+id+`"}`)
}

// TestSiteLinkMetric: the central's autoprov_site_link_up of a site is 0
// once it enrolled, 1 while its link is up, 0 when the link ends, and
// gone once the site is revoked.
func TestSiteLinkMetric(t *testing.T) {
	const hb = 200 * time.Millisecond
	c := newCentral(t, hb)
	var created SiteView
	if code := c.call(t, "POST", "/api/v1/sites", `{"name":"Metrics"}`, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if _, ok := linkGauge(t, created.ID); ok {
		t.Fatal("a site not enrolled yet has a link gauge")
	}
	site, err := NewSite(SiteConfig{Dir: t.TempDir(), URL: "https://" + c.ts.Listener.Addr().String(), RootCAs: c.roots,
		SiteID: created.ID, EnrollToken: created.EnrollToken, Heartbeat: hb,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })})
	if err != nil {
		t.Fatal(err)
	}
	run := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { site.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	stop := run()
	defer func() { stop() }()
	waitUntil(t, 30*time.Second, func() bool { v, ok := linkGauge(t, created.ID); return ok && v == 1 }, "the link gauge never went up")

	stop()
	waitUntil(t, 30*time.Second, func() bool { v, ok := linkGauge(t, created.ID); return ok && v == 0 }, "the link gauge stayed up after the site went")

	stop = run()
	waitUntil(t, 30*time.Second, func() bool { v, ok := linkGauge(t, created.ID); return ok && v == 1 }, "the link gauge did not come back up")
	if code := c.call(t, "DELETE", "/api/v1/sites/"+created.ID, "", nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	// The revoked site's link ends at once; its series must not come back.
	waitUntil(t, 30*time.Second, func() bool { return site.Status().State != StateConnected }, "the revoked site stayed connected")
	if v, ok := linkGauge(t, created.ID); ok {
		t.Fatalf("a revoked site still has a link gauge (%v)", v)
	}
}

// TestSiteListsCount: the central's lists set X-Total-Count, as every
// list of the admin API (the OpenAPI document's promise).
func TestSiteListsCount(t *testing.T) {
	c := newCentral(t, time.Second)
	var created SiteView
	for _, name := range []string{"A", "B"} {
		if code := c.call(t, "POST", "/api/v1/sites", `{"name":"`+name+`"}`, &created); code != 201 {
			t.Fatalf("create: %d", code)
		}
	}
	if _, err := c.hub.storeEvents(created.ID, []Event{{ID: 1, Event: "a"}, {ID: 2, Event: "b"}, {ID: 3, Event: "c"}}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/api/v1/sites?limit=1": "2", "/api/v1/sites/" + created.ID + "/events?limit=1": "3"} {
		resp, err := c.ts.Client().Get(c.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Total-Count"); resp.StatusCode != 200 || got != want {
			t.Errorf("GET %s: %d, X-Total-Count %q, want %s", path, resp.StatusCode, got, want)
		}
	}
}
