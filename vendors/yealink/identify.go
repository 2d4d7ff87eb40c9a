package yealink

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// userAgent is what a Yealink User-Agent string told.
type userAgent struct {
	Model    string // as reported, e.g. "T54W", "T21P_E2"; "" when absent
	Firmware string // e.g. "96.86.0.70"; "" when absent
	MAC      string // canonical, or ""
	Vendor   bool   // the string names Yealink
}

// parseUserAgent reads strings like "Yealink SIP-T54W 96.86.0.70
// 80:5e:c0:d5:7d:72" (reference §2): fields split on runs of white space,
// the version is the token shaped like N.N.N.N, the model the token before
// it with leading "yealink", "sip" and "vp" words stripped, the MAC a later
// token of 12 hex digits with or without separators. ok is false when the
// string does not parse as a Yealink one at all.
func parseUserAgent(ua string) (userAgent, bool) {
	var u userAgent
	tokens := strings.Fields(ua)
	if len(tokens) == 0 || len(tokens) > 16 {
		return u, false
	}
	ver := -1
	for i, t := range tokens {
		if isVersion(t) {
			ver = i
			break
		}
	}
	for i, t := range tokens {
		if ver >= 0 && i > ver {
			break
		}
		if strings.HasPrefix(strings.ToLower(t), "yealink") {
			u.Vendor = true
		}
	}
	var modelTok string
	switch {
	case ver > 0:
		modelTok = tokens[ver-1]
		u.Firmware = tokens[ver]
		for _, t := range tokens[ver+1:] {
			if m, ok := macToken(t); ok {
				u.MAC = m
			}
		}
	case ver < 0 && u.Vendor:
		// "Yealink W52P" without a version: the model follows the vendor words.
		for _, t := range tokens {
			if stripPrefixes(t) != "" {
				modelTok = t
				break
			}
		}
	default:
		return u, false
	}
	u.Model = stripPrefixes(modelTok)
	if !isModelName(u.Model) {
		u.Model = ""
	}
	return u, u.Vendor || u.Model != "" || u.MAC != ""
}

// stripPrefixes removes leading "yealink", "sip" and "vp" words, each
// followed by "-" or ending the token, case-insensitively: "SIP-T46G" ->
// "T46G", "VP-T49G" -> "T49G", "Yealink-T46G" -> "T46G", "VP59" stays.
func stripPrefixes(t string) string {
	for {
		lower := strings.ToLower(t)
		cut := false
		for _, w := range []string{"yealink", "sip", "vp"} {
			if lower == w {
				return ""
			}
			if strings.HasPrefix(lower, w+"-") {
				t = t[len(w)+1:]
				cut = true
				break
			}
		}
		if !cut {
			return t
		}
	}
}

