// Package phonecache keeps what a phone's fetch reads in memory, so that in
// the steady state a fetch makes no database query and no write:
//
//  1. Device snapshots (by MAC), the settings, accounts and key profiles
//     are read through the store once and kept; a per-device file
//     rendered without secrets is kept on the snapshot it was rendered
//     from (at most four, under a FileKey: file, driver, model, base URL,
//     year, reported firmware, maintenance window), so it goes with it;
//     common files are kept by MAC and FileKey. Snapshots and common files
//     are bounded (least recently used first, Options.Size each).
//  2. Every write that can change a phone's file adds a row to the store's
//     change log in its own transaction, by trigger, whoever writes (this
//     server, the CLI, another instance on the same database). Watch reads
//     the log every Options.Poll (250 ms) and drops what it names: one
//     device and its files, or everything. The admin side of this process
//     reads the log right after each write (Admin), so its next fetch sees it.
//  3. A device whose disclosure window is open is read from the store on
//     every fetch and its files are not cached; secrets are never cached.
//  4. Sightings of known phones are queued and written in batches (Sightings).
//
// An epoch, bumped by every drop, keeps a read that raced a drop out of the
// cache. See README.md for what a crash loses.
package phonecache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
)

// Source is the store the cache reads through and whose change log it
// follows (server/store).
type Source interface {
	provision.SettingsReader
	provision.AccountReader
	provision.ProfileReader
	provision.DeviceReader
	// Changes returns what changed after revision after (at most limit
	// MACs, else everything).
	Changes(ctx context.Context, after int64, limit int) (autoprov.Changes, error)
	// Revision returns the newest revision.
	Revision(ctx context.Context) (int64, error)
	// PruneChanges keeps only the newest keep revisions.
	PruneChanges(ctx context.Context, keep int64) error
}

// Options configure the cache.
type Options struct {
	// Size bounds the device snapshots (each with at most four per-device
	// files) and, separately, the common files kept (DefaultSize when 0).
	Size int
	// Poll is how often Watch reads the change log (DefaultPoll when 0):
	// what another process writes reaches this cache within it.
	Poll time.Duration
	Log  *slog.Logger
}

// Defaults of Options.
const (
	DefaultSize = 100_000
	DefaultPoll = 250 * time.Millisecond
	// changesPerRead bounds the MACs one read of the log names; more drop
	// everything.
	changesPerRead = 10_000
	// keepChanges is how many revisions of the log Watch keeps (pruning
	// once a minute); an instance further behind drops everything.
	keepChanges = 100_000
)

// Cache is the phone side's read-through cache. It satisfies the
// provision readers and provision.FileCache. Safe for concurrent use.
type Cache struct {
	src Source
	o   Options
	log *slog.Logger

	syncMu sync.Mutex // one read of the change log at a time
	rev    int64      // the revision applied, under syncMu

	epoch atomic.Uint64 // bumped by every drop, under mu; read without it

	mu       sync.RWMutex
	settings *autoprov.Settings
	accounts map[string]autoprov.Account
	accList  []autoprov.Account // nil: not read
	profiles map[string]autoprov.KeyProfile
	params   map[string][]autoprov.Param // a model's raw parameters, by vendor "\x00" model
	profList []autoprov.KeyProfile       // nil: not read
	targets  *targetSet                  // the firmware targets (targets.go); nil: not read
	devices  *lru[string, *snapshot]
	files    *lru[fileKey, provision.CachedFile] // common files
	devFiles int                                 // files held on snapshots

	hits, misses atomic.Int64
}

// snapshot is a cached device with the per-device files rendered from it
// (under mu): they go with it when it is dropped or evicted. A fetch
// finds its file on the snapshot held for the MAC (the map entry its
// device read has just touched), not in a map of its own.
type snapshot struct {
	dev   autoprov.Device
	files []deviceFile // at most filesPerDevice, the oldest replaced first
}

// deviceFile is a per-device file rendered without secrets.
type deviceFile struct {
	key provision.FileKey
	f   provision.CachedFile
}

// filesPerDevice bounds the per-device files kept on a snapshot: a phone
// fetches one or two (its configuration, a Snom its settings and
// firmware files); more kinds of request (base URLs, say) replace the
// oldest.
const filesPerDevice = 4

// fileKey keys a common file: a file that depends on the settings only,
// kept by MAC too when it was asked for by one.
type fileKey struct {
	mac string
	key provision.FileKey
}

// New returns an empty cache on src; Start reads where the change log
// stands.
func New(src Source, o Options) *Cache {
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	c := &Cache{src: src, o: o, log: o.Log.With("component", "phonecache"), accounts: map[string]autoprov.Account{}, profiles: map[string]autoprov.KeyProfile{}, params: map[string][]autoprov.Param{}}
	c.devices = newLRU[string](o.Size, func(s *snapshot) { c.devFiles -= len(s.files) })
	c.files = newLRU[fileKey, provision.CachedFile](o.Size, nil)
	return c
}

