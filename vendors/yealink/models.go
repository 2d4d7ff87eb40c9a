package yealink

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// modelInfo is one supported model with the facts the driver needs beyond
// vendors.Model: the ID of its common file y0000000000XX.cfg (reference
// §10; "" where no source names it).
type modelInfo struct {
	vendors.Model
	CommonID string
}

// Expansion modules (reference §4, WAZO v86), built fresh for every table
// so that no package-level value can be changed by a caller.
func exp40() vendors.Module { return vendors.Module{Name: "EXP40", Keys: 40, Max: 6} }

// exp40T2 is the EXP40 on a T27G or T29G: its key 21 switches pages and
// "cannot be configured" (Yealink T2 series administrator guide,
// expansion_module.X.key.Y: Y 1-20 and 22-40; README.md).
func exp40T2() vendors.Module {
	m := exp40()
	m.Reserved = []vendors.Reserved{{Position: 21, Reason: "it switches the module's pages (Yealink T2 administrator guide: \"Ext key 21 cannot be configured\")"}}
	return m
}
func exp43() vendors.Module { return vendors.Module{Name: "EXP43", Keys: 60, Max: 3} }
func exp50() vendors.Module { return vendors.Module{Name: "EXP50", Keys: 60, Max: 3} }

// desk returns a desk phone model. keys is the line-key count (reference
// §4); a model with line keys supports every key type of the product.
func desk(name, family string, lines, keys int, commonID string, mods ...vendors.Module) modelInfo {
	m := vendors.Model{
		Vendor: Name, Name: name, Family: family, Kind: "desk",
		Lines: lines, Keys: keys, Modules: mods,
		Aliases: []string{"SIP-" + name},
	}
	if keys > 0 || len(mods) > 0 {
		m.KeyTypes = append([]vendors.KeyType(nil), vendors.AllKeyTypes...)
	}
	return modelInfo{Model: m, CommonID: commonID}
}

// dect returns a DECT base: no programmable keys.
func dect(name string, lines int, commonID string, aliases ...string) modelInfo {
	return modelInfo{Model: vendors.Model{
		Vendor: Name, Name: name, Family: "DECT", Kind: "dect",
		Lines: lines, Aliases: aliases,
	}, CommonID: commonID}
}

// withAliases adds spellings to a model.
func withAliases(mi modelInfo, aliases ...string) modelInfo {
	mi.Aliases = append(mi.Aliases, aliases...)
	return mi
}

// modelTable builds the model list. Lines are the SIP accounts from the
// datasheets as collected in WAZO's _NB_SIP_ACCOUNTS; keys from reference
// §4 (where WAZO and Tancredi disagree the larger count is the limit);
// common-file IDs from reference §10.
func modelTable() []modelInfo {
	return []modelInfo{
		// T3x: no expansion modules. The T30/T30P have no line keys.
		desk("T30", "T3x", 1, 0, "127"),
		desk("T30P", "T3x", 1, 0, "127"),
		desk("T31", "T3x", 2, 2, "123"),
		desk("T31G", "T3x", 2, 2, "123"),
		desk("T31P", "T3x", 2, 2, "123"),
		desk("T31W", "T3x", 2, 2, "172"),
		desk("T33G", "T3x", 4, 12, "124"),
		desk("T33P", "T3x", 4, 12, "124"),
		desk("T34W", "T3x", 4, 12, "171"),
		// T4xS.
		desk("T41S", "T4xS", 6, 15, "068"),
		desk("T42S", "T4xS", 12, 15, "067"),
		desk("T46S", "T4xS", 16, 27, "066", exp40()),
		desk("T48S", "T4xS", 16, 29, "065", exp40()),
		// T4xU. unverified: the T41U's common-file ID (reference §10).
		desk("T41U", "T4xU", 6, 15, ""),
		desk("T42U", "T4xU", 12, 15, "116"),
		desk("T43U", "T4xU", 12, 21, "107", exp43()),
		desk("T44U", "T4xU", 12, 24, "174"),
		desk("T44W", "T4xU", 12, 24, "174"),
		desk("T46U", "T4xU", 16, 27, "108", exp43()),
		desk("T48U", "T4xU", 16, 29, "109", exp43()),
		// T5x: EXP50 on every model.
		desk("T52S", "T5x", 12, 21, "074", exp50()),
		desk("T54S", "T5x", 16, 27, "070", exp50()),
		desk("T53", "T5x", 12, 21, "095", exp50()),
		desk("T53W", "T5x", 12, 21, "095", exp50()),
		desk("T54W", "T5x", 16, 27, "096", exp50()),
		desk("T57W", "T5x", 16, 29, "097", exp50()),
		desk("T58W", "T5x", 16, 27, "150", exp50()),
		withAliases(desk("T58A", "T5x", 16, 27, "058", exp50()), "T58", "SIP-T58"),
		// T2x.
		desk("T27G", "T2x", 6, 21, "069", exp40T2()),
		desk("T29G", "T2x", 16, 27, "046", exp40T2()),
		// DECT bases.
		dect("W52P", 5, "025"),
		dect("W60B", 8, "077", "W60P"),
		dect("W70B", 10, "146"),
	}
}

// lookup finds a model by canonical name or alias.
func (d *Driver) lookup(name string) (modelInfo, bool) {
	if name == "" {
		return modelInfo{}, false
	}
	for _, m := range d.models {
		if m.Matches(name) {
			return m, true
		}
	}
	return modelInfo{}, false
}

// modelForCommonID returns the canonical model a common-file ID names, or
// "" when the ID is unknown or shared by several models.
func (d *Driver) modelForCommonID(id string) string {
	found := ""
	for _, m := range d.models {
		if m.CommonID == id {
			if found != "" {
				return ""
			}
			found = m.Name
		}
	}
	return found
}

// isYealinkOUI reports whether a canonical MAC has one of Yealink's OUIs
// (reference §2, WAZO KNOWN_MAC_PREFIXES).
func isYealinkOUI(mac string) bool {
	switch strings.ToLower(vendors.OUI(mac)) {
	case "001565", "e434d7", "805ec0", "805e0c", "249ad8", "3497d7",
		"44dbd2", "644f56", "b061a9", "c4fc22", "ec1da9", "f01653":
		return true
	}
	return false
}
