package provision_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// countingStore counts the writes of sightings, to show what a refused
// one costs: nothing.
type countingStore struct {
	*memStore
	seen int
}

func (c *countingStore) Seen(ctx context.Context, v autoprov.Sighting) (bool, error) {
	c.mu.Lock()
	c.seen++
	c.mu.Unlock()
	return c.memStore.Seen(ctx, v)
}

func (c *countingStore) seenCalls() int { defer c.lock()(); return c.seen }

// yealinkFetch is a common-file fetch naming mac by ?mac=, from remote.
func yealinkFetch(mac, remote string) vendors.Request {
	return vendors.Request{Path: "y000000000000.boot", MAC: mac, UserAgent: "Yealink SIP-T46S 66.86.0.15", RemoteAddr: remote, Transport: "http"}
}

func unassigned(t *testing.T, c *core) int {
	t.Helper()
	_, n, err := c.Devices(context.Background(), autoprov.DeviceFilter{State: autoprov.StateUnassigned})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSightingRefusesNonDeviceMACs: a multicast, locally administered or
// all-zero MAC is refused from every edge (fetch by path, ?mac=, a
// User-Agent's MAC, plug-and-play, DHCP, a dialogue POST) and nothing is
// written; a common file is still served, without a sighting.
func TestSightingRefusesNonDeviceMACs(t *testing.T) {
	st := &countingStore{memStore: newMemStore()}
	c, _ := newCoreOn(t, st)
	ctx := context.Background()
	for _, mac := range []string{"01005e000001", "333300000001", "0215651234aa", "aabbccddeeff", "001565123456"} {
		bad := mac != "001565123456"
		// ?mac= on a common file: recorded only when good (the boot file
		// needs a MAC, so with a bad one it is a miss).
		res, err := c.Provide(ctx, yealinkFetch(mac, "192.0.2.3"))
		if bad != (err != nil) {
			t.Fatalf("common file with ?mac=%s: %v", mac, err)
		}
		if res != nil {
			res.Finish(true)
		}
		// A common file that needs no MAC is served without a sighting.
		if res, err := c.Provide(ctx, vendors.Request{Path: "y000000000096.cfg", MAC: mac, UserAgent: "Yealink SIP-T46S 66.86.0.15", RemoteAddr: "192.0.2.3"}); err != nil {
			t.Fatalf("common file y000000000096.cfg with ?mac=%s: %v", mac, err)
		} else {
			res.Finish(true)
		}
		_, err = c.Device(ctx, mac)
		if bad != errors.Is(err, autoprov.ErrNotFound) {
			t.Errorf("?mac=%s: device lookup %v (bad MAC: %v)", mac, err, bad)
		}
		if !bad {
			continue
		}
		// The per-device file by path and by User-Agent: a miss.
		if _, err := c.Provide(ctx, vendors.Request{Path: mac + ".cfg", UserAgent: "Yealink SIP-T46S 66.86.0.15 " + vendors.ColonMAC(mac), RemoteAddr: "192.0.2.3"}); !errors.Is(err, autoprov.ErrNotFound) {
			t.Errorf("per-device file of %s: %v, want not found", mac, err)
		}
		// Plug-and-play and DHCP.
		if _, err := c.Discovered(ctx, vendors.Request{MAC: mac, UserAgent: "Yealink SIP-T46S 66.86.0.15", RemoteAddr: "192.0.2.3", Transport: "sip"}); !errors.Is(err, autoprov.ErrNotFound) {
			t.Errorf("plug-and-play %s: %v, want not found", mac, err)
		}
		if created, err := c.Sniffed(ctx, dhcp(mac, "yealink")); created || !errors.Is(err, autoprov.ErrNotFound) {
			t.Errorf("dhcp %s: %v, %v, want not found", mac, created, err)
		}
	}
	if n := st.seenCalls(); n != 2 {
		t.Errorf("%d sightings written, want 2 (both fetches of the good MAC)", n)
	}
	s, err := c.InboxStats(ctx)
	if err != nil || s.RefusedMAC != 4*5 || s.Unassigned != 1 {
		t.Errorf("stats %+v, %v; want 20 refused MACs, 1 unassigned", s, err)
	}
}

// TestUserAgentCapped: a sighting stores at most 512 bytes of User-Agent,
// cut at a UTF-8 boundary.
func TestUserAgentCapped(t *testing.T) {
	c, _ := newCore(t)
	ctx := context.Background()
	ua := "Yealink SIP-T46S 66.86.0.15 " + strings.Repeat("ä", 60000) // 28 + 120,000 bytes
	if res, err := c.Provide(ctx, vendors.Request{Path: "y000000000000.boot", MAC: "001565123456", UserAgent: ua, RemoteAddr: "192.0.2.3"}); err != nil {
		t.Fatal(err)
	} else {
		res.Finish(true)
	}
	d, err := c.Device(ctx, "001565123456")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.UserAgent) > provision.MaxUserAgent || len(d.UserAgent) < provision.MaxUserAgent-3 || !utf8.ValidString(d.UserAgent) || !strings.HasPrefix(ua, d.UserAgent) {
		t.Errorf("stored user agent: %d bytes, valid UTF-8 %v", len(d.UserAgent), utf8.ValidString(d.UserAgent))
	}
}

