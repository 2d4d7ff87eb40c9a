package snom

import (
	"path"
	"regexp"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Identify inspects the request's path, User-Agent, MAC and DHCP vendor
// class and adds up the evidence (snom.md §1.2, §1.3, §2, §7; gigaset.md
// §1, §2, §10). The MAC comes from the User-Agent, else from the path,
// else from Request.MAC; a MAC outside the driver's ranges overrules the
// vendor class.
func (d *Driver) Identify(req vendors.Request) vendors.Identity {
	id := vendors.Identity{Vendor: d.name}
	score := 0

	ua := d.parseUA(req.UserAgent)
	if ua.ok {
		score += vendors.ScoreUserAgent
		id.Model, id.Firmware, id.MAC = ua.model, ua.firmware, ua.mac
	}

	p := d.parsePath(req.Path)
	if p.kind != vendors.FileUnknown {
		score += vendors.ScorePath
		id.Kind = p.kind
		if id.MAC == "" {
			id.MAC = p.mac
		}
		if id.Model == "" {
			id.Model = p.model
		}
	}

	if id.MAC == "" && req.MAC != "" {
		if m, err := vendors.ParseMAC(req.MAC); err == nil {
			id.MAC = m
		}
	}
	if id.MAC != "" && d.ownsMAC(id.MAC) {
		score += vendors.ScoreOUI
	}
	if id.MAC == "" || d.ownsMAC(id.MAC) {
		if model, ok := d.vendorClass(req.VendorClass); ok {
			score += vendors.ScoreVendorClass
			if id.Model == "" {
				id.Model = model
			}
		}
	}
	id.Score = score
	if score == 0 {
		return vendors.Identity{}
	}
	return id
}

// vendorClass reads a DHCP vendor class (option 60). Snom phones send
// snom<model> since firmware 7.3.15 ("snomD785", "snom715", DECT bases
// "snomM700..."; snom.md §7) and DHCP servers match the prefix "snom"
// (WAZO snom.conf), so a class that starts with the prefix counts: the
// model is canonical when supported, else its first word as reported. For
// the Gigaset P-series no value is documented (gigaset.md §7 lists Nx70
// ones only): "Gigaset" followed by a P model ("GigasetP820") or alone
// counts, "Gigaset" and another model ("Gigaset_N720_DM_PRO") does not. A
// supported model named without the prefix counts for both. ok is false
// when the class says nothing about this driver.
func (d *Driver) vendorClass(class string) (model string, ok bool) {
	if class == "" {
		return "", false
	}
	c := vendors.MatchVendorClass(class, []string{d.prefix}, func(n string) (string, bool) {
		s, ok := findSpec(d.specs, d.prefix, n)
		return s.name, ok
	})
	switch {
	case c.Model != "":
		return c.Model, true
	case !c.Vendor:
		return "", false
	case d.dect:
		return "", false // a DECT base's class names its model (above)
	case len(c.Words) == 0:
		return "", true
	}
	w := c.Words[0]
	if d.gigaset {
		if gigasetModelRe.MatchString(w) {
			return "P" + strings.ToLower(w[1:]), true // "P82x" as reported
		}
		return "", false // another Gigaset's class
	}
	if isDECTModel(w) {
		return "", false // a DECT base: NewDECT's
	}
	if validModelString(w) {
		return strings.ToUpper(w), true // "M3", a model without a driver entry
	}
	return "", true
}

// ownsMAC reports whether the MAC lies in the driver's address ranges.
// Gigaset P-series phones use sub-ranges of Snom's 00:04:13 (gigaset.md
// §10): the Gigaset driver claims only those, the Snom driver everything
// else of its OUIs (the longer prefix wins).
func (d *Driver) ownsMAC(mac string) bool {
	mac = strings.ToLower(mac)
	if len(mac) != 12 {
		return false
	}
	if d.gigaset {
		return inGigasetRange(mac)
	}
	switch vendors.OUI(mac) {
	case "000413", "00087b":
		return !inGigasetRange(mac)
	}
	return false
}

// gigasetRanges are inclusive ranges of 12-digit lower-case MACs handed to
// the Gigaset P-series, from TANC data/patterns.d/gigaset.ini (gigaset.md
// §10). Same-length lower-case hex strings compare like numbers.
var gigasetRanges = [][2]string{
	{"000413e20000", "000413e3ffff"},
	{"000413e50000", "000413e5ffff"},
	{"000413e70000", "000413e7ffff"},
	{"000413800000", "000413809fff"},
	{"00041380a200", "00041380f5ff"},
	{"00041380f8e0", "00041380f8ff"},
	{"000413d84f30", "000413d84fff"},
	{"000413d85000", "000413d8507f"},
	{"000413d85100", "000413d8517f"},
	{"000413d85200", "000413d8527f"},
	{"000413d86ee0", "000413d86eff"},
	{"000413d87000", "000413d8709f"},
	{"000413d87100", "000413d8719f"},
	{"00acdce30000", "00acdce4ffff"},
}

func inGigasetRange(mac string) bool {
	for _, r := range gigasetRanges {
		if mac >= r[0] && mac <= r[1] {
			return true
		}
	}
	return false
}

type uaInfo struct {
	ok                   bool
	model, firmware, mac string
}

var (
	// Desk phones: "snomD785-SIP 10.1.33.33 ...", "snom 715-SIP ...",
	// vendor word optional ("D785-SIP 10.1..."), any case.
	snomDeskRe = regexp.MustCompile(`(?i)(?:^|[\s;(])(snom)?[\s_-]?([a-z]{0,2}\d{3}[a-z]?)-SIP(?:[\s/]+v?(\d+(?:\.\d+)+))?`)
	// DECT bases: "Snom M900 05.20.0001 000413b60680", SIP UA
	// "snomM700/<version> (MAC=...)".
	snomDectRe = regexp.MustCompile(`(?i)\bsnom[\s_-]?(M\d{2,3}[a-z]*)(?:[\s/]+v?(\d+(?:\.\d+)+))?`)
	// "snom lid 3605" and other strings that only carry the vendor word.
	snomWordRe = regexp.MustCompile(`(?i)\bsnom`)
	// Gigaset P-series (shape unverified, gigaset.md §2): "Gigaset P820 IP
	// PRO/10.1.x.y;<MAC>", "GigasetP820-SIP 10.1...", "P820 IP PRO/...".
	gigasetPRe = regexp.MustCompile(`(?i)(?:^|[\s;("])(gigaset)?[\s_-]?(P\d{2}[\dx])(?:[\s_-]*IP[\s_-]*PRO)?(?:-SIP)?(?:[\s/]+v?(\d+(?:\.[0-9a-z]+)+))?(?:[\s;/)"+]|$)`)
	// Snom and Gigaset Nx70/Maxwell words that must not count for the other.
	gigasetWordRe = regexp.MustCompile(`(?i)gigaset`)
)

// parseUA recognises the driver's own User-Agent strings only.
func (d *Driver) parseUA(ua string) uaInfo {
	ua = strings.TrimSpace(strings.Trim(strings.TrimSpace(ua), `"`))
	if ua == "" {
		return uaInfo{}
	}
	if d.gigaset {
		return d.parseGigasetUA(ua)
	}
	if !mayBeSnom(ua) {
		return uaInfo{}
	}
	if gigasetWordRe.MatchString(ua) {
		return uaInfo{} // a Gigaset, even when Snom-built
	}
	if d.dect {
		// Only the DECT bases' own shapes, with a model of NewDECT.
		if m := snomDectRe.FindStringSubmatch(ua); m != nil && isDECTModel(m[1]) {
			return uaInfo{ok: true, model: strings.ToUpper(m[1]), firmware: m[2], mac: uaMAC(ua)}
		}
		return uaInfo{}
	}
	return d.parseSnomUA(ua)
}

// mayBeSnom is false for a User-Agent that none of the Snom expressions
// can match: each needs "snom" or "-sip" (any case), and every phone's
// request is asked (a boot storm of other vendors' phones spent 2.5 % of
// the server's CPU in these expressions). Case folding in the expressions
// is Unicode's, where "ſ" (U+017F) is an "s": a User-Agent holding one
// always goes through them.
func mayBeSnom(ua string) bool {
	return containsFoldASCII(ua, "snom") || containsFoldASCII(ua, "-sip") || strings.Contains(ua, "ſ")
}

// containsFoldASCII reports whether s holds sub, ASCII letters compared
// without case (sub is lower-case ASCII).
func containsFoldASCII(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// parseSnomUA is parseUA past its quick refusal (mayBeSnom) and the
// Gigaset word.
func (d *Driver) parseSnomUA(ua string) uaInfo {
	if m := snomDeskRe.FindStringSubmatch(ua); m != nil {
		model := m[2]
		// Without the vendor word only a known Snom model counts.
		s, known := findSpec(d.specs, d.prefix, model)
		if m[1] == "" && !known {
			return d.parseDect(ua)
		}
		info := uaInfo{ok: true, model: model, firmware: m[3], mac: uaMAC(ua)}
		if known {
			info.model = s.name
		}
		return info
	}
	return d.parseDect(ua)
}

func (d *Driver) parseDect(ua string) uaInfo {
	if m := snomDectRe.FindStringSubmatch(ua); m != nil {
		if isDECTModel(m[1]) {
			return uaInfo{} // a base NewDECT serves: not the desk driver's
		}
		return uaInfo{ok: true, model: strings.ToUpper(m[1]), firmware: m[2], mac: uaMAC(ua)}
	}
	if snomWordRe.MatchString(ua) {
		return uaInfo{ok: true, mac: uaMAC(ua)}
	}
	return uaInfo{}
}

func (d *Driver) parseGigasetUA(ua string) uaInfo {
	m := gigasetPRe.FindStringSubmatch(ua)
	if m == nil {
		return uaInfo{}
	}
	model := strings.ToUpper(m[2])
	if s, ok := findSpec(d.specs, d.prefix, model); ok {
		model = s.name
	} else {
		model = "P" + strings.ToLower(model[1:]) // "P82x" as reported
	}
	// Without the word Gigaset, only a known model with a firmware version
	// or the "-SIP" / "IP PRO" shape counts.
	if m[1] == "" && m[3] == "" {
		return uaInfo{}
	}
	return uaInfo{ok: true, model: model, firmware: m[3], mac: uaMAC(ua)}
}

// uaMAC returns the last 12-hex-digit token of a User-Agent (snom.md §2:
// the build string may contain spaces, module counters may follow), or a
// "MAC=" parameter.
func uaMAC(ua string) string {
	fields := strings.FieldsFunc(ua, func(r rune) bool {
		switch r {
		case ' ', '\t', ';', '(', ')', ',', '/', '"', '=', '[', ']':
			return true
		}
		return false
	})
	for i := len(fields) - 1; i >= 0; i-- {
		f := strings.TrimSuffix(fields[i], ".")
		if len(f) == 17 { // aa:bb:cc:dd:ee:ff
			f = strings.NewReplacer(":", "", "-", "").Replace(f)
		}
		if vendors.IsMAC(f) {
			if mac, err := vendors.ParseMAC(f); err == nil {
				return mac
			}
		}
	}
	return ""
}

type pathInfo struct {
	kind        vendors.FileKind
	mac, model  string
	file        string // "device", "general", "index", "firmware"
	modelInName string
}

// parsePath recognises the driver's file names, any case, in any folder:
// <MAC>.xml, <prefix><model>.htm, <prefix><model>-<MAC>.htm and
// <prefix><model>-firmware.htm (also with .xml, as WAZO serves them).
func (d *Driver) parsePath(p string) pathInfo {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	base := path.Base(strings.ReplaceAll(p, `\`, "/"))
	lower := strings.ToLower(base)
	var stem string
	switch {
	case strings.HasSuffix(lower, ".htm"):
		stem = base[:len(base)-4]
	case strings.HasSuffix(lower, ".html"):
		stem = base[:len(base)-5]
	case strings.HasSuffix(lower, ".xml"):
		stem = base[:len(base)-4]
	default:
		return pathInfo{}
	}
	if d.dect {
		return d.parseDECTPath(base, lower, stem)
	}
	if vendors.IsMAC(stem) && strings.HasSuffix(lower, ".xml") {
		return deviceFile(stem)
	}
	if len(stem) <= len(d.prefix) || !strings.EqualFold(stem[:len(d.prefix)], d.prefix) {
		return pathInfo{}
	}
	rest := stem[len(d.prefix):]
	info := pathInfo{kind: vendors.FileCommon, file: "general"}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		tail := rest[i+1:]
		switch {
		case strings.EqualFold(tail, "firmware"):
			info.file = "firmware"
		case vendors.IsMAC(tail):
			mac, err := vendors.ParseMAC(tail)
			if err != nil {
				return pathInfo{}
			}
			info.file, info.mac = "index", mac
		default:
			return pathInfo{}
		}
		rest = rest[:i]
	}
	if !validModelString(rest) {
		return pathInfo{}
	}
	info.modelInName = rest
	if !d.gigaset && isDECTModel(rest) {
		return pathInfo{} // a DECT base's name: NewDECT's
	}
	if s, ok := findSpec(d.specs, d.prefix, rest); ok {
		info.model = s.name
	} else if d.gigaset {
		if !gigasetModelRe.MatchString(rest) {
			return pathInfo{} // not a P-series name
		}
		info.model = "P" + strings.ToLower(rest[1:])
	} else {
		info.model = strings.ToUpper(rest)
	}
	return info
}

// parseDECTPath recognises a DECT base's names (WAZO common_dect):
// <MAC>.xml (device), snom<model>.htm (the container), snom<model>.xml
// (common settings) and snom<model>-<MAC>.htm (the per-base container),
// for the models of NewDECT only.
func (d *Driver) parseDECTPath(base, lower, stem string) pathInfo {
	xml := strings.HasSuffix(lower, ".xml")
	if vendors.IsMAC(stem) {
		if !xml {
			return pathInfo{}
		}
		return deviceFile(stem)
	}
	if len(stem) <= len(d.prefix) || !strings.EqualFold(stem[:len(d.prefix)], d.prefix) {
		return pathInfo{}
	}
	rest := stem[len(d.prefix):]
	info := pathInfo{kind: vendors.FileCommon, file: "container"}
	if xml {
		info.file = "general"
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		tail := rest[i+1:]
		if xml || !vendors.IsMAC(tail) {
			return pathInfo{}
		}
		mac, err := vendors.ParseMAC(tail)
		if err != nil {
			return pathInfo{}
		}
		info.file, info.mac = "index", mac
		rest = rest[:i]
	}
	s, ok := findSpec(d.specs, d.prefix, rest)
	if !ok {
		return pathInfo{}
	}
	info.modelInName, info.model = rest, s.name
	return info
}

var gigasetModelRe = regexp.MustCompile(`(?i)^P\d{2}[\dx]$`)

// validModelString accepts the short alphanumeric model strings phones put
// in file names ("D785", "715", "M700", "P82x").
func validModelString(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	digit := false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return digit
}

// deviceFile is the per-device file <MAC>.xml of stem, a MAC.
func deviceFile(stem string) pathInfo {
	mac, err := vendors.ParseMAC(stem)
	if err != nil {
		return pathInfo{}
	}
	return pathInfo{kind: vendors.FileDevice, mac: mac, file: "device"}
}
