package cisco

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// userAgent is what a Cisco User-Agent string told.
type userAgent struct {
	Model    string // canonical when supported, else as reported ("SPA508G"); "" when absent
	Firmware string // e.g. "12.0.1", "7.4.4"; "" when absent
	MAC      string // canonical, or ""
}

// maxUA bounds what the parser reads: real strings are under 80 bytes.
const maxUA = 256

// parseUserAgent reads the two shapes of cisco-mpp.md §1:
//
//	Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)        MPP: Cisco-<PN>/<firmware> (<mac>)
//	Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK) SPA: <vendor>/<model>-<firmware> (<mac>)(<serial>)
//	Linksys/SPA-942-6.1.5(a) (88019FA42805)
//
// The MAC is the first parenthesised group of exactly 12 hex digits (the
// SPA's serial number is not one). ok is false when the string is not
// Cisco's.
func (d *Driver) parseUserAgent(ua string) (userAgent, bool) {
	var u userAgent
	if len(ua) > maxUA {
		ua = ua[:maxUA]
	}
	ua = strings.TrimSpace(ua)
	head, rest, _ := strings.Cut(ua, " ")
	lower := strings.ToLower(head)
	switch {
	case strings.HasPrefix(lower, "cisco-"):
		pn, fw, ok := strings.Cut(head[len("cisco-"):], "/")
		if !ok {
			return u, false
		}
		model, ok := mppModel(pn)
		if !ok {
			return u, false
		}
		u.Model, u.Firmware = d.canonical(model), firmware(fw)
	case strings.HasPrefix(lower, "cisco/"), strings.HasPrefix(lower, "linksys/"):
		_, mv, _ := strings.Cut(head, "/")
		// The firmware starts after the last '-' that a digit follows.
		i := strings.LastIndex(mv, "-")
		if i <= 0 || i+1 >= len(mv) || mv[i+1] < '0' || mv[i+1] > '9' {
			return u, false
		}
		model := strings.ToUpper(strings.ReplaceAll(mv[:i], "-", ""))
		if !spaModel(model) {
			return u, false
		}
		u.Model, u.Firmware = model, firmware(mv[i+1:])
	default:
		return u, false
	}
	for _, g := range strings.SplitAfter(rest, ")") {
		g = strings.TrimSpace(g)
		if len(g) == 14 && g[0] == '(' && g[13] == ')' && vendors.IsMAC(g[1:13]) {
			if m, err := vendors.ParseMAC(g[1:13]); err == nil {
				u.MAC = m
				break
			}
		}
	}
	return u, true
}

// mppModel accepts a product name "CP-<model>-3PCC" (any case) and
// returns <model>: four digits and an optional letter.
func mppModel(pn string) (string, bool) {
	if len(pn) < len("CP-0000-3PCC") || !strings.EqualFold(pn[:3], "CP-") || !strings.EqualFold(pn[len(pn)-5:], "-3PCC") {
		return "", false
	}
	m := strings.ToUpper(pn[3 : len(pn)-5])
	return m, isMPPModel(m)
}

// isMPPModel: four digits, then at most one letter ("8851", "8845").
func isMPPModel(m string) bool {
	if len(m) < 4 || len(m) > 5 {
		return false
	}
	for i := 0; i < 4; i++ {
		if m[i] < '0' || m[i] > '9' {
			return false
		}
	}
	return len(m) == 4 || m[4] >= 'A' && m[4] <= 'Z'
}

// spaModel accepts an upper-case SPA/ATA/PAP model name as the phones
// report it: the prefix, digits, at most one letter and at most one more
// digit ("SPA508G", "SPA525G2", "SPA942", "ATA190", "PAP2T"; not the
// "SPA5XXG" of a generic class).
func spaModel(m string) bool {
	if len(m) > 12 || !(strings.HasPrefix(m, "SPA") || strings.HasPrefix(m, "ATA") || strings.HasPrefix(m, "PAP")) {
		return false
	}
	i := 3
	for i < len(m) && m[i] >= '0' && m[i] <= '9' {
		i++
	}
	if i == 3 {
		return false
	}
	if i < len(m) && m[i] >= 'A' && m[i] <= 'Z' {
		i++
	}
	if i < len(m) && m[i] >= '0' && m[i] <= '9' {
		i++
	}
	return i == len(m)
}

// firmware keeps a version made of letters, digits, '.', '-', '(', ')'
// and '_', at most 32 bytes, and drops anything else.
func firmware(s string) string {
	if s == "" || len(s) > 32 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte(".-()_", c) >= 0) {
			return ""
		}
	}
	return s
}

// canonical returns a supported model's canonical name, else m as given.
func (d *Driver) canonical(m string) string {
	if mm, ok := d.lookup(m); ok {
		return mm.Name
	}
	return m
}

// pathInfo is what a requested file name told.
type pathInfo struct {
	Kind  vendors.FileKind
	MAC   string // canonical, from the name
	Model string // from the name, as in canonical
	Boot  bool   // a bootstrap file (<model>-3PCC.xml, spa$PSN.cfg)
}

// maxPath bounds the names classifyPath reads.
const maxPath = 96