// TestInboxRateLimitedPerSource: one source adds at most its burst of new
// phones at once, then one per refill; another source is not affected;
// a known phone from the flooding source is still recorded and served;
// a refused sighting writes nothing.
func TestInboxRateLimitedPerSource(t *testing.T) {
	st := &countingStore{memStore: newMemStore()}
	c, clk := newCoreOn(t, st)
	ctx := context.Background()
	for i := range 100 {
		res, err := c.Provide(ctx, yealinkFetch(fmt.Sprintf("0015650000%02x", i), "192.0.2.66"))
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		res.Finish(true)
	}
	if n := unassigned(t, c); n != provision.DefaultInboxBurst {
		t.Errorf("%d unassigned after 100 new MACs from one source, want the burst %d", n, provision.DefaultInboxBurst)
	}
	if n := st.seenCalls(); n != provision.DefaultInboxBurst {
		t.Errorf("%d sightings written, want %d", n, provision.DefaultInboxBurst)
	}
	// Another source still gets its own.
	if res, err := c.Provide(ctx, yealinkFetch("001565aa0001", "192.0.2.67")); err != nil {
		t.Fatal(err)
	} else {
		res.Finish(true)
	}
	if _, err := c.Device(ctx, "001565aa0001"); err != nil {
		t.Errorf("a new phone from another source: %v", err)
	}
	// A known phone from the flooding source is recorded.
	if res, err := c.Provide(ctx, vendors.Request{Path: "y000000000000.boot", MAC: "001565000000", UserAgent: "Yealink SIP-T46S 66.86.0.99", RemoteAddr: "192.0.2.66"}); err != nil {
		t.Fatal(err)
	} else {
		res.Finish(true)
	}
	if d, _ := c.Device(ctx, "001565000000"); d.Firmware != "66.86.0.99" {
		t.Errorf("known phone's sighting dropped: firmware %q", d.Firmware)
	}
	// After six seconds, the source may add one more.
	clk.Add(6 * time.Second)
	for _, mac := range []string{"001565bb0001", "001565bb0002"} {
		if res, err := c.Provide(ctx, yealinkFetch(mac, "192.0.2.66")); err == nil {
			res.Finish(true)
		}
	}
	if n := unassigned(t, c); n != provision.DefaultInboxBurst+2 {
		t.Errorf("%d unassigned after the refill, want %d", n, provision.DefaultInboxBurst+2)
	}
	s, _ := c.InboxStats(ctx)
	if s.DroppedRateLimited != 80+1 || s.DroppedFull != 0 {
		t.Errorf("stats %+v, want 81 dropped by the rate", s)
	}
}

