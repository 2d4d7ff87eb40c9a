package openstage

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Key-module index ranges (reference openstage.md §8): keys 1-9 on the
// phone, 301-312 on the first key module, 401-412 on the second.
const (
	phoneKeyMax  = 9
	moduleKeys   = 12
	moduleMax    = 2
	moduleIndex0 = 300 // module m's key k is index (200+100m)+k
)

func keyTypes() []vendors.KeyType {
	return []vendors.KeyType{vendors.KeyBLF, vendors.KeySpeedDial, vendors.KeyDTMF, vendors.KeyURL, vendors.KeyNone}
}

func model(name, family string, keys, modules int, module string, aliases ...string) vendors.Model {
	m := vendors.Model{Vendor: Name, Name: name, Family: family, Kind: "desk", Lines: 1, Keys: keys,
		MenuPINDigits: 6, Aliases: aliases}
	if modules > 0 {
		m.Modules = []vendors.Module{{Name: module, Keys: moduleKeys, Max: modules}}
	}
	if keys > 0 || modules > 0 {
		m.KeyTypes = keyTypes()
	}
	return m
}

// modelTable lists the supported models (README.md, "Models": the
// device-type strings are reference openstage.md §12; key counts are the
// programmable keys the documented indexes 1-9 address, modules the
// 301-312/401-412 ranges).
func modelTable() []vendors.Model {
	return []vendors.Model{
		model("OpenStage 15", "OpenStage", 8, 1, "Key Module 15"),
		model("OpenStage 20", "OpenStage", 0, 0, ""),
		model("OpenStage 40", "OpenStage", 6, 2, "Key Module 40"),
		model("OpenStage 60", "OpenStage", 8, 2, "Key Module 60"),
		model("OpenStage 80", "OpenStage", 9, 2, "Key Module 80"),
		model("OpenScape Desk Phone CP200", "CP", 0, 0, "", "CP200"),
		model("OpenScape Desk Phone CP210", "CP", 9, 0, "", "CP210"),
		model("OpenScape Desk Phone CP400", "CP", 9, 2, "KM410", "CP400"),
		model("OpenScape Desk Phone CP600", "CP", 9, 2, "KM710", "CP600"),
		model("OpenScape Desk Phone CP700", "CP", 8, 2, "KM710", "CP700"),
	}
}

// canonicalModel returns the canonical name of a reported device-type,
// or the reported text itself (bounded, safe) when no model matches: an
// unknown device-type still lands in the inbox.
func canonicalModel(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, m := range modelTable() {
		if m.Matches(s) {
			return m.Name
		}
	}
	if len(s) > 64 || !vendors.SafeText(s) {
		return ""
	}
	return s
}

// keyIndex is the WPI index of a key (Position on the phone, or on
// module Module).
func keyIndex(k vendors.Key) int {
	if k.Module > 0 {
		return moduleIndex0 + 100*(k.Module-1) + k.Position
	}
	return k.Position
}
