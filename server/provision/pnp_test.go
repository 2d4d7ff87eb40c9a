package provision_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/autoprov/autoprov"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// sip is what server/sippnp hands over for a SUBSCRIBE.
func sip(mac, ua string) vendors.Request {
	return vendors.Request{MAC: mac, UserAgent: ua, RemoteAddr: "192.0.2.8", Transport: "sip"}
}

// TestDiscoveredURL: a plug-and-play phone gets the URL its driver asks
// for, and lands in the inbox.
func TestDiscoveredURL(t *testing.T) {
	core, _ := newCore(t)
	const base = "http://prov.example.com/prov/"
	for _, tc := range []struct{ mac, ua, want string }{
		{"001565000001", "Yealink W52P 25.81.0.10", base},
		{"000413000002", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413000002)", base + "{mac}.xml"},
		{"000413000003", "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413000003)", base + "{mac}.xml"}, // not a supported model: the vendor decides
		{"000413e50004", "Gigaset P820 IP PRO/10.1.33.33;000413E50004", base + "{mac}.xml"},
		{"7c2f80000005", "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80000005", base},
		{"3c22fb000006", "", base}, // no vendor recognised: the base URL, and still the inbox
	} {
		got, err := core.Discovered(context.Background(), sip(tc.mac, tc.ua))
		if err != nil || got != tc.want {
			t.Errorf("%s %q: %q, %v; want %q", tc.mac, tc.ua, got, err, tc.want)
		}
		if d, err := core.Device(context.Background(), tc.mac); err != nil || d.State != autoprov.StateUnassigned || d.LastFile != "sip-pnp" {
			t.Errorf("%s not in the inbox: %+v, %v", tc.mac, d, err)
		}
	}
}

// TestDiscoveredIdentifies: the core identifies what the SUBSCRIBE shapes
// of sip-pnp.md §2 say (the edge only passes MAC and User-Agent on), takes
// the MAC from the User-Agent when the headers had none, prefers the
// headers' MAC when both name one, and refuses a SUBSCRIBE without any.
func TestDiscoveredIdentifies(t *testing.T) {
	core, _ := newCore(t)
	const base = "http://prov.example.com/prov/"
	for _, tc := range []struct {
		name, mac, ua                    string
		wantMAC, vendor, model, firmware string
		url                              string
	}{
		{"yealink W52P (§2.1)", "001565f4f9e1", "Yealink W52P 25.81.0.10",
			"001565f4f9e1", "yealink", "W52P", "25.81.0.10", base},
		{"snom desk without a UA (§2.2): the OUI", "000413a1b2c3", "",
			"000413a1b2c3", "snom", "", "", base + "{mac}.xml"},
		{"snom M700 (§2.3)", "000413b4c5d6", "snomM700/530 (MAC=000413B4C5D6; SER=1234; HW=3)",
			"000413b4c5d6", "snom", "M700", "", base + "{mac}.xml"},
		{"gigaset maxwell (§2.4)", "7c2f8030d21e", "Gigaset Maxwell 3/2.11.6",
			"7c2f8030d21e", "gigaset", "Maxwell 3", "2.11.6", base},
		{"gigaset N870 (§2.4)", "7c2f80e0d8e4", "Gigaset N870 IP PRO/83.V2.11.0+build.a546b6a;7C2F80E0D8E4",
			"7c2f80e0d8e4", "gigaset", "N870", "83.V2.11.0", base},
		{"MAC in the User-Agent only", "", "snomM700/530 (MAC=000413B4C5D7; SER=1234; HW=3)",
			"000413b4c5d7", "snom", "M700", "", base + "{mac}.xml"},
		{"two MACs: the headers' wins", "000413b4c5d8", "snomM700/530 (MAC=000413B4C5D9; SER=1234; HW=3)",
			"000413b4c5d8", "snom", "M700", "", base + "{mac}.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, err := core.Discovered(context.Background(), sip(tc.mac, tc.ua))
			if err != nil || url != tc.url {
				t.Fatalf("Discovered: %q, %v; want %q", url, err, tc.url)
			}
			d, err := core.Device(context.Background(), tc.wantMAC)
			if err != nil {
				t.Fatalf("not in the inventory: %v", err)
			}
			if d.Vendor != tc.vendor || d.Model != tc.model || d.Firmware != tc.firmware || d.UserAgent != tc.ua ||
				d.RemoteIP != "192.0.2.8" || d.LastFile != "sip-pnp" || d.State != autoprov.StateUnassigned {
				t.Errorf("device %+v; want %s/%s firmware %q", d, tc.vendor, tc.model, tc.firmware)
			}
		})
	}
	if _, err := core.Device(context.Background(), "000413b4c5d9"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Errorf("the User-Agent's second MAC was recorded: %v", err)
	}

	// No MAC anywhere (AudioCodes, §2.5): not found, nothing recorded.
	_, before, _ := core.Devices(context.Background(), autoprov.DeviceFilter{})
	if _, err := core.Discovered(context.Background(), sip("", "AUDC-IPPhone/2.2.8.61")); !errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("a SUBSCRIBE without a MAC: %v, want ErrNotFound", err)
	}
	if _, err := core.Discovered(context.Background(), sip("not a mac", "")); err == nil || errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("a bad MAC: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := core.Discovered(ctx, sip("001565f4f9ee", "")); !errors.Is(err, context.Canceled) {
		t.Errorf("with an ended context: %v", err)
	}
	if _, after, _ := core.Devices(context.Background(), autoprov.DeviceFilter{}); after != before {
		t.Errorf("%d devices after refused SUBSCRIBEs, %d before", after, before)
	}

	// The inventory knows better than a guess from the SUBSCRIBE: an
	// assigned Yealink with a MAC in Snom's range gets Yealink's URL.
	mac, vendor, model := "000413aaaa01", "yealink", "T54W"
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model}, "test"); err != nil {
		t.Fatal(err)
	}
	if url, err := core.Discovered(context.Background(), sip(mac, "")); err != nil || url != base {
		t.Errorf("assigned yealink: %q, %v; want %q", url, err, base)
	}
}

