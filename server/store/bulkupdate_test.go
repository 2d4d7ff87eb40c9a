package store

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
)

// TestBulkUpdateLikePatch: a bulk change of existing accounts and devices
// leaves the database as the single PATCH endpoints do, row for row (every
// column of devices, accounts and their lines, secrets opened, times
// apart) with the same audit events: the same changes made once through
// PATCHes and once through one bulk change, on two databases seeded alike,
// with more devices than one batch of bulkChunk and an adoption among
// them (which a bulk change makes as POST /devices does).
func TestBulkUpdateLikePatch(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testBulkUpdateLikePatch(t, filepath.Join(t.TempDir(), "patch.db"), filepath.Join(t.TempDir(), "bulk.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testBulkUpdateLikePatch(t, postgresDSN(t), postgresDSN(t))
	})
}

func testBulkUpdateLikePatch(t *testing.T, patchDSN, bulkDSN string) {
	const n = bulkChunk + 20
	ctx := context.Background()
	unassigned := "805ec0ffff01"
	ext := func(i int) string { return fmt.Sprint(100000 + i) }
	mac := func(i int) string { return fmt.Sprintf("805ec0%06x", i) }
	seed := func(s *Store) (*provision.Inventory, uint) {
		inv := bulkCore(t, s)
		in := fleet(0, n) // with the secrets given: generated ones would differ
		for i := range n {
			in.Accounts[i].Password = strp(fmt.Sprintf("Seed-secret-%d", i))
			in.Devices[i].MenuPassword, in.Devices[i].WebPassword = strp(fmt.Sprintf("%08d", i)), strp(fmt.Sprintf("seed-web-%d", i))
		}
		if _, err := inv.Bulk(ctx, in, false, "seed"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Seen(ctx, autoprov.Sighting{MAC: unassigned, Vendor: "yealink", Model: "T46U", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		var last auditRow
		s.db.Order("id DESC").First(&last)
		return inv, last.ID
	}

	// The changes: a password (re-opens the window of the device carrying
	// it) or a display name and auth user; a label and TFTP; another model;
	// a second line and a web password (re-opens the window); an adoption.
	var in autoprov.BulkInput
	for i := range n {
		e := ext(i)
		switch i % 4 {
		case 0:
			in.Accounts = append(in.Accounts, autoprov.AccountInput{Extension: &e, Password: strp(fmt.Sprintf("Patched-secret-%d", i))})
		case 1:
			in.Accounts = append(in.Accounts, autoprov.AccountInput{Extension: &e, DisplayName: strp("Renamed " + e)})
			in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: strp(mac(i)), Model: strp("T46U"), Label: strp("")})
		case 2:
			tftp := true
			in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: strp(mac(i)), Label: strp("Moved " + e), TFTPAllowed: &tftp})
		case 3:
			in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: strp(mac(i)), Accounts: &[]string{e, ext(i - 1)}, WebPassword: strp(fmt.Sprintf("web-pass-%d", i))})
		}
	}
	in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: &unassigned, Accounts: &[]string{ext(2)}, Label: strp("Adopted"),
		MenuPassword: strp("12345678"), WebPassword: strp("adopted-web")})

	ps := open(t, patchDSN)
	pinv, pfrom := seed(ps)
	for _, a := range in.Accounts {
		if _, err := pinv.UpdateAccount(ctx, *a.Extension, a, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range in.Devices {
		update := pinv.UpdateDevice
		if *d.MAC == unassigned { // a bulk change adopts as POST /devices does
			update = func(ctx context.Context, _ string, d autoprov.DeviceInput, actor string) (autoprov.Device, error) {
				return pinv.CreateDevice(ctx, d, actor)
			}
		}
		if _, err := update(ctx, *d.MAC, d, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	bs := open(t, bulkDSN)
	binv, bfrom := seed(bs)
	res, err := binv.Bulk(ctx, in, false, "admin")
	if err != nil || len(res.AccountsUpdated) != len(in.Accounts) || len(res.DevicesUpdated) != len(in.Devices)-1 || len(res.DevicesCreated) != 1 {
		t.Fatalf("bulk: %d accounts, %d devices updated, %v", len(res.AccountsUpdated), len(res.DevicesUpdated), err)
	}

	pw, bw := snapshot(t, ps, pfrom), snapshot(t, bs, bfrom)
	for _, part := range []string{"devices", "accounts", "lines", "audit"} {
		p, b := pw[part], bw[part]
		if len(p) != len(b) {
			t.Errorf("%s: %d rows after the PATCHes, %d after the bulk change", part, len(p), len(b))
		}
		shown := 0
		for i := range min(len(p), len(b)) {
			if p[i] != b[i] && shown < 5 {
				shown++
				t.Errorf("%s row %d:\nPATCH %s\nbulk  %s", part, i, p[i], b[i])
			}
		}
	}
	// The changes took (the comparison alone would pass if neither did).
	d, _ := bs.Device(ctx, mac(3))
	a, _ := bs.Account(ctx, ext(0))
	u, _ := bs.Device(ctx, unassigned)
	if d.WebPassword != "web-pass-3" || !slices.Equal(d.Accounts, []string{ext(3), ext(2)}) || a.Password != "Patched-secret-0" ||
		u.State != autoprov.StateAssigned || u.Label != "Adopted" || u.Disclosure.State != autoprov.DisclosureOpen {
		t.Errorf("after the bulk change: device 3 %+v, account 0 %+v, adopted %+v", d, a, u)
	}
}

// snapshot is what s holds, as comparable lines in key order: every
// column of the devices and accounts (secrets opened; times only as set
// or not, created and updated times left out), the lines, and the audit
// events after the row with id after (sorted; the window's end as <t>).
func snapshot(t *testing.T, s *Store, after uint) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	set := func(p **time.Time) {
		if *p != nil {
			*p = &time.Time{}
		}
	}
	var devs []deviceRow
	if err := s.db.Order("mac").Find(&devs).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range devs {
		if err := s.openDevice(&r); err != nil {
			t.Fatal(err)
		}
		r.CreatedAt, r.UpdatedAt = time.Time{}, time.Time{}
		for _, p := range []**time.Time{&r.LastSeen, &r.OpenedAt, &r.ExpiresAt, &r.DisclosedAt, &r.ReservedUntil, &r.CredentialIssuedAt, &r.CredentialAppliedAt, &r.OnboardingAt} {
			set(p)
		}
		out["devices"] = append(out["devices"], fmt.Sprintf("%+v", r))
	}
	var accs []accountRow
	if err := s.db.Order("extension").Find(&accs).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range accs {
		if err := s.openAccount(&r); err != nil {
			t.Fatal(err)
		}
		r.CreatedAt, r.UpdatedAt = time.Time{}, time.Time{}
		out["accounts"] = append(out["accounts"], fmt.Sprintf("%+v", r))
	}
	var lines []deviceAccountRow
	if err := s.db.Order("device_mac, position").Find(&lines).Error; err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		out["lines"] = append(out["lines"], fmt.Sprintf("%s %d %d", l.DeviceMAC, l.Position, l.AccountID))
	}
	var audit []auditRow
	if err := s.db.Where("id > ?", after).Find(&audit).Error; err != nil {
		t.Fatal(err)
	}
	until := regexp.MustCompile(`until \S+`)
	for _, e := range audit {
		out["audit"] = append(out["audit"], fmt.Sprintf("%s %s %s %s", e.MAC, e.Event, e.Actor, until.ReplaceAllString(e.Detail, "until <t>")))
	}
	slices.Sort(out["audit"])
	return out
}

// TestBulkUpdateWritesChangedColumns: a bulk update writes only the columns
// of a device whose value changes, and its lines only when they change (SQLite: a trigger on UPDATE OF the
// others sees none of them written when only labels change), and those
// that do.
func TestBulkUpdateWritesChangedColumns(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "test.db"))
	inv := bulkCore(t, s)
	if _, err := inv.Bulk(ctx, fleet(0, 3), false, "test"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE probe (mac text, what text)",
		"CREATE TRIGGER probe_others AFTER UPDATE OF vendor, model, state, key_profile, keys, overrides, params, menu_password, web_password, tftp_allowed ON devices BEGIN INSERT INTO probe VALUES (NEW.mac, 'others'); END",
		"CREATE TRIGGER probe_label AFTER UPDATE OF label ON devices BEGIN INSERT INTO probe VALUES (NEW.mac, 'label'); END",
		"CREATE TRIGGER probe_lines_out AFTER DELETE ON device_accounts BEGIN INSERT INTO probe VALUES (OLD.device_mac, 'line-'); END",
		"CREATE TRIGGER probe_lines_in AFTER INSERT ON device_accounts BEGIN INSERT INTO probe VALUES (NEW.device_mac, 'line+'); END"} {
		if err := s.db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	probe := func() (out []string) {
		s.db.Raw("SELECT mac || ' ' || what FROM probe ORDER BY mac, what").Scan(&out)
		s.db.Exec("DELETE FROM probe")
		return out
	}
	labels := fleet(0, 3)
	labels.Accounts = nil
	for i := range labels.Devices {
		labels.Devices[i] = autoprov.DeviceInput{MAC: labels.Devices[i].MAC, Label: strp(fmt.Sprint("Moved ", i))}
	}
	if _, err := inv.Bulk(ctx, labels, false, "test"); err != nil {
		t.Fatal(err)
	}
	if got, want := probe(), []string{"805ec0000000 label", "805ec0000001 label", "805ec0000002 label"}; !slices.Equal(got, want) {
		t.Errorf("labels changed: columns written %q, want %q", got, want)
	}
	model := autoprov.BulkInput{Devices: []autoprov.DeviceInput{{MAC: strp("805ec0000001"), Model: strp("T46U"), Label: strp("Moved 1")}}}
	if _, err := inv.Bulk(ctx, model, false, "test"); err != nil {
		t.Fatal(err)
	}
	if got, want := probe(), []string{"805ec0000001 others"}; !slices.Equal(got, want) {
		t.Errorf("a model changed: columns written %q, want %q", got, want)
	}
	if d, _ := s.Device(ctx, "805ec0000001"); d.Model != "T46U" || d.Label != "Moved 1" {
		t.Errorf("after the bulk changes: %+v", d)
	}
	// Lines are rewritten only for the device whose accounts change.
	lines := autoprov.BulkInput{Devices: []autoprov.DeviceInput{{MAC: strp("805ec0000000"), Accounts: &[]string{"100000"}},
		{MAC: strp("805ec0000002"), Accounts: &[]string{"100002", "100000"}}}}
	if _, err := inv.Bulk(ctx, lines, false, "test"); err != nil {
		t.Fatal(err)
	}
	if got, want := probe(), []string{"805ec0000002 line+", "805ec0000002 line+", "805ec0000002 line-"}; !slices.Equal(got, want) {
		t.Errorf("one device's accounts changed: lines written %q, want %q", got, want)
	}
	if d, _ := s.Device(ctx, "805ec0000002"); !slices.Equal(d.Accounts, []string{"100002", "100000"}) {
		t.Errorf("after the change of lines: %+v", d.Accounts)
	}
}

