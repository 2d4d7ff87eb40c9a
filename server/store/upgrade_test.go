package store

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// apiSnapshot is what the old release's admin API answered just before
// mkfixture.sh stopped it (testdata/autoprov-593256a.<backend>.json): the
// source of what the server made up itself, timestamps and audit details.
type apiSnapshot struct {
	Settings    provision.Settings     `json:"settings"`
	Accounts    []provision.Account    `json:"accounts"`
	KeyProfiles []provision.KeyProfile `json:"key_profiles"`
	Devices     []provision.Device     `json:"devices"`
	Audit       []provision.AuditEvent `json:"audit"`
}

// What mkfixture.sh put in (keep in step with populate() there).
var (
	fixtureSettings = provision.Settings{SIPServer: "pbx.fixture.example", SIPPort: 5061, SIPTransport: "tls",
		OutboundProxy: "proxy.fixture.example:5061", NTPServer: "ntp.fixture.example", Timezone: "Europe/Berlin",
		Language: "de", WebLanguage: "fr", ToneScheme: "DE", DisclosureWindowSeconds: 86400}

	fixtureAccounts = []provision.Account{
		{Extension: "201", DisplayName: "Alice Example", AuthUser: "201", Password: "fx-sip-201-secret"},
		{Extension: "202", DisplayName: "Bob Builder (Sales)", AuthUser: "bob-auth", Password: "fx-sip-202-secret"},
		{Extension: "203", DisplayName: `Zoë "Z" Müller`, AuthUser: "203", Password: "fx-sip-203-secret"},
		{Extension: "204", DisplayName: "Dave Late", AuthUser: "204", Password: "fx-sip-204-secret"},
		{Extension: "205", DisplayName: "Unused", AuthUser: "205", Password: "fx-sip-205-secret"},
	}

	fixtureProfiles = []provision.KeyProfile{
		{Name: "desk", Description: "Front desk layout", Keys: []provision.KeySpec{
			{Position: 1, Type: vendors.KeyLine, Line: 1},
			{Position: 2, Type: vendors.KeyBLF, Value: "202", Label: `Bob "B" <ü>`, PickupCode: "*8"},
			{Position: 3, Type: vendors.KeySpeedDial, Value: "5551234", Label: "Support"}}},
		{Name: "spare", Keys: []provision.KeySpec{{Position: 1, Type: vendors.KeyDND}}},
	}

	// Devices in MAC order; a device that never fetched has no UserAgent.
	fixtureDevices = []provision.Device{
		{MAC: "000413aabb02", Vendor: "snom", Model: "D785", Label: "Sales", State: provision.StateAssigned,
			Accounts: []string{"203", "201"},
			Keys: []provision.KeySpec{{Position: 1, Type: vendors.KeyLine, Account: "203"},
				{Position: 2, Type: vendors.KeyLine, Account: "201"}, {Position: 3, Type: vendors.KeyPark, Value: "700", Label: "Park"}},
			MenuPassword: "86420", WebPassword: "fx-web-0002",
			Disclosure: provision.Disclosure{State: provision.DisclosureOpen}},
		{MAC: "000413aabb04", Vendor: "snom", Model: "D717", Label: "Spare", State: provision.StateAssigned,
			KeyProfile: "spare", Overrides: provision.Overrides{Language: "it"},
			MenuPassword: "9999", WebPassword: "fx-web-0004",
			Disclosure: provision.Disclosure{State: provision.DisclosureNone}},
		{MAC: "001565aabb03", Vendor: "yealink", Model: "T46S", State: provision.StateAssigned,
			Accounts: []string{"204"}, MenuPassword: "1357", WebPassword: "fx-web-0003",
			RemoteIP: "127.0.0.1", UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:03", Firmware: "66.86.0.15", LastFile: "001565aabb03.cfg",
			Disclosure: provision.Disclosure{State: provision.DisclosureExpired}},
		{MAC: "805ec0aabb01", Vendor: "yealink", Model: "T54W", Label: "Reception desk", State: provision.StateAssigned,
			Accounts: []string{"201", "202"}, KeyProfile: "desk",
			Keys: []provision.KeySpec{{Position: 4, Type: vendors.KeyBLF, Value: "203", Label: "Zoë"},
				{Module: 1, Position: 1, Type: vendors.KeySpeedDial, Value: "5550001", Label: "Lobby"}},
			Overrides:    provision.Overrides{NTPServer: "ntp2.fixture.example", Timezone: "Europe/Paris", Language: "fr", WebLanguage: "en", ToneScheme: "FR"},
			MenuPassword: "2468", WebPassword: "fx-web-0001",
			RemoteIP: "127.0.0.1", UserAgent: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01", Firmware: "96.86.0.100", LastFile: "805ec0aabb01.cfg",
			Disclosure: provision.Disclosure{State: provision.DisclosureConsumed,
				DisclosedTo: &provision.Peer{IP: "127.0.0.1", UserAgent: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"}}},
		{MAC: "805ec0aabb05", Vendor: "yealink", Model: "T46U", State: provision.StateUnassigned,
			RemoteIP: "127.0.0.1", UserAgent: "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:05", Firmware: "108.86.0.20", LastFile: "805ec0aabb05.cfg",
			Disclosure: provision.Disclosure{State: provision.DisclosureNone}},
	}

	// The audit log, oldest first: event and MAC.
	fixtureAudit = [][2]string{
		{"settings.updated", ""}, {"account.created", ""}, {"account.created", ""}, {"account.created", ""},
		{"account.created", ""}, {"account.created", ""}, {"account.updated", ""},
		{"key_profile.created", ""}, {"key_profile.created", ""},
		{"device.created", "001565aabb03"}, {provision.EventDisclosureOpened, "001565aabb03"}, {provision.EventDisclosureExpired, "001565aabb03"},
		{"settings.updated", ""},
		{"device.created", "805ec0aabb01"}, {provision.EventDisclosureOpened, "805ec0aabb01"}, {provision.EventDisclosureConsumed, "805ec0aabb01"},
		{"device.created", "000413aabb02"}, {provision.EventDisclosureOpened, "000413aabb02"}, {"device.updated", "000413aabb02"},
		{"device.created", "000413aabb04"},
	}
)

// asJSON renders v as the API does; equal renderings mean equal values,
// times compared as instants (both sides are UTC).
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpgradeFrom593256a: a database the release before versioned
// migrations wrote opens with this code, gets the latest schema version
// and keeps every row: settings, accounts (with passwords), key profiles,
// devices (accounts in line order, keys, profile, overrides, menu and web
// passwords, sighting fields, disclosure windows) and the audit log. It
// then still works: new rows get new IDs, an open window can be claimed.
func TestUpgradeFrom593256a(t *testing.T) {
	eachFixture(t, func(t *testing.T, dsn string) {
		name := "sqlite"
		if IsPostgres(dsn) {
			name = "pg"
		}
		b, err := os.ReadFile("testdata/autoprov-593256a." + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var snap apiSnapshot
		if err := json.Unmarshal(b, &snap); err != nil {
			t.Fatal(err)
		}
		testUpgrade(t, dsn, snap)
	})
}

func testUpgrade(t *testing.T, dsn string, snap apiSnapshot) {
	s := open(t, dsn)
	v, err := s.SchemaVersion(context.Background())
	if err != nil || v != s.schema.latest() {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, s.schema.latest())
	}

	// Settings.
	if st, err := s.Settings(); err != nil || st != fixtureSettings || st != snap.Settings {
		t.Errorf("settings = %+v, %v; want %+v", st, err, fixtureSettings)
	}

	// Accounts: every one, with what the old server stamped, and passwords.
	accounts, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, accounts), asJSON(t, snap.Accounts); got != want {
		t.Errorf("accounts =\n%s\nwant (old API)\n%s", got, want)
	}
	if len(accounts) != len(fixtureAccounts) {
		t.Fatalf("%d accounts, want %d", len(accounts), len(fixtureAccounts))
	}
	for i, want := range fixtureAccounts {
		got, err := s.Account(want.Extension)
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("account %s = %+v, want %+v", want.Extension, got, want)
		}
		if accounts[i].CreatedAt.IsZero() || accounts[i].UpdatedAt.Before(accounts[i].CreatedAt) {
			t.Errorf("account %s times: %v, %v", want.Extension, accounts[i].CreatedAt, accounts[i].UpdatedAt)
		}
	}

	// Key profiles.
	profiles, err := s.KeyProfiles()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, profiles), asJSON(t, snap.KeyProfiles); got != want {
		t.Errorf("key profiles =\n%s\nwant (old API)\n%s", got, want)
	}
	if len(profiles) != len(fixtureProfiles) {
		t.Fatalf("%d key profiles, want %d", len(profiles), len(fixtureProfiles))
	}
	for i, want := range fixtureProfiles {
		got := profiles[i]
		if got.Name != want.Name || got.Description != want.Description || !slices.Equal(got.Keys, want.Keys) {
			t.Errorf("key profile %d = %+v, want %+v", i, got, want)
		}
	}

	// Devices: the list and each one alone, against the old API (times
	// included) and against the inputs (passwords, which the API hides).
	devices, err := s.Devices(provision.DeviceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, devices), asJSON(t, snap.Devices); got != want {
		t.Errorf("devices =\n%s\nwant (old API)\n%s", got, want)
	}
	if len(devices) != len(fixtureDevices) {
		t.Fatalf("%d devices, want %d", len(devices), len(fixtureDevices))
	}
	for i, want := range fixtureDevices {
		got, err := s.Device(want.MAC)
		if err != nil {
			t.Fatal(err)
		}
		if asJSON(t, got) != asJSON(t, devices[i]) || got.MenuPassword != devices[i].MenuPassword || got.WebPassword != devices[i].WebPassword {
			t.Errorf("Device(%s) = %+v, differs from Devices() = %+v", want.MAC, got, devices[i])
		}
		checkDevice(t, got, want)
	}

	// The audit log, every row.
	audit, err := s.Audit("", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, audit), asJSON(t, snap.Audit); got != want {
		t.Errorf("audit =\n%s\nwant (old API)\n%s", got, want)
	}
	if len(audit) != len(fixtureAudit) {
		t.Fatalf("%d audit rows, want %d", len(audit), len(fixtureAudit))
	}
	for i, want := range fixtureAudit {
		got := audit[len(audit)-1-i]
		if got.ID != uint(i+1) || got.Event != want[0] || got.MAC != want[1] {
			t.Errorf("audit row %d = %+v, want %s %s", i+1, got, want[0], want[1])
		}
	}

	// Still a working database: the ID sequences go on, the open window
	// of 000413aabb02 (one day from when the fixture was made; the store
	// is given a time inside it) can be claimed once, and an account in
	// use still cannot go (the foreign key survived).
	if _, err := s.CreateAccount(provision.Account{Extension: "206", DisplayName: "New"}); err != nil {
		t.Fatalf("create account after upgrade: %v", err)
	}
	if err := s.AppendAudit(provision.AuditEvent{Event: "test.after_upgrade"}); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Audit("", 1); err != nil || len(evs) != 1 || evs[0].ID != uint(len(fixtureAudit)+1) {
		t.Fatalf("audit after upgrade = %+v, %v; want ID %d", evs, err, len(fixtureAudit)+1)
	}
	dev, _ := s.Device("000413aabb02")
	now := dev.Disclosure.OpenedAt.Add(time.Minute)
	if won, err := s.Reserve("000413aabb02", "after-upgrade", now, time.Minute); err != nil || !won {
		t.Fatalf("reserve the open window after upgrade: %v, %v", won, err)
	}
	if ok, err := s.Commit("000413aabb02", "after-upgrade", now, provision.Peer{IP: "192.0.2.9"}); err != nil || !ok {
		t.Fatalf("commit after upgrade: %v, %v", ok, err)
	}
	if err := s.DeleteAccount("204"); err == nil {
		t.Fatal("deleted account 204 while 001565aabb03 carries it")
	}
}

