package provision_test

import (
	"testing"

	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// TestCleanPathUnsafeText: a file name follows vendors.UnsafeRune, so a C1
// control, U+2028 and U+FFFE are refused alike, as are TAB, noncharacters
// and invalid UTF-8; names in German or with an emoji pass.
func TestCleanPathUnsafeText(t *testing.T) {
	for _, s := range []string{"\u0085", "\u009b", "\u2028", "\u2029", "\ufffe", "\uffff", "\U0001fffe", "\ufdd0",
		"\ufffd", "\t", "\n", "\x7f", "\xff"} {
		name := "a" + s + "b.cfg"
		if got, err := provision.CleanPath(name); err == nil {
			t.Errorf("CleanPath(%q) = %q, want an error", name, got)
		}
	}
	for _, name := range []string{"Grüße/Straße.xml", "directory/snom/D785.xml", "😀.cfg"} {
		if got, err := provision.CleanPath(name); err != nil || got != name {
			t.Errorf("CleanPath(%q) = %q, %v; want it unchanged", name, got, err)
		}
	}
	// Every rune up to U+3000 and the end of each plane: refused exactly
	// when unsafe (or one of the path's own refusals: \ . / :).
	check := func(r rune) {
		if r == '\\' || r == '.' || r == '/' || r == ':' {
			return
		}
		name := "x" + string(r) + "y.cfg"
		if _, err := provision.CleanPath(name); (err != nil) != vendors.UnsafeRune(r) {
			t.Errorf("CleanPath with %U: err %v, want refused=%v", r, err, vendors.UnsafeRune(r))
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		check(r)
	}
	for plane := rune(0); plane <= 0x10; plane++ {
		for r := plane<<16 | 0xfffc; r <= plane<<16|0xffff; r++ {
			check(r)
		}
	}
}
