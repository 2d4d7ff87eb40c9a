package provision_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// dhcp is what server/sniff hands over for a lease request.
func dhcp(mac, class string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: class, Hostname: "host-" + mac, RemoteAddr: "192.0.2.57", Transport: "dhcp"}
}

// TestSniffedIdentifies: the core identifies a DHCP client by its OUI and
// vendor class through the drivers (these are the cases of the former
// sniff.Identify, one MAC each), puts a phone in the inbox and refuses a
// laptop with ErrNotFound.
func TestSniffedIdentifies(t *testing.T) {
	core, _ := newCore(t)
	for _, tc := range []struct {
		mac, class    string
		vendor, model string
	}{
		{"805ec0aabb01", "yealink", "yealink", ""},
		{"805ec0aabb02", "", "yealink", ""},
		{"805ec0aabb04", "yealink SIP-T46S", "yealink", "T46S"}, // unverified shape (yealink.md §7)
		{"000413123456", "snomD785", "snom", "D785"},
		{"000413123457", "SNOMd785", "snom", "D785"},
		{"000413123458", "snomD999", "snom", "D999"}, // reported as is
		{"000413123459", "", "snom", ""},
		{"7c2f80010203", "Gigaset_N870_IP_PRO", "gigaset", "N870"},
		{"7c2f80010204", "N870_IP_PRO", "gigaset", "N870"},
		{"7c2f80010205", "N510_IP_PRO", "gigaset", "N510 IP PRO"},         // no driver model: as the User-Agent reports it
		{"7c2f80010206", "Gigaset_N720_DM_PRO", "gigaset", "N720 DM PRO"}, // idem
		// The OUI decides the vendor: a class naming another vendor's model is no model.
		{"805ec0aabb03", "snomD785", "yealink", ""},
		{"000413e51234", "snomD785", "gigaset", ""}, // a P-series range of 00:04:13
	} {
		created, err := core.Sniffed(context.Background(), dhcp(tc.mac, tc.class))
		if err != nil || !created {
			t.Errorf("Sniffed(%s, %q) = %v, %v; want a new device", tc.mac, tc.class, created, err)
			continue
		}
		d, err := core.Device(context.Background(), tc.mac)
		if err != nil || d.Vendor != tc.vendor || d.Model != tc.model || d.State != autoprov.StateUnassigned ||
			d.LastFile != "dhcp" || d.RemoteIP != "192.0.2.57" {
			t.Errorf("Sniffed(%s, %q): device %+v, %v; want %s/%s", tc.mac, tc.class, d, err, tc.vendor, tc.model)
		}
	}

	// Not phones: refused before the store is asked, nothing recorded.
	_, before, _ := core.Devices(context.Background(), autoprov.DeviceFilter{})
	for _, req := range []vendors.Request{
		dhcp("3c22fb112233", "MSFT 5.0"),
		dhcp("3c22fb112234", "snomD785"), // a laptop's MAC overrules any class
		dhcp("3c22fb112235", ""),
	} {
		if created, err := core.Sniffed(context.Background(), req); created || !errors.Is(err, vendors.ErrNotFound) {
			t.Errorf("Sniffed(%+v) = %v, %v; want ErrNotFound", req, created, err)
		}
	}
	if created, err := core.Sniffed(context.Background(), dhcp("not a mac", "")); created || err == nil || errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("a bad MAC: %v, %v", created, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := core.Sniffed(ctx, dhcp("805ec0aabbee", "")); !errors.Is(err, context.Canceled) {
		t.Errorf("with an ended context: %v", err)
	}
	if _, after, _ := core.Devices(context.Background(), autoprov.DeviceFilter{}); after != before {
		t.Errorf("%d devices after refused requests, %d before", after, before)
	}
}

// TestSniffedLeavesKnownAlone: a MAC the inventory has (adopted, or seen
// fetching) is not touched by its lease requests.
func TestSniffedLeavesKnownAlone(t *testing.T) {
	core, _ := newCore(t)
	mac, model := "805ec0aabb78", "T54W"
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Model: &model}, "test"); err != nil {
		t.Fatal(err)
	}
	res, err := core.Provide(context.Background(), vendors.Request{Path: "y000000000000.boot", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "http"})
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
	fetched, _ := core.Device(context.Background(), "805ec0aabb01")
	adopted, _ := core.Device(context.Background(), mac)
	for _, m := range []string{mac, "805ec0aabb01"} {
		if created, err := core.Sniffed(context.Background(), dhcp(m, "yealink")); created || err != nil {
			t.Errorf("Sniffed(%s) = %v, %v; want false, nil", m, created, err)
		}
	}
	if d, _ := core.Device(context.Background(), mac); d.LastFile != "" || d.LastSeen != nil || d.RemoteIP != "" || d.State != adopted.State {
		t.Errorf("a lease request changed an adopted device: %+v", d)
	}
	if d, _ := core.Device(context.Background(), "805ec0aabb01"); d.LastFile != fetched.LastFile || d.RemoteIP != "192.0.2.9" || d.Model != "T54W" {
		t.Errorf("a lease request changed a fetching phone: %+v (was %+v)", d, fetched)
	}
}

