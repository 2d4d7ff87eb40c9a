package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

const phoneUA = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"

// provPass finds the provisioning password in the phone's file.
var provPass = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)`)

// server starts the HTTP edge over the real core and a SQLite store in a
// temporary directory, with one adopted phone, on a loopback port.
func server(b *testing.B) (string, *provision.Phones) {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "autoprov.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	reg, err := all.Registry("")
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log}, st)
	ctx := context.Background()
	p := func(s string) *string { return &s }
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: p("pbx.example.com")}, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: p("201")}, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: p("805ec0aabb01"), Model: p("T54W"), Accounts: &[]string{"201"}}, "bench"); err != nil {
		b.Fatal(err)
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Inbox: phones, Log: log, AdminToken: "bench-token-0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	return ts.URL, phones
}

func randomDeviceMAC() string {
	m := make([]byte, 6)
	rand.Read(m)
	m[0] = m[0]&^0x03 | 0x04
	return fmt.Sprintf("%x", m)
}

// flood sends spoofed sightings (?mac= of random valid MACs, half from
// 127.0.0.1, half from 100 other loopback sources) with workers
// goroutines until stop is closed; it returns how many were answered.
func flood(base string, workers int, stop <-chan struct{}) (*sync.WaitGroup, *atomic.Int64) {
	one := looptest.HTTPClient("127.0.0.1", true)
	others := make([]*http.Client, 100)
	for i := range others {
		others[i] = looptest.HTTPClient(fmt.Sprintf("127.0.1.%d", i), true)
	}
	var wg sync.WaitGroup
	var sent atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := sent.Add(1)
				c := one
				if i%2 == 0 {
					c = others[(i/2)%100]
				}
				req, _ := http.NewRequest("GET", base+"/prov/y000000000000.boot?mac="+randomDeviceMAC(), nil)
				req.Header.Set("User-Agent", "Yealink SIP-T46S 66.86.0.15")
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	return &wg, &sent
}

// fetchLatencies fetches the adopted phone's own file b.N times from
// 127.0.0.2 and reports the latency percentiles. Like the phone, it keeps
// the provisioning credential its first fetch (the secrets) carried and,
// once that transfer is complete, answers the Digest challenge with it;
// then it counts on that nonce (nc 2, 3...) as Digest clients do, so a
// fetch is one request unless the nonce went stale.
func fetchLatencies(b *testing.B, base string) {
	phone := looptest.HTTPClient("127.0.0.2", true)
	const path = "/prov/805ec0aabb01.cfg"
	var pass, challenge string
	var nc uint32
	get := func() (int, []byte, http.Header) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("User-Agent", phoneUA)
		if challenge != "" {
			nc++
			a, err := httpauth.AnswerCount(challenge, "805ec0aabb01", pass, "GET", path, nc)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", a)
		}
		resp, err := phone.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, body, resp.Header
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		code, body, h := get()
		if code == http.StatusUnauthorized && pass != "" {
			challenge, nc = h.Get("WWW-Authenticate"), 0
			code, body, _ = get()
		}
		if code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
		lat = append(lat, time.Since(start))
		if m := provPass.FindSubmatch(body); m != nil {
			pass = string(m[1])
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
}

// BenchmarkPhoneFetch is the real phone's fetch of its own file on an
// idle server: the baseline.
func BenchmarkPhoneFetch(b *testing.B) {
	base, _ := server(b)
	fetchLatencies(b, base)
}

// BenchmarkPhoneFetchDuringFlood is the same fetch while 8 goroutines
// send spoofed sightings as fast as the server answers them.
func BenchmarkPhoneFetchDuringFlood(b *testing.B) {
	base, phones := server(b)
	stop := make(chan struct{})
	wg, sent := flood(base, 8, stop)
	for sent.Load() < 1000 { // the flood is under way, the inbox filling
		time.Sleep(time.Millisecond)
	}
	fetchLatencies(b, base)
	close(stop)
	wg.Wait()
	st, _ := phones.InboxStats(context.Background())
	b.ReportMetric(float64(sent.Load()), "spoofed")
	b.ReportMetric(float64(st.Unassigned), "inbox")
}
