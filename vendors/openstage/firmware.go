package openstage

import (
	"regexp"
	"strings"
)

// NormaliseFirmware implements vendors.FirmwareNormaliser: phones report
// "V3 R5.6.0" (ref §3, software-version), a catalogue version cannot hold
// a space ("V3R5.6.0"): both compare as "v3r5.6.0".
func (*Driver) NormaliseFirmware(v string) string {
	return strings.ToLower(strings.Join(strings.Fields(v), ""))
}

var versionRE = regexp.MustCompile(`^([Vv]\d+)\s*([Rr]\d.*)$`)

// phoneVersion spells a catalogue version as the phones report theirs
// ("V3R5.7.0" -> "V3 R5.7.0"), for file-sw-version; any other spelling is
// kept as it is.
func phoneVersion(v string) string {
	if m := versionRE.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
		return strings.ToUpper(m[1]) + " " + strings.ToUpper(m[2][:1]) + m[2][1:]
	}
	return v
}