// discover is a first DHCPDISCOVER as server/sniff hands it over: no
// client address, the frame's Ethernet source in LinkSource.
func discover(mac, link string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: "yealink", LinkSource: link, Transport: "dhcp"}
}

// TestSniffedChargedToLinkSource: DISCOVERs carry no client address, so
// new phones seen by DHCP are charged to the frame's Ethernet source
// (and relay agent): a flood of new MACs from one link source stops at
// its burst, while a DISCOVER from another link source (a real phone,
// whose frame comes from its own address) is still admitted; relayed
// requests are charged to the relay and its giaddr, so two relayed
// subnets behind one router do not share a bucket either.
func TestSniffedChargedToLinkSource(t *testing.T) {
	st := &countingStore{memStore: newMemStore()}
	c, _ := newCoreOn(t, st)
	ctx := context.Background()
	const flooder = "805ec0ffff00"
	for i := range 100 {
		if _, err := c.Sniffed(ctx, discover(fmt.Sprintf("805ec000%04x", i), flooder)); err != nil {
			t.Fatalf("discover %d: %v", i, err)
		}
	}
	if n := unassigned(t, c); n != provision.DefaultInboxBurst {
		t.Errorf("%d unassigned after 100 new MACs from one link source, want its burst %d", n, provision.DefaultInboxBurst)
	}
	// A real phone, its own frame: admitted.
	if created, err := c.Sniffed(ctx, discover("805ec0aabb01", "805ec0aabb01")); err != nil || !created {
		t.Errorf("a phone's DISCOVER during another source's flood: created %v, %v", created, err)
	}
	// Relayed: one router (one link source), two relay addresses.
	const router = "00000c123456"
	for i := range 30 {
		req := discover(fmt.Sprintf("805ec001%04x", i), router)
		req.RelayAgent = "10.1.0.1"
		if _, err := c.Sniffed(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	req := discover("805ec0aabb02", router)
	req.RelayAgent = "10.2.0.1"
	if created, err := c.Sniffed(ctx, req); err != nil || !created {
		t.Errorf("a DISCOVER relayed from another subnet by the same router: created %v, %v", created, err)
	}
	want := 2*provision.DefaultInboxBurst + 2
	if n := unassigned(t, c); n != want {
		t.Errorf("%d unassigned, want %d", n, want)
	}
	s, _ := c.InboxStats(ctx)
	if s.DroppedRateLimited != 80+10 {
		t.Errorf("stats %+v, want 90 dropped by the rate", s)
	}
}

// TestSniffedDHCPTotal: a forger who varies the Ethernet source with
// every DISCOVER gets a fresh per-source bucket each time, so DHCP as a
// whole is bounded too: at most DefaultInboxDHCPBurst at once, then
// DefaultInboxDHCPPerMinute. The total is DHCP's own: a phone's fetch
// (charged to its address) is still admitted.
func TestSniffedDHCPTotal(t *testing.T) {
	st := &countingStore{memStore: newMemStore()}
	c, clk := newCoreOn(t, st)
	ctx := context.Background()
	for i := range 1000 {
		mac := fmt.Sprintf("805ec000%04x", i)
		if _, err := c.Sniffed(ctx, discover(mac, mac)); err != nil {
			t.Fatalf("discover %d: %v", i, err)
		}
	}
	if n := unassigned(t, c); n != provision.DefaultInboxDHCPBurst {
		t.Errorf("%d unassigned after 1000 DISCOVERs from 1000 link sources, want the DHCP burst %d", n, provision.DefaultInboxDHCPBurst)
	}
	if n := st.seenCalls(); n != provision.DefaultInboxDHCPBurst {
		t.Errorf("%d sightings written, want %d", n, provision.DefaultInboxDHCPBurst)
	}
	res, err := c.Provide(ctx, yealinkFetch("805ec0aabb01", "192.0.2.7"))
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
	if _, err := c.Device(ctx, "805ec0aabb01"); err != nil {
		t.Errorf("a fetch during the DHCP flood: %v", err)
	}
	// Twelve seconds later: 12 s × 300/min = 60 more.
	clk.Add(12 * time.Second)
	for i := range 100 {
		mac := fmt.Sprintf("805ec001%04x", i)
		if _, err := c.Sniffed(ctx, discover(mac, mac)); err != nil {
			t.Fatal(err)
		}
	}
	if n, want := unassigned(t, c), provision.DefaultInboxDHCPBurst+1+provision.DefaultInboxDHCPPerMinute/5; n != want {
		t.Errorf("%d unassigned after the refill, want %d", n, want)
	}
	if s, _ := c.InboxStats(ctx); s.DroppedRateLimited != 900+40 || s.DroppedFull != 0 {
		t.Errorf("stats %+v, want 940 dropped by the rate", s)
	}
}
