package central

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/internal/testlog"
)

// TestRefusalLogLimited: anyone who reaches the central's HTTPS port can
// be refused enrolment or a link as often as they like; the log says so
// once a minute per address and reason, with the site ID they chose cut
// short, and within a budget across all addresses.
func TestRefusalLogLimited(t *testing.T) {
	var logs testlog.Buffer
	clock := testclock.New(time.Now())
	c := newCentralWith(t, HubConfig{Heartbeat: time.Second, Now: clock.Now,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	lines := func(msg string) int { return strings.Count(logs.String(), `msg="`+msg+`"`) }
	longID := strings.Repeat("A", 10<<10)
	for i := range 30 {
		id := fmt.Sprintf("s-guess%d", i)
		if i == 0 {
			id = longID
		}
		if code := c.call(t, "POST", EnrollPath, fmt.Sprintf(`{"site_id":%q,"token":"wrong","csr":"x"}`, id), nil); code != 403 {
			t.Fatalf("enrolment %d: %d", i, code)
		}
		resp, err := c.ts.Client().Get(c.ts.URL + LinkPath) // no client certificate
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("link %d: %d", i, resp.StatusCode)
		}
	}
	if n, m := lines("site enrolment refused"), lines("site link refused"); n != 1 || m != 1 {
		t.Fatalf("30 refused enrolments and links logged %d and %d lines, want 1 and 1:\n%s", n, m, logs.String())
	}
	if strings.Contains(logs.String(), strings.Repeat("A", 65)) || !strings.Contains(logs.String(), strings.Repeat("A", 50)) {
		t.Fatalf("the client's site ID is not cut to 64 bytes in the log:\n%.2000s", logs.String())
	}
	clock.Add(time.Minute + time.Second)
	c.call(t, "POST", EnrollPath, `{"site_id":"s-again","token":"wrong","csr":"x"}`, nil)
	if n := lines("site enrolment refused"); n != 2 {
		t.Fatalf("a minute later: %d lines, want 2", n)
	}

	// From many addresses (an IPv6 attacker has plenty): the budget for
	// all of them together holds.
	clock.Add(refusalLogBurst * refusalLogEvery)
	before := lines("site link refused")
	for i := range 200 {
		c.hub.logRefusal("site link refused", "", fmt.Sprintf("[2001:db8::%x]:443", i+1), "certificate", "")
	}
	if n := lines("site link refused") - before; n != refusalLogBurst {
		t.Fatalf("200 addresses logged %d lines, want the budget's burst %d", n, refusalLogBurst)
	}
	// Once the budget refills, the next line says how many were held back.
	clock.Add(refusalLogEvery)
	c.hub.logRefusal("site link refused", "", "[2001:db8::ffff]:443", "certificate", "")
	if want := fmt.Sprintf(`msg="site refusals not logged: too many at once" component=central count=%d`, 200-refusalLogBurst); !strings.Contains(logs.String(), want) {
		t.Fatalf("no %q in the log:\n%s", want, logs.String())
	}
}

// TestEventsBounded: a site that delivers events without end (or a stolen
// site certificate) cannot fill the central's disk: its events take at
// most HubConfig.MaxEventsBytes, the oldest are dropped, the newest are
// listed in order without a gap, and the count and last ID survive a
// restart.
func TestEventsBounded(t *testing.T) {
	const limit = 64 << 10
	dir := t.TempDir()
	c := newCentralWith(t, HubConfig{Dir: dir, Heartbeat: time.Second, MaxEventsBytes: limit})
	var created SiteView
	c.call(t, "POST", "/api/v1/sites", `{"name":"Berlin"}`, &created)
	detail := strings.Repeat("x", 250)
	const total = 2000
	for first := 1; first <= total; first += 50 {
		var batch []Event
		for id := first; id < first+50; id++ {
			batch = append(batch, Event{ID: uint(id), Event: "device.updated", Detail: detail})
		}
		if _, err := c.hub.storeEvents(created.ID, batch); err != nil {
			t.Fatal(err)
		}
		var size int64
		for _, p := range []string{c.hub.eventsPath(created.ID), c.hub.oldEventsPath(created.ID)} {
			if fi, err := os.Stat(p); err == nil {
				size += fi.Size()
			}
		}
		if size > limit {
			t.Fatalf("after event %d the events take %d bytes, over the bound %d", first+49, size, limit)
		}
	}
	check := func(hub *Hub, when string) {
		var page struct {
			Items []Event `json:"items"`
			Total int     `json:"total"`
		}
		w := httptest.NewRecorder()
		hub.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/sites/"+created.ID+"/events?limit=1000", nil))
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &page) != nil {
			t.Fatalf("%s: events: %d %.200s", when, w.Code, w.Body)
		}
		// Each event is some 300 bytes: at least half the bound's worth
		// is kept, and not all of them.
		if page.Total < limit/2/350 || page.Total >= total || len(page.Items) != page.Total {
			t.Fatalf("%s: %d events kept of %d", when, page.Total, total)
		}
		for i, e := range page.Items {
			if e.ID != uint(total-i) {
				t.Fatalf("%s: event %d of the list is ID %d, want %d (newest first, no gap)", when, i, e.ID, total-i)
			}
		}
		hub.mu.Lock()
		events, last := hub.sites[created.ID].Events, hub.sites[created.ID].LastEventID
		hub.mu.Unlock()
		if events != page.Total || last != total {
			t.Fatalf("%s: the site counts %d events, last ID %d; the list has %d, last %d", when, events, last, page.Total, total)
		}
	}
	check(c.hub, "before a restart")
	again, err := NewHub(HubConfig{Dir: dir, Heartbeat: time.Second, MaxEventsBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	check(again, "after a restart")
	if last, err := again.storeEvents(created.ID, []Event{{ID: total, Event: "again"}}); err != nil || last != total {
		t.Fatalf("a batch delivered again after a restart: %d %v", last, err)
	}
}
