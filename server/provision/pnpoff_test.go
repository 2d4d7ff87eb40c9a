package provision_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// TestPnPOffOnceProvisioned renders through the real drivers and templates:
// a Yealink's per-device file switches PnP off from the transfer that
// carries its secrets on; before that (window never opened, or expired
// unused), its common files, and an unassigned phone's files say nothing
// about it (the factory default, on, stays).
func TestPnPOffOnceProvisioned(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	const off = "static.auto_provision.pnp_enable = 0"
	get := func(path, ua string) []byte {
		t.Helper()
		body, _ := fetch(t, core, path, ua, true)
		return body
	}
	// Unassigned: the phone fetched, it is in the inbox; its common files
	// keep PnP as it is, its per-device file is a miss.
	const inboxUA = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:07"
	for _, f := range []string{"y000000000000.boot", "805ec0aabb07.boot", "y000000000096.cfg"} {
		if b := get(f, inboxUA); bytes.Contains(b, []byte("pnp_enable")) {
			t.Errorf("unassigned phone's %s mentions pnp_enable:\n%s", f, b)
		}
	}
	if _, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb07.cfg", UserAgent: inboxUA, RemoteAddr: "192.0.2.9", Transport: "http"}); err == nil {
		t.Fatal("an unassigned phone got its per-device file")
	}
	if d, err := core.Device(ctx, "805ec0aabb07"); err != nil || d.State != autoprov.StateUnassigned {
		t.Fatalf("inbox device: %+v %v", d, err)
	}

	// Adopted without accounts: no window, no secrets: PnP left alone.
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb07"), Model: ptr("T54W")}, "test"); err != nil {
		t.Fatal(err)
	}
	if b := get("805ec0aabb07.cfg", inboxUA); bytes.Contains(b, []byte("pnp_enable")) {
		t.Errorf("a device that has not got its secrets switches PnP:\n%s", b)
	}
	// Given an account: the window opens; the transfer with the secrets
	// switches PnP off, and so does every later fetch (window consumed).
	mustAccount(t, core, "201", "Alice")
	if _, err := core.UpdateDevice(ctx, "805ec0aabb07", autoprov.DeviceInput{Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	body, secret := fetch(t, core, "805ec0aabb07.cfg", inboxUA, true)
	if !secret || !bytes.Contains(body, []byte(off)) {
		t.Errorf("the secrets transfer (secret=%v) lacks %q:\n%s", secret, off, body)
	}
	body, secret = fetch(t, core, "805ec0aabb07.cfg", inboxUA, true)
	if secret || !bytes.Contains(body, []byte(off)) {
		t.Errorf("the fetch after the secrets (secret=%v) lacks %q:\n%s", secret, off, body)
	}
	if b := get("y000000000096.cfg", inboxUA); bytes.Contains(b, []byte("pnp_enable")) {
		t.Errorf("the common file mentions pnp_enable:\n%s", b)
	}
	// Re-opened (the phone may have been reset): until the secrets go out
	// again, a secret-free rendering leaves PnP alone.
	if _, err := core.OpenDisclosure(ctx, "805ec0aabb07", "test"); err != nil {
		t.Fatal(err)
	}
	res, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb07.cfg", UserAgent: inboxUA, RemoteAddr: "192.0.2.9", Transport: "http", SecretFree: true})
	if err != nil || res.Secret || bytes.Contains(res.File.Body, []byte("pnp_enable")) {
		t.Errorf("secret-free fetch in a re-opened window (err %v):\n%s", err, res.File.Body)
	}
}
