package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors/all"
)

func strp(s string) *string { return &s }

// counts returns how many accounts, devices and audit rows s holds.
func counts(t *testing.T, s *Store) (accounts, devices, audit int64) {
	t.Helper()
	s.db.Model(&accountRow{}).Count(&accounts)
	s.db.Model(&deviceRow{}).Count(&devices)
	s.db.Model(&auditRow{}).Count(&audit)
	return
}

// TestBulkAllOrNothing: one bad row, the last of 10,000, leaves nothing
// written; every bad row is listed with its kind, index and field.
func TestBulkAllOrNothing(t *testing.T) { eachBackend(t, testBulkAllOrNothing) }

func testBulkAllOrNothing(t *testing.T, dsn string) {
	s := open(t, dsn)
	inv := bulkCore(t, s)
	ctx := context.Background()
	in := fleet(0, 10_000)
	in.Devices[9_999].Model = strp("NoSuchPhone")
	in.Devices[3].MAC = strp("not-a-mac")
	in.Devices[5].MAC = in.Devices[4].MAC               // duplicate MAC
	in.Devices[7].Accounts = &[]string{"nobody"}        // unknown account
	in.Accounts[2].Extension = in.Accounts[1].Extension // duplicate extension
	in.Accounts[8].Password = strp("short")             // bad password
	_, err := inv.Bulk(ctx, in, false, "test")
	var be *autoprov.BulkError
	if !errors.As(err, &be) {
		t.Fatalf("Bulk = %v, want a BulkError", err)
	}
	var got []string
	for _, e := range be.Errors {
		got = append(got, fmt.Sprintf("%s %d %s", e.Kind, e.Index, e.Field))
		if strings.Contains(e.Message, "short") {
			t.Errorf("an error shows the password: %q", e.Message)
		}
	}
	// Device 2 is the one whose account (row 2, a duplicate) is refused.
	want := []string{"account 2 extension", "account 8 password", "device 2 accounts", "device 3 mac", "device 5 mac", "device 7 accounts", "device 8 accounts", "device 9999 model"}
	if !slices.Equal(got, want) {
		t.Errorf("errors %q\nwant %q", got, want)
	}
	if a, d, au := counts(t, s); a+d+au != 0 {
		t.Errorf("after a refused bulk: %d accounts, %d devices, %d audit rows; want none", a, d, au)
	}
}

// TestBulkLikeSingle: a bulk create writes what the single endpoints
// write: sealed passwords, the device with its account, an open window,
// and the same audit events; a dry run writes nothing; a second bulk
// with the same keys updates only the fields it gives (PATCH), and a
// changed SIP password re-opens the windows of the devices carrying it.
func TestBulkLikeSingle(t *testing.T) { eachBackend(t, testBulkLikeSingle) }

