package vendors

import "strings"

// zoneCountry maps the IANA zones of the countries in ToneSchemes to their
// country code (after zone1970.tab); zones of other countries are absent,
// but for Liechtenstein (Europe/Vaduz): German-speaking, 425 Hz tones in
// the Swiss cadences, so Switzerland's is the closest scheme the product
// has (the drivers already write the zone as a Swiss one: Snom CHE+1),
// where the fallback would be the United States' 350+440 Hz.
var zoneCountry = map[string]string{
	"Europe/Berlin": "DE", "Europe/Busingen": "DE",
	"Europe/Vienna": "AT", "Europe/Zurich": "CH", "Europe/Vaduz": "CH", "Europe/Paris": "FR",
	"Europe/Rome": "IT", "Europe/Madrid": "ES", "Africa/Ceuta": "ES", "Atlantic/Canary": "ES",
	"Europe/Amsterdam": "NL", "Europe/Brussels": "BE", "Europe/Warsaw": "PL",
	"Europe/Prague": "CZ", "Europe/Stockholm": "SE", "Europe/Copenhagen": "DK",
	"Europe/Oslo": "NO", "Europe/Lisbon": "PT", "Atlantic/Madeira": "PT", "Atlantic/Azores": "PT",
	"Europe/London": "GB", "Europe/Istanbul": "TR", "Asia/Istanbul": "TR",
	"Europe/Moscow": "RU", "Europe/Kaliningrad": "RU", "Europe/Samara": "RU", "Europe/Volgograd": "RU",
	"Asia/Yekaterinburg": "RU", "Asia/Omsk": "RU", "Asia/Novosibirsk": "RU", "Asia/Krasnoyarsk": "RU",
	"Asia/Irkutsk": "RU", "Asia/Yakutsk": "RU", "Asia/Vladivostok": "RU", "Asia/Magadan": "RU",
	"Asia/Kamchatka":   "RU",
	"America/New_York": "US", "America/Chicago": "US", "America/Denver": "US", "America/Phoenix": "US",
	"America/Los_Angeles": "US", "America/Anchorage": "US", "America/Detroit": "US",
	"America/Boise": "US", "America/Juneau": "US", "America/Adak": "US", "Pacific/Honolulu": "US",
	"America/Indiana/Indianapolis": "US", "America/Kentucky/Louisville": "US",
}

// ToneSchemeForZone returns the tone scheme of the country an IANA zone
// belongs to ("Europe/Berlin": "DE"), or "US" for a zone of a country the
// product has no tone scheme for (and for UTC).
func ToneSchemeForZone(zone string) string {
	if c, ok := zoneCountry[zone]; ok {
		return c
	}
	if strings.HasPrefix(zone, "Australia/") {
		return "AU"
	}
	return "US"
}
