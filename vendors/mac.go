package vendors

import (
	"fmt"
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
			return "", fmt.Errorf("invalid MAC address %q: unexpected character %q", s, c)
		}
	}
	m := b.String()
	if len(m) != 12 {
		return "", fmt.Errorf("invalid MAC address %q: want 12 hex digits", s)
	}
	if m == "000000000000" || m == "ffffffffffff" {
		return "", fmt.Errorf("invalid MAC address %q: not a device address", s)
	}
	return m, nil
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
