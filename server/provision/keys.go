package provision

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// A device's key layout is built from layers: the model's default keys,
// then its key profile, then its own keys. A key of a later layer takes
// the slot (module and position) of an earlier layer's key. Within one
// layer two keys on one slot are an error, which validation reports.
//
// layout is the one place that computes it: rendering, validation and the
// admin UI's view all read a keyLayout.

// layoutKey is one key of the effective layout.
type layoutKey struct {
	spec    autoprov.KeySpec
	name    autoprov.Text // for messages: "key 2", "profile reception key 3"
	source  string        // "model default", "profile <name>", "device"
	key     vendors.Key
	account string        // extension of the line the key acts for, or ""
	problem autoprov.Text // why the key cannot render, or none (no Format)
}

// keyLayout is a device's effective key layout on one model.
type keyLayout struct {
	model    vendors.Model
	lines    int
	keys     []layoutKey // earlier layers first, each layer in its own order
	accounts map[string]autoprov.Account
}

type slot struct{ module, position int }

type layer struct {
	name   func(n int) autoprov.Text // the layer's key n (1-based), for messages
	source string
	keys   []autoprov.KeySpec
}

// layout computes the effective layout of d on model m. profile, when not
// nil, stands in for the keys of d's key profile (to check a profile
// change before it is saved).
func (r *renderer) layout(ctx context.Context, d autoprov.Device, m vendors.Model, profile *[]autoprov.KeySpec) (*keyLayout, error) {
	var pkeys []autoprov.KeySpec
	switch {
	case profile != nil:
		pkeys = *profile
	case d.KeyProfile != "":
		p, err := r.profiles.KeyProfile(ctx, d.KeyProfile)
		if err != nil {
			return nil, err
		}
		pkeys = p.Keys
	}
	layers := []layer{
		{func(n int) autoprov.Text { return autoprov.T("default key %d", n) }, "model default", defaultSpecs(m, len(d.Accounts))},
		{func(n int) autoprov.Text { return autoprov.T("profile %s key %d", d.KeyProfile, n) }, "profile " + d.KeyProfile, pkeys},
		{func(n int) autoprov.Text { return autoprov.T("key %d", n) }, "device", d.Keys},
	}
	l := &keyLayout{model: m, lines: len(d.Accounts)}
	for i, ly := range layers {
		taken := map[slot]bool{}
		for _, later := range layers[i+1:] {
			for _, k := range later.keys {
				taken[slot{k.Module, k.Position}] = true
			}
		}
		for j, k := range ly.keys {
			if !taken[slot{k.Module, k.Position}] {
				l.keys = append(l.keys, layoutKey{spec: k, name: ly.name(j + 1), source: ly.source})
			}
		}
	}
	exts := append([]string{}, d.Accounts...)
	for _, k := range l.keys {
		if k.spec.Value != "" {
			exts = append(exts, k.spec.Value)
		}
	}
	accts, err := r.accounts.AccountsByExtension(ctx, exts)
	if err != nil {
		return nil, err
	}
	l.accounts = accts
	for i := range l.keys {
		l.keys[i].resolve(d.Accounts, accts)
	}
	return l, nil
}

// resolve turns the spec into a driver's key: its account becomes a line
// number, and a BLF, intercom or speed-dial key without a label shows the
// target account's display name (a line key its extension).
func (k *layoutKey) resolve(accounts []string, accts map[string]autoprov.Account) {
	s := k.spec
	line := s.Line
	if s.Account != "" {
		line = 0
		for j, ext := range accounts {
			if ext == s.Account {
				line = j + 1
			}
		}
		if line == 0 {
			k.problem = autoprov.T("account %s is not on the device", s.Account)
			line = 1 // still checked for its type and slot
		}
	}
	label := s.Label
	if label == "" {
		switch s.Type {
		case vendors.KeyBLF, vendors.KeyIntercom, vendors.KeySpeedDial:
			if a, ok := accts[s.Value]; ok && a.DisplayName != "" {
				label = a.DisplayName
			}
		case vendors.KeyLine:
			if n := max(line, 1); n <= len(accounts) {
				label = accounts[n-1]
			}
		}
	}
	if n := max(line, 1); n <= len(accounts) {
		k.account = accounts[n-1]
	}
	k.key = vendors.Key{Position: s.Position, Module: s.Module, Type: s.Type, Line: line,
		Value: s.Value, Label: label, PickupCode: s.PickupCode}
}

