package yealink

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

// TestAllValues renders every zone of Go's tzdata and every language and
// tone scheme, and checks each value is in Yealink's lists.
func TestAllValues(t *testing.T) {
	zones := map[string]bool{}
	for _, m := range timeZones {
		zones[timeZone(m*60)] = true
	}
	langs := map[string]bool{}
	for _, l := range languages {
		langs[l] = true
	}
	langs["English"] = true
	tns := map[string]bool{}
	for _, v := range tones {
		tns[v] = true
	}
	vendortest.CheckValues(t, newDriver(t), vendortest.Values{
		Model:    "T54W",
		Zone:     regexp.MustCompile(`(?m)^local_time\.time_zone = (\S+)$`),
		Language: regexp.MustCompile(`(?m)^lang\.gui = (.+)$`),
		Tone:     regexp.MustCompile(`(?m)^voice\.tone\.country = (.+)$`),
		Zones:    zones, Languages: langs, ToneValues: tns,
	})
}

// TestWarnings: Kolkata is in the table; Eucla (+8:45) is not; Czech is
// written as English; Polish tones as Germany's.
func TestWarnings(t *testing.T) {
	d := newDriver(t)
	warn := func(zone string, s vendors.Settings) []string {
		z, err := vendors.ResolveZone(zone, time.Now().Year())
		if err != nil {
			t.Fatal(err)
		}
		return vendors.Strings(d.Warnings(&vendors.Device{Model: "T54W", Zone: z, Settings: s}))
	}
	if w := warn("Asia/Kolkata", vendors.Settings{Language: "de", WebLanguage: "en", ToneScheme: "DE"}); len(w) != 0 {
		t.Errorf("Kolkata: %q", w)
	}
	w := warn("Australia/Eucla", vendors.Settings{Language: "cs", ToneScheme: "PL"})
	if len(w) != 3 || !strings.Contains(w[0], "Australia/Eucla is +8:45; the T54W has no such zone: +9 (+9:00) written, 15 minutes off") ||
		!strings.Contains(w[1], "language cs (Czech): the T54W has none; English written") ||
		!strings.Contains(w[2], "tone scheme PL (Poland): the T54W has none; Germany written") {
		t.Errorf("Eucla: %q", w)
	}
}

// TestModuleKey21 is the acceptance case in the driver: key 21 of an
// EXP40 on a T27G is refused with the reason; on a T46S it is a key.
func TestModuleKey21(t *testing.T) {
	d := newDriver(t)
	for _, c := range []struct {
		model  string
		refuse bool
	}{{"T27G", true}, {"T29G", true}, {"T46S", false}} {
		m, _ := d.lookup(c.model)
		errs := vendors.ValidateKeys(m.Model, []vendors.Key{{Module: 1, Position: 21, Type: vendors.KeySpeedDial, Value: "100"}}, 1)
		if c.refuse != (len(errs) == 1) {
			t.Fatalf("%s: %v", c.model, errs)
		}
		if c.refuse && !strings.Contains(errs[0].Message, "switches the module's pages") {
			t.Errorf("%s: %q", c.model, errs[0].Message)
		}
	}
	// A key stored before the rule is not written to the reserved slot.
	dev := vendortest.SampleDevice(mustModel(t, d, "T27G"))
	dev.Keys = append(dev.Keys, vendors.Key{Module: 1, Position: 21, Type: vendors.KeySpeedDial, Value: "100"},
		vendors.Key{Module: 1, Position: 22, Type: vendors.KeySpeedDial, Value: "101"})
	f, err := d.Render(dev.MAC+".cfg", dev)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(f.Body), "expansion_module.1.key.21.") || !strings.Contains(string(f.Body), "expansion_module.1.key.22.value = 101") {
		t.Errorf("module keys:\n%s", f.Body)
	}
}

