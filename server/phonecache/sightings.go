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
	// queued longer ago than this (DefaultRefresh when 0), so the stored
	// last seen is accurate to it; Overlay shows the exact time.
	Refresh time.Duration
	Log     *slog.Logger
}

// Defaults of SightingOptions.
const (
	DefaultQueue   = 50_000
	DefaultFlush   = time.Second
	DefaultRefresh = 5 * time.Minute
	batchSize      = 1_000 // sightings per transaction
	shards         = 16    // the queue's locks: a fetch takes one of them
)

// Sightings queues what known phones report (provision.Reporter) and
// writes it in batches in the background: a phone's fetch never waits on a
// write. What a crash (kill -9) can lose is what is queued: at most
// Options.Every of last seen, IP, User-Agent, reported firmware and last
// file. Never a secret, a disclosure or an admin write: those are written
// synchronously, elsewhere.
//
// The queue is split in shards by MAC, each with its own lock, so that
// concurrent fetches rarely wait on each other.
type Sightings struct {
	w    SightingWriter
	o    SightingOptions
	log  *slog.Logger
	seed maphash.Seed
	// recall bounds what each shard recalls of the last reports.
	recall int

	shard   [shards]sightShard
	pending atomic.Int64 // MACs waiting in all shards, at most Max

	dropped, failed atomic.Int64
}

// remember: the shards recall the last report of up to remember × Max
// MACs (a fleet of 400,000 by default, ~50 bytes each); past that a shard
// forgets those last queued longer than Refresh ago, then all.
const remember = 8

// The shards key MACs by macKey: a fetch's report looks its MAC up in a
// map of the whole fleet's, where a string key costs a hash of the string
// and a comparison reading it from wherever it lies (pprof: the largest
// part of a report's cost at 100,000 phones).
type sightShard struct {
	mu      sync.Mutex
	pending map[uint64]autoprov.Sighting
	// writing: what a flush took off pending and has not committed yet,
	// shown by Overlay and At until it is in the database.
	writing map[uint64]autoprov.Sighting
	last    map[uint64]queued // what was last queued per MAC, and when it was last seen
}

// macKey keys a MAC in the shards: a canonical MAC (12 lower-case hex
// digits) is its 48-bit value; anything else (no edge passes one) a hash
// with the top bit set, so it never meets a canonical one.
func (s *Sightings) macKey(mac string) uint64 {
	if len(mac) == 12 {
		var k uint64
		for i := range 12 {
			c := mac[i]
			switch {
			case '0' <= c && c <= '9':
				k = k<<4 | uint64(c-'0')
			case 'a' <= c && c <= 'f':
				k = k<<4 | uint64(c-'a'+10)
			default:
				return maphash.String(s.seed, mac) | 1<<63
			}
		}
		return k
	}
	return maphash.String(s.seed, mac) | 1<<63
}

// queued is what a shard recalls of a MAC's reports: the sum of the last
// queued one's fields, when it was queued and when the MAC was last seen
// (Unix nanoseconds).
type queued struct {
	sum        uint64
	at, seenAt int64
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
	s := &Sightings{w: w, o: o, log: o.Log.With("component", "sightings"), seed: maphash.MakeSeed(),
		recall: max(64, remember*o.Max/shards)}
	for i := range s.shard {
		s.shard[i].pending = map[uint64]autoprov.Sighting{}
		s.shard[i].writing = map[uint64]autoprov.Sighting{}
		s.shard[i].last = map[uint64]queued{}
	}
	return s
}

// shardOf is the shard of a MAC's key: its bits mixed (a fleet's MACs
// share their first half), the top four taken.
func (s *Sightings) shardOf(k uint64) *sightShard {
	return &s.shard[(k*0x9e3779b97f4a7c15)>>60%shards]
}

// reported is what a report says besides its MAC and time, hashed in one
// go: a repeat of the last one is not queued again.
type reported struct{ ip, ua, firmware, file, vendor, model string }

