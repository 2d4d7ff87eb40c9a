package provision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// TestUnsupervisedRefusesNewCredentials: while Options.Unsupervised
// refuses (a site cut off from its central server past its grace period),
// no window opens and no phone is adopted, but a device's file is still
// served without its secrets; once it allows again, all works as before.
func TestUnsupervisedRefusesNewCredentials(t *testing.T) {
	ctx := context.Background()
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	var cut atomic.Bool
	refusal := fmt.Errorf("cut off: %w", autoprov.ErrConflict)
	clk := testclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	p, inv := provision.New(provision.Options{Registry: reg, Now: clk.Now, PublicURL: "http://prov.example.com/",
		Unsupervised: func() error {
			if cut.Load() {
				return refusal
			}
			return nil
		}}, newMemStore())
	c := &core{p, inv}
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com"), DisclosureWindowSeconds: ptr(600)}, "test"); err != nil {
		t.Fatal(err)
	}
	a := mustAccount(t, c, "201", "Alice")
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	first, secret := fetch(t, c, "805ec0aabb01.cfg", yua, true)
	if !secret {
		t.Fatal("first fetch lacks the secret")
	}
	cred := credentialIn(t, first)
	// A phone lands in the inbox.
	ua2 := "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:02"
	if _, err := c.Provide(ctx, vendors.Request{Path: "805ec0aabb02.cfg", UserAgent: ua2, RemoteAddr: "192.0.2.9", Transport: "http"}); err == nil {
		t.Fatal("an unknown phone's file was served")
	}

	cut.Store(true)
	if _, err := c.OpenDisclosure(ctx, "805ec0aabb01", "test"); !errors.Is(err, autoprov.ErrConflict) {
		t.Fatalf("OpenDisclosure while cut off: %v, want the refusal", err)
	}
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:02"), Accounts: &[]string{"201"}}, "test"); !errors.Is(err, autoprov.ErrConflict) {
		t.Fatalf("adoption while cut off: %v, want the refusal", err)
	}
	if _, err := c.UpdateAccount(ctx, "201", autoprov.AccountInput{Password: ptr("a-new-password-1234")}, "test"); !errors.Is(err, autoprov.ErrConflict) {
		t.Fatalf("password change while cut off: %v, want the refusal", err)
	}
	// Nor through a bulk change, dry run or not (an account's password or
	// auth user changed, a device adopted with accounts).
	for _, dry := range []bool{true, false} {
		if _, err := c.Bulk(ctx, autoprov.BulkInput{Accounts: []autoprov.AccountInput{{Extension: ptr("201"), Password: ptr("a-bulk-password-1234")}}}, dry, "test"); !errors.Is(err, autoprov.ErrConflict) {
			t.Fatalf("a bulk password change while cut off (dry run %v): %v, want the refusal", dry, err)
		}
		if _, err := c.Bulk(ctx, autoprov.BulkInput{Accounts: []autoprov.AccountInput{{Extension: ptr("201"), AuthUser: ptr("a201")}}}, dry, "test"); !errors.Is(err, autoprov.ErrConflict) {
			t.Fatalf("a bulk auth user change while cut off (dry run %v): %v, want the refusal", dry, err)
		}
		_, err := c.Bulk(ctx, autoprov.BulkInput{Devices: []autoprov.DeviceInput{{MAC: ptr("80:5E:C0:AA:BB:02"), Accounts: &[]string{"201"}}}}, dry, "test")
		if !errors.Is(err, autoprov.ErrConflict) {
			t.Fatalf("a bulk adoption while cut off (dry run %v): %v, want the refusal", dry, err)
		}
	}
	if got, _ := c.Account(ctx, "201"); got.Password != a.Password || got.AuthUser != a.AuthUser {
		t.Fatal("a bulk change while cut off changed the account's credentials")
	}
	if _, err := c.Bulk(ctx, autoprov.BulkInput{Accounts: []autoprov.AccountInput{{Extension: ptr("201"), DisplayName: ptr("Alice B.")}}}, false, "test"); err != nil {
		t.Fatalf("a bulk display name change while cut off: %v", err)
	}
	if d, _ := c.Device(ctx, "805ec0aabb02"); d.State != autoprov.StateUnassigned {
		t.Fatalf("the inbox phone is %s, want still unassigned", d.State)
	}
	// A device without accounts is no credential: it can still be added,
	// and a label still changes.
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:03"), Model: ptr("T54W")}, "test"); err != nil {
		t.Fatalf("a device without accounts while cut off: %v", err)
	}
	if _, err := c.UpdateDevice(ctx, "805ec0aabb01", autoprov.DeviceInput{Label: ptr("desk 1")}, "test"); err != nil {
		t.Fatalf("a label while cut off: %v", err)
	}
	body, secret := fetchAs(t, c, "805ec0aabb01.cfg", yua, "805ec0aabb01", cred, true)
	if secret || bytes.Contains(body, []byte(a.Password)) || !bytes.Contains(body, []byte("pbx.example.com")) {
		t.Fatalf("the phone's file while cut off: secret=%v\n%s", secret, body)
	}

	cut.Store(false)
	if _, err := c.OpenDisclosure(ctx, "805ec0aabb01", "test"); err != nil {
		t.Fatalf("OpenDisclosure once supervised again: %v", err)
	}
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:02"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatalf("adoption once supervised again: %v", err)
	}
}