func mustModel(t *testing.T, d *Driver, name string) vendors.Model {
	m, ok := d.lookup(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	return m.Model
}

// TestPickupKeyType: a pickup key without a number is the group pickup
// (type 23), with one a directed pickup (type 9); a BLF key's pickup code
// goes to both extension and pickup_value.
func TestPickupKeyType(t *testing.T) {
	d := newDriver(t)
	dev := vendortest.SampleDevice(mustModel(t, d, "T54W"))
	dev.Keys = []vendors.Key{{Position: 5, Type: vendors.KeyPickup}, {Position: 6, Type: vendors.KeyPickup, Value: "**201"},
		{Position: 7, Type: vendors.KeyBLF, Value: "202", PickupCode: "*8"}}
	f, err := d.Render(dev.MAC+".cfg", dev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"linekey.5.type = 23\n", "linekey.6.type = 9\n", "linekey.6.value = **201\n",
		"linekey.7.extension = *8\n", "linekey.7.pickup_value = *8\n"} {
		if !strings.Contains(string(f.Body), want) {
			t.Errorf("missing %q", want)
		}
	}
}

// TestPickupKeyCode: a pickup key's code is its account's pickup code
// (the phone dials account.N.direct_pickup_code before a type 9 key's
// value, sends account.N.group_pickup_code for type 23); the key's own
// extension/pickup_value are the BLF's and do nothing on a pickup key.
// The first key of an account wins; an account without pickup keys gets
// neither setting.
func TestPickupKeyCode(t *testing.T) {
	d := newDriver(t)
	dev := vendortest.SampleDevice(mustModel(t, d, "T54W"))
	if len(dev.Lines) < 2 {
		dev.Lines = append(dev.Lines, vendors.Line{Extension: "299"})
	}
	dev.Keys = []vendors.Key{
		{Position: 5, Type: vendors.KeyPickup, Value: "202", PickupCode: "**"},
		{Position: 6, Type: vendors.KeyPickup, Value: "203", PickupCode: "*99"},
		{Position: 7, Type: vendors.KeyPickup, PickupCode: "*8"},
		{Position: 8, Type: vendors.KeyPickup, Value: "204", Line: 2},
	}
	f, err := d.Render(dev.MAC+".cfg", dev)
	if err != nil {
		t.Fatal(err)
	}
	body := string(f.Body)
	for _, want := range []string{"linekey.5.type = 9\n", "linekey.5.value = 202\n",
		"account.1.direct_pickup_code = **\n", "account.1.group_pickup_code = *8\n", "linekey.7.type = 23\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Account 2 has a pickup key without a code, and without a key the
	// codes go: %NULL% clears what an earlier file wrote (an empty value
	// would leave it on the phone).
	for _, want := range []string{"account.2.direct_pickup_code = %NULL%\n", "account.2.group_pickup_code = %NULL%\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(body, "*99") {
		t.Error("the second direct pickup code of account 1 was written")
	}
	dev.Keys = nil
	f, err = d.Render(dev.MAC+".cfg", dev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account.1.direct_pickup_code = %NULL%\n", "account.1.group_pickup_code = %NULL%\n"} {
		if !strings.Contains(string(f.Body), want) {
			t.Errorf("without pickup keys: missing %q", want)
		}
	}
}

// TestHandsetLanguage: a DECT base writes its handsets' language as the
// index WAZO uses (German 2); Italian has no attested index and is
// written as English (0), with a warning; a desk phone writes none.
func TestHandsetLanguage(t *testing.T) {
	d := newDriver(t)
	z, err := vendors.ResolveZone("Europe/Zurich", 2026)
	if err != nil {
		t.Fatal(err)
	}
	render := func(model, lang string) string {
		f, err := d.Render("y000000000000.cfg", &vendors.Device{Vendor: Name, Model: model, Zone: z,
			Settings: vendors.Settings{Language: lang, ToneScheme: "CH"}, ProvisionURL: "http://p/"})
		if err != nil {
			t.Fatal(err)
		}
		return string(f.Body)
	}
	if b := render("W60B", "de"); !strings.Contains(b, "\ncustom.handset.language = 2\n") || !strings.Contains(b, "\nvoice.tone.country = Switzerland\n") {
		t.Errorf("W60B, de:\n%s", b)
	}
	if b := render("W60B", "it"); !strings.Contains(b, "\ncustom.handset.language = 0\n") {
		t.Errorf("W60B, it:\n%s", b)
	}
	if b := render("T54W", "de"); strings.Contains(b, "custom.handset") {
		t.Errorf("T54W:\n%s", b)
	}
	w := vendors.Strings(d.Warnings(&vendors.Device{Model: "W60B", Zone: z, Settings: vendors.Settings{Language: "it"}}))
	if len(w) != 1 || !strings.Contains(w[0], "handset language it (Italian): the W60B has none; English written") {
		t.Errorf("warnings: %q", w)
	}
	if w := vendors.Strings(d.Warnings(&vendors.Device{Model: "W60B", Zone: z, Settings: vendors.Settings{Language: "de"}})); len(w) != 0 {
		t.Errorf("warnings for German: %q", w)
	}
}
