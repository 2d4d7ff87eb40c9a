package vendors_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// fakeDriver is a minimal vendors.Vendor: it scores requests by path.
type fakeDriver struct {
	name   string
	models []vendors.Model
	scores map[string]int // Request.Path -> score
}

func (d *fakeDriver) Name() string                   { return d.name }
func (d *fakeDriver) Models() []vendors.Model        { return d.models }
func (d *fakeDriver) Files(*vendors.Device) []string { return []string{d.name + ".cfg"} }

func (d *fakeDriver) Identify(req vendors.Request) vendors.Identity {
	s := d.scores[req.Path]
	if s == 0 {
		return vendors.Identity{}
	}
	return vendors.Identity{Vendor: d.name, Model: d.models[0].Name, MAC: req.MAC, Score: s}
}

func (d *fakeDriver) Render(name string, _ *vendors.Device) (*vendors.File, error) {
	return nil, vendors.ErrNotFound
}

var _ vendors.Vendor = (*fakeDriver)(nil)

func model(vendor, name string, aliases ...string) vendors.Model {
	return vendors.Model{Vendor: vendor, Name: name, Kind: "desk", Lines: 1, Keys: 4,
		KeyTypes: []vendors.KeyType{vendors.KeyLine}, Aliases: aliases}
}

// testRegistry holds two drivers sharing the vendor name "acme" (desk and
// DECT families) and a "globex" driver whose "D20" collides with acme's.
func testRegistry() (reg *vendors.Registry, acmeDesk, acmeDect, globex *fakeDriver) {
	acmeDesk = &fakeDriver{name: "acme",
		models: []vendors.Model{model("acme", "D10", "ACME-D10"), model("acme", "D20")},
		scores: map[string]int{"tie.cfg": 3, "acme.cfg": 6, "globex.cfg": 1}}
	globex = &fakeDriver{name: "globex",
		models: []vendors.Model{model("globex", "G1", "GX-1"), model("globex", "D20")},
		scores: map[string]int{"tie.cfg": 3, "acme.cfg": 2, "globex.cfg": 5, "late.cfg": 1}}
	acmeDect = &fakeDriver{name: "acme",
		models: []vendors.Model{model("acme", "W60", "W60P")},
		scores: map[string]int{"tie.cfg": 3, "dect.cfg": 4, "late.cfg": 7}}
	return vendors.NewRegistry(acmeDesk, globex, acmeDect), acmeDesk, acmeDect, globex
}

func TestRegistryIdentify(t *testing.T) {
	reg, acmeDesk, acmeDect, globex := testRegistry()
	tests := []struct {
		path      string
		want      vendors.Vendor // nil: nobody
		wantScore int
	}{
		{"acme.cfg", acmeDesk, 6},
		{"globex.cfg", globex, 5},
		{"dect.cfg", acmeDect, 4},
		{"late.cfg", acmeDect, 7}, // the highest score wins even when registered last
		{"tie.cfg", acmeDesk, 3},  // a tie goes to the first registered
		{"nobody.cfg", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			id, v := reg.Identify(vendors.Request{Path: tc.path, MAC: "001565abcdef"})
			if v != tc.want {
				t.Errorf("Identify picked %v, want %v", v, tc.want)
			}
			if id.Score != tc.wantScore {
				t.Errorf("Score = %d, want %d", id.Score, tc.wantScore)
			}
			if tc.want != nil && (id.Vendor != tc.want.Name() || id.MAC != "001565abcdef") {
				t.Errorf("Identity = %+v, not the chosen driver's", id)
			}
		})
	}

	// Tie-break by order: swap the order and the other driver wins.
	rev := vendors.NewRegistry(globex, acmeDesk)
	if _, v := rev.Identify(vendors.Request{Path: "tie.cfg"}); v != globex {
		t.Errorf("with globex first, a tie went to %v", v)
	}
	if _, v := vendors.NewRegistry().Identify(vendors.Request{Path: "acme.cfg"}); v != nil {
		t.Errorf("an empty registry identified %v", v)
	}
}

