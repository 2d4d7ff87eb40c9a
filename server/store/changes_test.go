package store

import (
	"context"
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
