package vendors

import (
	"strconv"
	"strings"
)

// ParseMAC accepts a MAC address in any common notation (colons, dashes,
// dots or none; any case) and returns its canonical form: 12 lower-case hex
// digits. It rejects anything else, including the all-zero and broadcast
// addresses.
func ParseMAC(s string) (string, error) {
	var b strings.Builder
	for _, c := range strings.TrimSpace(s) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b.WriteRune(c)
		case c >= 'A' && c <= 'F':
			b.WriteRune(c + 'a' - 'A')
		case c == ':' || c == '-' || c == '.':
		default:
			return "", Errorf("invalid MAC address %q: unexpected character %q", s, c)
		}
	}
	m := b.String()
	if len(m) != 12 {
		return "", Errorf("invalid MAC address %q: want 12 hex digits", s)
	}
	if m == "000000000000" || m == "ffffffffffff" {
		return "", Errorf("invalid MAC address %q: not a device address", s)
	}
	return m, nil
}

// DeviceMAC checks that a canonical MAC (as ParseMAC returns it) can be a
// phone's own address: a unicast address (the I/G bit, 0x01 of the first
// octet, clear) that its manufacturer assigned (the U/L bit, 0x02, clear),
// neither all zeros nor broadcast. Multicast and locally administered
// addresses are what a spoofer or a virtual interface makes up, never what
// a desk phone ships with; the core refuses sightings of them from every
// edge.
func DeviceMAC(mac string) error {
	if !IsMAC(mac) {
		return Errorf("invalid MAC address %q: want 12 hex digits", mac)
	}
	first, _ := strconv.ParseUint(mac[:2], 16, 8) // IsMAC: two hex digits
	switch {
	case strings.Trim(mac, "0") == "":
		return Errorf("MAC address %s is all zeros: not a device address", ColonMAC(mac))
	case first&0x01 != 0:
		return Errorf("MAC address %s is a multicast address: not a device address", ColonMAC(mac))
	case first&0x02 != 0:
		return Errorf("MAC address %s is locally administered: not one a phone ships with", ColonMAC(mac))
	}
	return nil
}

// IsMAC reports whether s is exactly 12 hex digits (any case), the way MACs
// appear in vendors' file names.
func IsMAC(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// OUI returns the first six hex digits of a canonical MAC, or "".
func OUI(mac string) string {
	if len(mac) < 6 {
		return ""
	}
	return mac[:6]
}

// ColonMAC formats a canonical MAC as aa:bb:cc:dd:ee:ff.
func ColonMAC(mac string) string {
	if len(mac) != 12 {
		return mac
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(mac[i : i+2])
	}
	return b.String()
}