// TestInboxCap: the inbox stops growing at inbox_cap (sources spread so
// the rate does not stop them first); adopting phones makes room once the
// count is refreshed; a known phone is never dropped.
func TestInboxCap(t *testing.T) {
	c, clk := newCore(t)
	ctx := context.Background()
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{InboxCap: ptr(30)}, "test"); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		res, err := c.Provide(ctx, yealinkFetch(fmt.Sprintf("0015650001%02x", i), fmt.Sprintf("192.0.2.%d", i)))
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		res.Finish(true)
	}
	if n := unassigned(t, c); n != 30 {
		t.Errorf("%d unassigned, want the cap 30", n)
	}
	s, _ := c.InboxStats(ctx)
	if s.DroppedFull != 70 || s.Cap != 30 || s.Unassigned != 30 {
		t.Errorf("stats %+v, want 70 dropped, cap 30", s)
	}
	// A per-device file of a phone the full inbox refused: a miss.
	if _, err := c.Provide(ctx, vendors.Request{Path: "001565ffffff.cfg", UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:ff:ff:ff", RemoteAddr: "192.0.2.200"}); !errors.Is(err, autoprov.ErrNotFound) {
		t.Errorf("per-device file of a refused phone: %v", err)
	}
	// Adopt ten: after the refresh there is room for ten more.
	for i := range 10 {
		if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(fmt.Sprintf("0015650001%02x", i)), Model: ptr("T46S")}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(11 * time.Second)
	for i := range 20 {
		if res, err := c.Provide(ctx, yealinkFetch(fmt.Sprintf("0015650002%02x", i), fmt.Sprintf("198.51.100.%d", i))); err == nil {
			res.Finish(true)
		}
	}
	if n := unassigned(t, c); n != 30 {
		t.Errorf("%d unassigned after adopting ten and 20 new, want 30", n)
	}
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{InboxCap: ptr(0)}, "test"); err == nil {
		t.Error("inbox_cap 0 accepted")
	}
}

