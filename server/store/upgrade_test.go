package store

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/internal/testlog"
	"github.com/autoprov/autoprov/vendors"
)

// apiSnapshot is what the old release's admin API answered just before
// mkfixture.sh stopped it (testdata/autoprov-593256a.<backend>.json): the
// source of what the server made up itself, timestamps and audit details.
// Its types spell the old API's JSON; the store's values are turned into
// them to compare.
type apiSnapshot struct {
	Settings    storedSettings `json:"settings"` // the API's settings JSON is the stored one
	Accounts    []apiAccount   `json:"accounts"`
	KeyProfiles []apiProfile   `json:"key_profiles"`
	Devices     []apiDevice    `json:"devices"`
	Audit       []apiAudit     `json:"audit"`
}

type apiAccount struct {
	Extension   string    `json:"extension"`
	DisplayName string    `json:"display_name"`
	AuthUser    string    `json:"auth_user"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type apiProfile struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Keys        []storedKey `json:"keys"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

type apiPeer struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

type apiDevice struct {
	MAC        string          `json:"mac"`
	Vendor     string          `json:"vendor"`
	Model      string          `json:"model"`
	Label      string          `json:"label"`
	State      string          `json:"state"`
	Accounts   []string        `json:"accounts"`
	KeyProfile string          `json:"key_profile,omitempty"`
	Keys       []storedKey     `json:"keys"`
	Overrides  storedOverrides `json:"overrides"`
	LastSeen   *time.Time      `json:"last_seen"`
	RemoteIP   string          `json:"remote_ip"`
	UserAgent  string          `json:"user_agent"`
	Firmware   string          `json:"firmware"`
	LastFile   string          `json:"last_file"`
	Disclosure struct {
		State       string     `json:"state"`
		OpenedAt    *time.Time `json:"opened_at"`
		ExpiresAt   *time.Time `json:"expires_at"`
		DisclosedAt *time.Time `json:"disclosed_at"`
		DisclosedTo *apiPeer   `json:"disclosed_to"`
	} `json:"disclosure"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type apiAudit struct {
	ID     uint      `json:"id"`
	At     time.Time `json:"at"`
	MAC    string    `json:"mac,omitempty"`
	Event  string    `json:"event"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

func apiAccounts(as []autoprov.Account) []apiAccount {
	out := make([]apiAccount, len(as))
	for i, a := range as {
		out[i] = apiAccount{a.Extension, a.DisplayName, a.AuthUser, a.CreatedAt, a.UpdatedAt}
	}
	return out
}

func apiProfiles(ps []autoprov.KeyProfile) []apiProfile {
	out := make([]apiProfile, len(ps))
	for i, p := range ps {
		out[i] = apiProfile{p.Name, p.Description, storeKeys(p.Keys), p.CreatedAt, p.UpdatedAt}
	}
	return out
}

func apiDeviceOf(d autoprov.Device) apiDevice {
	a := apiDevice{MAC: d.MAC, Vendor: d.Vendor, Model: d.Model, Label: d.Label, State: d.State, Accounts: d.Accounts,
		KeyProfile: d.KeyProfile, Keys: storeKeys(d.Keys), Overrides: storedOverrides(d.Overrides), LastSeen: d.LastSeen,
		RemoteIP: d.RemoteIP, UserAgent: d.UserAgent, Firmware: d.Firmware, LastFile: d.LastFile, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	a.Disclosure.State, a.Disclosure.OpenedAt, a.Disclosure.ExpiresAt, a.Disclosure.DisclosedAt =
		d.Disclosure.State, d.Disclosure.OpenedAt, d.Disclosure.ExpiresAt, d.Disclosure.DisclosedAt
	if p := d.Disclosure.DisclosedTo; p != nil {
		a.Disclosure.DisclosedTo = &apiPeer{p.IP, p.UserAgent}
	}
	return a
}

func apiDevices(ds []autoprov.Device) []apiDevice {
	out := make([]apiDevice, len(ds))
	for i, d := range ds {
		out[i] = apiDeviceOf(d)
	}
	return out
}

func apiAudits(es []autoprov.AuditEvent) []apiAudit {
	out := make([]apiAudit, len(es))
	for i, e := range es {
		out[i] = apiAudit(e)
	}
	return out
}

// What mkfixture.sh put in (keep in step with populate() there).
var (
	fixtureSettings = autoprov.Settings{SIPServer: "pbx.fixture.example", SIPPort: 5061, SIPTransport: "tls",
		OutboundProxy: "proxy.fixture.example:5061", NTPServer: "ntp.fixture.example", Timezone: "Europe/Berlin",
		Language: "de", WebLanguage: "fr", ToneScheme: "DE", DisclosureWindowSeconds: 86400}

	fixtureAccounts = []autoprov.Account{
		{Extension: "201", DisplayName: "Alice Example", AuthUser: "201", Password: "fx-sip-201-secret"},
		{Extension: "202", DisplayName: "Bob Builder (Sales)", AuthUser: "bob-auth", Password: "fx-sip-202-secret"},
		{Extension: "203", DisplayName: `Zoë "Z" Müller`, AuthUser: "203", Password: "fx-sip-203-secret"},
		{Extension: "204", DisplayName: "Dave Late", AuthUser: "204", Password: "fx-sip-204-secret"},
		{Extension: "205", DisplayName: "Unused", AuthUser: "205", Password: "fx-sip-205-secret"},
	}

	fixtureProfiles = []autoprov.KeyProfile{
		{Name: "desk", Description: "Front desk layout", Keys: []autoprov.KeySpec{
			{Position: 1, Type: vendors.KeyLine, Line: 1},
			{Position: 2, Type: vendors.KeyBLF, Value: "202", Label: `Bob "B" <ü>`, PickupCode: "*8"},
			{Position: 3, Type: vendors.KeySpeedDial, Value: "5551234", Label: "Support"}}},
		{Name: "spare", Keys: []autoprov.KeySpec{{Position: 1, Type: vendors.KeyDND}}},
	}

	// Devices in MAC order; a device that never fetched has no UserAgent.
	fixtureDevices = []autoprov.Device{
		{MAC: "000413aabb02", Vendor: "snom", Model: "D785", Label: "Sales", State: autoprov.StateAssigned,
			Accounts: []string{"203", "201"},
			Keys: []autoprov.KeySpec{{Position: 1, Type: vendors.KeyLine, Account: "203"},
				{Position: 2, Type: vendors.KeyLine, Account: "201"}, {Position: 3, Type: vendors.KeyPark, Value: "700", Label: "Park"}},
			MenuPassword: "86420", WebPassword: "fx-web-0002",
			Disclosure: autoprov.Disclosure{State: autoprov.DisclosureOpen}},
		{MAC: "000413aabb04", Vendor: "snom", Model: "D717", Label: "Spare", State: autoprov.StateAssigned,
			KeyProfile: "spare", Overrides: autoprov.Overrides{Language: "it"},
			MenuPassword: "9999", WebPassword: "fx-web-0004",
			Disclosure: autoprov.Disclosure{State: autoprov.DisclosureNone}},
		{MAC: "001565aabb03", Vendor: "yealink", Model: "T46S", State: autoprov.StateAssigned,
			Accounts: []string{"204"}, MenuPassword: "1357", WebPassword: "fx-web-0003",
			RemoteIP: "127.0.0.1", UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:03", Firmware: "66.86.0.15", LastFile: "001565aabb03.cfg",
			Disclosure: autoprov.Disclosure{State: autoprov.DisclosureExpired}},
		{MAC: "805ec0aabb01", Vendor: "yealink", Model: "T54W", Label: "Reception desk", State: autoprov.StateAssigned,
			Accounts: []string{"201", "202"}, KeyProfile: "desk",
			Keys: []autoprov.KeySpec{{Position: 4, Type: vendors.KeyBLF, Value: "203", Label: "Zoë"},
				{Module: 1, Position: 1, Type: vendors.KeySpeedDial, Value: "5550001", Label: "Lobby"}},
			Overrides:    autoprov.Overrides{NTPServer: "ntp2.fixture.example", Timezone: "Europe/Paris", Language: "fr", WebLanguage: "en", ToneScheme: "FR"},
			MenuPassword: "2468", WebPassword: "fx-web-0001",
			RemoteIP: "127.0.0.1", UserAgent: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01", Firmware: "96.86.0.100", LastFile: "805ec0aabb01.cfg",
			Disclosure: autoprov.Disclosure{State: autoprov.DisclosureConsumed,
				DisclosedTo: &autoprov.Peer{IP: "127.0.0.1", UserAgent: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"}}},
		{MAC: "805ec0aabb05", Vendor: "yealink", Model: "T46U", State: autoprov.StateUnassigned,
			RemoteIP: "127.0.0.1", UserAgent: "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:05", Firmware: "108.86.0.20", LastFile: "805ec0aabb05.cfg",
			Disclosure: autoprov.Disclosure{State: autoprov.DisclosureNone}},
	}

	// The audit log, oldest first: event and MAC.
	fixtureAudit = [][2]string{
		{"settings.updated", ""}, {"account.created", ""}, {"account.created", ""}, {"account.created", ""},
		{"account.created", ""}, {"account.created", ""}, {"account.updated", ""},
		{"key_profile.created", ""}, {"key_profile.created", ""},
		{"device.created", "001565aabb03"}, {autoprov.EventDisclosureOpened, "001565aabb03"}, {autoprov.EventDisclosureExpired, "001565aabb03"},
		{"settings.updated", ""},
		{"device.created", "805ec0aabb01"}, {autoprov.EventDisclosureOpened, "805ec0aabb01"}, {autoprov.EventDisclosureConsumed, "805ec0aabb01"},
		{"device.created", "000413aabb02"}, {autoprov.EventDisclosureOpened, "000413aabb02"}, {"device.updated", "000413aabb02"},
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
	checkSealed(t, s, dsn)

	// Settings.
	if st, err := s.Settings(context.Background()); err != nil || st != fixtureSettings || storeSettings(st) != snap.Settings {
		t.Errorf("settings = %+v, %v; want %+v", st, err, fixtureSettings)
	}

	// Accounts: every one, with what the old server stamped, and passwords.
	accounts, err := s.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, apiAccounts(accounts)), asJSON(t, snap.Accounts); got != want {
		t.Errorf("accounts =\n%s\nwant (old API)\n%s", got, want)
	}
	if len(accounts) != len(fixtureAccounts) {
		t.Fatalf("%d accounts, want %d", len(accounts), len(fixtureAccounts))
	}
	for i, want := range fixtureAccounts {
		got, err := s.Account(context.Background(), want.Extension)
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
	profiles, err := s.KeyProfiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, apiProfiles(profiles)), asJSON(t, snap.KeyProfiles); got != want {
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
	devices, err := s.Devices(context.Background(), autoprov.DeviceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, apiDevices(devices)), asJSON(t, snap.Devices); got != want {
		t.Errorf("devices =\n%s\nwant (old API)\n%s", got, want)
	}
	if len(devices) != len(fixtureDevices) {
		t.Fatalf("%d devices, want %d", len(devices), len(fixtureDevices))
	}
	for i, want := range fixtureDevices {
		got, err := s.Device(context.Background(), want.MAC)
		if err != nil {
			t.Fatal(err)
		}
		if asJSON(t, apiDeviceOf(got)) != asJSON(t, apiDeviceOf(devices[i])) || got.MenuPassword != devices[i].MenuPassword || got.WebPassword != devices[i].WebPassword {
			t.Errorf("Device(%s) = %+v, differs from Devices() = %+v", want.MAC, got, devices[i])
		}
		checkDevice(t, got, want)
	}

	// The audit log, every row.
	audit, err := s.Audit(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, apiAudits(audit)), asJSON(t, snap.Audit); got != want {
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
	if _, err := s.CreateAccount(context.Background(), autoprov.Account{Extension: "206", DisplayName: "New"}); err != nil {
		t.Fatalf("create account after upgrade: %v", err)
	}
	if err := s.AppendAudit(context.Background(), autoprov.AuditEvent{Event: "test.after_upgrade"}); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Audit(context.Background(), "", 1); err != nil || len(evs) != 1 || evs[0].ID != uint(len(fixtureAudit)+1) {
		t.Fatalf("audit after upgrade = %+v, %v; want ID %d", evs, err, len(fixtureAudit)+1)
	}
	dev, _ := s.Device(context.Background(), "000413aabb02")
	now := dev.Disclosure.OpenedAt.Add(time.Minute)
	if won, err := s.Reserve(context.Background(), "000413aabb02", "after-upgrade", now, time.Minute); err != nil || !won {
		t.Fatalf("reserve the open window after upgrade: %v, %v", won, err)
	}
	if ok, err := s.Commit(context.Background(), "000413aabb02", "after-upgrade", now, autoprov.Peer{IP: "192.0.2.9"}); err != nil || !ok {
		t.Fatalf("commit after upgrade: %v, %v", ok, err)
	}
	if err := s.DeleteAccount(context.Background(), "204"); err == nil {
		t.Fatal("deleted account 204 while 001565aabb03 carries it")
	}
}

// checkDevice compares a device read back with what mkfixture.sh put in.
func checkDevice(t *testing.T, got, want autoprov.Device) {
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
	// Migration 2: the old release consumed a window only once its
	// transfer completed.
	if consumed := w.State == autoprov.DisclosureConsumed; (d.Complete != nil) != consumed || (consumed && !*d.Complete) {
		t.Errorf("device %s disclosure complete = %v, want true for a consumed window, else nil", want.MAC, d.Complete)
	}
	opened := w.State != autoprov.DisclosureNone
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

// checkSealed: every secret column of the upgraded database holds a value
// sealed under the test keyring's current key, and none of the fixture's
// passwords is anywhere in it (on SQLite: in the file or its WAL).
func checkSealed(t *testing.T, s *Store, dsn string) {
	t.Helper()
	var secrets []string
	for _, a := range fixtureAccounts {
		secrets = append(secrets, a.Password)
	}
	for _, d := range fixtureDevices {
		secrets = append(secrets, d.MenuPassword, d.WebPassword)
	}
	raw := rawDB(t, dsn)
	n := 0
	for _, c := range secretColumns {
		rows, err := raw.Query("SELECT " + c.column + " FROM " + c.table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v == "" {
				continue
			}
			n++
			if id, ok := sealed.KeyOf(v); !ok || id != testKeys.Current() {
				t.Errorf("%s.%s holds %.12q..., not a value sealed under %s", c.table, c.column, v, testKeys.Current())
			}
		}
		rows.Close()
	}
	if n < len(fixtureAccounts)+2 {
		t.Errorf("only %d sealed values", n)
	}
	if byKey, plain, err := s.SealCounts(context.Background()); err != nil || plain != 0 || byKey[testKeys.Current()] != n {
		t.Errorf("SealCounts = %v, %d plain, %v; want %d under %s", byKey, plain, err, n, testKeys.Current())
	}
	if IsPostgres(dsn) {
		return
	}
	for _, f := range []string{dsn, dsn + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, secret := range secrets {
			if secret != "" && testlog.Holds(string(b), secret) {
				t.Errorf("%s still holds a fixture password in plain text", filepath.Base(f))
			}
		}
	}
}