// Start reads the change log's newest revision: what was written before
// is in the store, which the empty cache reads through. Call it once,
// before serving, then run Watch.
func (c *Cache) Start(ctx context.Context) error {
	rev, err := c.src.Revision(ctx)
	if err != nil {
		return err
	}
	c.syncMu.Lock()
	c.rev = rev
	c.syncMu.Unlock()
	return nil
}

// Watch reads the change log every Options.Poll and drops what changed,
// and prunes the log once a minute, until ctx is done.
func (c *Cache) Watch(ctx context.Context) {
	t := time.NewTicker(c.o.Poll)
	defer t.Stop()
	lastPrune, failing := time.Now(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := c.Sync(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			c.log.Error("read the change log; the cache keeps what it has until it can", "err", err)
		case err == nil && failing:
			failing = false
			c.log.Info("change log readable again")
		}
		if time.Since(lastPrune) > time.Minute {
			lastPrune = time.Now()
			if err := c.src.PruneChanges(ctx, keepChanges); err != nil && ctx.Err() == nil {
				c.log.Warn("prune the change log", "err", err)
			}
		}
	}
}

// Sync reads the change log now and drops what changed since the last
// read. A read that fails changes nothing (the next one reads from the
// same revision) and is returned.
func (c *Cache) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	ch, err := c.src.Changes(ctx, c.rev, changesPerRead)
	if err != nil {
		return err
	}
	if ch.All {
		c.DropAll()
	} else {
		for _, mac := range ch.MACs {
			c.Forget(mac)
		}
	}
	c.rev = ch.Rev
	return nil
}

// Forget drops the device of mac and its files.
func (c *Cache) Forget(mac string) {
	c.mu.Lock()
	c.epoch.Add(1)
	c.devices.remove(mac)
	c.mu.Unlock()
}

// DropAll drops everything.
func (c *Cache) DropAll() {
	c.mu.Lock()
	c.epoch.Add(1)
	c.settings, c.accList, c.profList, c.targets = nil, nil, nil, nil
	clear(c.accounts)
	clear(c.profiles)
	clear(c.params)
	c.devices.clear()
	c.files.clear()
	c.mu.Unlock()
}

// Stats are the cache's counters.
type Stats struct {
	Devices, Files int   // held now
	Hits, Misses   int64 // device reads since start
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Devices: c.devices.len(), Files: c.files.len() + c.devFiles, Hits: c.hits.Load(), Misses: c.misses.Load()}
}

// Device returns the device of mac: its snapshot, or the store's row
// (kept for the next read unless a drop raced the read). A device whose
// window is open (and not past its end) is always read from the store. A missing MAC is not
// cached: the next read asks the store again.
func (c *Cache) Device(ctx context.Context, mac string) (autoprov.Device, error) {
	now := time.Now() // outside the lock: every fetch takes it
	c.mu.RLock()
	if s, ok := c.devices.peek(mac); ok && !s.dev.Disclosure.OpenAt(now) {
		d := s.dev
		c.mu.RUnlock()
		c.hits.Add(1)
		return d, nil
	}
	ep := c.epoch.Load()
	c.mu.RUnlock()
	c.misses.Add(1)
	d, err := c.src.Device(ctx, mac)
	if err != nil {
		return d, err
	}
	c.mu.Lock()
	if c.epoch.Load() == ep {
		c.devices.put(mac, &snapshot{dev: d})
	}
	c.mu.Unlock()
	return d, nil
}

// Settings returns the settings as stored.
func (c *Cache) Settings(ctx context.Context) (autoprov.Settings, error) {
	c.mu.RLock()
	if c.settings != nil {
		st := *c.settings
		c.mu.RUnlock()
		return st, nil
	}
	ep := c.epoch.Load()
	c.mu.RUnlock()
	st, err := c.src.Settings(ctx)
	if err != nil {
		return st, err
	}
	c.mu.Lock()
	if c.epoch.Load() == ep {
		c.settings = &st
	}
	c.mu.Unlock()
	return st, nil
}

// Account returns one account.
func (c *Cache) Account(ctx context.Context, ext string) (autoprov.Account, error) {
	m, err := c.AccountsByExtension(ctx, []string{ext})
	if err != nil {
		return autoprov.Account{}, err
	}
	a, ok := m[ext]
	if !ok {
		return c.src.Account(ctx, ext) // its not-found error, as the store words it
	}
	return a, nil
}

