package gigaset

import (
	"fmt"

	"github.com/autoprov/autoprov/vendors"
)

// gigasetZone is one value of Gigaset's own time zone list: an IANA name
// the Nx70 accepts, with its standard offset and whether it observes DST.
type gigasetZone struct {
	name   string
	offset int // standard offset east of UTC, seconds
	dst    bool
}

// nx70Zones is the list of values DmGlobal.0.TimeZone accepts (the list
// WAZO validates against in Nx70_83_v2_65_0/common.py; reference
// gigaset.md §3.1). Offsets are standard time.
var nx70Zones = func() map[string]gigasetZone {
	h := 3600
	list := []gigasetZone{
		{"Pacific/Honolulu", -10 * h, false}, {"America/Anchorage", -9 * h, true},
		{"America/Los_Angeles", -8 * h, true}, {"America/Denver", -7 * h, true},
		{"America/Chicago", -6 * h, true}, {"America/New_York", -5 * h, true},
		{"America/Caracas", -4 * h, false}, {"America/Sao_Paulo", -3 * h, false},
		{"Europe/Belfast", 0, true}, {"Europe/Dublin", 0, true}, {"Europe/Guernsey", 0, true},
		{"Europe/Isle_of_Man", 0, true}, {"Europe/Jersey", 0, true}, {"Europe/Lisbon", 0, true},
		{"Europe/London", 0, true}, {"Greenwich", 0, false},
	}
	for _, n := range []string{"Amsterdam", "Andorra", "Belgrade", "Berlin", "Bratislava",
		"Brussels", "Budapest", "Busingen", "Copenhagen", "Gibraltar", "Ljubljana", "Luxembourg",
		"Madrid", "Malta", "Monaco", "Oslo", "Paris", "Podgorica", "Prague", "Rome", "San_Marino",
		"Sarajevo", "Skopje", "Stockholm", "Tirane", "Vaduz", "Vatican", "Vienna", "Warsaw",
		"Zagreb", "Zurich"} {
		list = append(list, gigasetZone{"Europe/" + n, h, true})
	}
	list = append(list, gigasetZone{"Africa/Cairo", 2 * h, true})
	for _, n := range []string{"Athens", "Bucharest", "Chisinau", "Helsinki", "Kiev", "Mariehamn",
		"Nicosia", "Riga", "Sofia", "Tallinn", "Tiraspol", "Uzhgorod", "Vilnius", "Zaporozhye"} {
		list = append(list, gigasetZone{"Europe/" + n, 2 * h, true})
	}
	list = append(list, gigasetZone{"Europe/Kaliningrad", 2 * h, false})
	for _, n := range []string{"Istanbul", "Kirov", "Minsk", "Moscow", "Simferopol", "Volgograd"} {
		list = append(list, gigasetZone{"Europe/" + n, 3 * h, false})
	}
	list = append(list,
		gigasetZone{"Asia/Dubai", 4 * h, false}, gigasetZone{"Europe/Astrakhan", 4 * h, false},
		gigasetZone{"Europe/Samara", 4 * h, false}, gigasetZone{"Europe/Ulyanovsk", 4 * h, false},
		gigasetZone{"Asia/Karachi", 5 * h, false}, gigasetZone{"Asia/Dhaka", 6 * h, false},
		gigasetZone{"Asia/Hong_Kong", 8 * h, false}, gigasetZone{"Asia/Tokyo", 9 * h, false},
		gigasetZone{"Australia/Adelaide", 9*h + 1800, true}, gigasetZone{"Australia/Darwin", 9*h + 1800, false},
		gigasetZone{"Australia/Brisbane", 10 * h, false}, gigasetZone{"Australia/Sydney", 10 * h, true},
		gigasetZone{"Pacific/Noumea", 11 * h, false},
	)
	m := make(map[string]gigasetZone, len(list))
	for _, z := range list {
		m[z.name] = z
	}
	return m
}()

// representatives is the fallback per standard offset, in a fixed order
// (ties go to the first): one zone of the list per offset, with and
// without DST where the list has both. Our own choice, same idea as
// WAZO's fallback map.
var representatives = []string{
	"Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
	"America/Chicago", "America/New_York", "America/Caracas", "America/Sao_Paulo",
	"Europe/London", "Greenwich", "Europe/Amsterdam", "Europe/Athens", "Europe/Kaliningrad",
	"Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Dhaka", "Asia/Hong_Kong", "Asia/Tokyo",
	"Australia/Adelaide", "Australia/Darwin", "Australia/Brisbane", "Australia/Sydney",
	"Pacific/Noumea",
}

