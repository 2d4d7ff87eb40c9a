package snom

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

// snomValues is what the all-values test checks against: Snom's own lists.
func snomValues(model string) vendortest.Values {
	zones := map[string]bool{}
	for _, z := range zoneList {
		if z.code != "CHN+7" { // labelled +8, coded +7: never written
			zones[z.code] = true
		}
	}
	langs := map[string]bool{}
	for _, l := range languages {
		langs[l] = true
	}
	return vendortest.Values{
		Model:    model,
		Zone:     regexp.MustCompile(`<timezone(?: perm="R")?>([^<]*)</timezone>`),
		Language: regexp.MustCompile(`<language(?: perm="R")?>([^<]*)</language>`),
		Tone:     regexp.MustCompile(`<tone_scheme(?: perm="R")?>([^<]*)</tone_scheme>`),
		Zones:    zones, Languages: langs, ToneValues: vendortest.Set(toneList...),
	}
}

// TestAllValues renders every zone of Go's tzdata and every language and
// tone scheme, and checks each value is in Snom's lists.
func TestAllValues(t *testing.T) {
	vendortest.CheckValues(t, newSnom(), snomValues("D785"))
	vendortest.CheckValues(t, newGigaset(), snomValues("P820"))
	vendortest.CheckValues(t, newDECT(), snomValues("M300")) // the DECT bases' list: README
}

// TestZoneTablesUseSnomCodes: every code the tables can write is in the
// list kept with its source, and the disputed codes are gone.
func TestZoneTablesUseSnomCodes(t *testing.T) {
	for name, c := range zoneCodes {
		if _, ok := zoneByCode[c]; !ok || c == "CHN+7" {
			t.Errorf("zoneCodes[%s] = %q: not a code of Snom's list", name, c)
		}
	}
	for _, c := range representatives {
		if _, ok := zoneByCode[c]; !ok {
			t.Errorf("representative %q: not a code of Snom's list", c)
		}
	}
	for _, bad := range []string{"CHN+8", "KOR+9", "UAE+4", "COL-5", "LTU+2", "VEN-4.5", "NCL+11"} {
		if _, ok := zoneByCode[bad]; ok {
			t.Errorf("%s is in the list", bad)
		}
	}
	for name, want := range map[string]string{"Asia/Shanghai": "KOR+8", "Asia/Hong_Kong": "KOR+8",
		"Asia/Dubai": "KAZ+4", "Europe/Vilnius": "EST+2", "America/Bogota": "USA-5", "Asia/Seoul": "JPN+9",
		"Europe/Berlin": "GER+1", "Asia/Kolkata": "IND+5.5", "Asia/Kathmandu": "IND+5.5"} {
		z, err := vendors.ResolveZone(name, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if got := snomTimezone(z); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestWarnings: a zone written exactly says nothing; Bogotá (no DST) on
// USA-5 and Kathmandu (+5:45) on IND+5.5 are named.
func TestWarnings(t *testing.T) {
	d := newSnom()
	warn := func(zone, tone string) []string {
		z, err := vendors.ResolveZone(zone, time.Now().Year())
		if err != nil {
			t.Fatal(err)
		}
		return vendors.Strings(d.Warnings(&vendors.Device{Model: "D785", Zone: z, Settings: vendors.Settings{Timezone: zone, ToneScheme: tone}}))
	}
	if w := warn("Europe/Berlin", "DE"); len(w) != 0 {
		t.Errorf("Berlin: %q", w)
	}
	if w := warn("Asia/Kathmandu", "DE"); len(w) != 1 || !strings.Contains(w[0], "IND+5.5 (+5:30) written, 15 minutes off") {
		t.Errorf("Kathmandu: %q", w)
	}
	if w := warn("America/Bogota", "US"); len(w) != 1 || !strings.Contains(w[0], "USA-5") || !strings.Contains(w[0], "daylight saving") {
		t.Errorf("Bogota: %q", w)
	}
	if w := warn("Europe/Warsaw", "PL"); len(w) != 1 || !strings.Contains(w[0], "tone scheme PL (Poland): the D785 has none; GER written") {
		t.Errorf("Warsaw: %q", w)
	}
}
