package phonecache_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/phonecache"
	"github.com/autoprov/autoprov/server/store"
)

// gatedWriter is the store, with its first SeenBatch held until release is
// closed (started is closed when it arrives).
type gatedWriter struct {
	st       *store.Store
	once     sync.Once
	started  chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	written  int
	firstErr error
}

func (g *gatedWriter) SeenBatch(ctx context.Context, vs []autoprov.Sighting) error {
	g.once.Do(func() {
		close(g.started)
		<-g.release
	})
	err := g.st.SeenBatch(ctx, vs)
	g.mu.Lock()
	if err == nil {
		g.written += len(vs)
	} else if g.firstErr == nil {
		g.firstErr = err
	}
	g.mu.Unlock()
	return err
}

// TestStopDuringFlushLosesNothing: shutdown (Run's context done) while a
// periodic flush of several batches is under way: that flush finishes on
// its own context and every queued sighting is written.
func TestStopDuringFlushLosesNothing(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := context.Background()
	const n = 2500 // three batches
	macs := make([]string, n)
	for i := range n {
		macs[i] = fmt.Sprintf("805ec0%06x", i)
	}
	// Three of them in the inventory, to read back; the store's
	// transaction runs (and fails on a canceled context) for all.
	for _, m := range []string{macs[0], macs[n/2], macs[n-1]} {
		if _, err := s.inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(m), Model: ptr("T54W")}, "t"); err != nil {
			t.Fatal(err)
		}
	}
	g := &gatedWriter{st: s.st, started: make(chan struct{}), release: make(chan struct{})}
	q := phonecache.NewSightings(g, phonecache.SightingOptions{Every: 10 * time.Millisecond})
	at := time.Now().UTC().Truncate(time.Second)
	for _, m := range macs {
		q.Report(ctx, autoprov.Sighting{MAC: m, RemoteIP: "192.0.2.44", UserAgent: "ua " + m, At: at})
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); q.Run(rctx) }()
	select {
	case <-g.started: // a periodic flush holds the whole queue
	case <-time.After(10 * time.Second):
		t.Fatal("no flush started")
	}
	stop()
	close(g.release)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after stop")
	}
	if g.firstErr != nil || q.Failed() != 0 || g.written != n {
		t.Fatalf("%d of %d written, %d lost at shutdown: %v", g.written, n, q.Failed(), g.firstErr)
	}
	for _, m := range []string{macs[0], macs[n/2], macs[n-1]} {
		d, err := s.st.Device(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if d.RemoteIP != "192.0.2.44" || d.UserAgent != "ua "+m {
			t.Fatalf("%s not written: %q %q", m, d.RemoteIP, d.UserAgent)
		}
	}
}

// countingWriter counts the sightings written per MAC.
type countingWriter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingWriter) SeenBatch(_ context.Context, vs []autoprov.Sighting) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range vs {
		c.n[v.MAC]++
	}
	return nil
}

func (c *countingWriter) total() (n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.n {
		n += k
	}
	return n
}

// TestRepeatWrittenOncePerRefreshShownExactly: a phone that reports the
// same thing again is written once per Refresh, a change at once; the
// admin side's read (Overlay) shows the time of its newest report all
// the same.
func TestRepeatWrittenOncePerRefreshShownExactly(t *testing.T) {
	ctx := context.Background()
	w := &countingWriter{n: map[string]int{}}
	q := phonecache.NewSightings(w, phonecache.SightingOptions{Refresh: time.Minute})
	const mac = "805ec0000001"
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	v := autoprov.Sighting{MAC: mac, RemoteIP: "192.0.2.5", UserAgent: "ua", File: "a.cfg", At: t0}
	q.Report(ctx, v)
	q.Flush(ctx)
	stored := autoprov.Device{MAC: mac, RemoteIP: "192.0.2.5", LastSeen: &t0}
	for i := 1; i <= 5; i++ { // every 10 s for 50 s: repeats
		v.At = t0.Add(time.Duration(i) * 10 * time.Second)
		q.Report(ctx, v)
		q.Flush(ctx)
	}
	if n := w.total(); n != 1 {
		t.Fatalf("%d writes for a report repeated within Refresh, want 1", n)
	}
	if got := q.Overlay(stored); got.LastSeen == nil || !got.LastSeen.Equal(t0.Add(50*time.Second)) {
		t.Fatalf("admin read shows last seen %v, want the newest report's %v", got.LastSeen, t0.Add(50*time.Second))
	}
	v.At = t0.Add(61 * time.Second) // past Refresh: written again
	q.Report(ctx, v)
	q.Flush(ctx)
	v.At, v.RemoteIP = t0.Add(62*time.Second), "192.0.2.6" // a change: written at once
	q.Report(ctx, v)
	q.Flush(ctx)
	if n := w.total(); n != 3 {
		t.Fatalf("%d writes, want 3 (first, after Refresh, changed address)", n)
	}
	later := t0.Add(time.Hour)
	if got := q.Overlay(autoprov.Device{MAC: mac, LastSeen: &later}); !got.LastSeen.Equal(later) {
		t.Fatalf("a stored last seen newer than every report was overwritten: %v", got.LastSeen)
	}
}

