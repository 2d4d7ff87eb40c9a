package gigaset

import (
	"regexp"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// ouis are Gigaset's OUIs for the Nx70 and Maxwell (reference gigaset.md
// §10). 00:04:13 is Snom's and is shared with the P-series only: never ours.
var ouis = map[string]bool{"7c2f80": true, "589ec6": true, "002104": true, "14b370": true}

// provisioningFile is what Nx70 and Maxwell ask for first when given a
// bare server URL (reference gigaset.md §1).
const provisioningFile = "provisioning.xml"

// macFile matches <MAC>.xml in any case, optionally followed by the
// ".<option 15 domain>" suffix Maxwell adds in "special provider" mode
// (reference gigaset.md §1).
var macFile = regexp.MustCompile(`^(?i)([0-9a-f]{12})\.xml(\.[a-z0-9.-]+)?$`)

// uaMAC finds a MAC inside a User-Agent: 12 hex digits or six colon/dash
// separated pairs, not part of a longer hex run.
var uaMAC = regexp.MustCompile(`(?i)(?:^|[^0-9a-f])((?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}|[0-9a-f]{12})(?:[^0-9a-f]|$)`)

// nxModel matches the model part of an Nx70 or legacy DECT UA ("N870 IP
// PRO", "N720-DM-PRO", "N870E IP PRO").
var nxModel = regexp.MustCompile(`^N\d{3}[A-Z]?( [A-Z0-9 ]*)?$`)

// foreignUA are words that mark another vendor's User-Agent (or a Gigaset
// P-series desk phone, which the snom driver serves).
var foreignUA = regexp.MustCompile(`(?i)yealink|snom|cisco|polycom|poly/|grandstream|fanvil|openstage|optiipphone|unify|mitel|aastra|panasonic|avaya|linksys|\bspa\d|\bgigaset[ _-]*p\d{3}|^"?p\d{3}[ _-]`)

// Identify inspects a request: the path (<MAC>.xml or provisioning.xml),
// the User-Agent (Nx70, Maxwell and legacy N510/N720 shapes), the MAC's
// OUI and the DHCP vendor class (unless the MAC is another vendor's).
// Another vendor's User-Agent, or a P-series one, gives Score 0.
func (d *Driver) Identify(req vendors.Request) vendors.Identity {
	id := vendors.Identity{Vendor: VendorName}
	ua := parseUA(req.UserAgent)
	if !ua.ok && foreignUA.MatchString(req.UserAgent) {
		return vendors.Identity{}
	}
	score := 0
	if ua.ok {
		score += vendors.ScoreUserAgent
		id.Model, id.Firmware = ua.model, ua.firmware
	}

	path := strings.TrimPrefix(strings.TrimSpace(req.Path), "/")
	var pathMAC string
	switch {
	case strings.EqualFold(path, provisioningFile):
		id.Kind = vendors.FileDevice
		score += vendors.ScorePath
	default:
		if m := macFile.FindStringSubmatch(path); m != nil {
			if mac, err := vendors.ParseMAC(m[1]); err == nil {
				pathMAC = mac
				id.Kind = vendors.FileDevice
				score += vendors.ScorePath
			}
		}
	}

	id.MAC = firstNonEmpty(pathMAC, canonical(req.MAC), ua.mac)
	if id.MAC != "" && ouis[vendors.OUI(id.MAC)] {
		score += vendors.ScoreOUI
	}
	if id.MAC == "" || ouis[vendors.OUI(id.MAC)] {
		if model, ok := vendorClass(req.VendorClass); ok {
			score += vendors.ScoreVendorClass
			if id.Model == "" {
				id.Model = model
			}
		}
	}
	if score == 0 {
		return vendors.Identity{}
	}
	id.Score = score
	return id
}

// vendorClass reads a DHCP vendor class (option 60): the N510 sends
// "N510_IP_PRO", the N720 "Gigaset_N720_DM_PRO" (gigaset.md §7, WAZO
// GigasetDHCPDeviceInfoExtractor); no Nx70 or Maxwell value is documented,
// so the same shapes are accepted for them ("Gigaset_N870_IP_PRO",
// "Maxwell 3"), with or without the word Gigaset, as the User-Agent is.
// The model is canonical when supported, else as parseUA reports it ("N510
// IP PRO", "N720 DM PRO"); the word Gigaset alone counts without a model.
// A P-series class is the snom driver's. ok is false when the class says
// nothing about this driver.
func vendorClass(class string) (model string, ok bool) {
	if class == "" {
		return "", false
	}
	c := vendors.MatchVendorClass(class, []string{VendorName}, func(n string) (string, bool) {
		m := canonicalModel(n)
		return m, m != ""
	})
	switch {
	case c.Model != "":
		return c.Model, true
	case len(c.Words) == 0:
		return "", c.Vendor
	}
	n := normalise(strings.Join(c.Words, " "))
	switch {
	case len(n) > maxReported:
		return "", false
	case strings.HasPrefix(n, "MAXWELL"):
		suffix := c.Words[0][len("MAXWELL"):] // "Maxwell10"
		if suffix == "" && len(c.Words) > 1 && !looksLikeVersion(c.Words[1]) {
			suffix = c.Words[1] // "Maxwell_10"
		}
		return maxwellName(suffix), true
	case nxModel.MatchString(n):
		return n, true
	}
	return "", false
}

// maxReported bounds a model name taken as reported from a vendor class.
const maxReported = 32

func canonical(mac string) string {
	m, err := vendors.ParseMAC(mac)
	if err != nil {
		return ""
	}
	return m
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// userAgent is what parseUA learnt.
type userAgent struct {
	ok       bool
	model    string // canonical when supported, else the reported name
	firmware string
	mac      string
}

// parseUA recognises the Nx70 UA "[Gigaset ]<model>/<version>[;<MAC>][;Handset=<n>]"
// (optionally in quotes), its legacy N510/N720 relatives, and the Maxwell
// shapes "Gigaset Maxwell 3 2.41.0 7C:2F:80:AA:BB:D8" and "Maxwell...".
// Reference gigaset.md §2.
func parseUA(raw string) userAgent {
	s := strings.TrimSpace(raw)
	s = strings.Trim(s, `"'`)
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 512 {
		return userAgent{}
	}
	var u userAgent
	if m := uaMAC.FindStringSubmatch(s); m != nil {
		u.mac = canonical(m[1])
	}
	rest := s
	if len(rest) >= 7 && strings.EqualFold(rest[:7], "gigaset") {
		rest = strings.TrimLeft(rest[7:], " -_")
	}
	upper := strings.ToUpper(rest)

	// Maxwell: "Maxwell 3 2.41.0 ...", "Maxwell3/2.41.0", "Maxwell Basic ...".
	if strings.HasPrefix(upper, "MAXWELL") {
		u.ok = true
		head := rest
		if i := strings.IndexAny(head, "/;("); i >= 0 {
			head = head[:i]
		}
		fields := strings.Fields(normalise(head))
		// fields[0] is "MAXWELL" or "MAXWELL3".
		var suffix string
		if f := strings.TrimPrefix(fields[0], "MAXWELL"); f != "" {
			suffix = f
		} else if len(fields) > 1 && !looksLikeVersion(fields[1]) {
			suffix = fields[1]
		}
		u.model = maxwellName(suffix)
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			u.firmware = versionPrefix(rest[i+1:])
		} else {
			for _, f := range fields[1:] {
				if looksLikeVersion(f) {
					u.firmware = f
					break
				}
			}
		}
		return u
	}

	// Nx70 and legacy: "<model>/<version>[;...]".
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return userAgent{}
	}
	model := normalise(rest[:slash])
	if !nxModel.MatchString(model) {
		return userAgent{}
	}
	u.ok = true
	if c := canonicalModel(model); c != "" {
		u.model = c
	} else {
		u.model = model
	}
	u.firmware = versionPrefix(rest[slash+1:])
	return u
}

// maxwellName returns the canonical Maxwell name for a model suffix, or
// "Maxwell <suffix>" as reported (e.g. Maxwell 10), or "Maxwell".
func maxwellName(suffix string) string {
	if suffix == "" {
		return "Maxwell"
	}
	if c := canonicalModel("Maxwell " + suffix); c != "" {
		return c
	}
	return "Maxwell " + suffix
}

// versionPrefix returns the version at the start of s, up to ';', a blank
// or a "+build" suffix.
func versionPrefix(s string) string {
	if i := strings.IndexAny(s, "; +"); i >= 0 {
		s = s[:i]
	}
	return s
}

// looksLikeVersion reports whether f is a dotted version such as 2.41.0.
func looksLikeVersion(f string) bool {
	if !strings.Contains(f, ".") {
		return false
	}
	for _, c := range f {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'V' || c == 'v') {
			return false
		}
	}
	return true
}
