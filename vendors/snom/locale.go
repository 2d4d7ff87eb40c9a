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

// toneSchemes maps ISO 3166 codes to Snom tone_scheme values. Snom's list:
// AUS AUT CHN DNK FRA GER GBR IND ITA JPN MEX NLD NOR NZL ESP SWE SWI USA.
// Countries without their own scheme get the closest CEPT-style neighbour
// (425 Hz dial tone).
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

// zoneCodes maps IANA zones to Snom timezone codes (<country><offset>, a
// country-specific DST rule inside the phone). Values from Snom's timezone
// list as provisioning front-ends carry it.
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
	"Europe/Skopje": "MAK+1", "Europe/Tirane": "ALB+1", "Europe/Gibraltar": "GIB+1",
	"Europe/London": "GBR-0", "Europe/Belfast": "GBR-0", "Europe/Dublin": "IRL-0",
	"Europe/Lisbon": "PRT-0", "Atlantic/Madeira": "PRT-0", "Atlantic/Azores": "PRT-1",
	"Atlantic/Faroe": "FRO-0", "Europe/Helsinki": "FIN+2", "Europe/Tallinn": "EST+2",
	"Europe/Riga": "LVA+2", "Europe/Vilnius": "LTU+2", "Europe/Athens": "GRC+2",
	"Europe/Sofia": "BGR+2", "Europe/Bucharest": "ROU+2", "Europe/Chisinau": "MDA+2",
	"Europe/Kiev": "UKR+2", "Europe/Kyiv": "UKR+2", "Asia/Nicosia": "CYP+2",
	"Europe/Nicosia": "CYP+2", "Europe/Kaliningrad": "RUS+2", "Europe/Moscow": "RUS+3",
	"Europe/Minsk": "RUS+3", "Europe/Samara": "RUS+4",
	// Americas
	"America/New_York": "USA-5", "America/Detroit": "USA-5", "America/Chicago": "USA-6",
	"America/Denver": "USA-7", "America/Phoenix": "USA2-7", "America/Los_Angeles": "USA-8",
	"America/Anchorage": "USA-9", "Pacific/Honolulu": "USA-10", "America/Toronto": "CAN-5",
	"America/Montreal": "CAN-5", "America/Winnipeg": "CAN-6", "America/Edmonton": "CAN-7",
	"America/Vancouver": "CAN-8", "America/Halifax": "CAN-4", "America/St_Johns": "CAN-3.5",
	"America/Mexico_City": "MEX-6", "America/Tijuana": "MEX-8", "America/Bogota": "COL-5",
	"America/Havana": "CUB-5", "America/Nassau": "BHS-5", "America/Caracas": "VEN-4.5",
	"America/Santiago": "CHL-4", "America/Asuncion": "PRY-4", "America/Argentina/Buenos_Aires": "ARG-3",
	"America/Sao_Paulo": "BRA2-3", "America/Nuuk": "GRL-3", "Atlantic/Bermuda": "BMU-4",
	// Asia, Africa, Oceania
	"Asia/Jerusalem": "ISR+2", "Asia/Tel_Aviv": "ISR+2", "Africa/Cairo": "EGY+2",
	"Asia/Amman": "JOR+2", "Asia/Beirut": "LBN+2", "Asia/Damascus": "SYR+2",
	"Asia/Baghdad": "IRQ+3", "Asia/Tehran": "IRN+3.5", "Asia/Dubai": "UAE+4",
	"Asia/Baku": "AZE+4", "Asia/Tbilisi": "GEO+4", "Asia/Yerevan": "ARM+4",
	"Asia/Karachi": "PAK+5", "Asia/Kolkata": "IND+5.5", "Asia/Calcutta": "IND+5.5",
	"Asia/Bangkok": "THA+7", "Asia/Shanghai": "CHN+8", "Asia/Hong_Kong": "CHN+8",
	"Asia/Singapore": "SGP+8", "Asia/Seoul": "KOR+9", "Asia/Tokyo": "JPN+9",
	"Australia/Perth": "AUS+8", "Australia/Adelaide": "AUS+9.5", "Australia/Darwin": "AUS2+9.5",
	"Australia/Sydney": "AUS+10", "Australia/Melbourne": "AUS+10", "Australia/Canberra": "AUS+10",
	"Australia/Brisbane": "AUS2+10", "Australia/Hobart": "AUS3+10", "Australia/Lord_Howe": "AUS+10.5",
	"Pacific/Noumea": "NCL+11", "Pacific/Auckland": "NZL+12", "Pacific/Chatham": "NZL+12.75",
	"Pacific/Tongatapu": "TON+13", "Africa/Windhoek": "NAM+1",
}

// offsetCodes picks a code by standard offset (seconds) when the zone is
// not in zoneCodes: [0] for zones with DST, [1] for zones without.
var offsetCodes = map[int][2]string{
	-36000: {"USA-10", "USA-10"},
	-32400: {"USA-9", "USA-9"},
	-28800: {"USA-8", "MEX-8"},
	-25200: {"USA-7", "USA2-7"},
	-21600: {"USA-6", "CHL-6"},
	-18000: {"USA-5", "COL-5"},
	-16200: {"VEN-4.5", "VEN-4.5"},
	-14400: {"CAN-4", "TTB-4"},
	-12600: {"CAN-3.5", "CAN-3.5"},
	-10800: {"BRA1-3", "BRA2-3"},
	-7200:  {"BRA-2", "BRA-2"},
	-3600:  {"PRT-1", "PRT-1"},
	0:      {"GBR-0", "GBR-0"},
	3600:   {"GER+1", "WAT+1"},
	7200:   {"FIN+2", "CAT+2"},
	10800:  {"RUS+3", "EAT+3"},
	12600:  {"IRN+3.5", "IRN+3.5"},
	14400:  {"UAE+4", "UAE+4"},
	18000:  {"PAK+5", "PAK+5"},
	19800:  {"IND+5.5", "IND+5.5"},
	21600:  {"KAZ+6", "KAZ+6"},
	25200:  {"THA+7", "THA+7"},
	28800:  {"CHN+8", "CHN+8"},
	32400:  {"JPN+9", "JPN+9"},
	34200:  {"AUS+9.5", "AUS2+9.5"},
	36000:  {"AUS+10", "AUS2+10"},
	37800:  {"AUS+10.5", "AUS+10.5"},
	39600:  {"NCL+11", "NCL+11"},
	43200:  {"NZL+12", "RUS+12"},
	45900:  {"NZL+12.75", "NZL+12.75"},
	46800:  {"TON+13", "TON+13"},
}

// snomTimezone maps a resolved zone to a Snom code: by IANA name first,
// then by standard offset and whether the zone has DST, then by the
// nearest listed offset. An unresolved zone (no name) gives "".
func snomTimezone(z vendors.Zone) string {
	if z.Name == "" {
		return ""
	}
	if c, ok := zoneCodes[z.Name]; ok {
		return c
	}
	pick := func(c [2]string) string {
		if z.DST != nil {
			return c[0]
		}
		return c[1]
	}
	if c, ok := offsetCodes[z.Offset]; ok {
		return pick(c)
	}
	best, bestDiff := 0, -1
	for off := range offsetCodes {
		diff := off - z.Offset
		if diff < 0 {
			diff = -diff
		}
		if bestDiff < 0 || diff < bestDiff || diff == bestDiff && off < best {
			best, bestDiff = off, diff
		}
	}
	return pick(offsetCodes[best])
}
