package snom

import "github.com/autoprov/autoprov/vendors"

// languages maps the product's ISO 639-1 codes to Snom's own language
// names (snom.md §3.1 from WAZO _LOCALE: English, Deutsch, Français,
// Espanol, Italiano, Nederlands; the others from Snom's language list as
// provisioning tools spell it; see README for the unverified ones).
var languages = map[string]string{
	"en": "English",
	"de": "Deutsch",
	"fr": "Français",
	"it": "Italiano",
	"es": "Espanol",
	"nl": "Nederlands",
	"pt": "Português",
	"pl": "Polski",
	"cs": "Cestina",
	"ru": "Russian",
	"tr": "Türkçe",
	"sv": "Svenska",
	"da": "Dansk",
}

// snomLanguage returns Snom's name for an ISO 639-1 code: "" for no code
// (leave the phone's choice), English for a code Snom has no name for.
func snomLanguage(code string) string {
	if code == "" {
		return ""
	}
	if l, ok := languages[code]; ok {
		return l
	}
	return "English"
}

// toneList is Snom's tone_scheme list (snom.md §3.1; Snom's settings
// reference, tone_scheme).
var toneList = []string{"AUS", "AUT", "CHN", "DNK", "FRA", "GER", "GBR", "IND", "ITA", "JPN",
	"MEX", "NLD", "NOR", "NZL", "ESP", "SWE", "SWI", "USA"}

// toneSchemes maps ISO 3166 codes to values of toneList. Countries without
// their own scheme get the closest CEPT-style neighbour (425 Hz dial
// tone), with a warning.
var toneSchemes = map[string]string{
	"US": "USA", "GB": "GBR", "DE": "GER", "AT": "AUT", "CH": "SWI",
	"FR": "FRA", "IT": "ITA", "ES": "ESP", "NL": "NLD", "BE": "NLD",
	"PL": "GER", "CZ": "GER", "SE": "SWE", "DK": "DNK", "NO": "NOR",
	"PT": "ESP", "RU": "GER", "TR": "GER", "AU": "AUS",
}

func snomToneScheme(country string) string {
	if country == "" {
		return ""
	}
	if t, ok := toneSchemes[country]; ok {
		return t
	}
	return "USA"
}

// snomZone is one value of Snom's own time-zone list: the code the
// phone's timezone setting takes, the standard offset it stands for and
// whether its built-in rule observes daylight saving time.
type snomZone struct {
	code   string
	offset int // seconds east of UTC, standard time
	dst    bool
}