// TestRecallForgetsOldestFirst: past the bound of MACs the queue recalls,
// it forgets those last queued longer than Refresh ago and keeps the
// recent ones, whose repeats stay unwritten.
func TestRecallForgetsOldestFirst(t *testing.T) {
	ctx := context.Background()
	w := &countingWriter{n: map[string]int{}}
	q := phonecache.NewSightings(w, phonecache.SightingOptions{Max: 128, Refresh: time.Minute}) // recalls 64 a shard, 1,024 in all
	now := time.Now()
	report := func(prefix string, n int, at time.Time) {
		for i := range n {
			q.Report(ctx, autoprov.Sighting{MAC: fmt.Sprintf("%s%06x", prefix, i), RemoteIP: "192.0.2.5", At: at})
			if i%100 == 99 {
				q.Flush(ctx)
			}
		}
		q.Flush(ctx)
	}
	report("805ec0", 3000, now.Add(-2*time.Minute)) // many phones, long ago
	report("805ec1", 300, now)                      // a few, now: ~19 a shard
	before := w.total()
	report("805ec1", 300, now.Add(time.Second)) // the same again
	if n := w.total() - before; n != 0 {
		t.Fatalf("%d of 300 recent repeats written again: the bound forgot recent MACs", n)
	}
	if q.Dropped() != 0 {
		t.Fatalf("dropped %d", q.Dropped())
	}
}

// TestFlushInFlightStillShown: while a flush holds a phone's report in
// its transaction (taken off the queue, not committed), the admin side's
// read shows it all the same, and firmware downloads still find the phone
// by its address; once written, the database says the same.
func TestFlushInFlightStillShown(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := context.Background()
	const mac = "805ec0000042"
	if _, err := s.inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(mac), Model: ptr("T54W")}, "t"); err != nil {
		t.Fatal(err)
	}
	g := &gatedWriter{st: s.st, started: make(chan struct{}), release: make(chan struct{})}
	q := phonecache.NewSightings(g, phonecache.SightingOptions{})
	at := time.Now().UTC().Truncate(time.Second)
	q.Report(ctx, autoprov.Sighting{MAC: mac, RemoteIP: "192.0.2.77", UserAgent: "Yealink SIP-T54W 96.86.0.100", File: "805ec0000042.cfg", At: at})
	done := make(chan struct{})
	go func() { defer close(done); q.Flush(ctx) }()
	select {
	case <-g.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no flush started")
	}
	stored, err := s.st.Device(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RemoteIP != "" {
		t.Fatalf("written before the gate opened: %q", stored.RemoteIP)
	}
	d := q.Overlay(stored)
	if d.RemoteIP != "192.0.2.77" || d.LastFile != "805ec0000042.cfg" || d.LastSeen == nil || !d.LastSeen.Equal(at) {
		t.Errorf("during the flush the admin side reads %q %q %v, not the report", d.RemoteIP, d.LastFile, d.LastSeen)
	}
	if m, ok := q.At("192.0.2.77"); !ok || m != mac {
		t.Errorf("during the flush At(192.0.2.77) = %q %v", m, ok)
	}
	close(g.release)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("flush did not end")
	}
	stored, err = s.st.Device(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RemoteIP != "192.0.2.77" {
		t.Fatalf("not written: %q", stored.RemoteIP)
	}
	if _, ok := q.At("192.0.2.77"); ok {
		t.Error("At still answers from the queue after the write")
	}
}
