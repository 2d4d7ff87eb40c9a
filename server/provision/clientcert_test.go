package provision_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// TestClientCertVendors is the core's half of --phone-ca: the per-device
// file of a vendor in ClientCertVendors goes only to an HTTPS request
// whose verified client certificate is from that vendor's CA and names the
// device's MAC; every other request is a miss that changes nothing.
// Common files and other vendors are unaffected.
func TestClientCertVendors(t *testing.T) {
	ctx := context.Background()
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	st := newMemStore()
	p, inv := provision.New(provision.Options{Registry: reg, Now: clk.Now, PublicURL: "https://prov.example.com/", ClientCertVendors: []string{"Yealink"}}, st)
	c := &core{p, inv}
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com"), DisclosureWindowSeconds: ptr(600)}, "test"); err != nil {
		t.Fatal(err)
	}
	a := mustAccount(t, c, "201", "Alice")
	for _, in := range []autoprov.DeviceInput{
		{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}},
		{MAC: ptr("00:04:13:AA:BB:02"), Model: ptr("D785"), Accounts: &[]string{"201"}},
	} {
		if _, err := c.CreateDevice(ctx, in, "test"); err != nil {
			t.Fatal(err)
		}
	}
	const mac = "805ec0aabb01"
	req := func(transport string, certs ...vendors.ClientCert) vendors.Request {
		return vendors.Request{Path: mac + ".cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: transport, ClientCerts: certs}
	}
	for name, r := range map[string]vendors.Request{
		"https without a certificate": req("https"),
		"another MAC's certificate":   req("https", vendors.ClientCert{Vendor: "yealink", MAC: "805ec0aabb02"}),
		"another vendor's CA":         req("https", vendors.ClientCert{Vendor: "snom", MAC: mac}),
		"plain http":                  req("http", vendors.ClientCert{Vendor: "yealink", MAC: mac}),
		"tftp":                        req("tftp", vendors.ClientCert{Vendor: "yealink", MAC: mac}),
		"HEAD without a certificate":  {Path: mac + ".cfg", UserAgent: yua, Transport: "https", SecretFree: true},
	} {
		if res, err := c.Provide(ctx, r); !errors.Is(err, autoprov.ErrNotFound) {
			t.Errorf("%s: %v, %v; want a miss", name, res, err)
		}
	}
	d, err := c.Device(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if d.Disclosure.State != autoprov.DisclosureOpen || d.UserAgent != "" || d.LastSeen != nil {
		t.Fatalf("after refused requests: window %s, user agent %q, last seen %v; want open and nothing recorded", d.Disclosure.State, d.UserAgent, d.LastSeen)
	}

	// An unknown MAC refused by mTLS is refused before the inbox: nothing
	// is recorded.
	const stranger = "805ec0ccdd03"
	if _, err := c.Provide(ctx, vendors.Request{Path: stranger + ".cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "https"}); !errors.Is(err, autoprov.ErrNotFound) {
		t.Errorf("unknown MAC without a certificate: %v; want a miss", err)
	}
	if _, err := c.Device(ctx, stranger); !errors.Is(err, autoprov.ErrNotFound) {
		t.Errorf("unknown MAC refused by mTLS landed in the inbox: %v", err)
	}

	// The phone's own certificate, among others, opens its file.
	res, err := c.Provide(ctx, req("https", vendors.ClientCert{Vendor: "snom", MAC: "805ec0aabb02"}, vendors.ClientCert{Vendor: "yealink", MAC: mac}))
	if err != nil || !res.Secret || !bytes.Contains(res.File.Body, []byte(a.Password)) {
		t.Fatalf("with the phone's certificate: %v", err)
	}
	if err := res.Sending(); err != nil {
		t.Fatal(err)
	}
	res.Finish(true)

	// Common files and a vendor without a CA are served as before.
	if _, err := c.Provide(ctx, vendors.Request{Path: "y000000000096.cfg", UserAgent: yua, Transport: "http"}); err != nil {
		t.Errorf("common file over HTTP: %v", err)
	}
	if _, err := c.Provide(ctx, vendors.Request{Path: "000413aabb02.xml", Transport: "http"}); err != nil {
		t.Errorf("Snom per-device file over HTTP, Snom without a CA: %v", err)
	}
}
