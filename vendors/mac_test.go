package vendors_test

import (
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

func TestParseMAC(t *testing.T) {
	const want = "001565abcdef"
	valid := []struct{ name, in string }{
		{"colons lower", "00:15:65:ab:cd:ef"},
		{"colons upper", "00:15:65:AB:CD:EF"},
		{"dashes", "00-15-65-ab-cd-ef"},
		{"dashes upper", "00-15-65-AB-CD-EF"},
		{"cisco dots", "0015.65ab.cdef"},
		{"cisco dots upper", "0015.65AB.CDEF"},
		{"bare lower", "001565abcdef"},
		{"bare upper", "001565ABCDEF"},
		{"mixed case", "00:15:65:aB:Cd:eF"},
		{"surrounding spaces", "  00:15:65:ab:cd:ef  "},
		{"surrounding tabs and newline", "\t001565ABCDEF\n"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := vendors.ParseMAC(tc.in)
			if err != nil {
				t.Fatalf("ParseMAC(%q): unexpected error %v", tc.in, err)
			}
			if got != want {
				t.Errorf("ParseMAC(%q) = %q, want %q", tc.in, got, want)
			}
		})
	}

	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "   "},
		{"only separators", "::::::"},
		{"too short", "00:15:65:ab:cd"},
		{"11 digits", "001565abcde"},
		{"too long", "00:15:65:ab:cd:ef:01"},
		{"13 digits", "001565abcdef0"},
		{"non-hex letter", "00:15:65:ab:cd:eg"},
		{"non-hex bare", "001565abcdez"},
		{"inner space", "00 15 65 ab cd ef"},
		{"underscore separator", "00_15_65_ab_cd_ef"},
		{"non-ascii digit", "00:15:65:ab:cd:e٣"},
		{"fullwidth letter", "00:15:65:ab:cd:eＦ"},
		{"all zero", "00:00:00:00:00:00"},
		{"all zero bare", "000000000000"},
		{"broadcast", "ff:ff:ff:ff:ff:ff"},
		{"broadcast upper bare", "FFFFFFFFFFFF"},
		{"path traversal", "../001565abcdef"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := vendors.ParseMAC(tc.in)
			if err == nil {
				t.Errorf("ParseMAC(%q) = %q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("ParseMAC(%q) returned %q alongside an error, want \"\"", tc.in, got)
			}
		})
	}
}

func TestIsMAC(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"001565abcdef", true},
		{"001565ABCDEF", true},
		{"0123456789aB", true},
		{"", false},
		{"001565abcde", false},
		{"001565abcdef0", false},
		{"00:15:65:ab:cd:ef", false},
		{"001565abcdeg", false},
		{" 01565abcdef", false},
		{"y000000000000", false},
		{"00156٣abcdef", false},
	}
	for _, tc := range tests {
		if got := vendors.IsMAC(tc.in); got != tc.want {
			t.Errorf("IsMAC(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestOUI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"001565abcdef", "001565"},
		{"805ec0123456", "805ec0"},
		{"001565", "001565"},
		{"00156", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := vendors.OUI(tc.in); got != tc.want {
			t.Errorf("OUI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestColonMAC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"001565abcdef", "00:15:65:ab:cd:ef"},
		{"0123456789ab", "01:23:45:67:89:ab"},
		{"", ""},
		{"00156", "00156"},                 // not a canonical MAC: unchanged
		{"001565abcdef0", "001565abcdef0"}, // ditto
	}
	for _, tc := range tests {
		if got := vendors.ColonMAC(tc.in); got != tc.want {
			t.Errorf("ColonMAC(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func isCanonicalMAC(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{
		"00:15:65:ab:cd:ef", "00-15-65-AB-CD-EF", "0015.65ab.cdef", "001565abcdef",
		" 001565ABCDEF ", "", "000000000000", "ffffffffffff", "00:15:65:ab:cd", "zz:zz",
		"00:15:65:ab:cd:ef:01", "\x00", "٣",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := vendors.ParseMAC(s)
		if err != nil {
			if out != "" {
				t.Fatalf("ParseMAC(%q) = %q with error %v", s, out, err)
			}
			return
		}
		if !isCanonicalMAC(out) {
			t.Fatalf("ParseMAC(%q) = %q: not 12 lower-case hex digits", s, out)
		}
		if out == "000000000000" || out == "ffffffffffff" {
			t.Fatalf("ParseMAC(%q) accepted %q", s, out)
		}
		if !vendors.IsMAC(out) {
			t.Fatalf("IsMAC(%q) = false for ParseMAC output", out)
		}
		again, err := vendors.ParseMAC(vendors.ColonMAC(out))
		if err != nil || again != out {
			t.Fatalf("ParseMAC(ColonMAC(%q)) = %q, %v; want %q", out, again, err, out)
		}
		if again, err := vendors.ParseMAC(out); err != nil || again != out {
			t.Fatalf("ParseMAC(%q) = %q, %v; not idempotent", out, again, err)
		}
		if vendors.OUI(out) != out[:6] {
			t.Fatalf("OUI(%q) = %q", out, vendors.OUI(out))
		}
	})
}

func TestDeviceMAC(t *testing.T) {
	for _, mac := range []string{"001565abcdef", "805ec0aabb01", "0004f2000001", "fcfcfcfcfcfc", "ACDE48000001"} {
		if err := vendors.DeviceMAC(mac); err != nil {
			t.Errorf("DeviceMAC(%q) = %v, want nil", mac, err)
		}
	}
	for _, tc := range []struct{ mac, want string }{
		{"010203040506", "multicast"},
		{"01005e000001", "multicast"},
		{"333300000001", "multicast"},
		{"ffffffffffff", "multicast"},
		{"020000000001", "locally administered"},
		{"aabbccddeeff", "locally administered"},
		{"fefefefefefe", "locally administered"},
		{"000000000000", "all zeros"},
		{"00156", "12 hex digits"},
		{"00:15:65:ab:cd:ef", "12 hex digits"},
	} {
		err := vendors.DeviceMAC(tc.mac)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DeviceMAC(%q) = %v, want an error saying %q", tc.mac, err, tc.want)
		}
	}
}