func TestRegistryLookup(t *testing.T) {
	reg, acmeDesk, acmeDect, globex := testRegistry()
	found := []struct {
		vendor, model string
		want          vendors.Vendor
		wantModel     string
	}{
		{"acme", "D10", acmeDesk, "D10"},
		{"ACME", "acme-d10", acmeDesk, "D10"},
		{"acme", "D20", acmeDesk, "D20"},
		{"globex", "D20", globex, "D20"},
		{"acme", "W60", acmeDect, "W60"}, // second driver of the same vendor
		{"acme", "w60p", acmeDect, "W60"},
		{"", "D10", acmeDesk, "D10"}, // model alone, unambiguous
		{"", "W60", acmeDect, "W60"},
		{"", "gx-1", globex, "G1"},
	}
	for _, tc := range found {
		t.Run(tc.vendor+"/"+tc.model, func(t *testing.T) {
			v, m, err := reg.Lookup(tc.vendor, tc.model)
			if err != nil {
				t.Fatalf("Lookup(%q, %q): %v", tc.vendor, tc.model, err)
			}
			if v != tc.want || m.Name != tc.wantModel {
				t.Errorf("Lookup(%q, %q) = %v, %q; want %v, %q", tc.vendor, tc.model, v, m.Name, tc.want, tc.wantModel)
			}
		})
	}

	failing := []struct {
		name, vendor, model string
		is                  error
		contains, excludes  []string
	}{
		{name: "ambiguous model", vendor: "", model: "D20", is: vendors.ErrUnsupported,
			contains: []string{`"D20"`, "ambiguous"}},
		{name: "ambiguous model other case", vendor: "", model: "d20", is: vendors.ErrUnsupported},
		{name: "unknown vendor", vendor: "initech", model: "D10", is: vendors.ErrNotFound,
			contains: []string{`unknown vendor "initech"`, "acme, globex"}},
		{name: "unknown model of a vendor", vendor: "acme", model: "G1", is: vendors.ErrNotFound,
			contains: []string{`unknown model "G1"`, "D10, D20, W60"}, excludes: []string{"G1,", "G1)"}},
		{name: "unknown model of any vendor", vendor: "", model: "Z9", is: vendors.ErrNotFound,
			contains: []string{`unknown model "Z9"`, "D10, D20, G1, D20, W60"}},
		{name: "empty model", vendor: "acme", model: "", is: vendors.ErrNotFound},
	}
	for _, tc := range failing {
		t.Run(tc.name, func(t *testing.T) {
			v, m, err := reg.Lookup(tc.vendor, tc.model)
			if err == nil {
				t.Fatalf("Lookup(%q, %q) = %v, %+v; want an error", tc.vendor, tc.model, v, m)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if v != nil || m.Name != "" {
				t.Errorf("Lookup returned %v, %+v alongside an error", v, m)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range tc.excludes {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
		})
	}
}

func TestRegistryIdentifyWith(t *testing.T) {
	reg, _, acmeDect, _ := testRegistry()
	id, v, err := reg.IdentifyWith("acme", "W60", vendors.Request{Path: "dect.cfg"})
	if err != nil || v != acmeDect || id.Score != 4 {
		t.Errorf("IdentifyWith(acme, W60) = %+v, %v, %v; want the DECT driver's identity", id, v, err)
	}
	if _, _, err := reg.IdentifyWith("", "D20", vendors.Request{}); !errors.Is(err, vendors.ErrUnsupported) {
		t.Errorf("IdentifyWith of an ambiguous model: err = %v, want ErrUnsupported", err)
	}
	if _, _, err := reg.IdentifyWith("nope", "D10", vendors.Request{}); !errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("IdentifyWith of an unknown vendor: err = %v, want ErrNotFound", err)
	}
}

func TestRegistryNames(t *testing.T) {
	reg, acmeDesk, acmeDect, globex := testRegistry()
	// Registered as acme, globex, acme and with a later "beta": sorted, distinct.
	beta := &fakeDriver{name: "beta", models: []vendors.Model{model("beta", "B1")}}
	reg2 := vendors.NewRegistry(acmeDesk, globex, acmeDect, beta)
	if got, want := reg2.VendorNames(), []string{"acme", "beta", "globex"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VendorNames() = %q, want %q", got, want)
	}
	if got := vendors.NewRegistry().VendorNames(); len(got) != 0 {
		t.Errorf("empty registry VendorNames() = %q", got)
	}

	modelTests := []struct {
		vendor string
		want   []string
	}{
		{"acme", []string{"D10", "D20", "W60"}},
		{"ACME", []string{"D10", "D20", "W60"}},
		{"globex", []string{"G1", "D20"}},
		{"", []string{"D10", "D20", "G1", "D20", "W60"}},
		{"initech", nil},
	}
	for _, tc := range modelTests {
		if got := reg.ModelNames(tc.vendor); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ModelNames(%q) = %q, want %q", tc.vendor, got, tc.want)
		}
	}
	if got := len(reg.Models()); got != 5 {
		t.Errorf("len(Models()) = %d, want 5", got)
	}
	if got := reg.Drivers(); !reflect.DeepEqual(got, []vendors.Vendor{acmeDesk, globex, acmeDect}) {
		t.Errorf("Drivers() = %v, not in registration order", got)
	}

	byName := []struct {
		name string
		want vendors.Vendor
		ok   bool
	}{
		{"acme", acmeDesk, true}, // the first of the two acme drivers
		{"Acme", acmeDesk, true},
		{"globex", globex, true},
		{"initech", nil, false},
		{"", nil, false},
	}
	for _, tc := range byName {
		v, ok := reg.ByName(tc.name)
		if v != tc.want || ok != tc.ok {
			t.Errorf("ByName(%q) = %v, %v; want %v, %v", tc.name, v, ok, tc.want, tc.ok)
		}
		if got := reg.HasVendor(tc.name); got != tc.ok {
			t.Errorf("HasVendor(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// TestLookupIndexAgreesWithDrivers: Lookup's index answers exactly what
// asking the drivers answers, for every name and alias as spelled, in
// other cases, with and without the vendor, ambiguous names included.
func TestLookupIndexAgreesWithDrivers(t *testing.T) {
	a := &fakeDriver{name: "acme", models: []vendors.Model{model("acme", "A1", "a-one"), model("acme", "X1")}}
	a2 := &fakeDriver{name: "acme", models: []vendors.Model{model("acme", "A2")}} // a second family of one vendor
	z := &fakeDriver{name: "zeta", models: []vendors.Model{model("zeta", "Z1"), model("zeta", "X1")}}
	r := vendors.NewRegistry(a, a2, z)
	names := []string{"A1", "a-one", "A-ONE", "a1", "X1", "x1", "A2", "Z1", "z1", "nope", ""}
	for _, vendor := range []string{"acme", "ACME", "zeta", "", "other"} {
		for _, name := range names {
			v1, m1, err1 := r.Lookup(vendor, name)
			v2, m2, err2 := vendors.LookupByDrivers(r, vendor, name)
			if v1 != v2 || !reflect.DeepEqual(m1, m2) || (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
				t.Errorf("Lookup(%q, %q) = %v %v %v, the drivers say %v %v %v", vendor, name, v1, m1.Name, err1, v2, m2.Name, err2)
			}
		}
	}
	if _, _, err := r.Lookup("", "X1"); !errors.Is(err, vendors.ErrUnsupported) {
		t.Errorf("X1 without a vendor: %v, want ambiguous", err)
	}
	if v, m, err := r.Lookup("acme", "A2"); err != nil || v != a2 || m.Name != "A2" {
		t.Errorf("acme A2: %v %v %v, want the second acme driver", v, m.Name, err)
	}
}