// problems validates the layout against its model and lists every bad key
// that is not a model default, in layout order: a key naming an account
// not on the device, and every key the model refuses. Each is a Text
// (the UI's German), whose String is the API's English detail.
func (l *keyLayout) problems() []autoprov.Text {
	own := false
	for _, k := range l.keys {
		own = own || k.source != "model default"
	}
	if !own {
		return nil // defaults are valid by construction
	}
	why := make([][]autoprov.Text, len(l.keys))
	for i, k := range l.keys {
		if k.problem.Format != "" {
			why[i] = append(why[i], k.problem)
		}
	}
	keys := make([]vendors.Key, len(l.keys))
	for i, k := range l.keys {
		keys[i] = k.key
	}
	for _, e := range vendors.ValidateKeys(l.model, keys, l.lines) {
		msg := e.Text
		if e.Conflict >= 0 {
			msg = autoprov.T("same position as %s", l.keys[e.Conflict].name)
		}
		why[e.Index] = append(why[e.Index], msg)
	}
	var out []autoprov.Text
	for i, k := range l.keys {
		if len(why[i]) > 0 && k.source != "model default" {
			out = append(out, describe(k.name, k.spec, joinTexts(why[i])))
		}
	}
	return out
}

// joinTexts is ts (at least one) joined by "; " as one Text.
func joinTexts(ts []autoprov.Text) autoprov.Text {
	out := ts[0]
	for _, t := range ts[1:] {
		out = autoprov.T("%s; %s", out, t)
	}
	return out
}

// err is nil when every key can render; rendering refuses a layout with a
// key naming an account that left the device.
func (l *keyLayout) err() error {
	var bad []string
	for _, k := range l.keys {
		if k.problem.Format != "" {
			bad = append(bad, describe(k.name, k.spec, k.problem).String())
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// sorted returns the keys that render, ordered by module and position as
// drivers render them.
func (l *keyLayout) sorted() []vendors.Key {
	out := make([]vendors.Key, 0, len(l.keys))
	for _, k := range l.keys {
		if k.problem.Format == "" {
			out = append(out, k.key)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// view returns the layout as the admin UI shows it: the keys that render,
// with the account each acts for and its layer, ordered by slot.
func (l *keyLayout) view() []autoprov.LayoutKey {
	out := make([]autoprov.LayoutKey, 0, len(l.keys))
	for _, k := range l.keys {
		if k.problem.Format == "" { // a key naming an account no longer on the device renders nowhere
			out = append(out, autoprov.LayoutKey{Key: k.key, Account: k.account, Source: k.source})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(out[i].Key, out[j].Key) })
	return out
}

// defaultSpecs returns the model's default keys (its lines) as specs.
func defaultSpecs(m vendors.Model, lines int) []autoprov.KeySpec {
	var out []autoprov.KeySpec
	for _, k := range vendors.DefaultKeys(m, lines) {
		out = append(out, autoprov.KeySpec{Position: k.Position, Module: k.Module, Type: k.Type, Line: k.Line})
	}
	return out
}

// describe names a bad key for a message: "key 2 (blf at position 40): why".
func describe(name autoprov.Text, k autoprov.KeySpec, why autoprov.Text) autoprov.Text {
	where := autoprov.T("position %d", k.Position)
	if k.Module > 0 {
		where = autoprov.T("module %d position %d", k.Module, k.Position)
	}
	return autoprov.T("%s (%s at %s): %s", name, k.Type, where, why)
}

func less(a, b vendors.Key) bool {
	if a.Module != b.Module {
		return a.Module < b.Module
	}
	return a.Position < b.Position
}
