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
