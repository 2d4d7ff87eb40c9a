package provision_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// TestPnPOffOnceProvisioned renders through the real drivers and templates:
// an adopted Yealink's per-device file switches PnP off (the transfer that
// carries its secrets and every fetch after it alike, so the file without
// secrets does not tell whether they were taken); an unassigned phone gets
// no per-device file, and the common files it fetches say nothing about
// PnP (the factory default, on, stays).
func TestPnPOffOnceProvisioned(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	const off = "static.auto_provision.pnp_enable = 0"
	const ua = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:07"
	commonFiles := []string{"y000000000000.boot", "805ec0aabb07.boot", "y000000000096.cfg"}
	noPnP := func(who string) {
		t.Helper()
		for _, f := range commonFiles {
			if b, _ := fetch(t, core, f, ua, true); bytes.Contains(b, []byte("pnp_enable")) {
				t.Errorf("%s: %s mentions pnp_enable:\n%s", who, f, b)
			}
		}
	}
	noPnP("unassigned phone")
	if _, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb07.cfg", UserAgent: ua, RemoteAddr: "192.0.2.9", Transport: "http"}); err == nil {
		t.Fatal("an unassigned phone got its per-device file")
	}
	if d, err := core.Device(ctx, "805ec0aabb07"); err != nil || d.State != autoprov.StateUnassigned {
		t.Fatalf("inbox device: %+v %v", d, err)
	}

	// Adopted with an account: the window opens. A secret-free request in
	// the open window, the secrets transfer and the fetch after it all say
	// PnP off, the two without secrets byte for byte alike.
	mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb07"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	head, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb07.cfg", UserAgent: ua, RemoteAddr: "192.0.2.9", Transport: "http", SecretFree: true})
	if err != nil || head.Secret || !bytes.Contains(head.File.Body, []byte(off)) {
		t.Fatalf("secret-free request in the open window (err %v) lacks %q:\n%s", err, off, head.File.Body)
	}
	body, secret := fetch(t, core, "805ec0aabb07.cfg", ua, true)
	if !secret || !bytes.Contains(body, []byte(off)) {
		t.Errorf("the secrets transfer (secret=%v) lacks %q:\n%s", secret, off, body)
	}
	// The transfer is complete: the file now needs the credential it carried.
	body, secret = fetchAs(t, core, "805ec0aabb07.cfg", ua, "805ec0aabb07", credentialIn(t, body), true)
	if secret || !bytes.Equal(body, head.File.Body) {
		t.Errorf("the fetch after the secrets differs from the one before:\n%s\n---\n%s", body, head.File.Body)
	}
	noPnP("adopted phone")
}
