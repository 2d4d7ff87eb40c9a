package vendors

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Zone is an IANA time zone resolved into the pieces phones want: a
// standard offset and, where the zone observes it, daylight saving rules.
// The core resolves it once (it owns the clock); drivers only read it.
type Zone struct {
	Name     string         // IANA name, e.g. "Europe/Berlin"
	Offset   int            // standard offset east of UTC, in seconds
	Abbrev   string         // standard-time abbreviation, e.g. "CET"
	DST      *DSTRule       // nil when the zone has no daylight saving time
	RefYear  int            // the year the rule was read from
	Location *time.Location `json:"-"`
}

// DSTRule says when daylight saving time starts and ends.
type DSTRule struct {
	Save   int    // seconds added during DST, usually 3600
	Abbrev string // DST abbreviation, e.g. "CEST"
	Start  Transition
	End    Transition
}

// Transition is one change of offset, in the wall-clock time in force just
// before it (as phones and POSIX TZ strings describe it).
type Transition struct {
	Month   int          // 1..12
	Week    int          // 1..4 for the n-th weekday of the month, 5 for the last
	Weekday time.Weekday // day of the week
	Day     int          // day of the month in RefYear
	Hour    int          // 0..23
	Minute  int
}

// OffsetHours returns the standard offset in hours as a decimal string,
// e.g. "+1", "-5", "+5.5".
func (z Zone) OffsetHours() string {
	sign := "+"
	off := z.Offset
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, (off%3600)/60
	if m == 0 {
		return fmt.Sprintf("%s%d", sign, h)
	}
	return fmt.Sprintf("%s%d.%s", sign, h, strings.TrimRight(fmt.Sprintf("%02d", m*100/60), "0"))
}

// POSIX returns the zone as a POSIX TZ string, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
func (z Zone) POSIX() string {
	var b strings.Builder
	b.WriteString(posixAbbrev(z.Abbrev))
	b.WriteString(posixOffset(-z.Offset))
	if z.DST == nil {
		return b.String()
	}
	b.WriteString(posixAbbrev(z.DST.Abbrev))
	if z.DST.Save != 3600 {
		b.WriteString(posixOffset(-(z.Offset + z.DST.Save)))
	}
	for _, t := range []Transition{z.DST.Start, z.DST.End} {
		fmt.Fprintf(&b, ",M%d.%d.%d", t.Month, t.Week, int(t.Weekday))
		if t.Hour != 2 || t.Minute != 0 {
			fmt.Fprintf(&b, "/%d", t.Hour)
			if t.Minute != 0 {
				fmt.Fprintf(&b, ":%02d", t.Minute)
			}
		}
	}
	return b.String()
}

func posixAbbrev(a string) string {
	for _, c := range a {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "<" + a + ">"
		}
	}
	if len(a) < 3 {
		return "<" + a + ">"
	}
	return a
}

func posixOffset(sec int) string {
	sign := ""
	if sec < 0 {
		sign, sec = "-", -sec
	}
	s := fmt.Sprintf("%s%d", sign, sec/3600)
	if m := (sec % 3600) / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

// ResolveZone loads an IANA zone and reads its rules for the given year.
// Unknown names return an error wrapping ErrNotFound. A zone resolved once
// is remembered by name and year (time.LoadLocation reads and parses the
// zone's file on every call, and every file rendered resolves one): at
// most zoneMemoMax of them, each a few hundred bytes.
func ResolveZone(name string, year int) (Zone, error) {
	k := zoneKey{name, year}
	if z, ok := zoneMemo.Load(k); ok {
		return z.(Zone).copy(), nil
	}
	z, err := resolveZone(name, year)
	if err == nil && zoneMemoLen.Add(1) <= zoneMemoMax {
		zoneMemo.Store(k, z.copy())
	}
	return z, err
}

type zoneKey struct {
	name string
	year int
}

// zoneMemoMax bounds the zones ResolveZone remembers: names come from the
// settings and the devices' overrides, so a handful in practice.
const zoneMemoMax = 1024

var (
	zoneMemo     sync.Map // zoneKey -> Zone
	zoneMemoLen  atomic.Int64
	loadLocation = time.LoadLocation // tests count the loads
)

// copy returns z with a DST rule of its own, so that no caller shares the
// remembered one.
func (z Zone) copy() Zone {
	if z.DST != nil {
		d := *z.DST
		z.DST = &d
	}
	return z
}

func resolveZone(name string, year int) (Zone, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return Zone{}, fmt.Errorf("time zone %q: %w", name, ErrNotFound)
	}
	loc, err := loadLocation(name)
	if err != nil || name == "Local" {
		return Zone{}, fmt.Errorf("time zone %q: %w", name, ErrNotFound)
	}
	z := Zone{Name: name, RefYear: year, Location: loc}
	// Standard time is the smaller of the winter and summer offsets: tzdata
	// marks Irish winter time as a "negative DST", so IsDST cannot decide.
	jan := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	jul := time.Date(year, 7, 1, 0, 0, 0, 0, loc)
	_, janOff := jan.Zone()
	_, julOff := jul.Zone()
	std := jan
	if julOff < janOff {
		std = jul
	}
	z.Abbrev, z.Offset = std.Zone()

	var starts, ends []Transition
	dstAbbrev, save := "", 0
	t := jan
	for i := 0; i < 8; i++ { // a year has at most a handful of transitions
		_, end := t.ZoneBounds()
		if end.IsZero() || end.Year() > year {
			break
		}
		_, oldOff := end.Add(-time.Second).Zone()
		wall := end.In(time.FixedZone("", oldOff))
		tr := Transition{Month: int(wall.Month()), Day: wall.Day(), Weekday: wall.Weekday(),
			Hour: wall.Hour(), Minute: wall.Minute(), Week: (wall.Day()-1)/7 + 1}
		if wall.Day()+7 > daysIn(wall.Month(), wall.Year()) {
			tr.Week = 5
		}
		if abbr, off := end.Zone(); off > z.Offset {
			dstAbbrev, save = abbr, off-z.Offset
			starts = append(starts, tr)
		} else {
			ends = append(ends, tr)
		}
		t = end
	}
	if len(starts) == 1 && len(ends) == 1 && save > 0 {
		z.DST = &DSTRule{Save: save, Abbrev: dstAbbrev, Start: starts[0], End: ends[0]}
	}
	return z, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