// TestDiscoveredAppliedAnswersAsUnknown: a SUBSCRIBE proves nothing, so
// one naming an assigned device whose credential is applied gets the URL
// a MAC the inventory does not know would (the guess from the SUBSCRIBE),
// never the device's vendor's: an assigned Yealink in Snom's range and an
// unknown MAC there both get Snom's URL, and the device's report is not
// touched.
func TestDiscoveredAppliedAnswersAsUnknown(t *testing.T) {
	m := newMemStore()
	core, _ := newCoreOn(t, m)
	ctx := context.Background()
	const base = "http://prov.example.com/prov/"
	mac, vendor, model := "000413aaaa01", "yealink", "T54W"
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model}, "test"); err != nil {
		t.Fatal(err)
	}
	if url, err := core.Discovered(ctx, sip(mac, "")); err != nil || url != base {
		t.Fatalf("assigned yealink, credential none: %q, %v; want %q", url, err, base)
	}
	m.mu.Lock()
	d := m.devices[mac]
	d.Credential = autoprov.Credential{State: autoprov.CredentialApplied, Password: "a-provisioning-password"}
	m.devices[mac] = d
	m.mu.Unlock()
	for i, ua := range []string{"", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413aaaa01)", "Yealink SIP-T54W 96.86.0.100"} {
		known, err := core.Discovered(ctx, sip(mac, ua))
		if err != nil {
			t.Fatal(err)
		}
		unknown, err := core.Discovered(ctx, sip(fmt.Sprintf("000413bbbb%02x", i), ua)) // never seen before
		if err != nil {
			t.Fatal(err)
		}
		if known != unknown {
			t.Errorf("ua %q: applied device %q, unknown MAC %q", ua, known, unknown)
		}
	}
	if d, _ := core.Device(ctx, mac); d.LastFile == pnpFileName || d.UserAgent != "" {
		t.Errorf("applied device's report touched by a SUBSCRIBE: %+v", d)
	}
}

const pnpFileName = "sip-pnp"