func testBulkLikeSingle(t *testing.T, dsn string) {
	s := open(t, dsn)
	inv := bulkCore(t, s)
	ctx := context.Background()

	// The single endpoints, for comparison.
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: strp("500"), DisplayName: strp("Single")}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: strp("805ec0ffff00"), Model: strp("T54W"), Accounts: &[]string{"500"}}, "test"); err != nil {
		t.Fatal(err)
	}
	single, _, _ := inv.ListAudit(ctx, autoprov.AuditFilter{Limit: 10})

	in := fleet(0, 3)
	in.Accounts[0].Password = strp("Bulk-secret-1")
	res, err := inv.Bulk(ctx, in, true, "test")
	if err != nil || !res.DryRun || len(res.AccountsCreated) != 3 || len(res.DevicesCreated) != 3 {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if a, d, _ := counts(t, s); a != 1 || d != 1 {
		t.Fatalf("a dry run wrote: %d accounts, %d devices", a, d)
	}
	if res, err = inv.Bulk(ctx, in, false, "test"); err != nil || len(res.DevicesCreated) != 3 {
		t.Fatalf("bulk: %+v, %v", res, err)
	}
	d, err := inv.Device(ctx, "805ec0000000")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != autoprov.StateAssigned || d.Disclosure.State != autoprov.DisclosureOpen || d.Disclosure.ExpiresAt == nil ||
		!slices.Equal(d.Accounts, []string{"100000"}) || d.Label != "Desk 100000" || d.WebPassword == "" || d.MenuPassword == "" {
		t.Errorf("bulk-created device: %+v", d)
	}
	var raw accountRow
	s.db.Where("extension = ?", "100000").First(&raw)
	if !strings.HasPrefix(raw.Password, "v1:") {
		t.Errorf("bulk password stored as %q, want sealed", raw.Password)
	}
	if a, _ := s.Account(ctx, "100000"); a.Password != "Bulk-secret-1" {
		t.Errorf("password reads back as %q", a.Password)
	}
	bulk, _, _ := inv.ListAudit(ctx, autoprov.AuditFilter{MAC: "805ec0000000", Limit: 10})
	until := regexp.MustCompile(`until \S+`)
	events := func(evs []autoprov.AuditEvent, mac string) (out []string) {
		for _, e := range evs {
			if e.MAC == mac {
				// The window's end names a second: the two writes may fall in
				// two seconds.
				d := until.ReplaceAllString(strings.ReplaceAll(e.Detail, "805ec0000000", mac), "until <t>")
				out = append(out, e.Event+" "+d)
			}
		}
		return out
	}
	if s, b := events(single, "805ec0ffff00"), events(bulk, "805ec0000000"); len(b) != 2 || !slices.Equal(s[:1], b[:1]) ||
		!strings.HasPrefix(b[0], "disclosure.opened") || !strings.HasPrefix(b[1], "device.created yealink T54W") {
		t.Errorf("bulk audit %q, single %q", b, s)
	}

	// Again, as a PATCH: only the label of device 1, the display name of
	// account 1, the password of account 2.
	before, _ := inv.Device(ctx, "805ec0000001")
	again := autoprov.BulkInput{
		Accounts: []autoprov.AccountInput{{Extension: strp("100001"), DisplayName: strp("Renamed")}, {Extension: strp("100002"), Password: strp("New-secret-22")}},
		Devices:  []autoprov.DeviceInput{{MAC: strp("80:5E:C0:00:00:01"), Label: strp("Moved")}},
	}
	if res, err = inv.Bulk(ctx, again, false, "test"); err != nil || len(res.AccountsUpdated) != 2 || len(res.DevicesUpdated) != 1 || len(res.DevicesCreated) != 0 {
		t.Fatalf("second bulk: %+v, %v", res, err)
	}
	after, _ := inv.Device(ctx, "805ec0000001")
	if after.Label != "Moved" || after.Model != before.Model || !slices.Equal(after.Accounts, before.Accounts) || after.WebPassword != before.WebPassword {
		t.Errorf("PATCH by MAC: before %+v\nafter %+v", before, after)
	}
	if a, _ := s.Account(ctx, "100001"); a.DisplayName != "Renamed" || a.Password == "" {
		t.Errorf("account 100001 after the PATCH: %+v", a)
	}
	// The password change re-opened the window of device 2 (carrying 100002).
	evs, _, _ := inv.ListAudit(ctx, autoprov.AuditFilter{MAC: "805ec0000002", Limit: 10})
	if len(evs) != 3 || evs[0].Event != autoprov.EventDisclosureOpened {
		t.Errorf("device 2's audit after its account's password changed: %+v", evs)
	}
}

// TestListsPageAndSearch: the lists page by default with the total, and
// the device search finds by MAC (any notation), label, extension and
// display name.
func TestListsPageAndSearch(t *testing.T) { eachBackend(t, testListsPageAndSearch) }

