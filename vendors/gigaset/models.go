package gigaset

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Family names used in vendors.Model.Family.
const (
	FamilyNx70    = "Nx70"
	FamilyMaxwell = "Maxwell"
)

// maxwellKeyTypes are the function key types a Maxwell 2/3/4 can carry
// (reference gigaset.md §4).
var maxwellKeyTypes = []vendors.KeyType{vendors.KeyLine, vendors.KeySpeedDial, vendors.KeyBLF,
	vendors.KeyForward, vendors.KeyDTMF, vendors.KeyURL, vendors.KeyNone}

// maxwellKeys is the number of function keys of a Maxwell 2, 3 and 4.
const maxwellKeys = 8

// maxwellLines is the number of SIP accounts of a Maxwell (unverified: see README).
const maxwellLines = 6

func nx70(name string, handsets int) vendors.Model {
	return vendors.Model{
		Vendor: VendorName, Name: name, Family: FamilyNx70, Kind: "dect",
		Lines: handsets,
		// MenuPassword becomes the handsets' 4-digit registration code (README).
		MenuPINDigits: 4,
		Aliases: []string{name + " IP PRO", name + " IP", name + "-IP-PRO", name + "IPPRO",
			"Gigaset " + name, "Gigaset " + name + " IP PRO"},
	}
}

func maxwell(suffix string, keys int) vendors.Model {
	name := "Maxwell " + suffix
	m := vendors.Model{
		Vendor: VendorName, Name: name, Family: FamilyMaxwell, Kind: "desk",
		Lines: maxwellLines, Keys: keys,
		// The Maxwell admin PIN is PIN-shaped (default 1234, README).
		MenuPINDigits: 4,
		Aliases: []string{"Maxwell" + suffix, "Maxwell-" + suffix, "Maxwell_" + suffix,
			"Gigaset " + name, "Gigaset Maxwell" + suffix, "Maxwell " + suffix + " IP"},
	}
	if keys > 0 {
		m.KeyTypes = maxwellKeyTypes
	}
	return m
}

// models is the model table. Handset capacities: reference gigaset.md §2
// (Handset= in the UA) and §10; Maxwell keys: §4.
var models = []vendors.Model{
	nx70("N610", 20),
	nx70("N670", 20),
	nx70("N770", 100),
	nx70("N870", 250),
	nx70("N870E", 250),
	maxwell("Basic", 0),
	maxwell("2", maxwellKeys),
	maxwell("3", maxwellKeys),
	maxwell("4", maxwellKeys),
}

// lookupModel finds a model by canonical name or alias, also after
// normalising separators and a leading vendor word ("gigaset maxwell-3").
func lookupModel(name string) (vendors.Model, bool) {
	for _, m := range models {
		if m.Matches(name) {
			return m, true
		}
	}
	if c := canonicalModel(name); c != "" {
		for _, m := range models {
			if m.Name == c {
				return m, true
			}
		}
	}
	return vendors.Model{}, false
}

// canonicalModel maps a reported or typed model name to the canonical name
// of a supported model, or "".
func canonicalModel(s string) string {
	n := normalise(s)
	n = strings.TrimPrefix(n, "GIGASET ")
	if strings.HasPrefix(n, "MAXWELL") {
		rest := strings.TrimSpace(strings.TrimPrefix(n, "MAXWELL"))
		switch first(rest) {
		case "BASIC":
			return "Maxwell Basic"
		case "2", "3", "4":
			return "Maxwell " + first(rest)
		}
		return ""
	}
	base := first(n)
	for _, m := range models {
		if m.Family == FamilyNx70 && base == m.Name {
			rest := strings.TrimSpace(strings.TrimPrefix(n, base))
			// "N870 VI PRO" is the virtual integrator, not the N870 base.
			if rest == "" || rest == "IP PRO" || rest == "IP" || rest == "IPPRO" || rest == "PRO" {
				return m.Name
			}
		}
	}
	return ""
}

// normalise upper-cases s and turns '-', '_' and runs of blanks into one space.
func normalise(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '\t':
			return ' '
		}
		return r
	}, strings.ToUpper(s))
	return strings.Join(strings.Fields(s), " ")
}

func first(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
