package httpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/phonecache"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// discard is a ResponseWriter that keeps the status and drops the body,
// reused across requests (the benchmark counts the edge's allocations,
// not a recorder's).
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) reset()                      { clear(d.h); d.code, d.n = 0, 0 }

var provPassword = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)`)

// BenchmarkPhoneHit is a steady-state GET of a file answered from memory (a
// phone cache hit, or a hot answer for the per-device file)
// (the phone cache wired as cmd/autoprov wires it, on SQLite), through the
// edge's real http.Handler, in memory: a Yealink's per-device file over
// HTTPS with its provisioning password (Basic), and the common file.
// "gin" is the same request through gin's route (the edge before the fast
// path), "fast" through Handler.
func BenchmarkPhoneHit(b *testing.B) {
	st, err := store.Open(b.TempDir() + "/a.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	reg, err := all.Registry("")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c := phonecache.New(st, phonecache.Options{})
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	sg := phonecache.NewSightings(st, phonecache.SightingOptions{})
	phones, inv := phonecache.Wire(provision.Options{Registry: reg}, st, c, sg)
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, AdminToken: token})
	if err != nil {
		b.Fatal(err)
	}
	ptr := func(s string) *string { return &s }
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com")}, "t"); err != nil {
		b.Fatal(err)
	}
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201"), Password: ptr(sipPass)}, "t"); err != nil {
		b.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(devMAC), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "t"); err != nil {
		b.Fatal(err)
	}
	newReq := func(path, auth string) *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("User-Agent", yealinkUA)
		r.TLS = &tls.ConnectionState{}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	first := httptest.NewRecorder()
	srv.Handler().ServeHTTP(first, newReq("/prov/"+devMAC+".cfg", ""))
	m := provPassword.FindSubmatch(first.Body.Bytes())
	if first.Code != http.StatusOK || m == nil {
		b.Fatalf("first fetch: %d without the provisioning password:\n%s", first.Code, first.Body)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(devMAC+":"+string(m[1])))
	files := []struct{ name, path, auth string }{
		{"device", "/prov/" + devMAC + ".cfg", basic},
		{"common", "/prov/y000000000000.cfg", ""},
	}
	for _, f := range files {
		for _, via := range []struct {
			name string
			h    http.Handler
		}{{"gin", srv.GinHandler()}, {"fast", srv.Handler()}} {
			b.Run(f.name+"/"+via.name, func(b *testing.B) {
				r := newReq(f.path, f.auth)
				w := &discard{h: http.Header{}}
				via.h.ServeHTTP(w, r) // fills the cache
				w.reset()
				via.h.ServeHTTP(w, r)
				if w.code != http.StatusOK || w.h.Get("ETag") == "" {
					b.Fatalf("%s: %d %v, want a cached 200", f.path, w.code, w.h)
				}
				misses := c.Stats().Misses
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					w.reset()
					via.h.ServeHTTP(w, r)
				}
				b.StopTimer()
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
				if m := c.Stats().Misses; m != misses {
					b.Fatalf("%d cache misses: not answered from memory", m-misses)
				}
				sg.Flush(ctx)
			})
		}
	}
	// Over loopback sockets, 8 keep-alive connections at once: the phone
	// lane (Serve) against net/http serving the same handler (the client's
	// own cost, the same in both, is in the figures).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	b.Cleanup(func() { stop(); <-served })
	ref := httptest.NewServer(srv.Handler())
	b.Cleanup(ref.Close)
	for _, via := range []struct{ name, addr string }{
		{"lane", ln.Addr().String()}, {"net-http", ref.Listener.Addr().String()},
	} {
		raw := []byte("GET /prov/y000000000000.cfg HTTP/1.1\r\nHost: prov.example.com\r\nUser-Agent: " + yealinkUA + "\r\n\r\n")
		b.Run("common/socket/"+via.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(4) // 8 connections on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", via.addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				br := bufio.NewReader(conn)
				for pb.Next() {
					if _, err := conn.Write(raw); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body) //nolint:errcheck // the status says enough
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
