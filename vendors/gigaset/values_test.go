package gigaset

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

// TestAllValues renders every zone of Go's tzdata and every language and
// tone scheme on an Nx70 and a Maxwell, and checks each value is in
// Gigaset's lists.
func TestAllValues(t *testing.T) {
	nx70 := map[string]bool{}
	maxwell := map[string]bool{}
	for name, z := range nx70Zones {
		nx70[name] = true
		maxwell["GMT"+gmtOffset(z.offset)+"."+name] = true
	}
	tones := map[string]bool{"Retail": true}
	for _, v := range nx70Tones {
		tones[v] = true
	}
	vendortest.CheckValues(t, driver(), vendortest.Values{
		Model: "N870",
		Zone:  regexp.MustCompile(`"DmGlobal\.0\.TimeZone" value="([^"]*)"`),
		Tone:  regexp.MustCompile(`"Telephony\.0\.ToneScheme" value="([^"]*)"`),
		Zones: nx70, ToneValues: tones,
	})
	langs := map[string]bool{}
	for _, v := range maxwellLanguages {
		langs[v] = true
	}
	mtones := map[string]bool{"INT": true}
	for _, v := range maxwellTones {
		mtones[v] = true
	}
	vendortest.CheckValues(t, driver(), vendortest.Values{
		Model:    "Maxwell 3",
		Zone:     regexp.MustCompile(`"System\.DateAndTime\.TimeZone" value="([^"]*)"`),
		Language: regexp.MustCompile(`"PhoneUI\.Settings\.Language" value="([^"]*)"`),
		Tone:     regexp.MustCompile(`"Telephony\.ToneScheme" value="([^"]*)"`),
		Zones:    maxwell, Languages: langs, ToneValues: mtones,
	})
}

// TestKolkataWarning is the acceptance case: Asia/Kolkata (+5:30) has no
// zone on an N870 or a Maxwell; the nearest is written and the warning
// names the 30 minutes.
func TestKolkataWarning(t *testing.T) {
	z, err := vendors.ResolveZone("Asia/Kolkata", time.Now().Year())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ model, want string }{
		{"N870", "Asia/Kolkata is +5:30; the N870 has no such zone: Asia/Karachi (+5:00) written, 30 minutes off"},
		{"Maxwell 3", "Asia/Kolkata is +5:30; the Maxwell 3 has no such zone: Asia/Karachi (+5:00) written, 30 minutes off"},
	} {
		w := vendors.Strings(driver().Warnings(&vendors.Device{Model: c.model, Zone: z, Settings: vendors.Settings{ToneScheme: "DE"}}))
		if len(w) != 1 || w[0] != c.want {
			t.Errorf("%s: %q, want %q", c.model, w, c.want)
		}
	}
	berlin, _ := vendors.ResolveZone("Europe/Berlin", time.Now().Year())
	if w := vendors.Strings(driver().Warnings(&vendors.Device{Model: "N870", Zone: berlin, Settings: vendors.Settings{ToneScheme: "DE"}})); len(w) != 0 {
		t.Errorf("Berlin on an N870: %q", w)
	}
	if w := vendors.Strings(driver().Warnings(&vendors.Device{Model: "N870", Zone: berlin, Settings: vendors.Settings{ToneScheme: "US"}})); len(w) != 1 || !strings.Contains(w[0], "Retail written") {
		t.Errorf("US tones on an N870: %q", w)
	}
}
