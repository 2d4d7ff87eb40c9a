package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// TestDeviceReadAsGORM: Device's own read (deviceread.go) returns what
// GORM's read of the same row returns, field by field, on both backends:
// a device with every column set (keys, overrides, params, two accounts
// in line order, a window consumed by a transfer that completed, an
// issued credential, onboarding, a sighting), one with NULL text and
// JSON columns, an inbox phone, and a MAC without a row.
func TestDeviceReadAsGORM(t *testing.T) { eachBackend(t, testDeviceReadAsGORM) }

func testDeviceReadAsGORM(t *testing.T, dsn string) {
	ctx := context.Background()
	if n := reflect.TypeFor[deviceRow]().NumField(); n != len(deviceReadColumns) {
		t.Fatalf("deviceRow has %d fields, the read names %d columns", n, len(deviceReadColumns))
	}
	s := open(t, dsn)
	for _, ext := range []string{"201", "202"} {
		if _, err := s.CreateAccount(ctx, autoprov.Account{Extension: ext, DisplayName: "A " + ext, Password: "secret-" + ext}); err != nil {
			t.Fatal(err)
		}
	}
	full := autoprov.Device{MAC: "805ec0aabb01", Vendor: "yealink", Model: "T54W", Label: "desk 1", State: autoprov.StateAssigned,
		Accounts: []string{"202", "201"}, Keys: []autoprov.KeySpec{{Position: 3, Type: vendors.KeyBLF, Value: "203", Label: "Bob", PickupCode: "*8"}},
		Overrides: autoprov.Overrides{Timezone: "Europe/Berlin", Language: "German"}, Params: []autoprov.Param{{Vendor: "yealink", Name: "a.b", Value: "1"}},
		MenuPassword: "menu-pass-1", WebPassword: "web-pass-long-1"}
	if err := s.CreateDevice(ctx, full); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenDisclosure(ctx, full.MAC, t0, time.Hour, "test"); err != nil {
		t.Fatal(err)
	}
	if won, err := s.Reserve(ctx, full.MAC, "tok", t0.Add(time.Minute), time.Minute); !won || err != nil {
		t.Fatalf("reserve: %v %v", won, err)
	}
	if won, err := s.CommitIssuing(ctx, full.MAC, "tok", "cred-pass-1", t0.Add(time.Minute), autoprov.Peer{IP: "127.0.0.9", UserAgent: "Yealink"}); !won || err != nil {
		t.Fatalf("commit: %v %v", won, err)
	}
	if won, err := s.Complete(ctx, full.MAC, "tok", t0.Add(2*time.Minute), true, ""); !won || err != nil {
		t.Fatalf("complete: %v %v", won, err)
	}
	at := t0.Add(3 * time.Minute)
	if _, err := s.SetOnboarding(ctx, full.MAC, autoprov.Onboarding{State: "redirected", Service: "svc", Detail: "d", At: &at}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.SeenBatch(ctx, []autoprov.Sighting{{MAC: full.MAC, RemoteIP: "127.0.0.9", UserAgent: "Yealink SIP-T54W 96.86.0.100", Firmware: "96.86.0.100", File: "805ec0aabb01.cfg", At: at}}); err != nil {
		t.Fatal(err)
	}
	nulls := autoprov.Device{MAC: "805ec0aabb02", Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned}
	if err := s.CreateDevice(ctx, nulls); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Exec(`UPDATE devices SET label = NULL, remote_ip = NULL, user_agent = NULL, firmware = NULL, last_file = NULL,
		disclosed_ip = NULL, disclosed_ua = NULL, reserved_by = NULL, menu_password = NULL, "keys" = NULL, overrides = NULL, params = NULL
		WHERE mac = ?`, nulls.MAC).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seen(ctx, autoprov.Sighting{MAC: "001565000001", Vendor: "yealink", Model: "T46S", RemoteIP: "127.0.0.2", File: "y000000000028.cfg", At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, mac := range []string{full.MAC, nulls.MAC, "001565000001"} {
		var want deviceRow
		if err := s.db.First(&want, "mac = ?", mac).Error; err != nil {
			t.Fatal(err)
		}
		wantExts, err := s.accountsOf(ctx, []string{mac})
		if err != nil {
			t.Fatal(err)
		}
		got, exts, err := s.readDevice(ctx, mac)
		if err != nil {
			t.Fatalf("%s: %v", mac, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read\n%+v\nGORM read\n%+v", mac, got, want)
		}
		if !reflect.DeepEqual(exts, wantExts[mac]) {
			t.Errorf("%s: accounts %q, GORM %q", mac, exts, wantExts[mac])
		}
	}
	d, err := s.Device(ctx, full.MAC)
	if err != nil {
		t.Fatal(err)
	}
	if d.MenuPassword != "menu-pass-1" || d.WebPassword != "web-pass-long-1" || d.Credential.Password != "cred-pass-1" ||
		!reflect.DeepEqual(d.Accounts, []string{"202", "201"}) || d.Disclosure.Complete == nil || !*d.Disclosure.Complete ||
		d.Disclosure.DisclosedTo == nil || d.Disclosure.DisclosedTo.IP != "127.0.0.9" || d.Keys[0].PickupCode != "*8" ||
		d.Overrides.Timezone != "Europe/Berlin" || d.Params[0].Name != "a.b" || d.Onboarding.Service != "svc" || d.Firmware != "96.86.0.100" {
		t.Errorf("device = %+v", d)
	}
	// The reads watch no context (readContext): one already cancelled
	// reads all the same.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.readDevice(gone, full.MAC); err != nil {
		t.Errorf("device read on a cancelled context: %v", err)
	}
	if _, err := s.Device(ctx, "805ec0aabbff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a MAC without a row: %v, want ErrNotFound", err)
	}
}
