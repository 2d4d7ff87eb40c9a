package vendors_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo

	"github.com/autoprov/autoprov/vendors"
)

// skipOrFail skips a test that lacks something from the host, except in
// CI (CI set), where .ci/run must install it and the test fails instead.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("in CI: "+format+" (.ci/run must install it)", args...)
	}
	t.Skipf(format, args...)
}

// zoneinfoPOSIX returns the POSIX TZ string tzdata's zic put on the last
// line of the compiled zone file, or "" when the host has no such file.
func zoneinfoPOSIX(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/usr/share/zoneinfo", filepath.FromSlash(name)))
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\n")
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return ""
	}
	return string(b[i+1:])
}

func TestResolveZone(t *testing.T) {
	sun := time.Sunday
	tests := []struct {
		name        string
		offset      int
		abbrev      string
		offsetHours string
		posix       string
		dst         *vendors.DSTRule
	}{
		{
			name: "Europe/Berlin", offset: 3600, abbrev: "CET", offsetHours: "+1",
			posix: "CET-1CEST,M3.5.0,M10.5.0/3",
			dst: &vendors.DSTRule{Save: 3600, Abbrev: "CEST",
				Start: vendors.Transition{Month: 3, Week: 5, Weekday: sun, Day: 29, Hour: 2},
				End:   vendors.Transition{Month: 10, Week: 5, Weekday: sun, Day: 25, Hour: 3}},
		},
		{
			name: "America/New_York", offset: -18000, abbrev: "EST", offsetHours: "-5",
			posix: "EST5EDT,M3.2.0,M11.1.0",
			dst: &vendors.DSTRule{Save: 3600, Abbrev: "EDT",
				Start: vendors.Transition{Month: 3, Week: 2, Weekday: sun, Day: 8, Hour: 2},
				End:   vendors.Transition{Month: 11, Week: 1, Weekday: sun, Day: 1, Hour: 2}},
		},
		{
			// Southern hemisphere: DST starts in October and ends in April
			// of the same calendar year; January is summer time.
			name: "Australia/Sydney", offset: 36000, abbrev: "AEST", offsetHours: "+10",
			posix: "AEST-10AEDT,M10.1.0,M4.1.0/3",
			dst: &vendors.DSTRule{Save: 3600, Abbrev: "AEDT",
				Start: vendors.Transition{Month: 10, Week: 1, Weekday: sun, Day: 4, Hour: 2},
				End:   vendors.Transition{Month: 4, Week: 1, Weekday: sun, Day: 5, Hour: 3}},
		},
		{
			name: "Asia/Kolkata", offset: 19800, abbrev: "IST", offsetHours: "+5.5",
			posix: "IST-5:30",
		},
		{
			name: "Asia/Tokyo", offset: 32400, abbrev: "JST", offsetHours: "+9",
			posix: "JST-9",
		},
		{
			name: "UTC", offset: 0, abbrev: "UTC", offsetHours: "+0",
			posix: "UTC0",
		},
		{
			name: "America/St_Johns", offset: -12600, abbrev: "NST", offsetHours: "-3.5",
			posix: "NST3:30NDT,M3.2.0,M11.1.0",
			dst: &vendors.DSTRule{Save: 3600, Abbrev: "NDT",
				Start: vendors.Transition{Month: 3, Week: 2, Weekday: sun, Day: 8, Hour: 2},
				End:   vendors.Transition{Month: 11, Week: 1, Weekday: sun, Day: 1, Hour: 2}},
		},
		{
			name: "Europe/London", offset: 0, abbrev: "GMT", offsetHours: "+0",
			posix: "GMT0BST,M3.5.0/1,M10.5.0",
			dst: &vendors.DSTRule{Save: 3600, Abbrev: "BST",
				Start: vendors.Transition{Month: 3, Week: 5, Weekday: sun, Day: 29, Hour: 1},
				End:   vendors.Transition{Month: 10, Week: 5, Weekday: sun, Day: 25, Hour: 2}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, err := vendors.ResolveZone(tc.name, 2026)
			if err != nil {
				t.Fatalf("ResolveZone(%q): %v", tc.name, err)
			}
			if z.Name != tc.name || z.RefYear != 2026 || z.Location == nil {
				t.Errorf("Name, RefYear, Location = %q, %d, %v; want %q, 2026, non-nil", z.Name, z.RefYear, z.Location, tc.name)
			}
			if z.Offset != tc.offset {
				t.Errorf("Offset = %d, want %d", z.Offset, tc.offset)
			}
			if z.Abbrev != tc.abbrev {
				t.Errorf("Abbrev = %q, want %q", z.Abbrev, tc.abbrev)
			}
			if got := z.OffsetHours(); got != tc.offsetHours {
				t.Errorf("OffsetHours() = %q, want %q", got, tc.offsetHours)
			}
			if got := z.POSIX(); got != tc.posix {
				t.Errorf("POSIX() = %q, want %q", got, tc.posix)
			}
			if tz := zoneinfoPOSIX(t, tc.name); tz != "" && z.POSIX() != tz {
				t.Errorf("POSIX() = %q, but the host's tzdata says %q", z.POSIX(), tz)
			}
			switch {
			case tc.dst == nil && z.DST != nil:
				t.Errorf("DST = %+v, want nil", *z.DST)
			case tc.dst != nil && z.DST == nil:
				t.Errorf("DST = nil, want %+v", *tc.dst)
			case tc.dst != nil && *z.DST != *tc.dst:
				t.Errorf("DST = %+v\nwant  %+v", *z.DST, *tc.dst)
			}
			if z.DST != nil {
				// The transitions must be real: the offset changes at the
				// given wall-clock time on the given day.
				checkTransition(t, z, "start", z.DST.Start, z.Offset, z.Offset+z.DST.Save)
				checkTransition(t, z, "end", z.DST.End, z.Offset+z.DST.Save, z.Offset)
			}
		})
	}
}

