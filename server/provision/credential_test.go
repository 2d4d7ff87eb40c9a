package provision_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

var provPass = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)`)

// TestCredentialTFTP: once the credential is applied, TFTP (which cannot
// authenticate) gets the common files only, unless the admin allows TFTP
// for the device; an applied phone's report changes only through a fetch
// that proves the credential.
func TestCredentialTFTP(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	body, _ := fetch(t, core, "805ec0aabb01.cfg", yua, true)
	m := provPass.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the secrets carry no credential:\n%s", body)
	}
	d, _ := core.Device(ctx, "805ec0aabb01")
	if d.Credential.State != autoprov.CredentialIssued {
		t.Fatalf("credential %q, want issued", d.Credential.State)
	}
	tftp := vendors.Request{Path: "805ec0aabb01.cfg", RemoteAddr: "192.0.2.50", Transport: "tftp"}
	if _, err := core.Provide(ctx, tftp); err != nil {
		t.Fatalf("TFTP while issued: %v", err)
	}
	// Applied by an HTTPS fetch with Basic.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("805ec0aabb01:"+string(m[1])))
	if _, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "https", Authorization: auth, Target: "/prov/805ec0aabb01.cfg"}); err != nil {
		t.Fatalf("HTTPS with the credential: %v", err)
	}
	if d, _ := core.Device(ctx, "805ec0aabb01"); d.Credential.State != autoprov.CredentialApplied || d.Credential.AppliedAt == nil {
		t.Fatalf("credential %+v, want applied", d.Credential)
	}
	_, err := core.Provide(ctx, tftp)
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
