package store

import (
	"context"
	"errors"
	"testing"

	"github.com/autoprov/autoprov"
)

// TestReplaceInOneTransaction: a DeviceWrite with Replaces removes the
// old device in the transaction that writes the new one; a write that
// fails (the new MAC is taken) leaves the old device in place.
func TestReplaceInOneTransaction(t *testing.T) { eachBackend(t, testReplaceInOneTransaction) }

func testReplaceInOneTransaction(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")
	seed(t, s, "805ec0aabb03")
	w := autoprov.DeviceWrite{Device: autoprov.Device{MAC: "805ec0aabb03", Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned,
		Accounts: []string{"201"}}, Create: true, Replaces: "805ec0aabb01", Window: 600e9, At: t0, Actor: "test"}
	if err := s.WriteDevice(ctx, w); !errors.Is(err, ErrConflict) {
		t.Fatalf("write onto a taken MAC: %v", err)
	}
	if _, err := s.Device(ctx, "805ec0aabb01"); err != nil {
		t.Fatalf("the old device went with a failed replacement: %v", err)
	}
	w.Device.MAC, w.Device.Label = "805ec0aabb02", "Desk 1"
	w.Audit = []autoprov.AuditEvent{{At: t0, MAC: "805ec0aabb01", Event: autoprov.EventDeviceReplaced, Actor: "test"}}
	if err := s.WriteDevice(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Device(ctx, "805ec0aabb01"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old device: %v", err)
	}
	d, err := s.Device(ctx, "805ec0aabb02")
	if err != nil || d.Label != "Desk 1" || len(d.Accounts) != 1 || d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("new device %+v %v", d, err)
	}
}

// TestPasswordGenerated: the flag is kept through create, update and a
// bulk write.
func TestPasswordGenerated(t *testing.T) { eachBackend(t, testPasswordGenerated) }

func testPasswordGenerated(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	if _, err := s.CreateAccount(ctx, autoprov.Account{Extension: "201", AuthUser: "201", Password: "generated-1", PasswordGenerated: true}); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Account(ctx, "201"); err != nil || !a.PasswordGenerated {
		t.Fatalf("after create: %+v %v", a, err)
	}
	if _, err := s.UpdateAccount(ctx, autoprov.Account{Extension: "201", AuthUser: "201", Password: "typed-1234"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, "201"); a.PasswordGenerated {
		t.Fatal("after update: still generated")
	}
	err := s.WriteBulk(ctx, autoprov.BulkWrite{At: t0, Actor: "test", Accounts: []autoprov.AccountWrite{
		{Account: autoprov.Account{Extension: "201", AuthUser: "201", Password: "generated-2", PasswordGenerated: true}},
		{Account: autoprov.Account{Extension: "202", AuthUser: "202", Password: "generated-3", PasswordGenerated: true}, Create: true}}})
	if err != nil {
		t.Fatal(err)
	}
	as, _ := s.AccountsByExtension(ctx, []string{"201", "202"})
	if !as["201"].PasswordGenerated || !as["202"].PasswordGenerated || as["202"].Password != "generated-3" {
		t.Fatalf("after bulk: %+v", as)
	}
}
