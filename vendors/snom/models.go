package snom

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// keyTypes are the vendor-neutral key types every Snom (and Snom-built
// Gigaset) desk phone can render (snom.md §4).
var keyTypes = []vendors.KeyType{
	vendors.KeyLine, vendors.KeyBLF, vendors.KeySpeedDial, vendors.KeyPark,
	vendors.KeyPickup, vendors.KeyDND, vendors.KeyForward, vendors.KeyIntercom,
	vendors.KeyDTMF, vendors.KeyURL, vendors.KeyVoicemail, vendors.KeyNone,
}

// modelSpec is one row of a driver's model table. file is the model
// string the phone reports in its User-Agent and uses in its setting-file
// names (snom.md §1.2: snomD785.htm, snom715.htm).
type modelSpec struct {
	name, family, file string
	lines, keys        int
	module             *vendors.Module
}

// Expansion modules (snom.md §4; gigaset.md §4).
var (
	d7c     = vendors.Module{Name: "D7C", Keys: 18, Max: 3}
	d7c4    = vendors.Module{Name: "D7C", Keys: 18, Max: 4}
	d8c     = vendors.Module{Name: "D8C", Keys: 60, Max: 3}
	gigaKM7 = vendors.Module{Name: "P710 key module", Keys: 18, Max: 3}
	gigaKM8 = vendors.Module{Name: "P8xx key module", Keys: 60, Max: 3}
)

// snomModels: keys and modules from snom.md §4 (TANC scopes); lines
// (identities) from Snom's data sheets as far as known (see README).
var snomModels = []modelSpec{
	{name: "D120", family: "D1xx", lines: 2, keys: 2},
	{name: "D140", family: "D1xx", lines: 2, keys: 2, module: &d7c},
	{name: "D150", family: "D1xx", lines: 2, keys: 2, module: &d7c},
	{name: "D305", family: "D3xx", lines: 4, keys: 5, module: &d7c},
	{name: "D315", family: "D3xx", lines: 4, keys: 5, module: &d7c},
	{name: "D335", family: "D3xx", lines: 12, keys: 48, module: &d7c},
	{name: "D345", family: "D3xx", lines: 12, keys: 48, module: &d7c},
	{name: "D375", family: "D3xx", lines: 12, keys: 12, module: &d7c},
	{name: "D385", family: "D3xx", lines: 12, keys: 48, module: &d7c},
	{name: "D710", family: "D7xx", file: "710", lines: 4, keys: 5, module: &d7c},
	{name: "D712", family: "D7xx", lines: 4, keys: 5, module: &d7c},
	{name: "D713", family: "D7xx", lines: 4, keys: 4, module: &d7c},
	{name: "D715", family: "D7xx", file: "715", lines: 4, keys: 5, module: &d7c},
	{name: "D717", family: "D7xx", lines: 6, keys: 3, module: &d7c},
	{name: "D725", family: "D7xx", file: "725", lines: 12, keys: 18, module: &d7c},
	{name: "D735", family: "D7xx", lines: 12, keys: 32, module: &d7c},
	{name: "D745", family: "D7xx", lines: 12, keys: 32, module: &d7c},
	{name: "D765", family: "D7xx", lines: 12, keys: 16, module: &d7c},
	{name: "D785", family: "D7xx", lines: 12, keys: 24, module: &d7c4},
	{name: "D810", family: "D8xx", lines: 6, keys: 4, module: &d8c},
	{name: "D812", family: "D8xx", lines: 12, keys: 28, module: &d8c},
	{name: "D815", family: "D8xx", lines: 12, keys: 36, module: &d8c},
	{name: "D862", family: "D8xx", lines: 12, keys: 28, module: &d8c},
	{name: "D865", family: "D8xx", lines: 12, keys: 36, module: &d8c},
	{name: "D892", family: "D8xx", lines: 12, keys: 36, module: &d8c},
}

