package provision

import (
	"hash/maphash"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/autoprov/autoprov/vendors"
)

// idMemo remembers what the drivers made of a request: identifying runs
// every driver's parsers (regular expressions over the User-Agent), the
// largest cost of a steady-state fetch (pprof). A driver's Identify reads
// only the path, User-Agent, ?mac= and DHCP vendor class of a request, so
// the answer for those is always the same; one entry also keeps what the
// assigned device's own driver said (IdentifyWith), and a small map the
// drivers and models of the inventory's devices (Lookup). Bounded by
// bytes: started over when full.
//
// The map is keyed by the hash of a shape (idKey.hash), and an entry is
// taken only when its own key is the request's: a lookup in a map of the
// fleet's shapes is mostly cache misses (pprof), and a slot of 16 bytes
// rather than 72 (four strings and the pointer) costs fewer of them. Two
// shapes of one hash (never, in practice) take turns in the slot.
type idMemo struct {
	maxBytes int // bounds bytes (idKey.size of every key held)
	seed     maphash.Seed
	mu       sync.RWMutex
	m        map[uint64]*idEntry
	bytes    int // what the keys held take, by idKey.size
	// lookups is copied on write (new pairs come with new devices' models,
	// a handful), so its read takes no lock.
	lookups  atomic.Pointer[map[[2]string]lookupVal]
	lookupMu sync.Mutex // one writer of lookups at a time
}

// idKey is what Identify reads.
type idKey struct {
	path, ua, mac, vendorClass string
}

type idEntry struct {
	// hot is the last answer of this request shape's per-device file
	// from the file cache, while it holds (hot.go); nil: none. First, and
	// the key next: what a hit reads of the entry sits together at its
	// start.
	hot atomic.Pointer[hotAnswer]
	key idKey // the shape (own hands its strings out)
	id  vendors.Identity
	v   vendors.Vendor
	// with is IdentifyWith's answer for withVendor and withModel (set
	// once, under mu).
	withVendor, withModel string
	withID                vendors.Identity
	withV                 vendors.Vendor
	withErr               error
	withSet               bool
}

type lookupVal struct {
	v     vendors.Vendor
	model vendors.Model
	err   error
}

// defaultIDMemo bounds the memo by what its request shapes (a phone's
// path and User-Agent) take, entries included (idKey.size): a phone asks
// for two or three files (a common one, its own), each a shape of about
// 450 bytes, so 128 MiB hold some 300,000 shapes; a client that forges
// ever new request shapes of the longest kept (2 KiB of strings) makes
// the memo start over (every shape identified again) after about 50,000
// of them, and costs no more memory than that.
const defaultIDMemo = 128 << 20

// idEntryBytes is what a shape costs the memo besides its strings: the
// map's slot, the entry and its hot answer.
const idEntryBytes = 384

// packed is k with its strings in one piece of memory, in order: a
// lookup that compares them reads on from one to the next, rather than
// from four places.
func (k idKey) packed() idKey {
	b := make([]byte, 0, len(k.path)+len(k.ua)+len(k.mac)+len(k.vendorClass))
	b = append(append(append(append(b, k.path...), k.ua...), k.mac...), k.vendorClass...)
	s := unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
	i, j, l := len(k.path), len(k.path)+len(k.ua), len(k.path)+len(k.ua)+len(k.mac)
	return idKey{path: s[:i], ua: s[i:j], mac: s[j:l], vendorClass: s[l:]}
}

// size is what k costs the memo.
func (k idKey) size() int {
	return len(k.path) + len(k.ua) + len(k.mac) + len(k.vendorClass) + idEntryBytes
}

// maxLookups bounds the vendor and model pairs kept.
const maxLookups = 10_000

// maxIDField keeps requests with a longer path or User-Agent out of the
// memo (the store keeps 512 bytes of a User-Agent): such a request is
// identified every time.
const maxIDField = 512

// newIDMemo returns a memo bounded to maxBytes (defaultIDMemo when 0).
func newIDMemo(maxBytes int) *idMemo {
	if maxBytes <= 0 {
		maxBytes = defaultIDMemo
	}
	return &idMemo{maxBytes: maxBytes, seed: maphash.MakeSeed(), m: make(map[uint64]*idEntry)}
}

// hash is k's key in m.
func (m *idMemo) hash(k idKey) uint64 { return maphash.Comparable(m.seed, k) }

// get is k's entry, or nil.
func (m *idMemo) get(k idKey) *idEntry {
	h := m.hash(k)
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.at(h, k)
}

// at is k's entry, whose hash is h, or nil; m.mu is held.
func (m *idMemo) at(h uint64, k idKey) *idEntry {
	if e := m.m[h]; e != nil && e.key == k {
		return e
	}
	return nil
}

