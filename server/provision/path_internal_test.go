package provision

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPlainNameAsCleanPath: CleanPath's shortcut for plain names gives
// what the whole check gives, for every name it takes, and takes the
// names phones ask for; random names from an alphabet of what matters
// (slashes, dots, a drive's colon, a backslash, a control, a non-ASCII
// rune) never make them differ.
func TestPlainNameAsCleanPath(t *testing.T) {
	for _, n := range []string{"/805ec0aabb01.cfg", "y000000000044.cfg", "/snomD785-SIP.htm", "/Gigaset_N870.xml"} {
		if _, ok := plainName(n); !ok {
			t.Fatalf("%q takes the long way", n)
		}
	}
	alphabet := []string{"/", ".", "..", "a", "Z", "0", "-", "_", ":", "\\", "\x00", "\x7f", "é", "prov", " "}
	r := rand.New(rand.NewPCG(1, 2))
	taken := 0
	for range 200_000 {
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		name := b.String()
		want, werr := cleanPath(name)
		got, ok := plainName(name)
		if !ok {
			continue
		}
		taken++
		if werr != nil || got != want {
			t.Fatalf("%q: the shortcut gives %q, the whole check %q %v", name, got, want, werr)
		}
	}
	if taken < 1000 {
		t.Fatalf("the shortcut took only %d random names", taken)
	}
	long := "/" + strings.Repeat("a", maxPathLen)
	if _, ok := plainName(long); ok {
		t.Fatal("a name over the bound took the shortcut")
	}
}
