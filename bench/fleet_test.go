package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// fleetSizes are the fleet sizes BenchmarkFleetFetch runs at:
// BENCH_FLEET (comma-separated), else 1,000 and 10,000 (100,000 takes a
// few minutes to seed: BENCH_FLEET=1000,100000).
func fleetSizes(b *testing.B) []int {
	spec := os.Getenv("BENCH_FLEET")
	if spec == "" {
		spec = "1000,10000"
	}
	var out []int
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("BENCH_FLEET: bad size %q", f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkFleetFetch is the cost of one phone's fetch of its per-device
// file through the core (identify, device, accounts, settings, render,
// sighting) on a real SQLite file, at several fleet sizes: a random phone
// each time, none with an open window (the steady state). The target is a
// cost per fetch that stays flat from 1,000 to 100,000 devices.
func BenchmarkFleetFetch(b *testing.B) {
	for _, n := range fleetSizes(b) {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st, err := store.Open(filepath.Join(b.TempDir(), "autoprov.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			phones, err := Seed(ctx, st, n, 2, 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			reg, err := all.Registry("")
			if err != nil {
				b.Fatal(err)
			}
			core, _ := provision.New(provision.Options{Registry: reg, Log: slog.New(slog.DiscardHandler),
				PublicURL: "https://prov.example.com/", DisclosureWindow: 10 * time.Minute}, st)
			reqs := make([]vendors.Request, 4096)
			for i := range reqs {
				p := phones[rand.IntN(len(phones))]
				reqs[i] = vendors.Request{Path: DeviceFile(p.MAC), UserAgent: UserAgent(p.MAC), RemoteAddr: "192.0.2.1", Transport: "http"}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				res, err := core.Provide(ctx, reqs[i%len(reqs)])
				if err != nil {
					b.Fatal(err)
				}
				if res.Secret {
					b.Fatal("a steady-state fetch carries secrets")
				}
				res.Finish(true)
			}
		})
	}
}

// TestSeed checks the fleet the benchmarks seed: every phone adopted with
// its account, its window open when asked for.
func TestSeed(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	phones, err := Seed(ctx, st, 100, 2, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(phones) != 100 {
		t.Fatalf("%d phones", len(phones))
	}
	for _, i := range []int{0, 1, 99} {
		p := phones[i]
		d, err := st.Device(ctx, p.MAC)
		if err != nil {
			t.Fatal(err)
		}
		if d.Model != Model || len(d.Accounts) != 1 || d.Accounts[0] != p.Ext || d.Disclosure.State != autoprov.DisclosureOpen || d.MenuPassword == "" || d.WebPassword == "" {
			t.Errorf("phone %d: %+v", i, d)
		}
		a, err := st.Account(ctx, p.Ext)
		if err != nil || a.Password != p.Password {
			t.Errorf("phone %d: account %+v, %v", i, a, err)
		}
	}
}
