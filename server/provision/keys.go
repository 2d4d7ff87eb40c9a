package provision

import (
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
	name string
	keys []KeySpec
}

type slot struct{ module, position int }

// layout merges layers. It returns the effective keys, earlier layers
// first and each layer in its own order, and for each key a name for
// messages such as "profile reception key 3".
func layout(layers ...layer) ([]KeySpec, []string) {
	var specs []KeySpec
	var names []string
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
		}
	}
	return specs, names
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

// toVendorKeys turns key specs into the drivers' keys, in the same order:
// accounts become line numbers, and a BLF, intercom or speed-dial
// key without a label shows the target account's display name (a line key
// its extension). Keys naming an account not on the device are reported
// by name and left out.
func toVendorKeys(specs []KeySpec, names []string, accounts []string, accts map[string]Account) ([]vendors.Key, []string) {
	keys := make([]vendors.Key, 0, len(specs))
	var errs []string
	for i, k := range specs {
		line := k.Line
		if k.Account != "" {
			line = 0
			for j, ext := range accounts {
				if ext == k.Account {
					line = j + 1
				}
			}
			if line == 0 {
				errs = append(errs, describe(names[i], k, "account "+k.Account+" is not on the device"))
				continue
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
				n := max(line, 1)
				if n <= len(accounts) {
					label = accounts[n-1]
				}
			}
		}
		keys = append(keys, vendors.Key{Position: k.Position, Module: k.Module, Type: k.Type, Line: line,
			Value: k.Value, Label: label, PickupCode: k.PickupCode})
	}
	return keys, errs
}

// sortKeys orders keys by module, then position, as drivers render them.
func sortKeys(keys []vendors.Key) {
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].Module != keys[j].Module {
			return keys[i].Module < keys[j].Module
		}
		return keys[i].Position < keys[j].Position
	})
}
