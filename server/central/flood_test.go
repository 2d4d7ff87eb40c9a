package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"
)

// rawLink enrols a site with the central and opens its link by hand: the
// session a misbehaving site holds.
func rawLink(t *testing.T, c *central) *yamux.Session {
	t.Helper()
	var created SiteView
	if code := c.call(t, "POST", "/api/v1/sites", `{"name":"Flood"}`, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	site, err := NewSite(SiteConfig{Dir: t.TempDir(), URL: "https://127.0.0.1", Ports: []string{portOf(c.ts.URL)}, RootCAs: c.roots,
		SiteID: created.ID, EnrollToken: created.EnrollToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.enroll(context.Background()); err != nil {
		t.Fatal(err)
	}
	ws, _, err := site.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg := yamuxConfig(time.Second)
	sess, err := yamux.Client(websocket.NetConn(context.Background(), ws, websocket.MessageBinary), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// TestSiteStreamFlood: a site that opens stream after stream, each a
// request whose body never comes, is served a bounded number at once; the
// streams past the bound and its backlog are reset rather than each
// getting a handler (and its buffers) on the central, and the link still
// serves a heartbeat once the flood ends.
func TestSiteStreamFlood(t *testing.T) {
	c := newCentral(t, time.Second)
	sess := rawLink(t, c)
	const n = 200
	streams := make([]*yamux.Stream, 0, n)
	for i := range n {
		st, err := sess.OpenStream()
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		streams = append(streams, st)
		fmt.Fprintf(st, "POST %s HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\nContent-Length: 16000000\r\n\r\n{\"events\":[", eventsPath)
	}
	reset := make(chan struct{}, n)
	for _, st := range streams {
		go func() {
			_, err := st.Read(make([]byte, 1))
			if errors.Is(err, yamux.ErrConnectionReset) {
				reset <- struct{}{}
			}
		}()
	}
	select {
	case <-reset:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d stalled streams at once: none was reset, each has a handler on the central", n)
	}
	for _, st := range streams {
		st.Close()
	}
	// The flood's streams end; the link serves the site again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		client := streamClient(sess, 5*time.Second)
		resp, err := client.Post("http://central"+heartbeatPath, "application/json", strings.NewReader(`{"state":"connected"}`))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat after the flood: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHeartbeatBounds: a heartbeat's summary is bounded, and a site that
// sends heartbeats back to back does not have sites.json (every site's
// record, under the hub's lock) rewritten for each.
func TestHeartbeatBounds(t *testing.T) {
	c := newCentral(t, time.Second)
	now := time.Now()
	var clock sync.Mutex
	c.hub.cfg.Now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	client := streamClient(rawLink(t, c), 10*time.Second)
	beat := func(body string) int {
		t.Helper()
		resp, err := client.Post("http://central"+heartbeatPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	huge := `{"alarms":["` + strings.Repeat("x", 100<<10) + `"]}`
	if code := beat(huge); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 100 KiB summary: %d", code)
	}
	sitesJSON := func() string {
		b, err := os.ReadFile(c.hub.sitesPath())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if strings.Contains(sitesJSON(), "xxxx") {
		t.Fatal("the oversized summary was kept")
	}
	inode := func() uint64 {
		fi, err := os.Stat(c.hub.sitesPath())
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	writes, last := 0, inode()
	for i := range 20 {
		if code := beat(fmt.Sprintf(`{"inbox":%d}`, i)); code != http.StatusOK {
			t.Fatalf("heartbeat %d: %d", i, code)
		}
		if ino := inode(); ino != last {
			writes, last = writes+1, ino
		}
	}
	if writes > 1 {
		t.Fatalf("20 heartbeats within a second: sites.json written %d times", writes)
	}
	if v := c.hub.Sites()[0]; !strings.Contains(string(v.Summary), `"inbox":19`) {
		t.Fatalf("the last summary is not shown: %s", v.Summary)
	}
	clock.Lock()
	now = now.Add(time.Second)
	clock.Unlock()
	beat(`{"inbox":20}`)
	if !strings.Contains(strings.ReplaceAll(sitesJSON(), " ", ""), `"inbox":20`) {
		t.Fatal("a heartbeat a second later is not written")
	}
}

// TestHugeEvent: an event far larger than any audit event (a 6 MiB
// detail, within a batch's 16 MiB) is kept cut, and the site's events
// still list (readEvents reads a line of at most 4 MiB).
func TestHugeEvent(t *testing.T) {
	c := newCentral(t, time.Second)
	var created SiteView
	c.call(t, "POST", "/api/v1/sites", `{"name":"Berlin"}`, &created)
	huge := strings.Repeat("é", 3<<20)
	if _, err := c.hub.storeEvents(created.ID, []Event{{ID: 1, Event: "a", Detail: huge}, {ID: 2, Event: "b", Actor: "central@x"}}); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []Event `json:"items"`
		Total int     `json:"total"`
	}
	if code := c.call(t, "GET", "/api/v1/sites/"+created.ID+"/events", "", &page); code != 200 {
		t.Fatalf("events: %d", code)
	}
	if page.Total != 2 || page.Items[1].ID != 1 || len(page.Items[1].Detail) > 64<<10 || !utf8.ValidString(page.Items[1].Detail) ||
		!strings.HasSuffix(page.Items[1].Detail, "…(cut)") || page.Items[0].Actor != "central@x" {
		t.Fatalf("events: %d, first detail %d bytes", page.Total, len(page.Items[len(page.Items)-1].Detail))
	}
}

// TestSiteCannotCallIn: over its link a site reaches its heartbeat and
// events only, never the central's admin API nor another site.
func TestSiteCannotCallIn(t *testing.T) {
	c := newCentral(t, time.Second)
	var other SiteView
	c.call(t, "POST", "/api/v1/sites", `{"name":"Other"}`, &other)
	client := streamClient(rawLink(t, c), 10*time.Second)
	for _, p := range []string{"/api/v1/sites", "/api/v1/sites/" + other.ID, "/api/v1/sites/" + other.ID + "/api/v1/devices",
		"/api/v1/sites/" + other.ID + "/events", "/central/link", "/central/enroll", "/events/../api/v1/sites"} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			req, _ := http.NewRequest(m, "http://central"+p, strings.NewReader(`{"name":"x"}`))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusMovedPermanently {
				t.Errorf("%s %s over the link: %d %s", m, p, resp.StatusCode, b)
			}
		}
	}
	if sites := c.hub.Sites(); len(sites) != 2 || sites[1].State == SiteRevoked || sites[0].State == SiteRevoked {
		t.Fatalf("sites: %+v", sites)
	}
}

// TestSearchBadSite: a site that answers a device search with something
// that is not JSON is listed as unreachable; the other sites' answers
// still arrive (its answer broke the whole JSON reply).
func TestSearchBadSite(t *testing.T) {
	c := newCentral(t, 200*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, s := range []struct{ name, answer string }{{"Good", `{"mac":"805ec0aabb01"}`}, {"Bad", `{"mac":`}} {
		var created SiteView
		c.call(t, "POST", "/api/v1/sites", `{"name":"`+s.name+`"}`, &created)
		site, err := NewSite(SiteConfig{Dir: t.TempDir(), URL: "https://127.0.0.1", Ports: []string{portOf(c.ts.URL)}, RootCAs: c.roots,
			SiteID: created.ID, EnrollToken: created.EnrollToken, Heartbeat: 200 * time.Millisecond,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s.answer) })})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { site.Run(ctx) })
	}
	waitUntil(t, 30*time.Second, func() bool {
		n := 0
		for _, v := range c.hub.Sites() {
			if v.State == SiteConnected {
				n++
			}
		}
		return n == 2
	}, "the sites never connected")
	var out struct {
		Items []struct {
			SiteName string          `json:"site_name"`
			Device   json.RawMessage `json:"device"`
		} `json:"items"`
		Unreachable []string `json:"unreachable"`
	}
	if code := c.call(t, "GET", "/api/v1/sites/devices?mac=805ec0aabb01", "", &out); code != 200 {
		t.Fatalf("search: %d", code)
	}
	if len(out.Items) != 1 || out.Items[0].SiteName != "Good" || len(out.Unreachable) != 1 {
		t.Fatalf("search: %+v", out)
	}
}