// Report queues v; it never blocks on the database. A full queue drops
// it (counted in Dropped).
func (s *Sightings) Report(_ context.Context, v autoprov.Sighting) error {
	sum, at := maphash.Comparable(s.seed, reported{v.RemoteIP, v.UserAgent, v.Firmware, v.File, v.Vendor, v.Model}), v.At.UnixNano()
	k := s.macKey(v.MAC)
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	q, recalled := sh.last[k]
	if recalled && q.sum == sum && at-q.at < int64(s.o.Refresh) {
		if at > q.seenAt {
			q.seenAt = at
			sh.last[k] = q
		}
		return nil
	}
	if _, ok := sh.pending[k]; !ok {
		if s.pending.Add(1) > int64(s.o.Max) {
			s.pending.Add(-1)
			s.dropped.Add(1)
			return nil
		}
	}
	sh.pending[k] = v
	if !recalled && len(sh.last) >= s.recall {
		sh.forget(at - int64(s.o.Refresh))
	}
	sh.last[k] = queued{sum: sum, at: at, seenAt: max(q.seenAt, at)} // q: zero when not recalled
	return nil
}

// forget bounds what the shard recalls: it drops the MACs last queued
// before cutoff (their next report is written anyway), and all if that
// frees too little. Either way the next report of a forgotten MAC is
// written again.
func (sh *sightShard) forget(cutoff int64) {
	n := len(sh.last)
	for k, q := range sh.last {
		if q.at < cutoff {
			delete(sh.last, k)
		}
	}
	if len(sh.last) > n*3/4 {
		clear(sh.last)
	}
}

// Overlay returns d with what is queued for it and not written yet (last
// seen, IP, User-Agent, firmware, last file), a flush under way included,
// or, when the phone's newest reports repeated one already written, the
// time it was last seen: the admin side shows a phone's newest report at
// once and not after the next flush or Refresh.
func (s *Sightings) Overlay(d autoprov.Device) autoprov.Device {
	k := s.macKey(d.MAC)
	sh := s.shardOf(k)
	sh.mu.Lock()
	v, ok := sh.pending[k]
	if !ok {
		v, ok = sh.writing[k]
	}
	seenAt := sh.last[k].seenAt // zero when not recalled
	sh.mu.Unlock()
	if !ok {
		if d.LastSeen != nil && seenAt > d.LastSeen.UnixNano() {
			at := time.Unix(0, seenAt).UTC()
			d.LastSeen = &at
		}
		return d
	}
	if d.LastSeen != nil && !v.At.After(*d.LastSeen) {
		return d
	}
	at := v.At.UTC()
	if seenAt > v.At.UnixNano() {
		at = time.Unix(0, seenAt).UTC()
	}
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
// report came most recently from ip, or false. It reads the whole queue, a
// flush under way included: for rare callers (firmware downloads naming
// their device by address).
func (s *Sightings) At(ip string) (string, bool) {
	var best autoprov.Sighting
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		for _, m := range []map[uint64]autoprov.Sighting{sh.pending, sh.writing} {
			for _, v := range m {
				if v.RemoteIP == ip && v.At.After(best.At) {
					best = v
				}
			}
		}
		sh.mu.Unlock()
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

// Flush writes what is queued now, in transactions of up to 1,000. What
// it takes off the queue stays visible to Overlay and At until its
// transaction has ended.
func (s *Sightings) Flush(ctx context.Context) {
	var batch []autoprov.Sighting
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		for k, v := range sh.pending {
			batch = append(batch, v)
			sh.writing[k] = v
		}
		s.pending.Add(-int64(len(sh.pending)))
		clear(sh.pending)
		sh.mu.Unlock()
	}
	for len(batch) > 0 {
		n := min(len(batch), batchSize)
		err := s.w.SeenBatch(ctx, batch[:n])
		if err != nil {
			s.failed.Add(int64(n))
			s.log.Error("write sightings; last seen, IP and User-Agent of these phones not updated", "count", n, "err", err)
		}
		for _, v := range batch[:n] {
			k := s.macKey(v.MAC)
			sh := s.shardOf(k)
			sh.mu.Lock()
			if w, ok := sh.writing[k]; ok && w.At.Equal(v.At) {
				delete(sh.writing, k) // a later flush's own entry stays
			}
			if err != nil {
				delete(sh.last, k) // written again on its next report
			}
			sh.mu.Unlock()
		}
		batch = batch[n:]
	}
}
