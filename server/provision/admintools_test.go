package provision_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/autoprov/autoprov"
)

func TestReplaceDevice(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	core, _ := newCoreOn(t, st)
	mustAccount(t, core, "201", "Alice")
	mustAccount(t, core, "202", "Bob")
	if _, err := core.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "sales"}, true, "test"); err != nil {
		t.Fatal(err)
	}
	old, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Label: ptr("Desk 1"),
		Accounts: &[]string{"201", "202"}, KeyProfile: ptr("sales"), MenuPassword: ptr("12345678"),
		Keys: &[]autoprov.KeySpec{{Position: 3, Type: "blf", Value: "202", Label: "Bob"}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	// The new phone already fetched: it waits in the inbox.
	if _, err := st.Seen(ctx, autoprov.Sighting{MAC: "805ec0aabb02", Vendor: "Yealink", Model: "T54W", RemoteIP: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}

	var badMAC *autoprov.InvalidError
	if _, err := core.ReplaceDevice(ctx, "80-5e-c0-aa-bb-01", "03:00:00:00:00:94", "", "api@test"); !errors.As(err, &badMAC) || badMAC.Field != "new_mac" {
		t.Fatalf("replace by a locally administered multicast MAC: %v, want invalid new_mac", err)
	}
	n, err := core.ReplaceDevice(ctx, "80-5e-c0-aa-bb-01", "805EC0AABB02", "", "api@test")
	if err != nil {
		t.Fatal(err)
	}
	if n.MAC != "805ec0aabb02" || n.State != autoprov.StateAssigned || n.Label != "Desk 1" || strings.Join(n.Accounts, ",") != "201,202" ||
		n.KeyProfile != "sales" || len(n.Keys) != 1 || n.Keys[0].Value != "202" || n.Model != old.Model {
		t.Fatalf("new device %+v", n)
	}
	if n.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("window %+v, want open", n.Disclosure)
	}
	if _, err := core.Inventory.Device(ctx, "805ec0aabb01"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("old device still there: %v", err)
	}
	evs, _ := core.Audit(ctx, "805ec0aabb01", 10)
	if len(evs) == 0 || evs[0].Event != autoprov.EventDeviceReplaced || !strings.Contains(evs[0].Detail, "805ec0aabb02") {
		t.Fatalf("audit of the old MAC: %+v", evs)
	}

	// Refusals: an adopted target, the same MAC, an unknown device, a bad MAC.
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb03"), Model: ptr("T54W")}, "test"); err != nil {
		t.Fatal(err)
	}
	var inv *autoprov.InvalidError
	for _, c := range []struct {
		from, to string
		check    func(error) bool
	}{
		{"805ec0aabb02", "805ec0aabb03", func(err error) bool { return errors.Is(err, autoprov.ErrConflict) }},
		{"805ec0aabb02", "805ec0aabb02", func(err error) bool { return errors.As(err, &inv) && inv.Field == "new_mac" }},
		{"805ec0aabb09", "805ec0aabb04", func(err error) bool { return errors.Is(err, autoprov.ErrNotFound) }},
		{"805ec0aabb02", "nonsense", func(err error) bool { return errors.As(err, &inv) && inv.Field == "new_mac" }},
	} {
		if _, err := core.ReplaceDevice(ctx, c.from, c.to, "", "test"); !c.check(err) {
			t.Errorf("ReplaceDevice(%s, %s) = %v", c.from, c.to, err)
		}
	}
	// Nothing moved by a refusal.
	if d, _ := core.Inventory.Device(ctx, "805ec0aabb02"); strings.Join(d.Accounts, ",") != "201,202" {
		t.Fatalf("after refusals: %+v", d)
	}
	// Another model on the way.
	d, err := core.ReplaceDevice(ctx, "805ec0aabb02", "805ec0aabb05", "T57W", "test")
	if err != nil || d.Model != "T57W" || strings.Join(d.Accounts, ",") != "201,202" {
		t.Fatalf("replace with T57W: %+v %v", d, err)
	}
}

func TestRevealPasswords(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	gen := mustAccount(t, core, "201", "Alice")
	if !gen.PasswordGenerated {
		t.Fatal("a generated password is not marked")
	}
	if _, err := core.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("202"), Password: ptr("typed-by-admin")}, "test"); err != nil {
		t.Fatal(err)
	}
	out, err := core.RevealPasswords(ctx, []string{"201"}, "password", "ui@192.0.2.1")
	if err != nil || out != "201 "+gen.Password+"\n" {
		t.Fatalf("reveal: %q %v", out, err)
	}
	evs, _ := core.Audit(ctx, "", 5)
	if evs[0].Event != autoprov.EventPasswordRevealed || evs[0].Actor != "ui@192.0.2.1" || strings.Contains(evs[0].Detail, gen.Password) ||
		!strings.Contains(evs[0].Detail, "201") {
		t.Fatalf("audit %+v", evs[0])
	}
	// A typed password is not revealed, alone or among all.
	var inv *autoprov.InvalidError
	if _, err := core.RevealPasswords(ctx, []string{"202"}, "password", "test"); !errors.As(err, &inv) {
		t.Fatalf("typed password revealed: %v", err)
	}
	out, err = core.RevealPasswords(ctx, nil, "pjsip", "test")
	if err != nil || !strings.Contains(out, "password="+gen.Password) || strings.Contains(out, "typed-by-admin") || strings.Contains(out, "[202]") {
		t.Fatalf("pjsip: %v\n%s", err, out)
	}
	out, err = core.RevealPasswords(ctx, nil, "kamailio", "test")
	if err != nil || !strings.Contains(out, "'pbx.example.com'") {
		t.Fatalf("kamailio: %v\n%s", err, out)
	}
	if _, err := core.RevealPasswords(ctx, nil, "sipxecs", "test"); !errors.As(err, &inv) || inv.Field != "format" {
		t.Fatalf("unknown format: %v", err)
	}
	// A password an admin sets later is no longer revealable.
	if _, err := core.UpdateAccount(ctx, "201", autoprov.AccountInput{Password: ptr("now-typed-1")}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := core.RevealPasswords(ctx, []string{"201"}, "password", "test"); !errors.As(err, &inv) {
		t.Fatalf("re-typed password revealed: %v", err)
	}
}

func TestRevealRefusedWhenAuditFails(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	core, _ := newCoreOn(t, st)
	mustAccount(t, core, "201", "Alice")
	st.failAudit = true
	if out, err := core.RevealPasswords(ctx, nil, "password", "test"); err == nil || out != "" {
		t.Fatalf("revealed without an audit row: %q %v", out, err)
	}
}