// isModelName reports whether s looks like a Yealink model name: letters,
// digits and underscores, starting with a letter, at most 16 characters.
func isModelName(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// isVersion reports whether t is four dot-separated numbers (28.72.0.1).
func isVersion(t string) bool {
	parts := strings.Split(t, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 5 {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// macToken accepts "001565f429a4" and "00:15:65:4a:a9:37" (or with dashes)
// and returns the canonical MAC.
func macToken(t string) (string, bool) {
	switch len(t) {
	case 12:
		if !vendors.IsMAC(t) {
			return "", false
		}
	case 17:
		sep := t[2]
		if sep != ':' && sep != '-' {
			return "", false
		}
		for i := 2; i < 17; i += 3 {
			if t[i] != sep {
				return "", false
			}
		}
	default:
		return "", false
	}
	m, err := vendors.ParseMAC(t)
	return m, err == nil
}

// pathInfo is what a requested file name told.
type pathInfo struct {
	Kind     vendors.FileKind
	MAC      string // the MAC in the name, canonical
	CommonID string // NNN of y000000000NNN.cfg
	Ours     bool   // a Yealink file name, served or not
}

// classifyPath recognises Yealink's file names (reference §1), MAC in any
// case: <mac>.cfg (device), <mac>.boot, y000000000000.boot and
// y000000000NNN.cfg (common), <mac>-local.cfg (Yealink's, never served).
func classifyPath(p string) pathInfo {
	p = strings.TrimPrefix(p, "/")
	if strings.ContainsAny(p, "/\\") || len(p) > 64 {
		return pathInfo{}
	}
	lower := strings.ToLower(p)
	base, ext, ok := strings.Cut(lower, ".")
	if !ok {
		return pathInfo{}
	}
	switch ext {
	case "cfg":
		if m, ok := nameMAC(base); ok {
			return pathInfo{Kind: vendors.FileDevice, MAC: m, Ours: true}
		}
		if id, ok := commonName(base); ok {
			return pathInfo{Kind: vendors.FileCommon, CommonID: id, Ours: true}
		}
		if mac, ok := strings.CutSuffix(base, "-local"); ok {
			if m, ok := nameMAC(mac); ok {
				return pathInfo{Kind: vendors.FileUnknown, MAC: m, Ours: true}
			}
		}
	case "boot":
		if base == "y000000000000" {
			return pathInfo{Kind: vendors.FileCommon, Ours: true}
		}
		if m, ok := nameMAC(base); ok {
			return pathInfo{Kind: vendors.FileCommon, MAC: m, Ours: true}
		}
	}
	return pathInfo{}
}

// nameMAC accepts exactly 12 hex digits that form a device MAC.
func nameMAC(s string) (string, bool) {
	if !vendors.IsMAC(s) {
		return "", false
	}
	m, err := vendors.ParseMAC(s)
	return m, err == nil
}

// commonName accepts "y000000000NNN" (lower-cased) and returns NNN.
func commonName(s string) (string, bool) {
	if len(s) != 13 || s[0] != 'y' || s[1:10] != "000000000" {
		return "", false
	}
	for _, c := range s[10:] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s[10:], true
}

// vendorWords are the words that start a Yealink DHCP vendor class.
var vendorWords = []string{"yealink"}

// vendorClass reads a DHCP vendor class (option 60). Yealink phones can
// send one (static.network.dhcp.option60type,
// static.auto_provision.dhcp_option.option60_value), but its values are
// unverified (reference §7), so any plausible shape counts: a class that
// starts with "yealink" ("yealink", "yealink SIP-T46S", "Yealink-T54W"),
// or one that names a supported model without the vendor word
// ("SIP-T54W"). The model is canonical when supported, else the first
// model-shaped word after the vendor word, as reported; ok is false when
// the class says nothing about Yealink.
func (d *Driver) vendorClass(class string) (model string, ok bool) {
	if class == "" {
		return "", false
	}
	c := vendors.MatchVendorClass(class, vendorWords, func(n string) (string, bool) {
		m, ok := d.lookup(n)
		return m.Name, ok
	})
	switch {
	case c.Model != "":
		return c.Model, true
	case !c.Vendor:
		return "", false
	}
	for _, w := range c.Words {
		if w = stripPrefixes(w); w != "" { // "SIP", "VP" are not models
			if isModelName(w) {
				return w, true
			}
			break
		}
	}
	return "", true
}

// Identify implements vendors.Vendor. The score adds ScoreUserAgent for a
// Yealink User-Agent, ScorePath for a Yealink file name, ScoreOUI for a
// MAC with a Yealink OUI and ScoreVendorClass for a DHCP vendor class that
// names Yealink or one of its models, unless the MAC is another vendor's.
func (d *Driver) Identify(req vendors.Request) vendors.Identity {
	id := vendors.Identity{Vendor: Name}
	ua, uaOK := parseUserAgent(req.UserAgent)
	if uaOK && !ua.Vendor {
		// No vendor word: accept only a Yealink OUI or one of our models.
		if _, known := d.lookup(ua.Model); !known && !isYealinkOUI(ua.MAC) {
			uaOK = false
		}
	}
	if uaOK {
		id.Score += vendors.ScoreUserAgent
		id.Firmware = ua.Firmware
		id.MAC = ua.MAC
		if m, ok := d.lookup(ua.Model); ok {
			id.Model = m.Name
		} else {
			id.Model = ua.Model
		}
	}
	p := classifyPath(req.Path)
	if p.Ours {
		id.Score += vendors.ScorePath
		id.Kind = p.Kind
		if p.MAC != "" {
			id.MAC = p.MAC // the file names the phone it is for
		}
		if p.CommonID != "" && id.Model == "" {
			id.Model = d.modelForCommonID(p.CommonID)
		}
	}
	return vendors.FinishIdentity(id, req, isYealinkOUI, d.vendorClass)
}