func testListsPageAndSearch(t *testing.T, dsn string) {
	s := open(t, dsn)
	inv := bulkCore(t, s)
	ctx := context.Background()
	in := fleet(0, 250)
	in.Accounts[42].DisplayName = strp("Zoë_50% Example")
	if _, err := inv.Bulk(ctx, in, false, "test"); err != nil {
		t.Fatal(err)
	}
	ds, total, err := inv.Devices(ctx, autoprov.DeviceFilter{})
	if err != nil || len(ds) != autoprov.DefaultPageLimit || total != 250 {
		t.Errorf("default page: %d devices, total %d, %v", len(ds), total, err)
	}
	if _, _, err := inv.Devices(ctx, autoprov.DeviceFilter{Limit: 1001}); err == nil {
		t.Error("limit 1001 accepted")
	}
	as, total, err := inv.ListAccounts(ctx, autoprov.AccountFilter{Q: "user 1", Limit: 5, Offset: 2})
	// "User 1", "User 10".."User 19", "User 100".."User 199": 111, by extension from 100001.
	if err != nil || total != 111 || len(as) != 5 || as[0].Extension != "100011" {
		t.Errorf("accounts q=user 1: %d, total %d, first %+v, %v", len(as), total, as, err)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"80:5E:C0:00:00:2A", 1}, {"805ec0-00-00", 250}, {"805EC0.0000.F", 10}, {"desk 10001", 10}, {"100042", 1},
		{"zoë_50%", 1}, {"ZOë_5", 1}, {"zo_", 0}, {"%", 0}, {"nothing", 0},
	} {
		_, n, err := inv.Devices(ctx, autoprov.DeviceFilter{Q: tc.q})
		if err != nil || n != tc.want {
			t.Errorf("q=%q: %d devices, %v; want %d", tc.q, n, err, tc.want)
		}
	}
}

// TestSearchUsesIndexes: on SQLite, the plans of the device search and
// filters read indexes, never a whole table.
func TestSearchUsesIndexes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "plan.db"))
	ctx := context.Background()
	for name, f := range map[string]autoprov.DeviceFilter{
		"q mac":       {Q: "80:5e:c0"},
		"q text":      {Q: "alice"},
		"model":       {Model: "t54w"},
		"seen_before": {SeenBefore: time.Now()},
		"seen_after":  {SeenAfter: time.Now()},
	} {
		var rows []deviceRow
		q := s.filter(ctx, f).Session(&gorm.Session{DryRun: true}).Find(&rows)
		sql, vars := q.Statement.SQL.String(), q.Statement.Vars
		res, err := s.db.Raw("EXPLAIN QUERY PLAN "+sql, vars...).Rows()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for res.Next() {
			var id, parent, notused int
			var detail string
			if err := res.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		res.Close()
		if !strings.Contains(strings.Join(plan, "\n"), "INDEX") {
			t.Errorf("%s uses no index:\n%s\n%s", name, sql, strings.Join(plan, "\n"))
		}
		for _, l := range plan {
			if strings.HasPrefix(l, "SCAN devices") || strings.HasPrefix(l, "SCAN accounts") {
				t.Errorf("%s scans a table:\n%s\n%s", name, sql, strings.Join(plan, "\n"))
				break
			}
		}
	}
}

// TestDevicesSortAndProfile: the device list orders by a chosen column
// either way (MAC breaking ties) and keeps the devices of one key profile.
func TestDevicesSortAndProfile(t *testing.T) { eachBackend(t, testDevicesSortAndProfile) }