// zoneList is Snom's time-zone list, every code the firmware's own
// time-zone menu offers, in its order (source: the Snom time-zone select
// that Tine 2.0's Voipmanager carries, tine20/tine20
// Voipmanager/js/Data.js loadTimezoneData, which agrees code for code with
// Tancredi's snom.macros mapping — KOR+8 for Shanghai, KAZ+4 for Dubai,
// EST+2 for Vilnius, USA-5 for Bogotá; README.md, "Time zones"). The
// offset is the one the menu's label states (CHN+7 is labelled +8 and is
// never written); dst is whether the country's rule had daylight saving
// time when the list was made (the menu says so for Brazil; for the rest
// it is the country's rule, unverified on the firmware).
var zoneList = func() []snomZone {
	h := 3600
	z := func(code string, off int, dst bool) snomZone { return snomZone{code, off, dst} }
	return []snomZone{
		z("USA-10", -10*h, false), z("USA-9", -9*h, true), z("CAN-8", -8*h, true), z("MEX-8", -8*h, true),
		z("USA-8", -8*h, true), z("CAN-7", -7*h, true), z("MEX-7", -7*h, true), z("USA-7", -7*h, true),
		z("USA2-7", -7*h, false), z("CAN-6", -6*h, true), z("CHL-6", -6*h, true), z("MEX-6", -6*h, true),
		z("USA-6", -6*h, true), z("BHS-5", -5*h, true), z("CAN-5", -5*h, true), z("CUB-5", -5*h, true),
		z("USA-5", -5*h, true), z("CAN-4", -4*h, true), z("CHL-4", -4*h, true), z("PRY-4", -4*h, true),
		z("BMU-4", -4*h, true), z("FLK-4", -4*h, false), z("TTB-4", -4*h, false), z("CAN-3.5", -3*h-1800, true),
		z("GRL-3", -3*h, true), z("ARG-3", -3*h, false), z("BRA2-3", -3*h, false), z("BRA1-3", -3*h, true),
		z("BRA-2", -2*h, false), z("PRT-1", -1*h, true), z("FRO-0", 0, true), z("IRL-0", 0, true),
		z("PRT-0", 0, true), z("ESP-0", 0, true), z("GBR-0", 0, true), z("ALB+1", h, true),
		z("AUT+1", h, true), z("BEL+1", h, true), z("CAI+1", h, true), z("CHA+1", h, true),
		z("HRV+1", h, true), z("CZE+1", h, true), z("DNK+1", h, true), z("FRA+1", h, true),
		z("GER+1", h, true), z("HUN+1", h, true), z("ITA+1", h, true), z("LUX+1", h, true),
		z("MAK+1", h, true), z("NLD+1", h, true), z("NAM+1", h, true), z("NOR+1", h, true),
		z("POL+1", h, true), z("SVK+1", h, true), z("ESP+1", h, true), z("SWE+1", h, true),
		z("CHE+1", h, true), z("GIB+1", h, true), z("YUG+1", h, true), z("WAT+1", h, false),
		z("BLR+2", 2*h, true), z("BGR+2", 2*h, true), z("CYP+2", 2*h, true), z("CAT+2", 2*h, false),
		z("EGY+2", 2*h, true), z("EST+2", 2*h, true), z("FIN+2", 2*h, true), z("GAZ+2", 2*h, true),
		z("GRC+2", 2*h, true), z("ISR+2", 2*h, true), z("JOR+2", 2*h, true), z("LVA+2", 2*h, true),
		z("LBN+2", 2*h, true), z("MDA+2", 2*h, true), z("RUS+2", 2*h, false), z("ROU+2", 2*h, true),
		z("SYR+2", 2*h, true), z("TUR+2", 2*h, true), z("UKR+2", 2*h, true), z("EAT+3", 3*h, false),
		z("IRQ+3", 3*h, false), z("RUS+3", 3*h, false), z("IRN+3.5", 3*h+1800, true), z("ARM+4", 4*h, false),
		z("AZE+4", 4*h, false), z("GEO+4", 4*h, false), z("KAZ+4", 4*h, false), z("RUS+4", 4*h, false),
		z("KAZ+5", 5*h, false), z("KGZ+5", 5*h, false), z("PAK+5", 5*h, false), z("RUS+5", 5*h, false),
		z("IND+5.5", 5*h+1800, false), z("KAZ+6", 6*h, false), z("RUS+6", 6*h, false), z("RUS+7", 7*h, false),
		z("THA+7", 7*h, false), z("CHN+7", 8*h, false), z("SGP+8", 8*h, false), z("KOR+8", 8*h, false),
		z("AUS+8", 8*h, false), z("JPN+9", 9*h, false), z("AUS+9.5", 9*h+1800, true), z("AUS2+9.5", 9*h+1800, false),
		z("AUS+10", 10*h, true), z("AUS2+10", 10*h, false), z("AUS3+10", 10*h, true), z("RUS+10", 10*h, false),
		z("AUS+10.5", 10*h+1800, true), z("NZL+12", 12*h, true), z("RUS+12", 12*h, false), z("NZL+12.75", 12*h+2700, true),
		z("TON+13", 13*h, false),
	}
}()

// zoneByCode indexes zoneList.
var zoneByCode = func() map[string]snomZone {
	m := make(map[string]snomZone, len(zoneList))
	for _, z := range zoneList {
		m[z.code] = z
	}
	return m
}()

