// Package all lists every vendor driver the product ships, in one place:
// main builds its registry here, and so do the tests that need the real
// drivers. Adding a vendor means adding it to Registry.
package all

import (
	"fmt"
	"text/template"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/gigaset"
	"github.com/autoprov/autoprov/vendors/snom"
	"github.com/autoprov/autoprov/vendors/yealink"
)

// Registry returns the registry of all drivers, their templates loaded
// from the embedded set with overrides from overrideDir/<vendor>/ (none
// when overrideDir is ""). A template that does not parse is an error.
func Registry(overrideDir string) (*vendors.Registry, error) {
	set := map[string]*template.Template{}
	for _, v := range []string{"yealink", "snom", "gigaset"} {
		t, err := templates.Load(v, overrideDir)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		set[v] = t
	}
	return vendors.NewRegistry(
		yealink.New(set["yealink"]),
		snom.New(set["snom"]),
		gigaset.New(set["gigaset"]),
		snom.NewGigasetP(set["snom"]), // Gigaset's Snom-built P-series
	), nil
}
