package httpd_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/looptest"
)

// randomDeviceMAC returns a random unicast, globally administered MAC.
func randomDeviceMAC() string {
	b := make([]byte, 6)
	rand.Read(b)
	b[0] &^= 0x03
	if b[0] == 0 && b[1] == 0 && b[2] == 0 {
		b[0] = 0x04
	}
	return fmt.Sprintf("%x", b)
}

// inboxStats is GET /api/v1/inbox/stats.
type inboxStats struct {
	Unassigned int `json:"unassigned"`
	Cap        int `json:"cap"`
	Dropped    struct {
		RateLimited uint64 `json:"rate_limited"`
		Full        uint64 `json:"full"`
	} `json:"dropped"`
	RefusedMAC uint64 `json:"refused_mac"`
}

// TestSpoofedSightingsFlood (issue 5, acceptance): 2,000 sightings of
// random valid MACs by ?mac=, half from one loopback source and half
// from 100 others, keep the inbox at most at its cap (which they reach:
// the one source past its burst is rate-limited, the others fill the
// inbox); a real phone's fetch in the middle of the flood is answered
// with its file; the API counts what was dropped. (A flood of tens of
// thousands, and how fast the real phone is answered during it, is
// bench/flood_test.go's: under -race on a loaded machine this test
// handles a few sightings a second.)
func TestSpoofedSightingsFlood(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	const capN = 100
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"inbox_cap": capN}, nil)
	ts := e.serve()

	const total, workers = 2000, 8
	var next atomic.Int64
	var answered, failed atomic.Int64
	var wg sync.WaitGroup
	// A bound against a hung server, not a speed target.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	one := looptest.HTTPClient("127.0.0.1", true)
	others := make([]*http.Client, 100)
	for i := range others {
		others[i] = looptest.HTTPClient(fmt.Sprintf("127.0.1.%d", i), true)
	}
	began := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total || ctx.Err() != nil {
					return
				}
				c := one
				if i%2 == 0 { // the other half from 127.0.1.0..99
					c = others[(i/2)%100]
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/prov/y000000000000.boot?mac="+randomDeviceMAC(), nil)
				req.Header.Set("User-Agent", "Yealink SIP-T46S 66.86.0.15 "+strings.Repeat("x", 2000))
				resp, err := c.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered.Add(1)
			}
		}()
	}
	// The real phone, in the middle of it.
	for next.Load() < total/2 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	phone := looptest.HTTPClient("127.0.0.2", true)
	req, _ := http.NewRequest("GET", ts.URL+"/prov/"+devMAC+".cfg", nil)
	req.Header.Set("User-Agent", yealinkUA)
	start := time.Now()
	var resp *http.Response
	var body []byte
	for {
		var err error
		if resp, err = phone.Do(req); err != nil {
			t.Fatalf("real phone during the flood: %v", err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || ctx.Err() != nil {
			break
		}
		// The server had no time for it (a loaded machine): a phone
		// comes back (after Retry-After; sooner here).
		t.Logf("real phone told 503 during the flood; fetching again")
	}
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "account.1.user_name = 201") {
		t.Errorf("real phone during the flood: status %d:\n%s", resp.StatusCode, body)
	}
	t.Logf("real phone's fetch during the flood took %v (sent at sighting %d)", took, next.Load())
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d flood requests failed (%d answered)", failed.Load(), answered.Load())
	}

	rec := e.api("GET", "/api/v1/devices?state=unassigned&limit=5", nil)
	unassigned, _ := strconv.Atoi(rec.Header().Get("X-Total-Count"))
	if unassigned > capN || unassigned < capN/2 {
		t.Errorf("%d unassigned after the flood, want at most the cap %d (and most of it)", unassigned, capN)
	}
	var st inboxStats
	e.must(http.StatusOK, "GET", "/api/v1/inbox/stats", nil, &st)
	if st.Cap != capN || st.Dropped.RateLimited == 0 || st.Dropped.Full == 0 ||
		int(st.Dropped.RateLimited+st.Dropped.Full)+unassigned != total {
		t.Errorf("inbox stats %+v with %d unassigned: want every one of %d sightings either stored or counted", st, unassigned, total)
	}
	if !strings.Contains(e.log.String(), "new phone not recorded") {
		t.Error("the drops were not logged")
	}
	// Two reasons (rate, full), each logged at most once a minute.
	if n, most := strings.Count(e.log.String(), "new phone not recorded"), 2*(int(time.Since(began)/time.Minute)+1); n > most {
		t.Errorf("drops logged %d times in %v, want at most once a minute per reason (%d)", n, time.Since(began), most)
	}
	// Stored User-Agents are capped.
	var page struct {
		Items []struct {
			UserAgent string `json:"user_agent"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Items) == 0 {
		t.Fatalf("inbox page: %v: %s", err, rec.Body)
	}
	for _, d := range page.Items {
		if len(d.UserAgent) > 512 {
			t.Errorf("stored user agent of %d bytes", len(d.UserAgent))
		}
	}
}

// TestRefusedMACsOverHTTP: a multicast or locally administered MAC by
// ?mac= or in the path is not recorded, and the API counts it.
func TestRefusedMACsOverHTTP(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	for _, path := range []string{
		"/prov/y000000000000.boot?mac=01005e000001",
		"/prov/y000000000000.boot?mac=02:15:65:12:34:56",
		"/prov/0215651234aa.cfg",
		"/prov/y000000000096.cfg?mac=333300000001",
	} {
		e.phone("GET", path, "Yealink SIP-T46S 66.86.0.15")
	}
	for _, mac := range []string{"01005e000001", "021565123456", "0215651234aa", "333300000001"} {
		if rec := e.api("GET", "/api/v1/devices/"+mac, nil); rec.Code != http.StatusNotFound {
			t.Errorf("device %s: status %d, want 404 (not recorded)", mac, rec.Code)
		}
	}
	var st inboxStats
	e.must(http.StatusOK, "GET", "/api/v1/inbox/stats", nil, &st)
	if st.RefusedMAC != 4 || st.Unassigned != 0 {
		t.Errorf("stats %+v, want 4 refused MACs", st)
	}
	if d := e.device(devMAC); d.State != autoprov.StateAssigned {
		t.Errorf("%+v", d)
	}
}