// zoneCodes maps IANA zones to the code of their own country or region in
// zoneList, where the list has one with the zone's offset. Every value is
// a code of zoneList (a test checks it); zones without an entry take the
// representative of their offset (representatives).
var zoneCodes = map[string]string{
	// Europe
	"Europe/Berlin": "GER+1", "Europe/Busingen": "GER+1", "Europe/Vienna": "AUT+1",
	"Europe/Zurich": "CHE+1", "Europe/Vaduz": "CHE+1", "Europe/Paris": "FRA+1",
	"Europe/Monaco": "FRA+1", "Europe/Rome": "ITA+1", "Europe/Vatican": "ITA+1",
	"Europe/San_Marino": "ITA+1", "Europe/Malta": "ITA+1", "Europe/Madrid": "ESP+1",
	"Africa/Ceuta": "ESP+1", "Atlantic/Canary": "ESP-0", "Europe/Amsterdam": "NLD+1",
	"Europe/Brussels": "BEL+1", "Europe/Luxembourg": "LUX+1", "Europe/Warsaw": "POL+1",
	"Europe/Prague": "CZE+1", "Europe/Bratislava": "SVK+1", "Europe/Budapest": "HUN+1",
	"Europe/Stockholm": "SWE+1", "Europe/Copenhagen": "DNK+1", "Europe/Oslo": "NOR+1",
	"Europe/Zagreb": "HRV+1", "Europe/Ljubljana": "HRV+1", "Europe/Belgrade": "YUG+1",
	"Europe/Podgorica": "YUG+1", "Europe/Sarajevo": "YUG+1",
	"Europe/Skopje": "MAK+1", "Europe/Tirane": "ALB+1", "Europe/Gibraltar": "GIB+1",
	"Europe/London": "GBR-0", "Europe/Belfast": "GBR-0", "Europe/Guernsey": "GBR-0",
	"Europe/Isle_of_Man": "GBR-0", "Europe/Jersey": "GBR-0", "Europe/Dublin": "IRL-0",
	"Europe/Lisbon": "PRT-0", "Atlantic/Madeira": "PRT-0", "Atlantic/Azores": "PRT-1",
	"Atlantic/Faroe": "FRO-0", "Europe/Helsinki": "FIN+2", "Europe/Mariehamn": "FIN+2",
	"Europe/Tallinn": "EST+2", "Europe/Riga": "LVA+2", "Europe/Vilnius": "EST+2",
	"Europe/Athens": "GRC+2", "Europe/Sofia": "BGR+2", "Europe/Bucharest": "ROU+2",
	"Europe/Chisinau": "MDA+2", "Europe/Kiev": "UKR+2", "Europe/Kyiv": "UKR+2",
	"Asia/Nicosia": "CYP+2", "Europe/Nicosia": "CYP+2", "Asia/Famagusta": "CYP+2",
	"Europe/Kaliningrad": "RUS+2", "Europe/Moscow": "RUS+3", "Europe/Simferopol": "RUS+3",
	"Europe/Kirov": "RUS+3", "Europe/Volgograd": "RUS+3", "Europe/Minsk": "EAT+3",
	"Europe/Istanbul": "EAT+3", "Asia/Istanbul": "EAT+3", "Europe/Samara": "RUS+4",
	// Americas
	"America/New_York": "USA-5", "America/Detroit": "USA-5", "America/Chicago": "USA-6",
	"America/Denver": "USA-7", "America/Boise": "USA-7", "America/Phoenix": "USA2-7",
	"America/Los_Angeles": "USA-8", "America/Anchorage": "USA-9", "America/Juneau": "USA-9",
	"Pacific/Honolulu": "USA-10", "America/Toronto": "CAN-5", "America/Montreal": "CAN-5",
	"America/Winnipeg": "CAN-6", "America/Edmonton": "CAN-7", "America/Vancouver": "CAN-8",
	"America/Halifax": "CAN-4", "America/St_Johns": "CAN-3.5", "America/Tijuana": "MEX-8",
	"America/Havana": "CUB-5", "America/Nassau": "BHS-5", "America/Santiago": "CHL-4",
	"Pacific/Easter": "CHL-6", "America/Asuncion": "PRY-4", "America/Argentina/Buenos_Aires": "ARG-3",
	"America/Buenos_Aires": "ARG-3", "America/Sao_Paulo": "BRA2-3", "America/Noronha": "BRA-2",
	"America/Port_of_Spain": "TTB-4", "Atlantic/Stanley": "ARG-3", "Atlantic/Bermuda": "BMU-4",
	// Asia, Africa, Oceania
	"Asia/Jerusalem": "ISR+2", "Asia/Tel_Aviv": "ISR+2", "Asia/Gaza": "GAZ+2", "Asia/Hebron": "GAZ+2",
	"Africa/Cairo": "EGY+2", "Asia/Beirut": "LBN+2", "Asia/Damascus": "EAT+3", "Asia/Amman": "EAT+3",
	"Africa/Windhoek": "CAT+2", "Africa/Johannesburg": "CAT+2", "Africa/Lagos": "WAT+1",
	"Africa/Nairobi": "EAT+3", "Asia/Baghdad": "IRQ+3", "Asia/Riyadh": "EAT+3", "Asia/Qatar": "EAT+3",
	"Asia/Tehran": "IRN+3.5", "Asia/Dubai": "KAZ+4", "Asia/Muscat": "KAZ+4",
	"Asia/Baku": "AZE+4", "Asia/Tbilisi": "GEO+4", "Asia/Yerevan": "ARM+4",
	"Asia/Karachi": "PAK+5", "Asia/Bishkek": "KGZ+5", "Asia/Yekaterinburg": "RUS+5",
	"Asia/Kolkata": "IND+5.5", "Asia/Calcutta": "IND+5.5", "Asia/Omsk": "RUS+6",
	"Asia/Novosibirsk": "RUS+7", "Asia/Krasnoyarsk": "RUS+7", "Asia/Bangkok": "THA+7",
	"Asia/Shanghai": "KOR+8", "Asia/Hong_Kong": "KOR+8", "Asia/Taipei": "KOR+8",
	"Asia/Singapore": "SGP+8", "Asia/Seoul": "JPN+9", "Asia/Tokyo": "JPN+9",
	"Australia/Perth": "AUS+8", "Australia/Adelaide": "AUS+9.5", "Australia/Broken_Hill": "AUS+9.5",
	"Australia/Darwin": "AUS2+9.5", "Australia/Sydney": "AUS+10", "Australia/Melbourne": "AUS+10",
	"Australia/Canberra": "AUS+10", "Australia/ACT": "AUS+10", "Australia/NSW": "AUS+10",
	"Australia/Brisbane": "AUS2+10", "Australia/Lindeman": "AUS2+10", "Australia/Hobart": "AUS3+10",
	"Asia/Vladivostok": "RUS+10", "Australia/Lord_Howe": "AUS+10.5", "Pacific/Auckland": "NZL+12",
	"Asia/Kamchatka": "RUS+12", "Asia/Anadyr": "RUS+12", "Pacific/Chatham": "NZL+12.75",
	"Pacific/Tongatapu": "TON+13",
}