// checkTransition checks that tr names a real change from offset before to
// offset after in z's location, at the wall-clock time in force before it.
func checkTransition(t *testing.T, z vendors.Zone, which string, tr vendors.Transition, before, after int) {
	t.Helper()
	at := time.Date(z.RefYear, time.Month(tr.Month), tr.Day, tr.Hour, tr.Minute, 0, 0, time.FixedZone("", before))
	if at.Weekday() != tr.Weekday {
		t.Errorf("%s: %d-%02d-%02d is a %v, not a %v", which, z.RefYear, tr.Month, tr.Day, at.Weekday(), tr.Weekday)
	}
	if _, off := at.Add(-time.Second).In(z.Location).Zone(); off != before {
		t.Errorf("%s: offset just before %v is %d, want %d", which, at, off, before)
	}
	if _, off := at.In(z.Location).Zone(); off != after {
		t.Errorf("%s: offset at %v is %d, want %d", which, at, off, after)
	}
}

func TestResolveZoneNotFound(t *testing.T) {
	for _, name := range []string{
		"", "Local", "Mars/Olympus_Mons", "Europe/Berlinn", "europe/berlin_x",
		"../etc/passwd", "Europe/../../etc/passwd", "/etc/localtime", "/usr/share/zoneinfo/UTC",
	} {
		t.Run(name, func(t *testing.T) {
			z, err := vendors.ResolveZone(name, 2026)
			if err == nil {
				t.Fatalf("ResolveZone(%q) = %+v, want an error", name, z)
			}
			if !errors.Is(err, vendors.ErrNotFound) {
				t.Errorf("ResolveZone(%q) error %v does not wrap ErrNotFound", name, err)
			}
		})
	}
}

func TestZoneOffsetHours(t *testing.T) {
	tests := []struct {
		offset int
		want   string
	}{
		{0, "+0"},
		{3600, "+1"},
		{-18000, "-5"},
		{19800, "+5.5"},   // India
		{20700, "+5.75"},  // Nepal
		{-12600, "-3.5"},  // Newfoundland
		{-34200, "-9.5"},  // Marquesas
		{45900, "+12.75"}, // Chatham
		{50400, "+14"},
	}
	for _, tc := range tests {
		if got := (vendors.Zone{Offset: tc.offset}).OffsetHours(); got != tc.want {
			t.Errorf("Zone{Offset: %d}.OffsetHours() = %q, want %q", tc.offset, got, tc.want)
		}
	}
}

// TestResolveZoneAgainstTzdata compares POSIX() with the host's tzdata for
// further zones with unusual abbreviations, offsets or DST amounts.
func TestResolveZoneAgainstTzdata(t *testing.T) {
	for _, name := range []string{
		"Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe", "America/Sao_Paulo",
		"Asia/Dubai", "Pacific/Auckland", "America/Los_Angeles", "Europe/Helsinki",
		"Australia/Adelaide", "Etc/GMT+5", "Etc/GMT-14",
		// Not here: zones whose tzdata rule uses hours outside 0..23
		// (America/Santiago "M9.1.6/24", America/Nuuk "M3.5.0/-1"); ResolveZone
		// describes the same instants for RefYear in phone-friendly terms,
		// which TestResolveZoneReproducesOffsets checks.
	} {
		t.Run(name, func(t *testing.T) {
			want := zoneinfoPOSIX(t, name)
			if want == "" {
				skipOrFail(t, "no /usr/share/zoneinfo/%s on this host (Debian package tzdata)", name)
			}
			z, err := vendors.ResolveZone(name, 2026)
			if err != nil {
				t.Fatalf("ResolveZone(%q): %v", name, err)
			}
			if got := z.POSIX(); got != want {
				t.Errorf("POSIX() = %q, tzdata says %q", got, want)
			}
		})
	}
}