// AccountsByExtension returns those of exts that exist.
func (c *Cache) AccountsByExtension(ctx context.Context, exts []string) (map[string]autoprov.Account, error) {
	out := make(map[string]autoprov.Account, len(exts))
	var missing []string
	c.mu.Lock()
	for _, e := range exts {
		if a, ok := c.accounts[e]; ok {
			out[e] = a
		} else {
			missing = append(missing, e)
		}
	}
	ep := c.epoch.Load()
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := c.src.AccountsByExtension(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	keep := c.epoch.Load() == ep
	if keep && len(c.accounts)+len(got) > c.o.Size {
		clear(c.accounts) // bounded: start over
	}
	for e, a := range got {
		out[e] = a
		if keep {
			c.accounts[e] = a
		}
	}
	c.mu.Unlock()
	return out, nil
}

// Accounts lists every account (the company directory).
func (c *Cache) Accounts(ctx context.Context) ([]autoprov.Account, error) {
	c.mu.Lock()
	if c.accList != nil {
		l := c.accList
		c.mu.Unlock()
		return l, nil
	}
	ep := c.epoch.Load()
	c.mu.Unlock()
	l, err := c.src.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	if l == nil {
		l = []autoprov.Account{}
	}
	c.mu.Lock()
	if c.epoch.Load() == ep && len(l) <= c.o.Size {
		c.accList = l
	}
	c.mu.Unlock()
	return l, nil
}

// KeyProfile returns one key profile.
func (c *Cache) KeyProfile(ctx context.Context, name string) (autoprov.KeyProfile, error) {
	c.mu.Lock()
	if p, ok := c.profiles[name]; ok {
		c.mu.Unlock()
		return p, nil
	}
	ep := c.epoch.Load()
	c.mu.Unlock()
	p, err := c.src.KeyProfile(ctx, name)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	if c.epoch.Load() == ep {
		if len(c.profiles) >= c.o.Size {
			clear(c.profiles)
		}
		c.profiles[name] = p
	}
	c.mu.Unlock()
	return p, nil
}

// ModelParams returns a model's raw vendor parameters.
func (c *Cache) ModelParams(ctx context.Context, vendor, model string) ([]autoprov.Param, error) {
	k := vendor + "\x00" + model
	c.mu.Lock()
	if p, ok := c.params[k]; ok {
		c.mu.Unlock()
		return p, nil
	}
	ep := c.epoch.Load()
	c.mu.Unlock()
	p, err := c.src.ModelParams(ctx, vendor, model)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	if c.epoch.Load() == ep {
		if len(c.params) >= c.o.Size {
			clear(c.params)
		}
		c.params[k] = p
	}
	c.mu.Unlock()
	return p, nil
}

// KeyProfiles lists every key profile.
func (c *Cache) KeyProfiles(ctx context.Context) ([]autoprov.KeyProfile, error) {
	c.mu.Lock()
	if c.profList != nil {
		l := c.profList
		c.mu.Unlock()
		return l, nil
	}
	ep := c.epoch.Load()
	c.mu.Unlock()
	l, err := c.src.KeyProfiles(ctx)
	if err != nil {
		return nil, err
	}
	if l == nil {
		l = []autoprov.KeyProfile{}
	}
	c.mu.Lock()
	if c.epoch.Load() == ep {
		c.profList = l
	}
	c.mu.Unlock()
	return l, nil
}

// Epoch is read before anything a file is rendered from (provision.FileCache).
// It takes no lock: every fetch reads it, and a drop bumps it (under mu)
// before it drops anything, so a read that raced a drop sees it changed.
func (c *Cache) Epoch() uint64 {
	return c.epoch.Load()
}

// File returns a cached file: a per-device one (key.Device) from the
// snapshot of mac's device, a common one from the common files.
func (c *Cache) File(mac string, key provision.FileKey) (provision.CachedFile, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !key.Device {
		return c.files.peek(fileKey{mac, key})
	}
	s, ok := c.devices.peek(mac)
	if !ok {
		return provision.CachedFile{}, false
	}
	for i := range s.files {
		if s.files[i].key == key {
			return s.files[i].f, true
		}
	}
	return provision.CachedFile{}, false
}

// PutFile keeps f unless something was dropped since epoch; a per-device
// file (key.Device) goes on the snapshot of mac's device held now (the
// one it was rendered from, since nothing was dropped) and is not kept
// without one, nor while its window is open.
func (c *Cache) PutFile(mac string, key provision.FileKey, epoch uint64, f provision.CachedFile) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch.Load() {
		return
	}
	if !key.Device {
		c.files.put(fileKey{mac, key}, f)
		return
	}
	n, ok := c.devices.items[mac]
	if !ok || n.val.dev.Disclosure.OpenAt(now) {
		return
	}
	s := n.val
	for i := range s.files {
		if s.files[i].key == key {
			s.files[i].f = f
			return
		}
	}
	if len(s.files) >= filesPerDevice { // readers scan under the read lock: in place
		s.files = s.files[:copy(s.files, s.files[1:])]
		c.devFiles--
	}
	s.files = append(s.files, deviceFile{key: key, f: f})
	c.devFiles++
}
