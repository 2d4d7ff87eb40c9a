package provision_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

var provPass = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)`)

// TestCredentialTFTP: once the secrets transfer that issued the
// credential is complete, and once it is applied, TFTP (which cannot
// authenticate) gets the common files only, unless the admin allows TFTP
// for the device; such a phone's report changes only through a fetch
// that proves the credential.
func TestCredentialTFTP(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	first, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "http"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Sending(); err != nil {
		t.Fatal(err)
	}
	m := provPass.FindSubmatch(first.File.Body)
	if m == nil {
		t.Fatalf("the secrets carry no credential:\n%s", first.File.Body)
	}
	d, _ := core.Device(ctx, "805ec0aabb01")
	if d.Credential.State != autoprov.CredentialIssued {
		t.Fatalf("credential %q, want issued", d.Credential.State)
	}
	tftp := vendors.Request{Path: "805ec0aabb01.cfg", RemoteAddr: "192.0.2.50", Transport: "tftp"}
	if res, err := core.Provide(ctx, tftp); err != nil || res.Secret {
		t.Fatalf("TFTP while the secrets transfer is in flight: %v", err)
	}
	first.Finish(true)
	if _, err := core.Provide(ctx, tftp); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("TFTP of the per-device file once the secrets transfer is complete: %v, want not found", err)
	}
	// Applied by an HTTPS fetch with Basic.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("805ec0aabb01:"+string(m[1])))
	if _, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "https", Authorization: auth, Target: "/prov/805ec0aabb01.cfg"}); err != nil {
		t.Fatalf("HTTPS with the credential: %v", err)
	}
	if d, _ := core.Device(ctx, "805ec0aabb01"); d.Credential.State != autoprov.CredentialApplied || d.Credential.AppliedAt == nil {
		t.Fatalf("credential %+v, want applied", d.Credential)
	}
	_, err = core.Provide(ctx, tftp)
	if !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("TFTP of the per-device file once applied: %v, want not found", err)
	}
	if res, err := core.Provide(ctx, vendors.Request{Path: "y000000000089.cfg", RemoteAddr: "192.0.2.50", Transport: "tftp"}); err != nil || bytes.Contains(res.File.Body, []byte("account.1")) {
		t.Fatalf("TFTP of the common file once applied: %v", err)
	}
	if d, _ := core.Device(ctx, "805ec0aabb01"); d.RemoteIP == "192.0.2.50" {
		t.Fatal("a refused TFTP fetch updated the report")
	}
	// The admin allows TFTP for it.
	if _, err := core.UpdateDevice(ctx, "805ec0aabb01", autoprov.DeviceInput{TFTPAllowed: ptr(true)}, "admin"); err != nil {
		t.Fatal(err)
	}
	res, err := core.Provide(ctx, tftp)
	if err != nil || res.Secret || !bytes.Contains(res.File.Body, []byte("account.1.user_name")) {
		t.Fatalf("TFTP with tftp_allowed: %v", err)
	}
	if d, _ := core.Device(ctx, "805ec0aabb01"); !d.TFTPAllowed || d.Credential.State != autoprov.CredentialApplied {
		t.Fatalf("after allowing TFTP: %+v", d)
	}
	// HTTP without credentials is challenged, as is an unknown MAC.
	_, err = core.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "http"})
	var ar *provision.AuthRequiredError
	if !errors.As(err, &ar) || len(ar.Challenges) != 2 {
		t.Fatalf("HTTP without credentials: %v", err)
	}
	_, err = core.Provide(ctx, vendors.Request{Path: "805ec0ffee01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "http"})
	if !errors.As(err, &ar) || len(ar.Challenges) != 2 {
		t.Fatalf("unknown MAC: %v", err)
	}
}

// TestCredentialUnsupported: a driver that renders no credential (Gigaset
// N670) leaves the device "unsupported" and its file served as before.
func TestCredentialUnsupported(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	d, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("7C:2F:80:AA:BB:01"), Vendor: ptr("gigaset"), Model: ptr("N670"), Accounts: &[]string{"201"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Credential.State != autoprov.CredentialUnsupported {
		t.Fatalf("credential %q, want unsupported", d.Credential.State)
	}
}

// TestCredentialRequiredOnceComplete: while the secrets transfer that
// issued the credential is in flight or broke off, a request without
// credentials is served as before (the phone may not hold it); once it is
// recorded complete, such a request is challenged exactly as one naming an
// unknown MAC, touches nothing, and a SUBSCRIBE naming the device gets an
// unknown MAC's URL; the credential then makes it applied. Re-opening the
// window starts over.
func TestCredentialRequiredOnceComplete(t *testing.T) {
	ctx := context.Background()
	core, clk := newCore(t)
	mustAccount(t, core, "201", "Alice")
	const mac = "805ec0aabb01"
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(mac), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	plain := vendors.Request{Path: mac + ".cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "http"}
	tftp := vendors.Request{Path: mac + ".cfg", RemoteAddr: "192.0.2.50", Transport: "tftp"}
	served := func(what string, req vendors.Request) {
		t.Helper()
		res, err := core.Provide(ctx, req)
		if err != nil || res.Secret || !bytes.Contains(res.File.Body, []byte("account.1.user_name = 201")) {
			t.Fatalf("%s: %v, want the file without secrets", what, err)
		}
		res.Finish(true)
	}
	challenged := func(what string, req vendors.Request) {
		t.Helper()
		_, err := core.Provide(ctx, req)
		var ar *provision.AuthRequiredError
		if !errors.As(err, &ar) {
			t.Fatalf("%s: %v, want a challenge", what, err)
		}
		unknown := req
		unknown.Path, unknown.UserAgent = "805ec0ffee01.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ee:01"
		_, uerr := core.Provide(ctx, unknown)
		var uar *provision.AuthRequiredError
		if !errors.As(uerr, &uar) || len(uar.Challenges) != len(ar.Challenges) || len(ar.Challenges) == 0 {
			t.Fatalf("%s: %q; an unknown MAC: %v", what, ar.Challenges, uerr)
		}
	}

	// A transfer that broke off after its first bytes: issued, complete
	// false; requests without credentials are served, over TFTP too.
	body, secret := fetch(t, core, mac+".cfg", yua, false)
	if !secret {
		t.Fatal("the first fetch lacks the secrets")
	}
	broken := credentialIn(t, body)
	d, _ := core.Device(ctx, mac)
	if d.Credential.State != autoprov.CredentialIssued || d.Disclosure.Complete == nil || *d.Disclosure.Complete {
		t.Fatalf("after a broken transfer: credential %q, complete %v", d.Credential.State, d.Disclosure.Complete)
	}
	served("HTTP without credentials after a broken transfer", plain)
	served("TFTP after a broken transfer", tftp)

	// The admin re-opens the window: none; the next transfer issues a new one.
	if _, err := core.OpenDisclosure(ctx, mac, "admin"); err != nil {
		t.Fatal(err)
	}
	if d, _ := core.Device(ctx, mac); d.Credential.State != autoprov.CredentialNone {
		t.Fatalf("after re-open: credential %q, want none", d.Credential.State)
	}
	first, err := core.Provide(ctx, plain)
	if err != nil || !first.Secret {
		t.Fatalf("fetch after re-open: %v", err)
	}
	if err := first.Sending(); err != nil {
		t.Fatal(err)
	}
	pass := credentialIn(t, first.File.Body)
	if pass == broken {
		t.Fatal("the re-opened window's secrets carry the old credential")
	}
	// In flight: still served without credentials.
	served("HTTP without credentials while the secrets transfer is in flight", plain)
	first.Finish(true)

	// Complete: the phone holds the credential. Without it, no config.
	before, _ := core.Device(ctx, mac)
	clk.Add(time.Minute)
	challenged("HTTP without credentials once the transfer is complete", plain)
	forged := plain
	forged.UserAgent = "Yealink SIP-T54W 6.6.6.6 80:5e:c0:aa:bb:01"
	challenged("HTTP with a forged User-Agent", forged)
	wrong := plain
	wrong.Transport, wrong.Target = "https", "/prov/"+mac+".cfg"
	wrong.Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(mac+":"+broken))
	challenged("HTTPS with the broken transfer's credential", wrong)
	if _, err := core.Provide(ctx, tftp); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("TFTP once complete: %v, want not found", err)
	}
	after, _ := core.Device(ctx, mac)
	if after.Firmware != before.Firmware || after.RemoteIP != before.RemoteIP || !after.LastSeen.Equal(*before.LastSeen) || after.Credential.State != autoprov.CredentialIssued {
		t.Fatalf("refused requests changed the device:\nbefore %+v\nafter  %+v", before, after)
	}
	snomUA := "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 %s)"
	known, err := core.Discovered(ctx, sip(mac, fmt.Sprintf(snomUA, mac)))
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := core.Discovered(ctx, sip("805ec0ffee02", fmt.Sprintf(snomUA, "805ec0ffee02")))
	if err != nil || known != unknown || !strings.Contains(known, "{mac}") {
		t.Fatalf("SUBSCRIBE naming the device: %q; an unknown MAC: %q, %v; want alike, a Snom's URL", known, unknown, err)
	}

	// With it: served, applied, and the report updated.
	fetchAs(t, core, mac+".cfg", "Yealink SIP-T54W 96.86.0.120 80:5e:c0:aa:bb:01", mac, pass, true)
	if d, _ := core.Device(ctx, mac); d.Credential.State != autoprov.CredentialApplied || d.Firmware != "96.86.0.120" {
		t.Fatalf("after presenting it: credential %q, firmware %q; want applied, 96.86.0.120", d.Credential.State, d.Firmware)
	}
}
