package yealink

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// timeZones are the values local_time.time_zone takes, as standard
// offsets in minutes: the time-zone table of the Yealink T2/T4/T5
// administrator guides (V8x, "Time Zones"; README.md, "Values"). No -12,
// no +8:45: those zones are written as the nearest entry, with a warning.
var timeZones = []int{
	-660, -600, -570, -540, -480, -420, -360, -300, -270, -240, -210, -180, -150, -120, -60,
	0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 540, 570, 600, 630,
	660, 720, 765, 780, 840,
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

// languages maps the product's ISO 639-1 codes to lang.gui/lang.wui
// values (WAZO _LOCALE for English, French, German, Italian, Spanish; the
// others from the language list of the Yealink T4/T5 administrator
// guides). Dutch, Czech, Swedish and Danish have no Yealink value: they
// are written as English, with a warning.
var languages = map[string]string{
	"en": "English", "de": "German", "fr": "French", "it": "Italian", "es": "Spanish",
	"pt": "Portuguese", "pl": "Polish", "ru": "Russian", "tr": "Turkish",
}

// language maps an ISO 639-1 code to a lang.gui/lang.wui value; a
// language the phones do not offer falls back to English.
func language(code string) string {
	if l, ok := languages[strings.ToLower(code)]; ok {
		return l
	}
	return "English"
}

// handsetLanguages maps ISO 639-1 codes to custom.handset.language, the
// language of a DECT base's handsets: a W-series base has no screen of
// its own, so lang.gui does not reach them. The values are indexes, as
// WAZO's Yealink plugin writes them for its W52P/W60B/W70B templates
// (wazo_yealink common.py _LOCALE: English 0, French 1, German 2,
// Spanish 6). No source we could read gives the other indexes: those
// languages are written as English (0), with a warning.
var handsetLanguages = map[string]string{"en": "0", "fr": "1", "de": "2", "es": "6"}

// handsetLanguage maps an ISO 639-1 code to custom.handset.language.
func handsetLanguage(code string) string {
	if l, ok := handsetLanguages[strings.ToLower(code)]; ok {
		return l
	}
	return handsetLanguages["en"]
}

// tones maps ISO 3166 codes to voice.tone.country values (the country
// list of the T5x administrator guide). Poland and Turkey have no scheme
// of their own and take Germany's 425 Hz tones, with a warning.
var tones = map[string]string{
	"US": "United States", "GB": "Great Britain", "DE": "Germany", "AT": "Austria",
	"CH": "Switzerland", "FR": "France", "IT": "Italy", "ES": "Spain", "NL": "Netherlands",
	"BE": "Belgium", "CZ": "Czech", "SE": "Sweden", "DK": "Denmark", "NO": "Norway",
	"PT": "Portugal", "RU": "Russia", "AU": "Australia",
}

// toneCountry maps a country code to a voice.tone.country value.
func toneCountry(cc string) string {
	cc = strings.ToUpper(cc)
	if t, ok := tones[cc]; ok {
		return t
	}
	if cc == "PL" || cc == "TR" {
		return "Germany" // both use 425 Hz ETSI-style tones
	}
	return "United States"
}

// Warnings implements vendors.Warner: a zone whose offset is not in the
// phones' table, and a language or tone scheme they lack.
func (d *Driver) Warnings(dev *vendors.Device) []vendors.Text {
	mi, ok := d.lookup(dev.Model)
	if !ok {
		return nil
	}
	var out []vendors.Text
	if z := dev.Zone; z.Name != "" {
		off := nearestOffset(z.Offset)
		if w := vendors.ZoneWarning(z, mi.Name, timeZone(off), off, z.DST != nil); w.Format != "" {
			out = append(out, w)
		}
	}
	s := dev.Settings
	for _, l := range []struct {
		kind vendors.Text
		code string
	}{{vendors.KindLanguage, s.Language}, {vendors.KindWebLanguage, s.WebLanguage}} {
		if _, ok := languages[l.code]; l.code != "" && !ok {
			out = append(out, vendors.FallbackWarning(l.kind, l.code, mi.Name, language(l.code)))
		}
	}
	if _, ok := handsetLanguages[s.Language]; mi.Kind == "dect" && s.Language != "" && !ok {
		if _, shown := languages[s.Language]; shown {
			out = append(out, vendors.FallbackWarning(vendors.KindHandsetLanguage, s.Language, mi.Name, "English"))
		}
	}
	if cc := s.ToneScheme; cc != "" {
		if _, ok := tones[cc]; !ok {
			out = append(out, vendors.FallbackWarning(vendors.KindToneScheme, cc, mi.Name, toneCountry(cc)))
		}
	}
	return out
}
