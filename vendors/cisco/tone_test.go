package cisco

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// checkToneScript checks s against the ToneScript syntax of the Cisco
// SPA/MPP administration guides: "F@L[,F@L...]" (at most 6), then
// sections "D(on/off/f[,on/off/f...])" (at most 6 segments), every f a
// "+"-joined list of frequency numbers, at most 127 characters.
func checkToneScript(s string) string {
	if len(s) > 127 {
		return "longer than 127 characters"
	}
	parts := strings.Split(s, ";")
	if len(parts) < 2 {
		return "no cadence section"
	}
	freqs := strings.Split(parts[0], ",")
	if len(freqs) > 6 {
		return "more than 6 frequencies"
	}
	for _, f := range freqs {
		hz, lvl, ok := strings.Cut(f, "@")
		n, err1 := strconv.Atoi(hz)
		l, err2 := strconv.Atoi(lvl)
		if !ok || err1 != nil || err2 != nil || n < 100 || n > 4000 || l > 0 || l < -40 {
			return "bad frequency " + f
		}
	}
	num := func(v string) bool {
		if v == "*" {
			return true
		}
		x, err := strconv.ParseFloat(v, 64)
		return err == nil && x >= 0
	}
	section := regexp.MustCompile(`^([^()]+)\(([^()]+)\)$`)
	for _, z := range parts[1:] {
		m := section.FindStringSubmatch(z)
		if m == nil || !num(m[1]) {
			return "bad section " + z
		}
		segs := strings.Split(m[2], ",")
		if len(segs) > 6 {
			return "more than 6 segments in " + z
		}
		for _, seg := range segs {
			f := strings.Split(seg, "/")
			if len(f) != 3 || !num(f[0]) || !num(f[1]) {
				return "bad segment " + seg
			}
			for _, i := range strings.Split(f[2], "+") {
				if n, err := strconv.Atoi(i); err != nil || n < 1 || n > len(freqs) {
					return "segment " + seg + " plays no defined frequency"
				}
			}
		}
	}
	return ""
}

// TestToneTable: every tone scheme the product offers has Cisco tones,
// each a valid ToneScript, and the German ones are E.180's (425 Hz; busy
// 0.48 s on/off, congestion 0.24 s, ringing 1 s on 4 s off).
func TestToneTable(t *testing.T) {
	for cc := range vendors.ToneSchemes {
		ts, ok := toneScripts(cc)
		if !ok {
			t.Errorf("%s: no tones", cc)
			continue
		}
		for name, s := range map[string]string{"dial": ts.Dial, "busy": ts.Busy, "reorder": ts.Reorder, "ring-back": ts.RingBack} {
			if why := checkToneScript(s); why != "" {
				t.Errorf("%s %s %q: %s", cc, name, s, why)
			}
		}
	}
	for cc := range toneTable {
		if _, ok := vendors.ToneSchemes[cc]; !ok {
			t.Errorf("%s is not a product tone scheme", cc)
		}
	}
	de, _ := toneScripts("DE")
	if de != (tones{Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.48/.48/1)", Reorder: "425@-19;10(.24/.24/1)", RingBack: "425@-19;*(1/4/1)"}) {
		t.Errorf("DE: %+v", de)
	}
	if _, ok := toneScripts(""); ok {
		t.Error("tones for no scheme")
	}
}

// TestTonesWritten: the per-device profile carries the tones of the
// device's tone scheme (a German office hears German tones, not the
// phone's US defaults); a scheme without tones writes none, so the phone
// keeps its own.
func TestTonesWritten(t *testing.T) {
	d := newDriver(t)
	for _, c := range []struct{ scheme, dial, busy string }{
		{"DE", "425@-19;10(*/0/1)", "425@-19;10(.48/.48/1)"},
		{"GB", "350@-19,440@-19;10(*/0/1+2)", "400@-19;10(.375/.375/1)"},
		{"FR", "440@-19;10(*/0/1)", "440@-19;10(.5/.5/1)"},
		{"", "", ""},
	} {
		dev := sampleDevice(t, d, "8851")
		dev.Settings.ToneScheme = c.scheme
		f, err := d.Render(dev.MAC+".xml", dev)
		if err != nil {
			t.Fatal(err)
		}
		body := string(f.Body)
		if c.dial == "" {
			if strings.Contains(body, "_Tone ") {
				t.Errorf("no scheme: tones written")
			}
			continue
		}
		for _, want := range []string{`<Dial_Tone ua="na">` + c.dial + `</Dial_Tone>`, `<Busy_Tone ua="na">` + c.busy + `</Busy_Tone>`,
			`<Reorder_Tone ua="na">`, `<Ring_Back_Tone ua="na">`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: lacks %s", c.scheme, want)
			}
		}
	}
}
