package gigaset

import (
	"regexp"
	"strings"
)

// fwNumber finds the x.y.z[.w] of a Gigaset version: after a product
// prefix and a "V" in a User-Agent ("83.V2.43.0+build.5f0a106"), in a
// file name ("Gigaset-Nx70-V2.65.0-build.8504c90.bin") or alone ("2.43.0").
var fwNumber = regexp.MustCompile(`(?i)(?:^|[.\-_ /])v?(\d{1,4}\.\d{1,4}\.\d{1,4}(?:\.\d{1,6})?)`)

// NormaliseFirmware returns the version number a Gigaset version names:
// "83.V2.43.0+build.5f0a106" (the Nx70 User-Agent), "V2.43.0" and
// "2.43.0" are all "2.43.0" (gigaset.md §2, §5). A string without such a
// number is returned trimmed and lower-case.
func (d *Driver) NormaliseFirmware(version string) string {
	if len(version) > 256 {
		version = version[:256]
	}
	if m := fwNumber.FindStringSubmatch(version); m != nil {
		return m[1]
	}
	return strings.ToLower(strings.TrimSpace(version))
}
