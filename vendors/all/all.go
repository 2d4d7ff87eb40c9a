// Package all lists every vendor driver the product ships, in one place:
// main builds its registry here, and so do the tests that need the real
// drivers. Adding a vendor is its package under vendors/, its templates
// under templates/<folder>/, and one line in drivers below.
package all

import (
	"fmt"
	"text/template"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/cisco"
	"github.com/autoprov/autoprov/vendors/gigaset"
	"github.com/autoprov/autoprov/vendors/openstage"
	"github.com/autoprov/autoprov/vendors/snom"
	"github.com/autoprov/autoprov/vendors/yealink"
)

// driver is one line of the list: the templates folder a driver renders
// from and how to build it. Order matters only for ties in identification
// (the first listed wins).
type driver struct {
	templates string
	build     func(*template.Template) vendors.Vendor
}

// drivers is the one list of drivers.
var drivers = []driver{
	{"yealink", func(t *template.Template) vendors.Vendor { return yealink.New(t) }},
	{"snom", func(t *template.Template) vendors.Vendor { return snom.New(t) }},
	{"snom", func(t *template.Template) vendors.Vendor { return snom.NewDECT(t) }}, // Snom's M-series DECT bases
	{"gigaset", func(t *template.Template) vendors.Vendor { return gigaset.New(t) }},
	{"snom", func(t *template.Template) vendors.Vendor { return snom.NewGigasetP(t) }}, // Gigaset's Snom-built P-series
	{"cisco", func(t *template.Template) vendors.Vendor { return cisco.New(t) }},
	{"openstage", func(t *template.Template) vendors.Vendor { return openstage.New(t) }},
}

// Registry returns the registry of all drivers, their templates loaded
// from the embedded set with overrides from overrideDir/<folder>/ (none
// when overrideDir is ""). A template that does not parse is an error.
func Registry(overrideDir string) (*vendors.Registry, error) {
	return registry(drivers, overrideDir)
}

func registry(list []driver, overrideDir string) (*vendors.Registry, error) {
	loaded := map[string]*template.Template{}
	var vs []vendors.Vendor
	for _, d := range list {
		t, ok := loaded[d.templates]
		if !ok {
			var err error
			if t, err = templates.Load(d.templates, overrideDir); err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
			loaded[d.templates] = t
		}
		vs = append(vs, d.build(t))
	}
	return vendors.NewRegistry(vs...), nil
}
