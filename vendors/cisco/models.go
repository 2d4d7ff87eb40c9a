package cisco

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// kem is the Cisco IP Phone 8800 Key Expansion Module: 18 keys on each
// of two pages, addressed as Unit_<u>_Key_1_ .. Unit_<u>_Key_36_ (see
// README.md for the sources). Built fresh for every table so that no
// package-level value can be changed by a caller.
func kem(max int) vendors.Module { return vendors.Module{Name: "KEM", Keys: 36, Max: max} }

// keyTypes are the key types the driver maps to an Extended_Function
// (README.md, "Keys"): the functions the reference documents.
func keyTypes() []vendors.KeyType {
	return []vendors.KeyType{vendors.KeyLine, vendors.KeyBLF, vendors.KeySpeedDial, vendors.KeyPark,
		vendors.KeyDND, vendors.KeyURL, vendors.KeyVoicemail, vendors.KeyNone}
}

// mpp returns a Multiplatform phone: lines, line keys and expansion
// modules from the model table in README.md.
func mpp(name, family string, lines, keys int, mods ...vendors.Module) vendors.Model {
	m := vendors.Model{
		Vendor: Name, Name: name, Family: family, Kind: "desk",
		Lines: lines, Keys: keys, Modules: mods,
		Aliases: []string{"CP-" + name + "-3PCC", name + "-3PCC", "CP-" + name},
	}
	if keys > 0 || len(mods) > 0 {
		m.KeyTypes = keyTypes()
	}
	return m
}

// modelTable is the list of supported models (README.md, "Models").
func modelTable() []vendors.Model {
	return []vendors.Model{
		mpp("6821", "68xx", 2, 2),
		mpp("6841", "68xx", 4, 4),
		mpp("6851", "68xx", 4, 4),
		mpp("6861", "68xx", 4, 4),
		mpp("6871", "68xx", 6, 6),
		mpp("7811", "78xx", 1, 0),
		mpp("7821", "78xx", 2, 2),
		mpp("7832", "78xx", 1, 0),
		mpp("7841", "78xx", 4, 4),
		mpp("7861", "78xx", 16, 16),
		mpp("8811", "88xx", 10, 10),
		mpp("8832", "88xx", 1, 0),
		mpp("8841", "88xx", 10, 10),
		mpp("8845", "88xx", 10, 10),
		mpp("8851", "88xx", 10, 10, kem(2)),
		mpp("8861", "88xx", 10, 10, kem(3)),
		mpp("8865", "88xx", 10, 10, kem(3)),
	}
}

// lookup finds a supported model by canonical name or alias.
func (d *Driver) lookup(name string) (vendors.Model, bool) {
	if name == "" {
		return vendors.Model{}, false
	}
	for _, m := range d.models {
		if m.Matches(name) {
			return m, true
		}
	}
	return vendors.Model{}, false
}

// isCiscoOUI reports whether a canonical MAC has one of the OUIs the
// reference's own examples carry (cisco-mpp.md §1, §3.1): Cisco's
// 00562b (MPP), 0002fd (SPA) and Sipura/Linksys's 000e08. Cisco holds
// many more; a phone with another one is still identified by its
// User-Agent or file name, only DHCP discovery needs the OUI.
func isCiscoOUI(mac string) bool {
	switch strings.ToLower(vendors.OUI(mac)) {
	case "00562b", "0002fd", "000e08":
		return true
	}
	return false
}