// TestForgedSightingLeavesAdoptedAlone (found 8): a common-file fetch,
// a plug-and-play SUBSCRIBE or a DHCP request naming an adopted phone's
// MAC with a forged User-Agent does not change its firmware, User-Agent,
// IP or last seen; the fetch of its own per-device file does.
func TestForgedSightingLeavesAdoptedAlone(t *testing.T) {
	c, clk := newCore(t)
	ctx := context.Background()
	mustAccount(t, c, "201", "Alice")
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	body, _ := fetch(t, c, "805ec0aabb01.cfg", yua, true) // the phone itself
	before, _ := c.Device(ctx, "805ec0aabb01")
	if before.Firmware != "96.86.0.100" || before.RemoteIP != "192.0.2.9" || before.LastSeen == nil {
		t.Fatalf("own fetch not recorded: %+v", before)
	}
	clk.Add(time.Minute)
	forged := "Yealink SIP-T54W 6.6.6.6 80:5e:c0:aa:bb:01"
	for _, req := range []vendors.Request{
		{Path: "y000000000000.boot", UserAgent: forged, RemoteAddr: "203.0.113.66", Transport: "http"},
		{Path: "y000000000000.boot", MAC: "805ec0aabb01", UserAgent: forged, RemoteAddr: "203.0.113.66", Transport: "http"},
		{Path: "y000000000096.cfg", UserAgent: forged, RemoteAddr: "203.0.113.66", Transport: "tftp"},
	} {
		res, err := c.Provide(ctx, req)
		if err != nil {
			t.Fatalf("common file %+v: %v", req, err)
		}
		res.Finish(true)
	}
	if _, err := c.Discovered(ctx, vendors.Request{MAC: "805ec0aabb01", UserAgent: forged, RemoteAddr: "203.0.113.66", Transport: "sip"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sniffed(ctx, vendors.Request{MAC: "805ec0aabb01", VendorClass: "yealink", RemoteAddr: "203.0.113.66", Transport: "dhcp"}); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Device(ctx, "805ec0aabb01")
	if after.Firmware != before.Firmware || after.UserAgent != before.UserAgent || after.RemoteIP != before.RemoteIP ||
		!after.LastSeen.Equal(*before.LastSeen) || after.LastFile != before.LastFile {
		t.Errorf("forged sightings changed the adopted phone:\nbefore %+v\nafter  %+v", before, after)
	}
	// Its own per-device file updates it (with the credential its
	// complete secrets transfer gave it).
	fetchAs(t, c, "805ec0aabb01.cfg", "Yealink SIP-T54W 96.86.0.120 80:5e:c0:aa:bb:01", "805ec0aabb01", credentialIn(t, body), true)
	if d, _ := c.Device(ctx, "805ec0aabb01"); d.Firmware != "96.86.0.120" || !d.LastSeen.After(*before.LastSeen) {
		t.Errorf("own per-device fetch not recorded: %+v", d)
	}
}

// hookedStore runs a hook before each write of a sighting, to act while
// an admitted sighting's write is in flight.
type hookedStore struct {
	*memStore
	beforeSeen func(v autoprov.Sighting)
}

func (h *hookedStore) Seen(ctx context.Context, v autoprov.Sighting) (bool, error) {
	h.beforeSeen(v)
	return h.memStore.Seen(ctx, v)
}

// TestInboxCapHoldsAcrossRefresh: the count is read from the store again
// while an admitted sighting's write is in flight; the place that
// sighting took stays taken, so a second new MAC is refused at cap 1.
func TestInboxCapHoldsAcrossRefresh(t *testing.T) {
	st := &hookedStore{memStore: newMemStore()}
	c, clk := newCoreOn(t, st)
	ctx := context.Background()
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{InboxCap: ptr(1)}, "test"); err != nil {
		t.Fatal(err)
	}
	nested := false
	st.beforeSeen = func(v autoprov.Sighting) {
		if nested {
			return
		}
		nested = true
		// The first sighting is admitted, its write not done yet: the
		// cached count expires and another new MAC comes in.
		clk.Add(11 * time.Second)
		if res, err := c.Provide(ctx, yealinkFetch("001565000b02", "192.0.2.2")); err == nil {
			res.Finish(true)
		}
	}
	res, err := c.Provide(ctx, yealinkFetch("001565000b01", "192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
	if n := unassigned(t, c); n != 1 {
		t.Errorf("%d unassigned, want the cap 1", n)
	}
	if s, _ := c.InboxStats(ctx); s.DroppedFull != 1 || s.Unassigned != 1 {
		t.Errorf("stats %+v, want 1 dropped as full, 1 unassigned", s)
	}
	// The next refresh counts the store: still full.
	clk.Add(11 * time.Second)
	if s, _ := c.InboxStats(ctx); s.Unassigned != 1 || s.Cap != 1 {
		t.Errorf("stats after a refresh %+v, want 1 unassigned", s)
	}
}

// TestInboxCapConcurrent: many new MACs at once, while the count keeps
// being read again from the store (the clock jumps past the refresh at
// every write), never take the inbox past small caps.
func TestInboxCapConcurrent(t *testing.T) {
	for capN := 1; capN <= 5; capN++ {
		for round := range 10 {
			st := &hookedStore{memStore: newMemStore()}
			c, clk := newCoreOn(t, st)
			ctx := context.Background()
			if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{InboxCap: ptr(capN)}, "test"); err != nil {
				t.Fatal(err)
			}
			st.beforeSeen = func(autoprov.Sighting) {
				clk.Add(11 * time.Second)
				runtime.Gosched()
			}
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Go(func() {
					// Two requests per MAC: one of them finds it created by the other.
					if res, err := c.Provide(ctx, yealinkFetch(fmt.Sprintf("0015650c%02x%02x", round, i/2), fmt.Sprintf("192.0.2.%d", i))); err == nil {
						res.Finish(true)
					}
				})
			}
			wg.Wait()
			if n := unassigned(t, c); n > capN || n == 0 {
				t.Fatalf("cap %d, round %d: %d unassigned, want at most the cap (and some)", capN, round, n)
			}
		}
	}
}