// nearestZone returns the representative closest to the zone's standard
// offset, preferring one with the same DST behaviour.
func nearestZone(z vendors.Zone) gigasetZone {
	best, bestCost := gigasetZone{}, -1
	for _, n := range representatives {
		c := nx70Zones[n]
		diff := c.offset - z.Offset
		if diff < 0 {
			diff = -diff
		}
		cost := diff * 2
		if c.dst != (z.DST != nil) {
			cost++
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}

// nx70TimeZone maps the resolved zone to a DmGlobal.0.TimeZone value: the
// IANA name itself when Gigaset's list has it, else the nearest
// representative by standard offset. "" when the device has no zone.
func nx70TimeZone(z vendors.Zone) string {
	g, _ := nx70Zone(z)
	return g.name
}

// nx70Zone is the list entry nx70TimeZone writes for z; ok is false
// for a device without a zone.
func nx70Zone(z vendors.Zone) (gigasetZone, bool) {
	if z.Name == "" {
		return gigasetZone{}, false
	}
	if g, ok := nx70Zones[z.Name]; ok {
		return g, true
	}
	if isUTC(z.Name) {
		return nx70Zones["Greenwich"], true
	}
	return nearestZone(z), true
}

func isUTC(name string) bool {
	return name == "UTC" || name == "Etc/UTC" || name == "GMT" || name == "Etc/GMT"
}

// maxwellZone is the list entry maxwellTimeZone writes for z.
func maxwellZone(z vendors.Zone) (gigasetZone, bool) {
	if z.Name == "" {
		return gigasetZone{}, false
	}
	if isUTC(z.Name) {
		return nx70Zones["Europe/London"], true
	}
	g := nearestZone(z)
	if g.name == "Greenwich" {
		g = nx70Zones["Europe/London"]
	}
	return g, true
}

// Warnings implements vendors.Warner: a time zone the model's list has no
// exact entry for (written as the nearest, e.g. Asia/Kolkata as
// Asia/Karachi, 30 minutes off), and on an Nx70 a tone scheme other than
// the attested Germany, Spain, France (written as Retail).
func (d *Driver) Warnings(dev *vendors.Device) []vendors.Text {
	m, ok := lookupModel(dev.Model)
	if !ok {
		return nil
	}
	var out []vendors.Text
	pick := maxwellZone
	if m.Family == FamilyNx70 {
		pick = nx70Zone
	}
	if g, ok := pick(dev.Zone); ok {
		if w := vendors.ZoneWarning(dev.Zone, m.Name, g.name, g.offset, g.dst); w.Format != "" {
			out = append(out, w)
		}
	}
	if cc := dev.Settings.ToneScheme; m.Family == FamilyNx70 && cc != "" {
		if _, own := nx70Tones[cc]; !own {
			out = append(out, vendors.FallbackWarning(vendors.KindToneScheme, cc, m.Name, nx70ToneScheme(cc)))
		}
	}
	return out
}

// maxwellTimeZone maps the zone to System.DateAndTime.TimeZone, whose
// values look like "GMT+1.Europe/Amsterdam" and "GMT.Europe/London" (TANC
// gigaset.macros; the only two values seen). We always use one
// representative per offset so that the two attested values are the ones
// Central and Western Europe get. Unverified for other offsets.
func maxwellTimeZone(z vendors.Zone) string {
	g, ok := maxwellZone(z)
	if !ok {
		return ""
	}
	return "GMT" + gmtOffset(g.offset) + "." + g.name
}

func gmtOffset(sec int) string {
	if sec == 0 {
		return ""
	}
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	if m := (sec % 3600) / 60; m != 0 {
		return fmt.Sprintf("%s%d:%02d", sign, sec/3600, m)
	}
	return fmt.Sprintf("%s%d", sign, sec/3600)
}

// nx70Tones maps tone schemes to Telephony.0.ToneScheme. Only "Germany",
// "Spain", "France" and "Retail" (international) are attested (WAZO
// common.py); every other country falls back to "Retail".
var nx70Tones = map[string]string{"DE": "Germany", "ES": "Spain", "FR": "France"}

func nx70ToneScheme(country string) string {
	if v, ok := nx70Tones[country]; ok {
		return v
	}
	return "Retail"
}

// maxwellTones maps tone schemes to Telephony.ToneScheme: ISO 3166
// alpha-3 codes, the pattern of the attested "ITA" and "USA" (TANC), and
// "INT" for international. Codes other than ITA/USA/INT are unverified.
var maxwellTones = map[string]string{
	"US": "USA", "GB": "GBR", "DE": "DEU", "AT": "AUT", "CH": "CHE", "FR": "FRA", "IT": "ITA",
	"ES": "ESP", "NL": "NLD", "BE": "BEL", "PL": "POL", "CZ": "CZE", "SE": "SWE", "DK": "DNK",
	"NO": "NOR", "PT": "PRT", "RU": "RUS", "TR": "TUR", "AU": "AUS",
}

func maxwellToneScheme(country string) string {
	if v, ok := maxwellTones[country]; ok {
		return v
	}
	return "INT"
}

// maxwellLanguages maps ISO 639-1 codes to PhoneUI.Settings.Language and
// WebUI.Language values: lower-case language-region tags, the pattern of
// the attested "en-us" and "it-it" (TANC). Others are unverified.
var maxwellLanguages = map[string]string{
	"en": "en-us", "de": "de-de", "fr": "fr-fr", "it": "it-it", "es": "es-es", "nl": "nl-nl",
	"pt": "pt-pt", "pl": "pl-pl", "cs": "cs-cz", "ru": "ru-ru", "tr": "tr-tr", "sv": "sv-se",
	"da": "da-dk",
}

func maxwellLanguage(code string) string {
	if v, ok := maxwellLanguages[code]; ok {
		return v
	}
	return "en-us"
}
