package sniff

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
)

// TestSpoofedDHCPFlood (issue 5, acceptance): 10,000 spoofed DHCP
// requests from random valid Yealink MACs, through the sniffer's handle
// and the real core and store, keep the inbox at most at its cap
// (DISCOVERs share one bucket, since they carry no address; REQUESTs
// are limited per claimed address); a real phone's fetch in the middle
// is answered; multicast and locally administered hardware addresses
// are never recorded.
func TestSpoofedDHCPFlood(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	phones, inv := provision.New(provision.Options{Registry: registry(t), PublicURL: "http://prov.example.com/"}, st)
	ctx := context.Background()
	const capN = 200
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com"), InboxCap: ptr(capN)}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201")}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Recorder: phones, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d := newDecoder()
	const total = 10000
	outcomes := map[outcome]int{}
	for i := range total {
		mac := fmt.Sprintf("80:5e:c0:%02x:%02x:%02x", rand.IntN(256), rand.IntN(256), rand.IntN(256))
		c := client{mac: mac, msgType: layers.DHCPMsgTypeDiscover, vendorClass: "yealink"}
		if i%2 == 1 {
			c = client{mac: mac, msgType: layers.DHCPMsgTypeRequest, vendorClass: "yealink", ciaddr: fmt.Sprintf("192.0.2.%d", i%250+1)}
		}
		if i%1000 == 999 { // now and then a multicast or locally administered one
			c.mac = []string{"01:00:5e:00:00:01", "82:5e:c0:00:00:01"}[i/1000%2]
		}
		outcomes[s.handle(ctx, d, c.frame(t), "test0")]++
		if i == total/2 { // the real phone fetches its file in the middle of it
			res, err := phones.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01",
				RemoteAddr: "192.0.2.251", Transport: "http"})
			if err != nil {
				t.Fatalf("real phone during the flood: %v", err)
			}
			res.Finish(true)
			if !res.Secret || len(res.File.Body) == 0 {
				t.Errorf("real phone during the flood got no secrets or an empty file")
			}
		}
	}
	n, err := st.CountDevices(ctx, autoprov.DeviceFilter{State: autoprov.StateUnassigned})
	if err != nil {
		t.Fatal(err)
	}
	if n > capN || n < capN/2 {
		t.Errorf("%d unassigned after %d spoofed DHCP requests, want at most the cap %d (and most of it)", n, total, capN)
	}
	for _, mac := range []string{"01005e000001", "825ec0000001"} {
		if _, err := st.Device(ctx, mac); err == nil {
			t.Errorf("%s recorded", mac)
		}
	}
	stats, _ := phones.InboxStats(ctx)
	t.Logf("outcomes %v; %d unassigned; stats %+v", outcomes, n, stats)
	if stats.DroppedFull == 0 || stats.DroppedRateLimited == 0 {
		t.Errorf("stats %+v: want drops by the rate and the cap", stats)
	}
}

func ptr[T any](v T) *T { return &v }