// put keeps e, starting over when the memo is full; it takes the place of
// an entry of the same hash.
func (m *idMemo) put(e *idEntry) {
	h := m.hash(e.key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[h]; ok {
		m.bytes -= old.key.size()
	}
	if m.bytes+e.key.size() > m.maxBytes {
		clear(m.m)
		m.bytes = 0
	}
	m.bytes += e.key.size()
	m.m[h] = e
}

func keyOf(req vendors.Request) (idKey, bool) {
	k := idKey{path: req.Path, ua: req.UserAgent, mac: req.MAC, vendorClass: req.VendorClass}
	return k, len(k.path) <= maxIDField && len(k.ua) <= maxIDField && len(k.vendorClass) <= maxIDField && len(k.mac) <= maxIDField
}

// identify is Registry.Identify through the memo; it returns the memo's
// entry too (nil for a request kept out of the memo). held is req's entry
// when own found it (nil: look it up).
func (p *Phones) identify(req vendors.Request, held *idEntry) (*idEntry, vendors.Identity, vendors.Vendor) {
	if held != nil {
		return held, held.id, held.v
	}
	k, ok := keyOf(req)
	if !ok {
		id, v := p.reg.Identify(req)
		return nil, id, v
	}
	if e := p.ids.get(k); e != nil {
		return e, e.id, e.v
	}
	// Identified on the packed strings: what the drivers take of them
	// (model, firmware) shares their memory, not the request's.
	k = k.packed()
	req.Path, req.UserAgent, req.MAC, req.VendorClass = k.path, k.ua, k.mac, k.vendorClass
	id, v := p.reg.Identify(req)
	e := &idEntry{key: k, id: id, v: v}
	p.ids.put(e)
	return e, id, v
}

// own makes the strings of req that ProvideBorrowed may be given as views
// of an edge's read buffer (Path, UserAgent, Authorization, Target) the
// core's own, before anything reads them: its shape's memo entry's when
// held (the same bytes, kept already: nothing copied in the steady state),
// which it returns for identify; else copies. The Authorization header
// becomes the one the shape's hot answer keeps when it is the same; the
// request-target, which only a Digest answer reads, is dropped without
// one and with that one.
func (p *Phones) own(req *vendors.Request) *idEntry {
	var e *idEntry
	if k, ok := keyOf(*req); ok {
		e = p.ids.get(k)
	}
	if e != nil {
		req.Path, req.UserAgent = e.key.path, e.key.ua
	} else {
		req.Path, req.UserAgent = strings.Clone(req.Path), strings.Clone(req.UserAgent)
	}
	switch h := e.hotAnswer(); {
	case req.Authorization == "":
		req.Target = "" // only a Digest answer reads it
	case h != nil && sameSecret(req.Authorization, h.auth):
		// A Basic header (a hot answer keeps no other): no request-target
		// for it to sign.
		req.Authorization, req.Target = h.auth, ""
	default:
		req.Authorization, req.Target = strings.Clone(req.Authorization), strings.Clone(req.Target)
	}
	return e
}

// hotAnswer is e's hot answer, or nil (also for no entry).
func (e *idEntry) hotAnswer() *hotAnswer {
	if e == nil {
		return nil
	}
	return e.hot.Load()
}

// identifyWith is Registry.IdentifyWith through the memo.
func (p *Phones) identifyWith(vendor, model string, req vendors.Request) (vendors.Identity, vendors.Vendor, error) {
	k, ok := keyOf(req)
	if !ok {
		return p.reg.IdentifyWith(vendor, model, req)
	}
	m := p.ids
	h := m.hash(k)
	m.mu.RLock()
	e := m.at(h, k)
	if e != nil && e.withSet && e.withVendor == vendor && e.withModel == model {
		id, v, err := e.withID, e.withV, e.withErr
		m.mu.RUnlock()
		return id, v, err
	}
	m.mu.RUnlock()
	id, v, err := p.reg.IdentifyWith(vendor, model, req)
	if e != nil {
		m.mu.Lock()
		e.withVendor, e.withModel, e.withID, e.withV, e.withErr, e.withSet = vendor, model, id, v, err, true
		m.mu.Unlock()
	}
	return id, v, err
}

// lookupModel is Registry.Lookup through the memo (an assigned device's
// vendor and model).
func (p *Phones) lookupModel(vendor, model string) (vendors.Vendor, vendors.Model, error) {
	m, k := p.ids, [2]string{vendor, model}
	if l, ok := m.lookup(k); ok {
		return l.v, l.model, l.err
	}
	v, mod, err := p.reg.Lookup(vendor, model)
	m.lookupMu.Lock()
	defer m.lookupMu.Unlock()
	next := map[[2]string]lookupVal{}
	if old := m.lookups.Load(); old != nil && len(*old) < maxLookups {
		next = maps.Clone(*old)
	}
	next[k] = lookupVal{v: v, model: mod, err: err}
	m.lookups.Store(&next)
	return v, mod, err
}

func (m *idMemo) lookup(k [2]string) (lookupVal, bool) {
	if l := m.lookups.Load(); l != nil {
		v, ok := (*l)[k]
		return v, ok
	}
	return lookupVal{}, false
}