func testDevicesSortAndProfile(t *testing.T, dsn string) {
	s := open(t, dsn)
	inv := bulkCore(t, s)
	ctx := context.Background()
	in := fleet(0, 5)
	for i, l := range []string{"c", "a", "e", "b", "d"} {
		in.Devices[i].Label = strp(l)
	}
	if _, err := inv.Bulk(ctx, in, false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "desk"}, true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Bulk(ctx, autoprov.BulkInput{Devices: []autoprov.DeviceInput{{MAC: strp("805ec0000001"), KeyProfile: strp("desk")}, {MAC: strp("805ec0000003"), KeyProfile: strp("desk")}}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	labels := func(f autoprov.DeviceFilter) string {
		t.Helper()
		ds, _, err := inv.Devices(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Label)
		}
		return strings.Join(out, "")
	}
	for sort, want := range map[string]string{"": "caebd", "mac": "caebd", "-mac": "dbeac", "label": "abcde", "-label": "edcba"} {
		if got := labels(autoprov.DeviceFilter{Sort: sort}); got != want {
			t.Errorf("sort %q: %s, want %s", sort, got, want)
		}
	}
	if got := labels(autoprov.DeviceFilter{KeyProfile: "desk", Sort: "label"}); got != "ab" {
		t.Errorf("devices of profile desk: %s, want ab", got)
	}
	if _, n, err := inv.Devices(ctx, autoprov.DeviceFilter{Disclosure: autoprov.DisclosureOpen}); err != nil || n != 5 {
		t.Errorf("devices with an open window: %d, %v; want 5", n, err)
	}
	if _, n, err := inv.Devices(ctx, autoprov.DeviceFilter{Disclosure: autoprov.DisclosureConsumed}); err != nil || n != 0 {
		t.Errorf("devices with a consumed window: %d, %v; want 0", n, err)
	}
	if _, _, err := inv.Devices(ctx, autoprov.DeviceFilter{Sort: "password"}); err == nil {
		t.Error("sort by password accepted")
	}
}

// cancelAfter is a context that ends after its Err has been asked n
// times once armed: a request that goes away in the middle of a bulk
// write, wherever the write next looks.
type cancelAfter struct {
	context.Context
	mu    sync.Mutex
	armed bool
	n     int
	done  chan struct{}
}

func (c *cancelAfter) Done() <-chan struct{} { return c.done }

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed && c.n > 0 {
		if c.n--; c.n == 0 {
			close(c.done)
		}
	}
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// armingStore arms the context of the bulk write it is given and says
// whether it had ended when the write returned.
type armingStore struct {
	*Store
	ended *bool
}

func (a armingStore) WriteBulk(ctx context.Context, w autoprov.BulkWrite) error {
	c := ctx.(*cancelAfter)
	c.mu.Lock()
	c.armed = true
	c.mu.Unlock()
	err := a.Store.WriteBulk(ctx, w)
	select {
	case <-c.done:
		*a.ended = true
	default:
	}
	return err
}

// TestBulkCancelledMidwayWritesNothing: a bulk change whose context ends
// during its write (the statements run without the context's
// cancellation, which is checked between batches) stops with an error and
// writes nothing, wherever it was; the context's end is seen within the
// write at several places (the checks between batches).
func TestBulkCancelledMidwayWritesNothing(t *testing.T) {
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	stopped := 0
	for _, n := range []int{1, 2, 3, 5, 8, 13, 21} {
		s := open(t, filepath.Join(t.TempDir(), "test.db"))
		var ended bool
		_, inv := provision.New(provision.Options{Registry: reg}, armingStore{s, &ended})
		ctx := &cancelAfter{Context: context.Background(), n: n, done: make(chan struct{})}
		_, err := inv.Bulk(ctx, fleet(0, 3*bulkChunk), false, "test")
		var devices, accounts, audit int64
		s.db.Model(&deviceRow{}).Count(&devices)
		s.db.Model(&accountRow{}).Count(&accounts)
		s.db.Model(&auditRow{}).Count(&audit)
		switch {
		case ended && err == nil:
			t.Errorf("n=%d: the bulk change went through after its context ended", n)
		case ended && devices+accounts+audit != 0:
			t.Errorf("n=%d: %d devices, %d accounts, %d audit rows written", n, devices, accounts, audit)
		case !ended && (err != nil || devices != 3*bulkChunk):
			t.Errorf("n=%d: %d devices written, %v", n, devices, err)
		case ended:
			stopped++
		}
		s.Close()
	}
	if stopped < 5 {
		t.Errorf("the write stopped %d times, want 5 or more: it checks its context in too few places", stopped)
	}
}
