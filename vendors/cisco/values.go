package cisco

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// timeZones are the Time_Zone choices, as standard offsets in minutes
// (the Regional tab's Time Zone list of the Cisco SPA and MPP
// administration guides, GMT-12:00 to GMT+14:00 with the half and
// three-quarter hours below; README.md, "Values"). A zone between two is
// written as the nearest, with a warning.
var timeZones = []int{
	-720, -660, -600, -540, -480, -420, -360, -300, -240, -210, -180, -120, -60,
	0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 540, 570,
	600, 630, 660, 720, 780, 840,
}

// nearestOffset returns the entry of timeZones closest to offset (in
// seconds), the western one on a tie, in seconds.
func nearestOffset(offset int) int {
	best := timeZones[0] * 60
	for _, m := range timeZones {
		o := m * 60
		if abs(o-offset) < abs(best-offset) {
			best = o
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// locale is one Language_Selection / Locale pair.
type locale struct{ selection, locale string }

// languages maps ISO 639-1 codes to Language_Selection and Locale
// (cisco-mpp.md §4.1: "English-US"/"en-US", "German"/"de-DE"; the others
// follow the same pattern of the MPP dictionary names).
var languages = map[string]locale{
	"en": {"English-US", "en-US"}, "de": {"German", "de-DE"}, "fr": {"French", "fr-FR"},
	"it": {"Italian", "it-IT"}, "es": {"Spanish", "es-ES"}, "nl": {"Dutch", "nl-NL"},
	"pt": {"Portuguese", "pt-PT"}, "pl": {"Polish", "pl-PL"}, "cs": {"Czech", "cs-CZ"},
	"ru": {"Russian", "ru-RU"}, "tr": {"Turkish", "tr-TR"}, "sv": {"Swedish", "sv-SE"},
	"da": {"Danish", "da-DK"},
}

// language maps an ISO 639-1 code to Language_Selection and Locale;
// English for anything else.
func language(code string) (selection, loc string) {
	l, ok := languages[strings.ToLower(code)]
	if !ok {
		l = languages["en"]
	}
	return l.selection, l.locale
}

// Warnings implements vendors.Warner: a zone whose offset is not in the
// Time_Zone list (written as the nearest; the DST rule is written
// exactly, so only the offset can differ).
func (d *Driver) Warnings(dev *vendors.Device) []vendors.Text {
	m, ok := d.lookup(dev.Model)
	if !ok || dev.Zone.Name == "" {
		return nil
	}
	z := dev.Zone
	off := nearestOffset(z.Offset)
	if w := vendors.ZoneWarning(z, m.Name, timeZone(off), off, z.DST != nil); w.Format != "" {
		return []vendors.Text{w}
	}
	return nil
}