// checkDevice compares a device read back with what mkfixture.sh put in.
func checkDevice(t *testing.T, got, want provision.Device) {
	t.Helper()
	if got.MAC != want.MAC || got.Vendor != want.Vendor || got.Model != want.Model || got.Label != want.Label ||
		got.State != want.State || got.KeyProfile != want.KeyProfile || got.Overrides != want.Overrides {
		t.Errorf("device %s = %+v, want %+v", want.MAC, got, want)
	}
	if !slices.Equal(got.Accounts, want.Accounts) {
		t.Errorf("device %s accounts = %v, want %v (in line order)", want.MAC, got.Accounts, want.Accounts)
	}
	if !slices.Equal(got.Keys, want.Keys) {
		t.Errorf("device %s keys = %+v, want %+v", want.MAC, got.Keys, want.Keys)
	}
	if got.MenuPassword != want.MenuPassword || got.WebPassword != want.WebPassword {
		t.Errorf("device %s menu/web passwords differ from what was set", want.MAC)
	}
	if got.RemoteIP != want.RemoteIP || got.UserAgent != want.UserAgent || got.Firmware != want.Firmware ||
		got.LastFile != want.LastFile || (got.LastSeen != nil) != (want.UserAgent != "") {
		t.Errorf("device %s sighting = %v %q %q %q %q, want %q %q %q %q", want.MAC, got.LastSeen,
			got.RemoteIP, got.UserAgent, got.Firmware, got.LastFile, want.RemoteIP, want.UserAgent, want.Firmware, want.LastFile)
	}
	d, w := got.Disclosure, want.Disclosure
	if d.State != w.State {
		t.Errorf("device %s disclosure state = %s, want %s", want.MAC, d.State, w.State)
	}
	opened := w.State != provision.DisclosureNone
	if (d.OpenedAt != nil) != opened || (d.ExpiresAt != nil) != opened || (opened && !d.ExpiresAt.After(*d.OpenedAt)) {
		t.Errorf("device %s window = %v .. %v", want.MAC, d.OpenedAt, d.ExpiresAt)
	}
	if (d.DisclosedTo == nil) != (w.DisclosedTo == nil) || (w.DisclosedTo != nil && (*d.DisclosedTo != *w.DisclosedTo || d.DisclosedAt == nil)) {
		t.Errorf("device %s disclosed to %+v at %v, want %+v", want.MAC, d.DisclosedTo, d.DisclosedAt, w.DisclosedTo)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("device %s times: %v, %v", want.MAC, got.CreatedAt, got.UpdatedAt)
	}
}
