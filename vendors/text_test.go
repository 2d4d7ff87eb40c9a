package vendors_test

import (
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

func TestUnsafeRune(t *testing.T) {
	for _, tc := range []struct {
		r      rune
		unsafe bool
		class  string
	}{
		{0x00, true, "C0: NUL"},
		{0x07, true, "C0: BEL"},
		{'\t', true, "C0: TAB (single-line text refuses it)"},
		{'\n', true, "C0: LF"},
		{'\r', true, "C0: CR"},
		{0x1b, true, "C0: ESC"},
		{0x1f, true, "C0: last"},
		{' ', false, "space"},
		{'~', false, "last printable ASCII"},
		{0x7f, true, "DEL"},
		{0x80, true, "C1: first"},
		{0x85, true, "C1: NEL"},
		{0x9b, true, "C1: CSI"},
		{0x9f, true, "C1: last"},
		{0xa0, false, "no-break space"},
		{'ä', false, "umlaut"},
		{'ß', false, "sharp s"},
		{'€', false, "euro"},
		{0x200d, false, "zero-width joiner (emoji sequences)"},
		{0x2027, false, "before the separators"},
		{0x2028, true, "LINE SEPARATOR"},
		{0x2029, true, "PARAGRAPH SEPARATOR"},
		{0x202a, false, "after the separators"},
		{0xd800, true, "surrogate"},
		{0xfdcf, false, "before the noncharacter block"},
		{0xfdd0, true, "noncharacter block: first"},
		{0xfdef, true, "noncharacter block: last"},
		{0xfdf0, false, "after the noncharacter block"},
		{0xfffd, true, "REPLACEMENT CHARACTER (invalid UTF-8)"},
		{0xfffe, true, "noncharacter U+FFFE"},
		{0xffff, true, "noncharacter U+FFFF"},
		{0x10000, false, "first of plane 1"},
		{0x1f600, false, "emoji"},
		{0x1fffd, false, "plane 1, a scalar value"},
		{0x1fffe, true, "noncharacter U+1FFFE"},
		{0x1ffff, true, "noncharacter U+1FFFF"},
		{0xefffe, true, "noncharacter U+EFFFE"},
		{0x10fffd, false, "last private-use character"},
		{0x10fffe, true, "noncharacter U+10FFFE"},
		{0x10ffff, true, "noncharacter U+10FFFF"},
		{0x110000, true, "beyond Unicode"},
		{-1, true, "negative"},
	} {
		if got := vendors.UnsafeRune(tc.r); got != tc.unsafe {
			t.Errorf("UnsafeRune(%U) (%s) = %v, want %v", tc.r, tc.class, got, tc.unsafe)
		}
	}
}

func TestSafeText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		safe bool
	}{
		{"", true},
		{"Alice Example", true},
		{"Grüße aus Köln, Straße 5, Übergröße", true},
		{"ÄÖÜ äöü ß ẞ", true},
		{"Empfang 😀 👍🏽 👩‍💻", true},
		{"日本語 — Zoë", true},
		{"a\tb", false},
		{"a\nb", false},
		{"a\r", false},
		{"a\x00b", false},
		{"a\x7fb", false},
		{"a\u0085b", false},
		{"a\u009bb", false},
		{"a\u2028b", false},
		{"a\u2029b", false},
		{"a\ufdd0b", false},
		{"a\ufffeb", false},
		{"a\uffffb", false},
		{"a\U0001fffeb", false},
		{"a\ufffdb", false},
		{"a\xffb", false},       // not UTF-8
		{"a\xc3", false},        // truncated sequence
		{"\xed\xa0\x80", false}, // an encoded surrogate
		{"\xc0\xaf", false},     // overlong "/"
	} {
		if got := vendors.SafeText(tc.s); got != tc.safe {
			t.Errorf("SafeText(%q) = %v, want %v", tc.s, got, tc.safe)
		}
	}
}

// TestSafeTextAgreesWithUnsafeRune: a one-rune text is safe exactly when
// its rune is, across every plane's edges and the classes above.
func TestSafeTextAgreesWithUnsafeRune(t *testing.T) {
	check := func(r rune) {
		if got, want := vendors.SafeText("x"+string(r)+"y"), !vendors.UnsafeRune(r); got != want {
			t.Errorf("SafeText with %U = %v, want %v", r, got, want)
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		check(r)
	}
	for plane := rune(0); plane <= 0x10; plane++ {
		for r := plane<<16 | 0xfff0; r <= plane<<16|0xffff; r++ {
			check(r)
		}
	}
	for r := rune(0xfdc0); r < 0xfe00; r++ {
		check(r)
	}
}

// TestValidateKeysUnsafeText: a key's value, label and pickup code follow
// the one rule: a C1 control, U+2028 and U+FFFE are refused alike (as are
// TAB and invalid UTF-8); German text and emoji pass.
func TestValidateKeysUnsafeText(t *testing.T) {
	m := vendors.Model{Vendor: "acme", Name: "D10", Lines: 1, Keys: 10,
		KeyTypes: []vendors.KeyType{vendors.KeySpeedDial}}
	fields := map[string]func(k *vendors.Key, s string){
		"value":       func(k *vendors.Key, s string) { k.Value = "55" + s + "5" },
		"label":       func(k *vendors.Key, s string) { k.Label = "Grüße" + s },
		"pickup code": func(k *vendors.Key, s string) { k.PickupCode = "*8" + s },
	}
	for field, set := range fields {
		for _, s := range []string{"\u0085", "\u009b", "\u2028", "\u2029", "\ufffe", "\U0001fffe", "\ufdd0", "\t", "\xff"} {
			k := vendors.Key{Position: 1, Type: vendors.KeySpeedDial, Value: "555"}
			set(&k, s)
			errs := vendors.ValidateKeys(m, []vendors.Key{k}, 1)
			if len(errs) != 1 || !strings.Contains(errs[0].Message, "control characters") {
				t.Errorf("%s with %q: errors %v, want one about control characters", field, s, errs)
			}
		}
		k := vendors.Key{Position: 1, Type: vendors.KeySpeedDial, Value: "555"}
		set(&k, " Straße 😀")
		if errs := vendors.ValidateKeys(m, []vendors.Key{k}, 1); len(errs) != 0 {
			t.Errorf("%s with German text and an emoji: %v", field, errs)
		}
	}
}