// TestDevicesToEditReadsWhatDeviceReads: the device fields a bulk change
// merges into (keys, overrides and params as JSON, secrets opened,
// accounts in line order) are those Device reads, for a device with all
// of them set and one with none; a MAC that does not exist is left out.
func TestDevicesToEditReadsWhatDeviceReads(t *testing.T) {
	eachBackend(t, testDevicesToEditReadsWhatDeviceReads)
}

func testDevicesToEditReadsWhatDeviceReads(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	for _, ext := range []string{"100", "101"} {
		if _, err := s.CreateAccount(ctx, autoprov.Account{Extension: ext, AuthUser: ext, Password: "secret-" + ext}); err != nil {
			t.Fatal(err)
		}
	}
	full := autoprov.Device{MAC: "805ec0000001", Vendor: "yealink", Model: "T54W", Label: "Desk", State: autoprov.StateAssigned,
		Accounts: []string{"101", "100"}, Keys: []autoprov.KeySpec{{Position: 2, Type: "blf", Value: "100", Label: "Boss"}},
		Overrides:    autoprov.Overrides{Timezone: "Europe/Paris", Language: "fr"},
		Params:       []autoprov.Param{{Name: "static.network.vlan.internet_port_enable", Value: "1"}},
		MenuPassword: "123456", WebPassword: "web-secret", TFTPAllowed: true}
	bare := autoprov.Device{MAC: "805ec0000002", Vendor: "yealink", Model: "T46U", State: autoprov.StateAssigned, Accounts: []string{}, Keys: []autoprov.KeySpec{}}
	for _, d := range []autoprov.Device{full, bare} {
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DevicesToEdit(ctx, []string{full.MAC, bare.MAC, "805ec0000003"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("DevicesToEdit: %d devices, want 2", len(got))
	}
	editable := func(d autoprov.Device) string {
		return fmt.Sprintf("%s %s %s %q %s %v %q %+v %+v %+v %q %q %v", d.MAC, d.Vendor, d.Model, d.Label, d.State, d.Accounts, d.KeyProfile,
			d.Keys, d.Overrides, d.Params, d.MenuPassword, d.WebPassword, d.TFTPAllowed)
	}
	for _, mac := range []string{full.MAC, bare.MAC} {
		want, err := s.Device(ctx, mac)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := editable(got[mac]), editable(want); g != w {
			t.Errorf("DevicesToEdit %s:\n got %s\nwant %s", mac, g, w)
		}
	}
	if g := got[full.MAC]; g.MenuPassword != "123456" || len(g.Keys) != 1 || g.Overrides.Timezone != "Europe/Paris" || len(g.Params) != 1 {
		t.Errorf("DevicesToEdit lost fields: %+v", g)
	}
}

// TestWithWindowCopiesEveryWindowColumn: withWindow copies every column
// windowColumns sets (a column added there and not to withWindow would
// be left as it was on a device whose window a bulk update opens).
func TestWithWindowCopiesEveryWindowColumn(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "test.db"))
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	// A row whose window columns all hold something else than the window's.
	old := func() *time.Time { t := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); return &t } // each its own
	yes := true
	r := deviceRow{MAC: "805ec0000001", Label: "kept", DisclosureState: autoprov.DisclosureConsumed, OpenedAt: old(), ExpiresAt: old(),
		DisclosedAt: old(), DisclosedIP: "10.0.0.1", DisclosedUA: "ua", ReservedBy: "token", ReservedUntil: old(), DisclosureComplete: &yes,
		CredentialState: autoprov.CredentialApplied, CredentialPassword: "sealed", CredentialIssuedAt: old(), CredentialAppliedAt: old()}
	want := r
	if err := setColumns(context.Background(), s.db, &want, windowColumns(at, time.Hour)); err != nil {
		t.Fatal(err)
	}
	var win deviceRow
	if err := setColumns(context.Background(), s.db, &win, windowColumns(at, time.Hour)); err != nil {
		t.Fatal(err)
	}
	withWindow(&r, &win)
	if g, w := fmt.Sprintf("%+v", r), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("withWindow:\n got %s\nwant %s", g, w)
	}
}

// TestAccountsByExtensionReadsWhatAccountReads: the batched read of
// accounts (a raw scan) gives each account as Account does, password
// opened and times included.
func TestAccountsByExtensionReadsWhatAccountReads(t *testing.T) {
	eachBackend(t, testAccountsByExtensionReadsWhatAccountReads)
}

func testAccountsByExtensionReadsWhatAccountReads(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	for _, a := range []autoprov.Account{{Extension: "100", DisplayName: "Ann", AuthUser: "ann", Password: "secret-100", PasswordGenerated: true},
		{Extension: "101", AuthUser: "101"}} {
		if _, err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AccountsByExtension(ctx, []string{"100", "101", "102"})
	if err != nil || len(got) != 2 {
		t.Fatalf("AccountsByExtension: %d accounts, %v", len(got), err)
	}
	for _, ext := range []string{"100", "101"} {
		want, err := s.Account(ctx, ext)
		if err != nil {
			t.Fatal(err)
		}
		if g := got[ext]; g != want || g.CreatedAt.IsZero() {
			t.Errorf("AccountsByExtension %s:\n got %+v\nwant %+v", ext, g, want)
		}
	}
}