// representatives are the codes tried first, in order, for a zone
// zoneCodes does not name: the first with the zone's offset and daylight
// saving behaviour wins, then any code of zoneList with both, then the
// nearest offset. Our choice: the most populous region of each offset.
var representatives = []string{
	"USA-10", "USA-9", "USA-8", "USA-7", "USA2-7", "USA-6", "USA-5", "CAN-4", "TTB-4",
	"CAN-3.5", "BRA1-3", "ARG-3", "BRA-2", "PRT-1", "GBR-0", "GER+1", "WAT+1", "FIN+2",
	"CAT+2", "EAT+3", "IRN+3.5", "KAZ+4", "PAK+5", "IND+5.5", "KAZ+6", "THA+7", "KOR+8",
	"JPN+9", "AUS+9.5", "AUS2+9.5", "AUS+10", "AUS2+10", "AUS+10.5", "NZL+12", "RUS+12",
	"NZL+12.75", "TON+13",
}

// snomZoneFor maps a resolved zone to an entry of zoneList: by IANA name
// first, then by standard offset and daylight saving behaviour, then the
// nearest offset (ties: with the same daylight saving behaviour, then the
// earlier in representatives). ok is false for an unresolved zone.
func snomZoneFor(z vendors.Zone) (snomZone, bool) {
	if z.Name == "" {
		return snomZone{}, false
	}
	if c, ok := zoneCodes[z.Name]; ok {
		return zoneByCode[c], true
	}
	dst := z.DST != nil
	cands := make([]snomZone, 0, len(representatives)+len(zoneList))
	for _, c := range representatives {
		cands = append(cands, zoneByCode[c])
	}
	for _, c := range zoneList {
		if c.code != "CHN+7" { // labelled +8, coded +7: never written
			cands = append(cands, c)
		}
	}
	best, bestCost := snomZone{}, -1
	for _, c := range cands {
		diff := c.offset - z.Offset
		if diff < 0 {
			diff = -diff
		}
		cost := diff * 2
		if c.dst != dst {
			cost++
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best, true
}

// snomTimezone is the timezone value for a resolved zone, "" for none.
func snomTimezone(z vendors.Zone) string {
	c, _ := snomZoneFor(z)
	return c.code
}

// zoneWarning says how the written code departs from the zone, or a
// Text without Format.
func zoneWarning(z vendors.Zone, model string) vendors.Text {
	c, ok := snomZoneFor(z)
	if !ok {
		return vendors.Text{}
	}
	return vendors.ZoneWarning(z, model, c.code, c.offset, c.dst)
}

// Warnings implements vendors.Warner: the time zone the model's list
// cannot carry exactly, and the tone schemes Snom has none for (written
// as a neighbour's, toneSchemes). Every product language has a Snom name.
func (d *Driver) Warnings(dev *vendors.Device) []vendors.Text {
	m, _, ok := d.model(dev.Model)
	if !ok {
		return nil
	}
	var out []vendors.Text
	if w := zoneWarning(dev.Zone, m.Name); w.Format != "" {
		out = append(out, w)
	}
	if cc := dev.Settings.ToneScheme; cc != "" {
		if t := snomToneScheme(cc); !toneOwn[cc] {
			out = append(out, vendors.FallbackWarning(vendors.KindToneScheme, cc, m.Name, t))
		}
	}
	return out
}

// toneOwn are the countries whose tones Snom's list names (the others
// borrow a neighbour's in toneSchemes).
var toneOwn = map[string]bool{"US": true, "GB": true, "DE": true, "AT": true, "CH": true, "FR": true,
	"IT": true, "ES": true, "NL": true, "SE": true, "DK": true, "NO": true, "AU": true}