// classifyPath recognises the names of cisco-mpp.md §2.1 (case-insensitive,
// one optional leading '/'):
//
//	<model>-3PCC.xml, CP-<model>-3PCC.xml   bootstrap (common)
//	spa<psn>.cfg                            SPA bootstrap (common)
//	<mac>.xml                               per-device (ours, Profile_Rule)
//	Cisco/<PN>/<mac>.cfg, Cisco/<PN>/<mac>.xml  per-device (the fallback tail)
func (d *Driver) classifyPath(p string) pathInfo {
	p = strings.TrimPrefix(p, "/")
	if p == "" || len(p) > maxPath || strings.Contains(p, "\\") {
		return pathInfo{}
	}
	parts := strings.Split(p, "/")
	switch len(parts) {
	case 1:
		name := parts[0]
		lower := strings.ToLower(name)
		switch {
		case strings.HasSuffix(lower, ".xml"):
			stem := name[:len(name)-4]
			if m, ok := nameMAC(stem); ok {
				return pathInfo{Kind: vendors.FileDevice, MAC: m}
			}
			if strings.HasPrefix(strings.ToLower(stem), "cp-") {
				if m, ok := mppModel(stem); ok {
					return pathInfo{Kind: vendors.FileCommon, Model: d.canonical(m), Boot: true}
				}
				return pathInfo{}
			}
			if m, ok := mppModel("CP-" + stem); ok {
				return pathInfo{Kind: vendors.FileCommon, Model: d.canonical(m), Boot: true}
			}
		case strings.HasSuffix(lower, ".cfg") && strings.HasPrefix(lower, "spa"):
			m := strings.ToUpper(name[:len(name)-4])
			if spaModel(m) {
				return pathInfo{Kind: vendors.FileCommon, Model: m, Boot: true}
			}
		}
	case 3:
		if !strings.EqualFold(parts[0], "cisco") {
			return pathInfo{}
		}
		lower := strings.ToLower(parts[2])
		if !strings.HasSuffix(lower, ".cfg") && !strings.HasSuffix(lower, ".xml") {
			return pathInfo{}
		}
		mac, ok := nameMAC(parts[2][:len(parts[2])-4])
		if !ok {
			return pathInfo{}
		}
		info := pathInfo{Kind: vendors.FileDevice, MAC: mac}
		if m, ok := mppModel(parts[1]); ok {
			info.Model = d.canonical(m)
		} else if pn := strings.ToUpper(parts[1]); spaModel(pn) {
			info.Model = pn
		} else {
			return pathInfo{}
		}
		return info
	}
	return pathInfo{}
}

// nameMAC accepts exactly 12 hex digits that form a MAC.
func nameMAC(s string) (string, bool) {
	if !vendors.IsMAC(s) {
		return "", false
	}
	m, err := vendors.ParseMAC(s)
	return m, err == nil
}

// vendorWords start an SPA's DHCP vendor class ("Cisco SPA501G",
// "CISCO ATA190", "LINKSYS SPA-942", "Cisco Systems, Inc. IP Phone SPA5xxG").
var vendorWords = []string{"cisco", "linksys"}

// vendorClass reads a DHCP vendor class (option 60, cisco-mpp.md §1):
// MPP phones send their product name "CP-7841-3PCC"; SPA and ATA devices
// the vendor word and the model. ok is false when the class says nothing
// about Cisco; the model is canonical when supported, else as reported,
// or "" ("Cisco Systems, Inc. IP Phone SPA5xxG" names no one model).
func (d *Driver) vendorClass(class string) (model string, ok bool) {
	if class == "" {
		return "", false
	}
	if len(class) > 255 {
		class = class[:255]
	}
	head, _, _ := strings.Cut(strings.TrimSpace(class), " ")
	if m, ok := mppModel(head); ok {
		return d.canonical(m), true
	}
	c := vendors.MatchVendorClass(class, vendorWords, nil)
	if !c.Vendor {
		return "", false
	}
	for i, w := range c.Words {
		w = strings.ToUpper(w)
		if (w == "SPA" || w == "ATA") && i+1 < len(c.Words) { // "SPA-942"
			w += strings.ToUpper(c.Words[i+1])
		}
		if spaModel(w) {
			return w, true
		}
		if m, ok := mppModel(w); ok {
			return d.canonical(m), true
		}
	}
	return "", true
}

// Identify implements vendors.Vendor. The score adds ScoreUserAgent for a
// Cisco User-Agent, ScorePath for one of the file names above, ScoreOUI
// for a MAC with one of the OUIs of isCiscoOUI and ScoreVendorClass for a
// DHCP vendor class that names Cisco or one of its models, unless the MAC
// is outside those OUIs. The MAC in a file name wins over the User-Agent's;
// the model from the User-Agent wins over the file name's.
func (d *Driver) Identify(req vendors.Request) vendors.Identity {
	id := vendors.Identity{Vendor: Name}
	if ua, ok := d.parseUserAgent(req.UserAgent); ok {
		id.Score += vendors.ScoreUserAgent
		id.Model, id.Firmware, id.MAC = ua.Model, ua.Firmware, ua.MAC
	}
	if p := d.classifyPath(req.Path); p.Kind != vendors.FileUnknown {
		id.Score += vendors.ScorePath
		id.Kind = p.Kind
		if p.MAC != "" {
			id.MAC = p.MAC
		}
		if id.Model == "" {
			id.Model = p.Model
		}
	}
	return vendors.FinishIdentity(id, req, isCiscoOUI, d.vendorClass)
}
