package cisco

import (
	"regexp"
	"strings"
)

// loadVersion reads the version out of an MPP load name as $SWVER and the
// firmware catalogue may spell it ("sip88xx.12-0-1MPP0001-609",
// "sip78xx.11-0-1MPP"): 12.0.1, 11.0.1.
var loadVersion = regexp.MustCompile(`(?i)^(?:sip[0-9a-z]+\.)?(\d+)-(\d+)-(\d+)`)

// NormaliseFirmware implements vendors.FirmwareNormaliser: the User-Agent
// reports "12.0.1" while a load is named "sip88xx.12-0-1MPP0001-609"
// (cisco-mpp.md §3.1, §6); both compare as "12.0.1". A version in neither
// shape compares as it is spelt (lower case), so an unknown spelling is
// never taken for the target.
func (d *Driver) NormaliseFirmware(version string) string {
	v := strings.TrimSpace(version)
	if len(v) > 256 {
		v = v[:256]
	}
	if m := loadVersion.FindStringSubmatch(v); m != nil {
		return m[1] + "." + m[2] + "." + m[3]
	}
	return strings.ToLower(v)
}
