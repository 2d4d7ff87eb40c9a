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

// The adopted phone of the flood tests: a Yealink T54W with account 201.
const (
	adoptedMAC = "805ec0aabb01"
	adoptedUA  = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"
)

// floodCore is the real core over a real SQLite store, with inbox_cap
// capN and the adopted phone; o may set the inbox's rates.
func floodCore(t *testing.T, capN int, o provision.Options) (*provision.Phones, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o.Registry, o.PublicURL = registry(t), "http://prov.example.com/"
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	phones, inv := provision.New(o, st)
	ctx := context.Background()
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com"), InboxCap: ptr(capN)}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201")}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(adoptedMAC), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	return phones, st
}

// naiveFlooder is the one Ethernet source of a flooder that varies only
// chaddr.
const naiveFlooder = "00:16:3e:0f:10:0d"

// spoofed returns the i-th frame of a DHCP flood: a DISCOVER (every
// third a REQUEST with a claimed address) with option 60 "yealink" and a
// random unicast, globally administered chaddr, in a Yealink OUI but one
// in ten (no driver's: a "laptop"). The first naive of them and every
// other one after come from naiveFlooder; the rest from their chaddr, as a
// forger who varies the Ethernet source sends them. Every 1000th has a
// multicast or locally administered chaddr, which must never be recorded.
func spoofed(t testing.TB, rng *rand.Rand, i, naive int) client {
	mac := fmt.Sprintf("80:5e:c0:%02x:%02x:%02x", rng.IntN(256), rng.IntN(256), rng.IntN(256))
	if i%10 == 9 {
		mac = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", rng.IntN(256)&^3, rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256))
	}
	if i%1000 == 999 {
		mac = []string{"01:00:5e:00:00:01", "82:5e:c0:00:00:01"}[i/1000%2]
	}
	c := client{mac: mac, msgType: layers.DHCPMsgTypeDiscover, vendorClass: "yealink"}
	if i%3 == 2 {
		c.msgType, c.requestIP = layers.DHCPMsgTypeRequest, fmt.Sprintf("192.0.2.%d", rng.IntN(250)+1)
	}
	if i < naive || i%2 == 0 {
		c.src = naiveFlooder
	}
	return c
}

// notRecorded fails the test if the flood's multicast or locally
// administered chaddrs were recorded.
func notRecorded(t *testing.T, st *store.Store) {
	t.Helper()
	for _, mac := range []string{"01005e000001", "825ec0000001"} {
		if _, err := st.Device(context.Background(), mac); err == nil {
			t.Errorf("%s recorded", mac)
		}
	}
}

// TestSpoofedDHCPFlood (issue 5, acceptance, in process; see
// TestSpoofedDHCPFloodNetns for the same over a real capture): 10,000
// spoofed DHCP requests through the sniffer's handle and the real core
// and store. After the first 1,000 from one Ethernet source, a real
// phone's DISCOVER (from its own address) is still recorded: sources do
// not share a bucket. Then half of the flood varies the Ethernet source
// too: the inbox stops at its cap; a real phone's fetch in the middle is
// answered with its secrets; multicast and locally administered hardware
// addresses are never recorded.
func TestSpoofedDHCPFlood(t *testing.T) {
	const capN, total, naive = 200, 10000, 1000
	// The DHCP total is opened up here to reach the cap; its own test is
	// provision's TestSniffedDHCPTotal.
	phones, st := floodCore(t, capN, provision.Options{InboxDHCPBurst: total})
	ctx := context.Background()
	s := New(Config{Recorder: phones})
	d := newDecoder()
	rng := rand.New(rand.NewPCG(5, 8))
	outcomes := map[outcome]int{}
	for i := range total {
		outcomes[s.handle(ctx, d, spoofed(t, rng, i, naive).frame(t), "test0")]++
		switch i {
		case naive:
			real := client{mac: "80:5e:c0:aa:bb:55", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "yealink"}
			if o := s.handle(ctx, d, real.frame(t), "test0"); o != recorded {
				t.Errorf("a real phone's DISCOVER after %d from one source: outcome %d", naive, o)
			}
			if _, err := st.Device(ctx, "805ec0aabb55"); err != nil {
				t.Errorf("a real phone's DISCOVER after %d from one source was not recorded: %v", naive, err)
			}
		case total / 2: // the adopted phone fetches its file in the middle of it
			res, err := phones.Provide(ctx, vendors.Request{Path: adoptedMAC + ".cfg", UserAgent: adoptedUA, RemoteAddr: "192.0.2.251", Transport: "http"})
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
	notRecorded(t, st)
	stats, _ := phones.InboxStats(ctx)
	t.Logf("outcomes %v; %d unassigned; stats %+v", outcomes, n, stats)
	if stats.DroppedFull == 0 || stats.DroppedRateLimited < naive-provision.DefaultInboxBurst {
		t.Errorf("stats %+v: want drops by the rate (the naive flooder's) and the cap", stats)
	}
}

func ptr[T any](v T) *T { return &v }