// gigasetModels: the Snom-built Gigaset P-series (gigaset.md §4, §10).
var gigasetModels = []modelSpec{
	{name: "P710", family: "P7xx", lines: 4, keys: 4, module: &gigaKM7},
	{name: "P810", family: "P8xx", lines: 4, keys: 4, module: &gigaKM8},
	{name: "P820", family: "P8xx", lines: 12, keys: 28, module: &gigaKM8},
	{name: "P825", family: "P8xx", lines: 12, keys: 28, module: &gigaKM8},
	{name: "P850", family: "P8xx", lines: 12, keys: 36, module: &gigaKM8},
	{name: "P855", family: "P8xx", lines: 12, keys: 36, module: &gigaKM8},
}

// dectModels: the Snom DECT bases (M-series), one SIP account per
// handset/extension, no keys. Extension counts are unverified (README):
// M300/M400 20 (single-cell), M700 1000, M900 2000 (multi-cell).
var dectModels = []modelSpec{
	{name: "M300", family: FamilyDECT, lines: 20},
	{name: "M400", family: FamilyDECT, lines: 20},
	{name: "M700", family: FamilyDECT, lines: 1000},
	{name: "M900", family: FamilyDECT, lines: 2000},
}

// FamilyDECT is the vendors.Model.Family of the Snom DECT bases.
const FamilyDECT = "M-series"

// isDECTModel reports whether a reported model string names one of the
// DECT bases of NewDECT ("M700", "snomM700", any case).
func isDECTModel(name string) bool {
	_, ok := findSpec(dectModels, "snom", name)
	return ok
}

// buildModels turns a spec table into the driver's model list. Aliases are
// the spellings a phone or an admin may use: the file string, the name
// with and without the vendor prefix, and the name without its letter.
func buildModels(vendor, prefix string, specs []modelSpec) []vendors.Model {
	models := make([]vendors.Model, 0, len(specs))
	for _, s := range specs {
		file := s.fileName()
		aliases := []string{prefix + s.name}
		if file != s.name {
			aliases = append(aliases, file, prefix+file)
		} else if vendor == "snom" && s.family != FamilyDECT {
			// "snom785" style: the D-less spelling of older firmware.
			aliases = append(aliases, s.name[1:], prefix+s.name[1:])
		}
		if vendor == "gigaset" {
			aliases = append(aliases, s.name+" IP PRO", "Gigaset "+s.name)
		}
		if s.family == FamilyDECT {
			// A base has no keys; MenuPassword is its handsets' 4-digit
			// DECT registration code (subscr_dect_ac_code, README). The
			// DECT files carry no firmware setting: NoFirmware.
			models = append(models, vendors.Model{
				Vendor: vendor, Name: s.name, Family: s.family, Kind: "dect",
				Lines: s.lines, MenuPINDigits: 4, NoFirmware: true,
				Aliases: []string{"snom" + s.name, "Snom " + s.name},
			})
			continue
		}
		m := vendors.Model{
			Vendor:   vendor,
			Name:     s.name,
			Family:   s.family,
			Kind:     "desk",
			Lines:    s.lines,
			Keys:     s.keys,
			KeyTypes: keyTypes,
			Aliases:  aliases,
		}
		if s.module != nil {
			m.Modules = []vendors.Module{*s.module}
		}
		models = append(models, m)
	}
	return models
}

func (s modelSpec) fileName() string {
	if s.file != "" {
		return s.file
	}
	return s.name
}

// findSpec returns the spec whose name, file string or alias matches name
// (case-insensitive, vendor prefix allowed).
func findSpec(specs []modelSpec, prefix, name string) (modelSpec, bool) {
	n := strings.TrimSpace(name)
	if len(n) > len(prefix) && strings.EqualFold(n[:len(prefix)], prefix) {
		n = n[len(prefix):]
	}
	for _, s := range specs {
		if strings.EqualFold(s.name, n) || strings.EqualFold(s.fileName(), n) {
			return s, true
		}
		// D-less spelling: "785" for D785 (not for the file-string models,
		// whose D-less name is already their file string).
		if s.file == "" && len(s.name) > 1 && (s.name[0] == 'D' || s.name[0] == 'd') && strings.EqualFold(s.name[1:], n) {
			return s, true
		}
	}
	return modelSpec{}, false
}
