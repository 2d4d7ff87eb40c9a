package vendors

import "strings"

// Bounds of what MatchVendorClass reads: a DHCP option holds at most 255
// bytes, and no model name the drivers know has more than a few words.
const (
	maxClassLen   = 255
	maxClassWords = 6
)

// ClassMatch is what a DHCP vendor class (option 60) says to one driver.
type ClassMatch struct {
	// Vendor reports whether the class starts with one of the driver's
	// vendor words.
	Vendor bool
	// Model is the model the driver's lookup accepted, or "".
	Model string
	// Words are the words after the vendor word (at most six): the model
	// as the phone spelled it, for a driver that reports a model it does
	// not support as reported.
	Words []string
}

// MatchVendorClass reads a DHCP vendor class for one driver.
//
// words are the vendor words that may start the class ("snom",
// "gigaset"), matched case-insensitively, glued to what follows
// ("snomD785") or separated from it ("Gigaset_N720_DM_PRO", "yealink
// SIP-T46S"). The rest is split into words at every byte that is not an
// ASCII letter, digit or '.'. lookup says whether a name is one of the
// driver's models and returns its canonical name; it is asked about the
// first k words joined with ' ', '-', '_' and nothing, from all of them
// down to the first alone, and the first name it accepts wins: "SIP-T46S",
// "N720 DM PRO", "D785" and "N870" out of "N870_IP_PRO" are all found. A
// nil lookup only splits.
//
// The class is untrusted: only its first 255 bytes and six words are
// read, so a match costs at most 21 lookups whatever the input.
func MatchVendorClass(class string, words []string, lookup func(name string) (model string, ok bool)) ClassMatch {
	if len(class) > maxClassLen {
		class = class[:maxClassLen]
	}
	class = strings.TrimSpace(class)
	var m ClassMatch
	for _, w := range words {
		if w != "" && len(class) >= len(w) && strings.EqualFold(class[:len(w)], w) {
			m.Vendor, class = true, class[len(w):]
			break
		}
	}
	m.Words = classWords(class)
	if lookup == nil {
		return m
	}
	for k := len(m.Words); k > 0; k-- {
		for _, sep := range []string{" ", "-", "_", ""} {
			if model, ok := lookup(strings.Join(m.Words[:k], sep)); ok {
				m.Model = model
				return m
			}
			if k == 1 {
				break // one word joins the same way with every separator
			}
		}
	}
	return m
}

// classWords splits s at every byte that is not an ASCII letter, digit or
// '.', keeping at most maxClassWords words.
func classWords(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s) && len(out) < maxClassWords; i++ {
		word := i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '.')
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
	}
	return out
}
