package vendors

import (
	"fmt"
	"sort"
	"strings"
)

// Registry holds the drivers main lists, in order. It is read-only after
// construction and safe for concurrent use.
type Registry struct {
	drivers []Vendor
	models  [][]Model // models[i] is drivers[i].Models(), read once
	// known is Lookup's answer for each vendor and model name as the
	// drivers spell them (and for the model name alone, when that is
	// unambiguous): every fetch asks, mostly with exactly these.
	known map[[2]string]found
}

type found struct {
	v Vendor
	m Model
}

// NewRegistry returns a registry of the given drivers. Several drivers may
// share a vendor name (e.g. two format families of one vendor) as long as
// their models do not overlap.
func NewRegistry(drivers ...Vendor) *Registry {
	r := &Registry{drivers: drivers}
	for _, v := range drivers {
		r.models = append(r.models, v.Models())
	}
	r.known = map[[2]string]found{}
	for i, v := range drivers {
		for _, m := range r.models[i] {
			for _, name := range append([]string{m.Name}, m.Aliases...) {
				for _, vendor := range []string{v.Name(), ""} {
					if fv, fm, err := r.lookup(vendor, name); err == nil {
						r.known[[2]string{vendor, name}] = found{fv, fm}
					}
				}
			}
		}
	}
	return r
}

// Drivers returns the drivers in registration order.
func (r *Registry) Drivers() []Vendor { return r.drivers }

// Identify asks every driver about the request and returns the identity
// with the highest score (the first registered wins a tie). The score is 0
// when no driver recognised anything.
func (r *Registry) Identify(req Request) (Identity, Vendor) {
	var best Identity
	var bestV Vendor
	for _, v := range r.drivers {
		id := v.Identify(req)
		if id.Score > best.Score {
			best, bestV = id, v
		}
	}
	return best, bestV
}

// IdentifyWith asks one vendor's drivers about the request: used when the
// store already knows which vendor and model a phone is.
func (r *Registry) IdentifyWith(vendor, model string, req Request) (Identity, Vendor, error) {
	v, _, err := r.Lookup(vendor, model)
	if err != nil {
		return Identity{}, nil, err
	}
	return v.Identify(req), v, nil
}

// Lookup finds the driver and model for a vendor and model name. vendor may
// be empty, in which case the model name alone must be unambiguous.
func (r *Registry) Lookup(vendor, model string) (Vendor, Model, error) {
	if f, ok := r.known[[2]string{vendor, model}]; ok {
		return f.v, f.m, nil
	}
	return r.lookup(vendor, model)
}

// lookup is Lookup without the index: it asks every driver.
func (r *Registry) lookup(vendor, model string) (Vendor, Model, error) {
	var found Vendor // the first match; every fetch asks, so no slice
	var foundModel Model
	matches := 0
	for i, v := range r.drivers {
		if vendor != "" && !strings.EqualFold(v.Name(), vendor) {
			continue
		}
		for _, m := range r.models[i] {
			if m.Matches(model) {
				if matches == 0 {
					found, foundModel = v, m
				}
				matches++
			}
		}
	}
	switch matches {
	case 0:
		if vendor != "" && !r.HasVendor(vendor) {
			return nil, Model{}, &TextError{Text: T("unknown vendor %q (supported: %s)", vendor, strings.Join(r.VendorNames(), ", ")), Err: ErrNotFound}
		}
		return nil, Model{}, &TextError{Text: T("unknown model %q (supported: %s)", model, strings.Join(r.ModelNames(vendor), ", ")), Err: ErrNotFound}
	case 1:
		return found, foundModel, nil
	}
	return nil, Model{}, fmt.Errorf("model %q is ambiguous; give the vendor: %w", model, ErrUnsupported)
}

// HasVendor reports whether a driver has the vendor name.
func (r *Registry) HasVendor(name string) bool {
	for _, v := range r.drivers {
		if strings.EqualFold(v.Name(), name) {
			return true
		}
	}
	return false
}

// VendorNames lists the distinct vendor names, sorted.
func (r *Registry) VendorNames() []string {
	seen := map[string]bool{}
	var names []string
	for _, v := range r.drivers {
		if !seen[v.Name()] {
			seen[v.Name()] = true
			names = append(names, v.Name())
		}
	}
	sort.Strings(names)
	return names
}

// ModelNames lists the canonical model names of a vendor (all when vendor is "").
func (r *Registry) ModelNames(vendor string) []string {
	var names []string
	for _, m := range r.Models() {
		if vendor == "" || strings.EqualFold(m.Vendor, vendor) {
			names = append(names, m.Name)
		}
	}
	return names
}

// Models lists every model of every driver, in registration order.
func (r *Registry) Models() []Model {
	var all []Model
	for _, ms := range r.models {
		all = append(all, ms...)
	}
	return all
}

// ByName returns the first driver with the vendor name, for files that
// belong to a vendor rather than a model (a directory).
func (r *Registry) ByName(name string) (Vendor, bool) {
	for _, v := range r.drivers {
		if strings.EqualFold(v.Name(), name) {
			return v, true
		}
	}
	return nil, false
}
