package provision

import (
	"sync"

	"github.com/autoprov/autoprov/vendors"
)

// idMemo remembers what the drivers made of a request: identifying runs
// every driver's parsers (regular expressions over the User-Agent), the
// largest cost of a steady-state fetch (pprof). A driver's Identify reads
// only the path, User-Agent, ?mac= and DHCP vendor class of a request, so
// the answer for those is always the same. Bounded: started over when
// full.
type idMemo struct {
	max int
	mu  sync.RWMutex
	m   map[idKey]idVal
}

// idKey is what Identify reads; vendor and model are set for IdentifyWith.
type idKey struct {
	vendor, model              string
	path, ua, mac, vendorClass string
}

type idVal struct {
	id    vendors.Identity
	v     vendors.Vendor
	model vendors.Model // lookup's
	err   error
}

func newIDMemo(max int) *idMemo {
	if max <= 0 {
		max = defaultIDMemo
	}
	return &idMemo{max: max, m: make(map[idKey]idVal)}
}

// defaultIDMemo bounds the memo when Options.IdentifyMemo is 0.
const defaultIDMemo = 100_000

// maxIDField keeps requests with a longer path or User-Agent out of the
// memo (the store keeps 512 bytes of a User-Agent): such a request is
// identified every time.
const maxIDField = 512

func (m *idMemo) get(k idKey, f func() idVal) idVal {
	if len(k.path) > maxIDField || len(k.ua) > maxIDField || len(k.vendorClass) > maxIDField || len(k.mac) > maxIDField {
		return f()
	}
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	if ok {
		return v
	}
	v = f()
	m.mu.Lock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[k] = v
	m.mu.Unlock()
	return v
}

// identify is Registry.Identify through the memo.
func (p *Phones) identify(req vendors.Request) (vendors.Identity, vendors.Vendor) {
	v := p.ids.get(idKey{path: req.Path, ua: req.UserAgent, mac: req.MAC, vendorClass: req.VendorClass}, func() idVal {
		id, v := p.reg.Identify(req)
		return idVal{id: id, v: v}
	})
	return v.id, v.v
}

// identifyWith is Registry.IdentifyWith through the memo.
func (p *Phones) identifyWith(vendor, model string, req vendors.Request) (vendors.Identity, vendors.Vendor, error) {
	v := p.ids.get(idKey{vendor: vendor, model: model, path: req.Path, ua: req.UserAgent, mac: req.MAC, vendorClass: req.VendorClass}, func() idVal {
		id, v, err := p.reg.IdentifyWith(vendor, model, req)
		return idVal{id: id, v: v, err: err}
	})
	return v.id, v.v, v.err
}

// lookupModel is Registry.Lookup through the memo (an assigned device's vendor
// and model: as many as the inventory has).
func (p *Phones) lookupModel(vendor, model string) (vendors.Vendor, vendors.Model, error) {
	v := p.ids.get(idKey{vendor: vendor, model: model, path: "\x00lookup"}, func() idVal {
		v, m, err := p.reg.Lookup(vendor, model)
		return idVal{v: v, model: m, err: err}
	})
	return v.v, v.model, v.err
}
