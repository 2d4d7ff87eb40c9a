package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// openWindows puts n bulk-created T54W devices in the database, every
// window open from t0 for a minute.
func openWindows(t testing.TB, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := bulkCore(t, s).Bulk(ctx, fleet(0, n), false, "test"); err != nil {
		t.Fatal(err)
	}
	err := s.db.Exec("UPDATE devices SET disclosure_state = ?, opened_at = ?, expires_at = ?, reserved_by = '', reserved_until = NULL",
		autoprov.DisclosureOpen, t0, t0.Add(time.Minute)).Error
	if err != nil {
		t.Fatal(err)
	}
}

// TestExpireMany ends more windows than one of ExpireDue's transactions
// holds: every due one is expired and audited once, a claimed one and one
// not yet due are left alone, and no expiry is in the change log.
func TestExpireMany(t *testing.T) { eachBackend(t, testExpireMany) }

func testExpireMany(t *testing.T, dsn string) {
	const n = 2*expireBatch + 7
	s := open(t, dsn)
	ctx := context.Background()
	openWindows(t, s, n)
	claimed, later := fmt.Sprintf("805ec0%06x", 3), fmt.Sprintf("805ec0%06x", n-1)
	if won, err := s.Reserve(ctx, claimed, "in-flight", t0.Add(30*time.Second), time.Hour); !won || err != nil {
		t.Fatalf("Reserve = %v, %v", won, err)
	}
	if err := s.db.Exec("UPDATE devices SET expires_at = ? WHERE mac = ?", t0.Add(time.Hour), later).Error; err != nil {
		t.Fatal(err)
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	macs, err := s.ExpireDue(ctx, t0.Add(2*time.Minute))
	if err != nil || len(macs) != n-2 {
		t.Fatalf("ExpireDue = %d MACs, %v; want %d", len(macs), err, n-2)
	}
	seen := map[string]bool{}
	for _, m := range macs {
		if seen[m] || m == claimed || m == later {
			t.Fatalf("ExpireDue returned %s (twice, claimed or not due)", m)
		}
		seen[m] = true
	}
	var states []struct {
		DisclosureState string
		N               int
	}
	s.db.Raw("SELECT disclosure_state, COUNT(*) AS n FROM devices GROUP BY disclosure_state ORDER BY disclosure_state").Scan(&states)
	if fmt.Sprint(states) != fmt.Sprintf("[{expired %d} {open 2}]", n-2) {
		t.Fatalf("states = %v", states)
	}
	var audited int64
	s.db.Model(&auditRow{}).Where("event = ?", autoprov.EventDisclosureExpired).Count(&audited)
	if audited != n-2 {
		t.Fatalf("%d expiry audit rows, want %d", audited, n-2)
	}
	evs, err := s.Audit(ctx, macs[0], 1)
	if err != nil || len(evs) != 1 || evs[0].Event != autoprov.EventDisclosureExpired ||
		!strings.Contains(evs[0].Detail, t0.Add(time.Minute).Format(time.RFC3339)) || !evs[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("audit of %s = %+v, %v", macs[0], evs, err)
	}
	// What a phone gets changed at the window's end (Disclosure.OpenAt),
	// not at its recording: nothing for the phone caches to drop.
	if ch, err := s.Changes(ctx, rev, 10*n); err != nil || ch.All || len(ch.MACs) != 0 {
		t.Fatalf("changes after the expiry = %d MACs (all %v), %v; want none", len(ch.MACs), ch.All, err)
	}
	// The pause was this transaction's only: a write after it is logged.
	if _, err := s.OpenDisclosure(ctx, later, t0.Add(3*time.Minute), time.Minute, "test"); err != nil {
		t.Fatal(err)
	}
	if ch, err := s.Changes(ctx, rev, 10*n); err != nil || fmt.Sprint(ch.MACs) != "["+later+"]" {
		t.Fatalf("changes after a window re-armed = %+v, %v", ch, err)
	}
	if macs, err := s.ExpireDue(ctx, t0.Add(2*time.Minute)); err != nil || len(macs) != 0 {
		t.Fatalf("second ExpireDue = %v, %v", macs, err)
	}
}

// BenchmarkExpire10k ends 10,000 windows that ran out together (a bulk
// of phones whose windows were opened at once), as the sweeper does.
func BenchmarkExpire10k(b *testing.B) {
	const n = 10_000
	for b.Loop() {
		b.StopTimer()
		s := open(b, filepath.Join(b.TempDir(), "bench.db"))
		openWindows(b, s, n)
		b.StartTimer()
		start := time.Now()
		macs, err := s.ExpireDue(context.Background(), t0.Add(2*time.Minute))
		took := time.Since(start)
		b.StopTimer()
		if err != nil || len(macs) != n {
			b.Fatalf("ExpireDue = %d, %v", len(macs), err)
		}
		b.ReportMetric(n/took.Seconds(), "windows/s")
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkSeenBatch writes 10,000 known phones' sightings in batches of
// 1,000, as the phone cache's queue does after a fetch of every phone.
func BenchmarkSeenBatch(b *testing.B) {
	const n, batch = 10_000, 1_000
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	if _, err := bulkCore(b, s).Bulk(context.Background(), fleet(0, n), false, "bench"); err != nil {
		b.Fatal(err)
	}
	vs := make([]autoprov.Sighting, n)
	for i := range vs {
		mac := fmt.Sprintf("805ec0%06x", i)
		vs[i] = autoprov.Sighting{MAC: mac, Vendor: "yealink", Model: "T54W", Firmware: "96.86.0.100", RemoteIP: "192.0.2.1",
			UserAgent: "Yealink SIP-T54W 96.86.0.100 " + mac, File: mac + ".cfg"}
	}
	for i := 0; b.Loop(); i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		for j := range vs {
			vs[j].At = at
		}
		start := time.Now()
		for j := 0; j < n; j += batch {
			if err := s.SeenBatch(context.Background(), vs[j:j+batch]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(n/time.Since(start).Seconds(), "sightings/s")
	}
}

// TestSeenBatchColumns: SeenBatch writes what Seen writes for a known
// MAC: last seen, IP, file; the User-Agent and firmware unless empty; the
// vendor and model of an unassigned device only where it had none; and a
// changed firmware is in the change log.
func TestSeenBatchColumns(t *testing.T) { eachBackend(t, testSeenBatchColumns) }

func testSeenBatchColumns(t *testing.T, dsn string) {
	s := open(t, dsn)
	ctx := context.Background()
	seed(t, s, "805ec0aabb01")
	if err := s.CreateDevice(ctx, autoprov.Device{MAC: "805ec0aabb02", State: autoprov.StateUnassigned}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(90 * time.Second)
	first := []autoprov.Sighting{
		{MAC: "805ec0aabb01", Vendor: "snom", Model: "D785", Firmware: "96.86.0.100", RemoteIP: "192.0.2.1", UserAgent: "ua1", File: "a.cfg", At: at},
		{MAC: "805ec0aabb02", Vendor: "yealink", Model: "T46U", RemoteIP: "192.0.2.2", UserAgent: "ua2", File: "b.cfg", At: at},
	}
	if err := s.SeenBatch(ctx, first); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Revision(ctx)
	later := at.Add(time.Minute)
	if err := s.SeenBatch(ctx, []autoprov.Sighting{
		{MAC: "805ec0aabb01", RemoteIP: "192.0.2.3", File: "c.cfg", At: later},                                   // no User-Agent, no firmware
		{MAC: "805ec0aabb02", Vendor: "snom", Model: "D785", Firmware: "10.1", RemoteIP: "192.0.2.4", At: later}, // vendor and model already set
	}); err != nil {
		t.Fatal(err)
	}
	a, err := s.Device(ctx, "805ec0aabb01")
	if err != nil {
		t.Fatal(err)
	}
	if a.Vendor != "yealink" || a.Model != "T54W" || a.UserAgent != "ua1" || a.Firmware != "96.86.0.100" ||
		a.RemoteIP != "192.0.2.3" || a.LastFile != "c.cfg" || a.LastSeen == nil || !a.LastSeen.Equal(later) {
		t.Fatalf("assigned device after its sightings: %+v", a)
	}
	b, err := s.Device(ctx, "805ec0aabb02")
	if err != nil {
		t.Fatal(err)
	}
	if b.Vendor != "yealink" || b.Model != "T46U" || b.UserAgent != "ua2" || b.Firmware != "10.1" || b.RemoteIP != "192.0.2.4" {
		t.Fatalf("unassigned device after its sightings: %+v", b)
	}
	ch, err := s.Changes(ctx, rev, 10)
	if err != nil || ch.All || fmt.Sprint(ch.MACs) != "[805ec0aabb02]" {
		t.Fatalf("changes = %+v, %v; want the device whose firmware changed", ch, err)
	}
}

// BenchmarkDisclosure runs the disclosure of 3,000 phones, each the four
// writes of a first fetch (Reserve, IssueCredential, Commit, Complete), by
// 1 and by 64 goroutines at once (a boot storm's writers, without HTTP).
func BenchmarkDisclosure(b *testing.B) {
	const n = 3_000
	for _, workers := range []int{1, 64} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := open(b, filepath.Join(b.TempDir(), "bench.db"))
				openWindows(b, s, n)
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				next := make(chan int, n)
				for i := range n {
					next <- i
				}
				close(next)
				errs := make(chan error, workers)
				for range workers {
					go func() {
						errs <- discloseAll(s, next)
					}()
				}
				for range workers {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
				took := time.Since(start)
				b.ReportMetric(n/took.Seconds(), "phones/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-us/phone")
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
		})
	}
}

// discloseAll discloses the phones whose indexes it takes from next, as a
// first fetch does.
func discloseAll(s *Store, next <-chan int) error {
	ctx := context.Background()
	now := t0.Add(time.Second)
	for i := range next {
		mac, tok := fmt.Sprintf("805ec0%06x", i), fmt.Sprintf("tok%d", i)
		won, err := s.Reserve(ctx, mac, tok, now, time.Minute)
		if err == nil && won {
			won, err = s.IssueCredential(ctx, mac, tok, "credential-password", now)
		}
		if err == nil && won {
			won, err = s.Commit(ctx, mac, tok, now, autoprov.Peer{IP: "127.1.0.1", UserAgent: "Yealink SIP-T54W 96.86.0.100 " + mac})
		}
		if err == nil && won {
			won, err = s.Complete(ctx, mac, tok, now, true, "")
		}
		if err != nil || !won {
			return fmt.Errorf("disclose %s: won %v, %v", mac, won, err)
		}
	}
	return nil
}
