package cisco

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

// TestAllValues renders every zone of Go's tzdata and every language, and
// checks each value is in Cisco's lists; every tone scheme writes a
// Dial_Tone of toneTable.
func TestAllValues(t *testing.T) {
	zones := map[string]bool{}
	for _, m := range timeZones {
		zones[timeZone(m*60)] = true
	}
	langs := map[string]bool{}
	for _, l := range languages {
		langs[l.selection] = true
	}
	dials := map[string]bool{}
	for _, ts := range toneTable {
		dials[ts.Dial] = true
	}
	vendortest.CheckValues(t, newDriver(t), vendortest.Values{
		Model:    "8851",
		Zone:     regexp.MustCompile(`<Time_Zone ua="na">([^<]*)</Time_Zone>`),
		Language: regexp.MustCompile(`<Language_Selection ua="na">([^<]*)</Language_Selection>`),
		Tone:     regexp.MustCompile(`<Dial_Tone ua="na">([^<]*)</Dial_Tone>`),
		Zones:    zones, Languages: langs, ToneValues: dials,
	})
}

// TestWarnings: Kathmandu (+5:45) is in the list, Eucla (+8:45) is not.
func TestWarnings(t *testing.T) {
	d := newDriver(t)
	for zone, want := range map[string]string{
		"Asia/Kathmandu":  "",
		"Europe/Berlin":   "",
		"Australia/Eucla": "Australia/Eucla is +8:45; the 8851 has no such zone: GMT+09:00 (+9:00) written, 15 minutes off",
	} {
		z, err := vendors.ResolveZone(zone, time.Now().Year())
		if err != nil {
			t.Fatal(err)
		}
		w := vendors.Strings(d.Warnings(&vendors.Device{Model: "8851", Zone: z}))
		if want == "" && len(w) != 0 || want != "" && (len(w) != 1 || !strings.Contains(w[0], want)) {
			t.Errorf("%s: %q, want %q", zone, w, want)
		}
	}
}
