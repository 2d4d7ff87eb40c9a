package vendors_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// classModels is a lookup over a few model names and their spellings, the
// way a driver's lookup answers.
func classModels(names ...string) func(string) (string, bool) {
	return func(n string) (string, bool) {
		for _, m := range names {
			canonical, _, _ := strings.Cut(m, "=")
			for _, spelling := range strings.Split(m, "=") {
				if strings.EqualFold(spelling, n) {
					return canonical, true
				}
			}
		}
		return "", false
	}
}

func TestMatchVendorClass(t *testing.T) {
	lookup := classModels("D785", "D715=715", "T46S=SIP-T46S", "N870=N870 IP PRO", "T21P_E2")
	for _, tc := range []struct {
		class  string
		words  []string
		vendor bool
		model  string
		rest   []string
	}{
		// The real strings of reference dhcp.md §3, snom.md §7, gigaset.md §7.
		{"snomD785", []string{"snom"}, true, "D785", []string{"D785"}},
		{"snom715", []string{"snom"}, true, "D715", []string{"715"}},
		{"snomM700", []string{"snom"}, true, "", []string{"M700"}},
		{"Gigaset_N720_DM_PRO", []string{"gigaset"}, true, "", []string{"N720", "DM", "PRO"}},
		{"N510_IP_PRO", []string{"gigaset"}, false, "", []string{"N510", "IP", "PRO"}},
		// Spellings: case, separators, the words joined back for lookup.
		{"SNOMd785", []string{"snom"}, true, "D785", []string{"d785"}},
		{"snom D785", []string{"snom"}, true, "D785", []string{"D785"}},
		{"  snom-D785  ", []string{"snom"}, true, "D785", []string{"D785"}},
		{"yealink SIP-T46S", []string{"yealink"}, true, "T46S", []string{"SIP", "T46S"}},
		{"SIP-T46S", []string{"yealink"}, false, "T46S", []string{"SIP", "T46S"}},
		{"Gigaset_N870_IP_PRO", []string{"gigaset"}, true, "N870", []string{"N870", "IP", "PRO"}},
		{"yealink T21P_E2", []string{"yealink"}, true, "T21P_E2", []string{"T21P", "E2"}},
		{"snomD785 10.1.33.33", []string{"snom"}, true, "D785", []string{"D785", "10.1.33.33"}},
		{"yealink", []string{"yealink"}, true, "", nil},
		{"x-yealink", []string{"yealink"}, false, "", []string{"x", "yealink"}},
		// The first vendor word that fits is cut.
		{"GigasetP820", []string{"snom", "gigaset"}, true, "", []string{"P820"}},
		// Laptops and the like.
		{"MSFT 5.0", []string{"snom"}, false, "", []string{"MSFT", "5.0"}},
		{"dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835", []string{"snom"}, false, "",
			[]string{"dhcpcd", "9.4.1", "Linux", "6.1.21", "v8", "aarch64"}},
		{"", []string{"snom"}, false, "", nil},
		{"snom\x00D785\xff", []string{"snom"}, true, "D785", []string{"D785"}},
	} {
		got := vendors.MatchVendorClass(tc.class, tc.words, lookup)
		if got.Vendor != tc.vendor || got.Model != tc.model || !reflect.DeepEqual(got.Words, tc.rest) {
			t.Errorf("MatchVendorClass(%q, %q) = %+v; want vendor %v, model %q, words %q", tc.class, tc.words, got, tc.vendor, tc.model, tc.rest)
		}
	}
	if got := vendors.MatchVendorClass("snomD785", []string{"snom"}, nil); !got.Vendor || got.Model != "" || len(got.Words) != 1 {
		t.Errorf("without a lookup: %+v", got)
	}
}

// TestMatchVendorClassBounded: whatever the class, at most six words are
// kept and at most 21 names asked about, each no longer than 255 bytes.
func TestMatchVendorClassBounded(t *testing.T) {
	for _, class := range []string{
		strings.Repeat("a ", 1000), strings.Repeat("x", 100000), strings.Repeat("snom", 300), "snom" + strings.Repeat("-", 500) + "D785",
	} {
		asked := 0
		got := vendors.MatchVendorClass(class, []string{"snom"}, func(n string) (string, bool) {
			asked++
			if len(n) > 255 {
				t.Errorf("asked about %d bytes", len(n))
			}
			return "", false
		})
		if len(got.Words) > 6 || asked > 21 {
			t.Errorf("class of %d bytes: %d words, %d lookups", len(class), len(got.Words), asked)
		}
	}
}

func FuzzMatchVendorClass(f *testing.F) {
	for _, s := range []string{"snomD785", "Gigaset_N720_DM_PRO", "N510_IP_PRO", "yealink SIP-T46S", "MSFT 5.0", ""} {
		f.Add(s, "snom")
	}
	f.Fuzz(func(t *testing.T, class, word string) {
		asked := 0
		m := vendors.MatchVendorClass(class, []string{word}, func(n string) (string, bool) {
			asked++
			return n, n == "D785"
		})
		if len(m.Words) > 6 || asked > 21 {
			t.Fatalf("%d words, %d lookups", len(m.Words), asked)
		}
		for _, w := range m.Words {
			if w == "" || strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") != "" {
				t.Fatalf("word %q", w)
			}
		}
		if m.Model != "" && m.Model != "D785" {
			t.Fatalf("model %q not from the lookup", m.Model)
		}
	})
}
