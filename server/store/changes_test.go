package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// The change log names the device of every write that can change what a
// phone gets, says "everything" for settings, accounts and key profiles,
// and stays silent for sightings and claim bookkeeping; a second handle
// (another process) sees the same log.
func TestChangeLog(t *testing.T) { eachBackend(t, testChangeLog) }

func testChangeLog(t *testing.T, dsn string) {
	ctx := context.Background()
	s, other := open(t, dsn), open(t, dsn)
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// next asserts what changed since the last call.
	next := func(what string, all bool, macs ...string) {
		t.Helper()
		c, err := other.Changes(ctx, rev, 1000)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(c.MACs)
		if c.All != all || !slices.Equal(c.MACs, macs) {
			t.Fatalf("%s: changes %+v, want all=%v macs=%v", what, c, all, macs)
		}
		if (all || len(macs) > 0) && c.Rev <= rev {
			t.Fatalf("%s: revision did not move: %d", what, c.Rev)
		}
		rev = c.Rev
	}
	next("nothing yet", false)
	if _, err := s.CreateAccount(ctx, autoprov.Account{Extension: "201", DisplayName: "A", Password: "secret-201-xx"}); err != nil {
		t.Fatal(err)
	}
	next("account created", true)
	const mac = "805ec0aabb01"
	if err := s.CreateDevice(ctx, autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned, Accounts: []string{"201"}}); err != nil {
		t.Fatal(err)
	}
	next("device created", false, mac)
	now := time.Now()
	if _, err := s.Seen(ctx, autoprov.Sighting{MAC: mac, RemoteIP: "192.0.2.1", UserAgent: "ua", File: mac + ".cfg", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeenBatch(ctx, []autoprov.Sighting{{MAC: mac, RemoteIP: "192.0.2.2", UserAgent: "ua2", File: mac + ".cfg", At: now}, {MAC: "805ec0aabb99", At: now}}); err != nil {
		t.Fatal(err)
	}
	next("sightings", false)
	if d, err := s.Device(ctx, mac); err != nil || d.RemoteIP != "192.0.2.2" || d.UserAgent != "ua2" {
		t.Fatalf("batch not written: %+v %v", d, err)
	}
	if _, err := s.Device(ctx, "805ec0aabb99"); err == nil {
		t.Fatal("SeenBatch created a device")
	}
	if _, err := s.Seen(ctx, autoprov.Sighting{MAC: mac, Firmware: "96.86.0.200", At: now}); err != nil {
		t.Fatal(err)
	}
	next("reported firmware changed", false, mac)
	if _, err := s.OpenDisclosure(ctx, mac, now, time.Hour, "test"); err != nil {
		t.Fatal(err)
	}
	next("window opened", false, mac)
	if won, err := s.Reserve(ctx, mac, "tok", now, time.Minute); err != nil || !won {
		t.Fatal(won, err)
	}
	next("reserved", false)
	if won, err := s.Commit(ctx, mac, "tok", now, autoprov.Peer{IP: "192.0.2.1"}); err != nil || !won {
		t.Fatal(won, err)
	}
	next("consumed", false, mac)
	if err := s.PutSettings(ctx, autoprov.Settings{SIPServer: "pbx"}); err != nil {
		t.Fatal(err)
	}
	next("settings", true)
	if _, err := s.CreateKeyProfile(ctx, autoprov.KeyProfile{Name: "p"}); err != nil {
		t.Fatal(err)
	}
	next("key profile", true)
	if err := s.DeleteDevice(ctx, mac); err != nil {
		t.Fatal(err)
	}
	next("device deleted", false, mac)

	// More than the limit, or a pruned range, reads as everything.
	for _, m := range []string{"805ec0aabb02", "805ec0aabb03", "805ec0aabb04"} {
		if err := s.CreateDevice(ctx, autoprov.Device{MAC: m, State: autoprov.StateUnassigned}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := other.Changes(ctx, rev, 2); err != nil || !c.All || c.Rev <= rev {
		t.Fatalf("over the limit: %+v %v", c, err)
	}
	if err := s.PruneChanges(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c, err := other.Changes(ctx, rev, 1000)
	if err != nil || !c.All {
		t.Fatalf("after a prune: %+v %v", c, err)
	}
	if c2, err := other.Changes(ctx, c.Rev, 1000); err != nil || c2.All || len(c2.MACs) != 0 {
		t.Fatalf("after catching up: %+v %v", c2, err)
	}
}

// TestBulkLogsOneChange: a bulk change of accounts, or of bulkPause
// devices or more, logs one change, "everything", not one per row; a
// smaller one of devices logs each device; a refused one logs nothing;
// and the change log is never left paused: the next write logs as usual.
// On PostgreSQL another transaction writing while a bulk change holds the
// pause logs its change as usual.
func TestBulkLogsOneChange(t *testing.T) { eachBackend(t, testBulkLogsOneChange) }

func testBulkLogsOneChange(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	inv := bulkCore(t, s)
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// logged returns the MACs logged since the last call.
	logged := func(what string) []string {
		t.Helper()
		var macs []string
		if err := s.db.Raw("SELECT mac FROM changes WHERE rev > ? ORDER BY rev", rev).Scan(&macs).Error; err != nil {
			t.Fatal(err)
		}
		var paused int64
		if err := s.db.Raw("SELECT COUNT(*) FROM changes_paused").Scan(&paused).Error; err != nil || paused != 0 {
			t.Fatalf("%s: %d rows in changes_paused (%v), want none", what, paused, err)
		}
		if rev, err = s.Revision(ctx); err != nil {
			t.Fatal(err)
		}
		return macs
	}
	const n = bulkPause + 200
	if _, err := inv.Bulk(ctx, fleet(0, n), false, "test"); err != nil {
		t.Fatal(err)
	}
	if got := logged("bulk create"); !slices.Equal(got, []string{""}) {
		t.Fatalf("bulk create of %d devices and accounts logged %d changes (first %q), want one: everything", n, len(got), got[:min(3, len(got))])
	}
	if c, err := s.Changes(ctx, rev-1, 1000); err != nil || !c.All {
		t.Fatalf("Changes after the bulk create = %+v, %v; want All", c, err)
	}
	// A few devices: each one named.
	small := autoprov.BulkInput{}
	for i := range 3 {
		mac := fmt.Sprintf("805ec0%06x", i)
		small.Devices = append(small.Devices, autoprov.DeviceInput{MAC: &mac, Label: strp("moved")})
	}
	if _, err := inv.Bulk(ctx, small, false, "test"); err != nil {
		t.Fatal(err)
	}
	got := logged("small bulk")
	slices.Sort(got)
	if got = slices.Compact(got); !slices.Equal(got, []string{"805ec0000000", "805ec0000001", "805ec0000002"}) {
		t.Fatalf("bulk update of 3 devices logged %q, want their MACs", got)
	}
	// A refused bulk change (the last MAC exists) logs nothing.
	var bad autoprov.BulkWrite
	for i := range n {
		mac := fmt.Sprintf("805ec1%06x", i)
		if i == n-1 {
			mac = "805ec0000005"
		}
		bad.Devices = append(bad.Devices, autoprov.DeviceWrite{Create: true,
			Device: autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned}})
	}
	if err := s.WriteBulk(ctx, bad); !errors.Is(err, ErrConflict) {
		t.Fatalf("WriteBulk with a taken MAC = %v, want ErrConflict", err)
	}
	if got := logged("refused bulk"); len(got) != 0 {
		t.Fatalf("a refused bulk change logged %d changes", len(got))
	}
	// The next single write logs its device.
	if err := s.CreateDevice(ctx, autoprov.Device{MAC: "805ec2000001", Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned}); err != nil {
		t.Fatal(err)
	}
	if got := logged("single create"); !slices.Equal(got, []string{"805ec2000001"}) {
		t.Fatalf("a single create after the bulk changes logged %q", got)
	}
	if !s.postgres {
		return // SQLite: one writer at a time, none beside the bulk change
	}
	bulkTx := s.db.Begin()
	defer bulkTx.Rollback()
	if err := bulkTx.Exec("INSERT INTO changes_paused (id) VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	other := open(t, dsn)
	if err := other.CreateDevice(ctx, autoprov.Device{MAC: "805ec2000002", Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned}); err != nil {
		t.Fatal(err)
	}
	var macs []string
	if err := s.db.Raw("SELECT mac FROM changes WHERE rev > ?", rev).Scan(&macs).Error; err != nil || !slices.Equal(macs, []string{"805ec2000002"}) {
		t.Fatalf("a write beside a paused bulk transaction logged %q (%v), want its MAC", macs, err)
	}
}
