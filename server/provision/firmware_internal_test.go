package provision

import (
	"fmt"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// The maintenance window: a range that spans midnight, in the fleet's
// time zone, start inclusive and end exclusive; bad ones refused.
func TestFirmwareWindow(t *testing.T) {
	w, err := parseWindow("22:00-05:00")
	if err != nil {
		t.Fatal(err)
	}
	at := func(hhmm string) time.Time { // a winter day in Berlin (UTC+1)
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2026-01-15 "+hhmm, time.FixedZone("CET", 3600))
		return tm.UTC()
	}
	for hhmm, want := range map[string]bool{"21:59": false, "22:00": true, "23:30": true, "00:00": true, "04:59": true, "05:00": false, "12:00": false} {
		if got := w.contains(at(hhmm), "Europe/Berlin"); got != want {
			t.Errorf("22:00-05:00 at %s Berlin: %v, want %v", hhmm, got, want)
		}
	}
	day, _ := parseWindow("09:30-17:00")
	if !day.contains(at("12:00"), "Europe/Berlin") || day.contains(at("17:00"), "Europe/Berlin") || day.contains(at("09:29"), "Europe/Berlin") {
		t.Error("09:30-17:00")
	}
	if any, err := parseWindow(""); err != nil || !any.contains(at("03:00"), "") {
		t.Error("empty is any time")
	}
	for _, bad := range []string{"22:00", "22-05", "24:00-05:00", "22:00-05:60", "05:00-05:00", "ab:cd-01:00", "7:00-8"} {
		if _, err := parseWindow(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A percentage stage is stable per MAC and target, a widened one keeps
// every device, and another target draws anew.
func TestInStage(t *testing.T) {
	tg := autoprov.FirmwareTarget{ID: 7, Stage: 25}
	wide := tg
	wide.Stage = 50
	other := tg
	other.ID = 8
	in, inWide, same := 0, 0, 0
	for i := range 10000 {
		mac := fmt.Sprintf("805ec0%06x", i)
		a := InStage(mac, tg)
		if a != InStage(mac, tg) {
			t.Fatal("unstable")
		}
		if a && !InStage(mac, wide) {
			t.Fatalf("widening dropped %s", mac)
		}
		if a {
			in++
			if InStage(mac, other) {
				same++
			}
		}
		if InStage(mac, wide) {
			inWide++
		}
	}
	if in < 2300 || in > 2700 || inWide < 4700 || inWide > 5300 {
		t.Errorf("25%%: %d, 50%%: %d of 10000", in, inWide)
	}
	if same > in/2 {
		t.Errorf("another target picked %d of the same %d", same, in)
	}
	if !InStage("805ec0000001", autoprov.FirmwareTarget{ID: 1, Stage: 1, StageMACs: []string{"805ec0000001"}}) ||
		InStage("805ec0000002", autoprov.FirmwareTarget{ID: 1, Stage: 100, StageMACs: []string{"805ec0000001"}}) {
		t.Error("explicit list")
	}
}
