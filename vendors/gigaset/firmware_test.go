package gigaset

import (
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// The Nx70 User-Agent's spelling and the catalogue's name one version.
func TestNormaliseFirmware(t *testing.T) {
	d := &Driver{}
	for in, want := range map[string]string{
		"83.V2.43.0+build.5f0a106":           "2.43.0",
		"83.V2.64.0-160-g758db0bf":           "2.64.0",
		"V2.43.0":                            "2.43.0",
		"2.43.0":                             "2.43.0",
		"Gigaset-Nx70-V2.65.0-build.8504c90": "2.65.0",
		"  Beta ":                            "beta",
		"":                                   "",
	} {
		if got := d.NormaliseFirmware(in); got != want {
			t.Errorf("NormaliseFirmware(%q) = %q, want %q", in, got, want)
		}
	}
	if !vendors.SameFirmware(d, "83.V2.43.0+build.5f0a106", "2.43.0") || vendors.SameFirmware(d, "83.V2.43.0+build.5f0a106", "2.44.0") {
		t.Error("SameFirmware through the normaliser")
	}
	if vendors.SameFirmware(d, "", "") {
		t.Error("two unknown versions are not the same")
	}
}
