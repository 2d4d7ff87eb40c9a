package store

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors/all"
)

// bulkCore is the real core on s, as the server wires it.
func bulkCore(t testing.TB, s *Store) *provision.Inventory {
	t.Helper()
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	_, inv := provision.New(provision.Options{Registry: reg}, s)
	return inv
}

// fleet is a bulk change of n T54W phones, each with an account of its
// own (generated password, display name), from first on.
func fleet(first, n int) autoprov.BulkInput {
	in := autoprov.BulkInput{Accounts: make([]autoprov.AccountInput, n), Devices: make([]autoprov.DeviceInput, n)}
	model := "T54W"
	for i := range n {
		ext, name := fmt.Sprint(100000+first+i), fmt.Sprintf("User %d", first+i)
		mac := fmt.Sprintf("805ec0%06x", first+i)
		label := "Desk " + ext
		in.Accounts[i] = autoprov.AccountInput{Extension: &ext, DisplayName: &name}
		in.Devices[i] = autoprov.DeviceInput{MAC: &mac, Model: &model, Label: &label, Accounts: &[]string{ext}}
	}
	return in
}

// cpuTime is the CPU time (user and system) this process used so far:
// on a machine shared with other work, what a bulk change costs, apart
// from how long it waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBulk100k is the fleet-scale bulk create: 100,000 devices, each
// with an account of its own, in one POST /api/v1/bulk's core call (the
// rules of the single endpoints, a window and audit rows per device), into
// an empty database: a SQLite file, and PostgreSQL when
// AUTOPROV_TEST_POSTGRES is set. Reports rows (accounts + devices) per
// second, seconds per bulk and the CPU seconds the process used meanwhile
// (cpu-s/bulk: with SQLite, about what the bulk takes on two idle cores).
func BenchmarkBulk100k(b *testing.B) {
	const n = 100_000
	benchBulk(b, nil, func() autoprov.BulkInput { return fleet(0, n) }, func(res autoprov.BulkResult) error {
		if len(res.DevicesCreated) != n || len(res.AccountsCreated) != n {
			return fmt.Errorf("created %d devices, %d accounts", len(res.DevicesCreated), len(res.AccountsCreated))
		}
		return nil
	})
}

// benchBulk times one bulk change of in() per iteration on a fresh
// database of each backend (SQLite; PostgreSQL with
// AUTOPROV_TEST_POSTGRES), after the bulk change before (not timed) when
// given, checks its result and reports rows (accounts + devices of in)
// per second, seconds per bulk and the process's CPU seconds meanwhile.
func benchBulk(b *testing.B, before func() autoprov.BulkInput, in func() autoprov.BulkInput, check func(autoprov.BulkResult) error) {
	run := func(b *testing.B, dsn func(b *testing.B) string) {
		for b.Loop() {
			b.StopTimer()
			s := open(b, dsn(b))
			inv := bulkCore(b, s)
			if before != nil {
				if _, err := inv.Bulk(context.Background(), before(), false, "bench"); err != nil {
					b.Fatal(err)
				}
			}
			input := in()
			b.StartTimer()
			start, cpu := time.Now(), cpuTime()
			res, err := inv.Bulk(context.Background(), input, false, "bench")
			if err != nil {
				b.Fatal(err)
			}
			took, used := time.Since(start), cpuTime()-cpu
			b.StopTimer()
			if err := check(res); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(input.Accounts)+len(input.Devices))/took.Seconds(), "rows/s")
			b.ReportMetric(took.Seconds(), "s/bulk")
			b.ReportMetric(used.Seconds(), "cpu-s/bulk")
			s.Close()
			b.StartTimer()
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, func(b *testing.B) string { return filepath.Join(b.TempDir(), "bench.db") })
	})
	b.Run("postgres", func(b *testing.B) {
		run(b, func(b *testing.B) string { return postgresDSN(b) })
	})
}

// changedFleet is fleet(first, n) again with every account's display name
// and password and every device's label changed: a re-seed of the same
// phones, where every row is an update (a PATCH of those fields) and every
// device's window re-opens (its account's password changed).
func changedFleet(first, n int) autoprov.BulkInput {
	in := fleet(first, n)
	for i := range n {
		name, pw, label := fmt.Sprintf("Renamed %d", first+i), fmt.Sprintf("Changed-secret-%d", first+i), fmt.Sprintf("Moved %d", first+i)
		in.Accounts[i].DisplayName, in.Accounts[i].Password = &name, &pw
		in.Devices[i].Label = &label
	}
	return in
}

// BenchmarkBulkUpdate100k is the fleet-scale bulk update: 100,000 phones
// created as in BenchmarkBulk100k (not timed), then one bulk change that
// updates every one of their accounts (display name, password) and devices
// (label), re-opening every window. Reports as BenchmarkBulk100k does, for
// the update.
func BenchmarkBulkUpdate100k(b *testing.B) {
	const n = 100_000
	benchBulk(b, func() autoprov.BulkInput { return fleet(0, n) }, func() autoprov.BulkInput { return changedFleet(0, n) },
		func(res autoprov.BulkResult) error {
			if len(res.DevicesUpdated) != n || len(res.AccountsUpdated) != n {
				return fmt.Errorf("updated %d devices, %d accounts", len(res.DevicesUpdated), len(res.AccountsUpdated))
			}
			return nil
		})
}
