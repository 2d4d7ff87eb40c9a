// Package gigaset is the driver for Gigaset's DECT bases of the Nx70 family
// (N610, N670, N770, N870, N870E IP PRO) and for the Maxwell desk phones
// (Maxwell Basic, 2, 3, 4). Both read one XML file,
// <provisioning version="1.1">, with <param name=... value=.../> entries
// inside <nvm>. The Snom-based P-series desk phones, also sold under the
// Gigaset name, are handled by package snom.
//
// The driver is pure: it renders files from the vendors.Device it is given
// and identifies requests from their path, User-Agent and MAC.
package gigaset

import (
	"fmt"
	"text/template"

	"github.com/autoprov/autoprov/vendors"
)

// VendorName is the name the driver reports (shared with the P-series driver).
const VendorName = "gigaset"

// ContentType is the content type of every file the driver serves.
const ContentType = "text/xml; charset=utf-8"

// Template names inside the template set.
const (
	tmplNx70    = "nx70.tmpl"
	tmplMaxwell = "maxwell.tmpl"
)

// Driver renders and identifies Gigaset Nx70 and Maxwell files. It is
// read-only after New and safe for concurrent use.
type Driver struct {
	t *template.Template
}

// New returns a driver rendering with t, the template set of
// templates.Load("gigaset", ...) or templates.MustLoad("gigaset").
func New(t *template.Template) *Driver {
	return &Driver{t: t}
}

// Name returns "gigaset".
func (d *Driver) Name() string { return VendorName }

// Models lists the supported Nx70 bases and Maxwell phones.
func (d *Driver) Models() []vendors.Model {
	out := make([]vendors.Model, len(models))
	for i, m := range models {
		out[i] = m
		out[i].KeyTypes = append([]vendors.KeyType(nil), m.KeyTypes...)
		out[i].Aliases = append([]string(nil), m.Aliases...)
	}
	return out
}

var _ vendors.Vendor = (*Driver)(nil)

// Resync implements vendors.Resyncer: SIP NOTIFY "Event:
// check-sync;reboot=false" starts a profile download (GIGAWIKI "SIP
// check-sync mechanism", N610/N670/N870/N870E and Maxwell). A reboot is
// unsupported: Gigaset documents reboot=true only from firmware 2.52 with
// SystemSettings.global.CheckSyncRebootEnabled=1 provisioned and the
// NOTIFY addressed to a registered account, and recommends against it
// (settings apply without one).
func (d *Driver) Resync(dev *vendors.Device, reboot bool) ([]vendors.SIPRequest, error) {
	if reboot {
		return nil, fmt.Errorf("gigaset: reboot by check-sync: %w", vendors.ErrUnsupported)
	}
	return []vendors.SIPRequest{vendors.CheckSync(dev, false)}, nil
}
