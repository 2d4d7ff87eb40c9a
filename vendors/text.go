package vendors

import "unicode/utf8"

// UnsafeRune reports whether r must not appear in text that autoprov takes
// from an admin (labels, display names, key values, passwords) or writes into
// a phone's file, and in the file names phones ask for. It is the one
// definition of "control character" in autoprov; error messages that say
// "control characters" mean this. Unsafe are:
//
//   - C0 controls U+0000–U+001F, TAB, LF and CR included: every text it
//     guards is a single line (a line break in a label would start a new
//     setting in a "key = value" file), and a TAB in a label or a name is a
//     typing accident, not content. XML output keeps TAB, LF and CR (see
//     templates.XML): there they are legal and inert.
//   - DEL U+007F and the C1 controls U+0080–U+009F (NEL U+0085 is a line
//     break to some parsers; CSI U+009B starts a terminal escape).
//   - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: line breaks to
//     JavaScript, JSON consumers and some phone firmware.
//   - Unicode noncharacters: U+FDD0–U+FDEF and the last two code points of
//     every plane (U+FFFE, U+FFFF, U+1FFFE ... U+10FFFF).
//   - U+FFFD REPLACEMENT CHARACTER, which is what a byte that is not UTF-8
//     decodes to (so invalid UTF-8 is unsafe too), and anything that is not a
//     Unicode scalar value (surrogates, negative or beyond U+10FFFF).
//
// Everything else is safe, letters of any script, umlauts, ß, emoji,
// no-break space and zero-width joiners included.
func UnsafeRune(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f: // C0 and DEL (and negative values)
		return true
	case r >= 0x80 && r <= 0x9f: // C1
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe: // noncharacters
		return true
	case r == utf8.RuneError || !utf8.ValidRune(r):
		return true
	}
	return false
}

// SafeText reports whether s is valid UTF-8 without an unsafe rune (see
// UnsafeRune): a single line of text fit for a label, a display name, a key's
// value or a password. The empty string is safe.
func SafeText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if UnsafeRune(r) {
			return false
		}
	}
	return true
}