// ruleOffset is the UTC offset the resolved zone claims for instant t of
// its RefYear: what a phone configured from it would show.
func ruleOffset(z vendors.Zone, t time.Time) int {
	if z.DST == nil {
		return z.Offset
	}
	s, e := z.DST.Start, z.DST.End
	start := time.Date(z.RefYear, time.Month(s.Month), s.Day, s.Hour, s.Minute, 0, 0, time.FixedZone("", z.Offset))
	end := time.Date(z.RefYear, time.Month(e.Month), e.Day, e.Hour, e.Minute, 0, 0, time.FixedZone("", z.Offset+z.DST.Save))
	var inDST bool
	if start.Before(end) { // northern hemisphere
		inDST = !t.Before(start) && t.Before(end)
	} else { // southern hemisphere: DST spans the new year
		inDST = !t.Before(start) || t.Before(end)
	}
	if inDST {
		return z.Offset + z.DST.Save
	}
	return z.Offset
}

// TestResolveZoneReproducesOffsets is an oracle independent of POSIX
// strings: for every hour of the reference year, the offset the resolved
// rule gives must be the one the tz database gives.
func TestResolveZoneReproducesOffsets(t *testing.T) {
	for _, name := range []string{
		"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Asia/Tokyo",
		"UTC", "America/St_Johns", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham",
		"America/Santiago", "America/Nuuk", "Africa/Cairo", "Asia/Jerusalem", "Pacific/Auckland",
		"America/Sao_Paulo", "Asia/Kathmandu",
		// Irish Standard Time is the legal standard time, so tzdata models
		// winter GMT as a negative DST (isdst=1, save -1h). A phone must
		// still be told +0 in winter and +1 in summer.
		"Europe/Dublin",
	} {
		t.Run(name, func(t *testing.T) {
			z, err := vendors.ResolveZone(name, 2026)
			if err != nil {
				t.Fatalf("ResolveZone(%q): %v", name, err)
			}
			first := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)
			bad := 0
			for at := first; at.Year() == 2026; at = at.Add(time.Hour) {
				_, want := at.In(z.Location).Zone()
				if got := ruleOffset(z, at); got != want {
					if bad++; bad <= 3 {
						t.Errorf("at %v the resolved zone (%s, DST %+v) gives offset %d, tzdata %d",
							at, z.POSIX(), z.DST, got, want)
					}
				}
			}
			if bad > 3 {
				t.Errorf("... and %d more hours wrong", bad-3)
			}
		})
	}
}

// TestZonePOSIX pins the formatting of hand-built zones, including the
// corners real zones rarely reach.
func TestZonePOSIX(t *testing.T) {
	rule := func(save int, abbrev string, start, end vendors.Transition) *vendors.DSTRule {
		return &vendors.DSTRule{Save: save, Abbrev: abbrev, Start: start, End: end}
	}
	mar := vendors.Transition{Month: 3, Week: 5, Weekday: time.Sunday, Hour: 2}
	oct := vendors.Transition{Month: 10, Week: 5, Weekday: time.Sunday, Hour: 3}
	tests := []struct {
		z    vendors.Zone
		want string
	}{
		{vendors.Zone{Abbrev: "UTC"}, "UTC0"},
		{vendors.Zone{Abbrev: "+05", Offset: 18000}, "<+05>-5"},
		{vendors.Zone{Abbrev: "-03", Offset: -10800}, "<-03>3"},
		{vendors.Zone{Abbrev: "+0545", Offset: 20700}, "<+0545>-5:45"},
		{vendors.Zone{Abbrev: "XY", Offset: 3600}, "<XY>-1"}, // POSIX wants at least 3 letters
		{vendors.Zone{Abbrev: "CET", Offset: 3600, DST: rule(3600, "CEST", mar, oct)}, "CET-1CEST,M3.5.0,M10.5.0/3"},
		{vendors.Zone{Abbrev: "+1030", Offset: 37800, DST: rule(1800, "+11",
			vendors.Transition{Month: 10, Week: 1, Weekday: time.Sunday, Hour: 2},
			vendors.Transition{Month: 4, Week: 1, Weekday: time.Sunday, Hour: 2})},
			"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"},
		{vendors.Zone{Abbrev: "AAA", Offset: -3600, DST: rule(3600, "AAS",
			vendors.Transition{Month: 3, Week: 2, Weekday: time.Saturday, Hour: 23, Minute: 30},
			vendors.Transition{Month: 11, Week: 1, Weekday: time.Friday, Hour: 0, Minute: 0})},
			"AAA1AAS,M3.2.6/23:30,M11.1.5/0"},
		{vendors.Zone{Abbrev: "BBB", DST: rule(3600, "BBS",
			vendors.Transition{Month: 4, Week: 1, Weekday: time.Sunday, Hour: 2, Minute: 15}, mar)},
			"BBB0BBS,M4.1.0/2:15,M3.5.0"},
	}
	for _, tc := range tests {
		if got := tc.z.POSIX(); got != tc.want {
			t.Errorf("POSIX() of %+v = %q, want %q", tc.z, got, tc.want)
		}
	}
}
