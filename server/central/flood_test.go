package central

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
