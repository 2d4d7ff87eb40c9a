package provision

import (
	"errors"
	"fmt"
	"sort"

	"github.com/autoprov/autoprov/vendors"
)

// A device's key layout is built from layers: the model's default keys,
// then its key profile, then its own keys. A key of a later layer takes
// the slot (module and position) of an earlier layer's key. Within one
// layer two keys on one slot are an error, which validation reports.

// layer is one source of keys; name says where a key came from in messages
// ("key" for the device's own, so "key 2" is the second key the admin sent).
type layer struct {
	name   string // for messages: "key", "profile reception key"
	source string // for LayoutKey.Source
	keys   []KeySpec
}

type slot struct{ module, position int }

// layout merges layers. It returns the effective keys, earlier layers
// first and each layer in its own order, and for each key a name for
// messages such as "profile reception key 3" and the layer it came from.
func layout(layers ...layer) (specs []KeySpec, names, from []string) {
	for i, l := range layers {
		taken := map[slot]bool{}
		for _, later := range layers[i+1:] {
			for _, k := range later.keys {
				taken[slot{k.Module, k.Position}] = true
			}
		}
		for j, k := range l.keys {
			if taken[slot{k.Module, k.Position}] {
				continue
			}
			specs = append(specs, k)
			names = append(names, fmt.Sprintf("%s %d", l.name, j+1))
			from = append(from, l.source)
		}
	}
	return specs, names, from
}

// LayoutKey is one key of a device's effective layout, as its driver gets
// it, with the account it acts for and the layer it comes from.
type LayoutKey struct {
	vendors.Key
	// Account is the extension of the line the key acts for, or "".
	Account string `json:"account,omitempty"`
	// Source is "model default", "profile <name>" or "device".
	Source string `json:"source"`
}

// Layout returns the effective key layout of an assigned device: what its
// next fetch renders, with labels resolved, ordered by module and position.
func (s *Service) Layout(mac string) ([]LayoutKey, error) {
	d, err := s.store.Device(mac)
	if err != nil {
		return nil, err
	}
	_, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, invalid("mac", "device %s has no supported model", mac)
	}
	profile, err := s.profileKeys(d)
	if err != nil {
		return nil, err
	}
	specs, names, from := layout(s.layers(d, m, profile)...)
	accts, err := s.store.AccountsByExtension(append(append([]string{}, d.Accounts...), values(specs)...))
	if err != nil {
		return nil, err
	}
	out := make([]LayoutKey, 0, len(specs))
	for i, k := range specs {
		vk, err := toVendorKey(k, names[i], d.Accounts, accts)
		if err != nil {
			continue // a key naming an account no longer on the device renders nowhere
		}
		lk := LayoutKey{Key: vk, Source: from[i]}
		if n := max(vk.Line, 1); n <= len(d.Accounts) {
			lk.Account = d.Accounts[n-1]
		}
		out = append(out, lk)
	}
	sort.SliceStable(out, func(i, j int) bool { return less(out[i].Key, out[j].Key) })
	return out, nil
}

// layers are the layers of a device's layout: the model's defaults, its
// key profile's keys and its own keys.
func (s *Service) layers(d Device, m vendors.Model, profile []KeySpec) []layer {
	return []layer{
		{"default key", "model default", defaultSpecs(m, len(d.Accounts))},
		{"profile " + d.KeyProfile + " key", "profile " + d.KeyProfile, profile},
		{"key", "device", d.Keys},
	}
}

func values(specs []KeySpec) []string {
	out := make([]string, 0, len(specs))
	for _, k := range specs {
		out = append(out, k.Value)
	}
	return out
}

// profileKeys returns the keys of the device's key profile, if any.
func (s *Service) profileKeys(d Device) ([]KeySpec, error) {
	if d.KeyProfile == "" {
		return nil, nil
	}
	p, err := s.store.KeyProfile(d.KeyProfile)
	if err != nil {
		return nil, err
	}
	return p.Keys, nil
}

// defaultSpecs returns the model's default keys (its lines) as specs.
func defaultSpecs(m vendors.Model, lines int) []KeySpec {
	var out []KeySpec
	for _, k := range vendors.DefaultKeys(m, lines) {
		out = append(out, KeySpec{Position: k.Position, Module: k.Module, Type: k.Type, Line: k.Line})
	}
	return out
}

// describe names a bad key for a message: "key 2 (blf at position 40): why".
func describe(name string, k KeySpec, why string) string {
	where := fmt.Sprintf("position %d", k.Position)
	if k.Module > 0 {
		where = fmt.Sprintf("module %d position %d", k.Module, k.Position)
	}
	return fmt.Sprintf("%s (%s at %s): %s", name, k.Type, where, why)
}

// toVendorKeys turns key specs into the drivers' keys, in the same order.
// Keys naming an account not on the device are reported by name and left
// out.
func toVendorKeys(specs []KeySpec, names []string, accounts []string, accts map[string]Account) ([]vendors.Key, []string) {
	keys := make([]vendors.Key, 0, len(specs))
	var errs []string
	for i, k := range specs {
		vk, err := toVendorKey(k, names[i], accounts, accts)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		keys = append(keys, vk)
	}
	return keys, errs
}

// toVendorKey turns one key spec into a driver's key: its account becomes a
// line number, and a BLF, intercom or speed-dial key without a label shows
// the target account's display name (a line key its extension).
func toVendorKey(k KeySpec, name string, accounts []string, accts map[string]Account) (vendors.Key, error) {
	line := k.Line
	if k.Account != "" {
		line = 0
		for j, ext := range accounts {
			if ext == k.Account {
				line = j + 1
			}
		}
		if line == 0 {
			return vendors.Key{}, errors.New(describe(name, k, "account "+k.Account+" is not on the device"))
		}
	}
	label := k.Label
	if label == "" {
		switch k.Type {
		case vendors.KeyBLF, vendors.KeyIntercom, vendors.KeySpeedDial:
			if a, ok := accts[k.Value]; ok && a.DisplayName != "" {
				label = a.DisplayName
			}
		case vendors.KeyLine:
			if n := max(line, 1); n <= len(accounts) {
				label = accounts[n-1]
			}
		}
	}
	return vendors.Key{Position: k.Position, Module: k.Module, Type: k.Type, Line: line,
		Value: k.Value, Label: label, PickupCode: k.PickupCode}, nil
}

// sortKeys orders keys by module, then position, as drivers render them.
func sortKeys(keys []vendors.Key) {
	sort.SliceStable(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
}

func less(a, b vendors.Key) bool {
	if a.Module != b.Module {
		return a.Module < b.Module
	}
	return a.Position < b.Position
}
