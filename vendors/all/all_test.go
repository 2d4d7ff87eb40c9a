package all

import (
	"slices"
	"testing"

	"github.com/autoprov/autoprov/templates"
)

// The list of drivers and the embedded template folders agree: every
// folder is some driver's, and every driver's folder exists. A new vendor
// whose folder was added without its line here (or the reverse) fails.
func TestDriversAndTemplateFoldersAgree(t *testing.T) {
	folders := templates.Folders()
	if len(folders) == 0 {
		t.Fatal("no embedded template folders")
	}
	used := map[string]bool{}
	for _, d := range drivers {
		used[d.templates] = true
		if !slices.Contains(folders, d.templates) {
			t.Errorf("driver's template folder %q is not embedded (have %v)", d.templates, folders)
		}
	}
	for _, f := range folders {
		if !used[f] {
			t.Errorf("template folder %q is used by no driver in the list", f)
		}
	}
}

func TestRegistryBuildsEveryDriver(t *testing.T) {
	reg, err := Registry("")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(reg.Drivers()); got != len(drivers) {
		t.Fatalf("registry has %d drivers, the list %d", got, len(drivers))
	}
	for _, v := range reg.Drivers() {
		if len(v.Models()) == 0 {
			t.Errorf("driver %s lists no models", v.Name())
		}
	}
	if _, err := registry([]driver{{"no-such-vendor", drivers[0].build}}, ""); err == nil {
		t.Error("a driver whose template folder does not exist was built")
	}
}
