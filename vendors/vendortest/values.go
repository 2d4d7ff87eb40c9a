package vendortest

import (
	"archive/zip"
	"go/build"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// ZoneNames lists every zone of Go's own time-zone database
// ($GOROOT/lib/time/zoneinfo.zip), sorted; the test fails when the
// database is missing.
func ZoneNames(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(build.Default.GOROOT, "lib", "time", "zoneinfo.zip")
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("Go's time-zone database: %v", err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") && f.Name != "posixrules" && f.Name != "Factory" {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	if len(names) < 300 {
		t.Fatalf("Go's time-zone database has only %d zones", len(names))
	}
	return names
}

// Values is what Values checks a driver writes: the file to render for a
// model and, per setting, a pattern whose first group is the value
// written and the vendor's list it must belong to.
type Values struct {
	Model string // a model of the driver
	File  string // the file to render (the per-device one); "" for Files' first
	// Zone, Language, Tone: the pattern of the written value and the
	// vendor's list. A nil pattern skips that setting.
	Zone, Language, Tone         *regexp.Regexp
	Zones, Languages, ToneValues map[string]bool
}

// CheckValues renders the model with every zone of Go's database and
// with every language and tone scheme the product accepts, and asserts
// each written value is in the vendor's list, and that a departure from
// the zone asked for comes with a warning when the driver is a Warner.
func CheckValues(t *testing.T, v vendors.Vendor, c Values) {
	t.Helper()
	m, ok := findModel(v, c.Model)
	if !ok {
		t.Fatalf("%s has no model %s", v.Name(), c.Model)
	}
	dev := SampleDevice(m)
	name := c.File
	if name == "" {
		name = v.Files(dev)[0]
	}
	get := func(d *vendors.Device, re *regexp.Regexp) (string, bool) {
		f, err := v.Render(name, d)
		if err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		g := re.FindSubmatch(f.Body)
		if g == nil {
			return "", false
		}
		return string(g[1]), true
	}
	if c.Zone != nil {
		seen := map[string]bool{}
		for _, zn := range ZoneNames(t) {
			z, err := vendors.ResolveZone(zn, time.Now().Year())
			if err != nil {
				t.Errorf("zone %s: %v", zn, err)
				continue
			}
			d := *dev
			d.Zone, d.Settings.Timezone = z, zn
			val, ok := get(&d, c.Zone)
			if !ok {
				t.Errorf("%s %s, zone %s: no time-zone value written", v.Name(), m.Name, zn)
				continue
			}
			if !c.Zones[val] {
				t.Errorf("%s %s, zone %s: %q is not in the vendor's list", v.Name(), m.Name, zn, val)
			}
			seen[val] = true
		}
		if len(seen) < 10 {
			t.Errorf("%s %s: only %d distinct zone values over all zones", v.Name(), m.Name, len(seen))
		}
	}
	for code := range vendors.Languages {
		if c.Language == nil {
			break
		}
		d := *dev
		d.Settings.Language, d.Settings.WebLanguage = code, code
		if val, ok := get(&d, c.Language); !ok || !c.Languages[val] {
			t.Errorf("%s %s, language %s: %q is not in the vendor's list", v.Name(), m.Name, code, val)
		}
	}
	for cc := range vendors.ToneSchemes {
		if c.Tone == nil {
			break
		}
		d := *dev
		d.Settings.ToneScheme = cc
		if val, ok := get(&d, c.Tone); !ok || !c.ToneValues[val] {
			t.Errorf("%s %s, tone scheme %s: %q is not in the vendor's list", v.Name(), m.Name, cc, val)
		}
	}
}

func findModel(v vendors.Vendor, name string) (vendors.Model, bool) {
	for _, m := range v.Models() {
		if m.Matches(name) {
			return m, true
		}
	}
	return vendors.Model{}, false
}

// Set makes a list a set.
func Set(vals ...string) map[string]bool {
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[v] = true
	}
	return m
}
