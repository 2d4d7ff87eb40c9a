package phonecache

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
)

// SightingWriter writes reports of known phones in one transaction
// (server/store).
type SightingWriter interface {
	SeenBatch(ctx context.Context, vs []autoprov.Sighting) error
}

// SightingOptions configure a Sightings queue.
type SightingOptions struct {
	// Max bounds the MACs waiting to be written (DefaultQueue when 0);
	// a report of another MAC while it is full is dropped and counted.
	Max int
	// Every is how often the queue is written (DefaultFlush when 0).
	Every time.Duration
	// Refresh: a report that says what the last one of the same MAC said
	// (IP, User-Agent, firmware, file) is written only when the last was
	// queued longer ago than this (DefaultRefresh when 0), so last seen
	// is accurate to it.
	Refresh time.Duration
	Log     *slog.Logger
}

// Defaults of SightingOptions.
const (
	DefaultQueue   = 50_000
	DefaultFlush   = time.Second
	DefaultRefresh = time.Minute
	batchSize      = 1_000 // sightings per transaction
)

// Sightings queues what known phones report (provision.Reporter) and
// writes it in batches in the background: a phone's fetch never waits on a
// write. What a crash (kill -9) can lose is what is queued: at most
// Options.Every of last seen, IP, User-Agent, reported firmware and last
// file. Never a secret, a disclosure or an admin write: those are written
// synchronously, elsewhere.
type Sightings struct {
	w    SightingWriter
	o    SightingOptions
	log  *slog.Logger
	seed maphash.Seed

	mu      sync.Mutex
	pending map[string]autoprov.Sighting
	last    map[string]queued // what was last queued per MAC (bounded by Max*2)

	dropped, failed atomic.Int64
}

type queued struct {
	sum uint64
	at  time.Time
}

// NewSightings returns an empty queue on w; run Run to write it.
func NewSightings(w SightingWriter, o SightingOptions) *Sightings {
	if o.Max <= 0 {
		o.Max = DefaultQueue
	}
	if o.Every <= 0 {
		o.Every = DefaultFlush
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Sightings{w: w, o: o, log: o.Log.With("component", "sightings"), seed: maphash.MakeSeed(),
		pending: map[string]autoprov.Sighting{}, last: map[string]queued{}}
}

// Report queues v; it never blocks on the database. A full queue drops
// it (counted in Dropped).
func (s *Sightings) Report(_ context.Context, v autoprov.Sighting) error {
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, f := range []string{v.RemoteIP, v.UserAgent, v.Firmware, v.File, v.Vendor, v.Model} {
		h.WriteString(f)
		h.WriteByte(0)
	}
	sum := h.Sum64()
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.last[v.MAC]; ok && q.sum == sum && v.At.Sub(q.at) < s.o.Refresh {
		return nil
	}
	if _, ok := s.pending[v.MAC]; !ok && len(s.pending) >= s.o.Max {
		s.dropped.Add(1)
		return nil
	}
	s.pending[v.MAC] = v
	if len(s.last) >= 2*s.o.Max {
		clear(s.last) // bounded: the next report of each MAC is written again
	}
	s.last[v.MAC] = queued{sum: sum, at: v.At}
	return nil
}

// Overlay returns d with what is queued for it and not written yet (last
// seen, IP, User-Agent, firmware, last file), so that the admin side shows
// a phone's newest report at once and not after the next flush.
func (s *Sightings) Overlay(d autoprov.Device) autoprov.Device {
	s.mu.Lock()
	v, ok := s.pending[d.MAC]
	s.mu.Unlock()
	if !ok || d.LastSeen != nil && !v.At.After(*d.LastSeen) {
		return d
	}
	at := v.At.UTC()
	d.LastSeen, d.RemoteIP, d.LastFile = &at, v.RemoteIP, v.File
	if v.UserAgent != "" {
		d.UserAgent = v.UserAgent
	}
	if v.Firmware != "" {
		d.Firmware = v.Firmware
	}
	return d
}

// At returns the MAC of the known phone whose queued (not yet written)
// report came most recently from ip, or false. It reads the whole queue:
// for rare callers (firmware downloads naming their device by address).
func (s *Sightings) At(ip string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best autoprov.Sighting
	for _, v := range s.pending {
		if v.RemoteIP == ip && v.At.After(best.At) {
			best = v
		}
	}
	return best.MAC, best.MAC != ""
}

// Dropped counts reports dropped because the queue was full.
func (s *Sightings) Dropped() int64 { return s.dropped.Load() }

// Failed counts reports lost to a failed write.
func (s *Sightings) Failed() int64 { return s.failed.Load() }

// flushBound bounds one flush of Run: a flush takes the queue off it
// first, so it runs on a context of its own that shutdown does not cancel
// (its values kept), or a stop during it would lose the rest of its batches.
const flushBound = 10 * time.Second

// Run writes the queue every Options.Every until ctx is done, then once
// more: a clean shutdown loses nothing. Every flush, the one under way at
// the stop included, runs on a context that ctx's end does not cancel,
// bounded to 10 s.
func (s *Sightings) Run(ctx context.Context) {
	t := time.NewTicker(s.o.Every)
	defer t.Stop()
	flush := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushBound)
		defer cancel()
		s.Flush(fctx)
	}
	for {
		select {
		case <-ctx.Done():
			flush()
			return
		case <-t.C:
			flush()
		}
	}
}

// Flush writes what is queued now, in transactions of up to 1,000.
func (s *Sightings) Flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return
	}
	batch := make([]autoprov.Sighting, 0, len(s.pending))
	for _, v := range s.pending {
		batch = append(batch, v)
	}
	clear(s.pending)
	s.mu.Unlock()
	for len(batch) > 0 {
		n := min(len(batch), batchSize)
		if err := s.w.SeenBatch(ctx, batch[:n]); err != nil {
			s.failed.Add(int64(n))
			s.mu.Lock()
			for _, v := range batch[:n] {
				delete(s.last, v.MAC) // written again on its next report
			}
			s.mu.Unlock()
			s.log.Error("write sightings; last seen, IP and User-Agent of these phones not updated", "count", n, "err", err)
		}
		batch = batch[n:]
	}
}
