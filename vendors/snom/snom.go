// Package snom is the driver for Snom desk phones (D1xx, D3xx, D7xx, D8xx)
// and, through NewGigasetP, for the Snom-built Gigaset P-series. Both render
// Snom's XML settings format from the templates in templates/snom; they
// differ in vendor name, models, file-name prefix, MAC ranges and
// User-Agent shape. See README.md for the files served and the mappings.
package snom

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/autoprov/autoprov/vendors"
)

// ContentType is the content type of every file the driver serves
// (snom.md §1.3).
const ContentType = "text/xml; charset=utf-8"

// Driver renders Snom XML settings for one vendor family. It is immutable
// and safe for concurrent use.
type Driver struct {
	t       *template.Template
	name    string // vendor name: "snom" or "gigaset"
	prefix  string // file-name prefix: "snom" or "Gigaset"
	gigaset bool
	dect    bool // the M-series DECT bases (NewDECT)
	specs   []modelSpec
	models  []vendors.Model
}

// New returns the Snom desk-phone driver. t comes from
// templates.Load("snom", ...) or templates.MustLoad("snom").
func New(t *template.Template) *Driver {
	return &Driver{t: t, name: "snom", prefix: "snom", specs: snomModels,
		models: buildModels("snom", "snom", snomModels)}
}

// NewGigasetP returns the driver for the Snom-built Gigaset P-series
// (P710, P810, P820, P825, P850, P855; gigaset.md §1, §4, §10). t is the
// same Snom template set as for New.
func NewGigasetP(t *template.Template) *Driver {
	return &Driver{t: t, name: "gigaset", prefix: "Gigaset", gigaset: true, specs: gigasetModels,
		models: buildModels("gigaset", "Gigaset", gigasetModels)}
}

// NewDECT returns the driver for Snom's DECT bases M300, M400, M700 and
// M900 (vendor "snom"): the same file names as the desk phones, but a
// settings family of their own (WAZO common_dect; see README.md, "DECT
// bases"). t is the same Snom template set as for New.
func NewDECT(t *template.Template) *Driver {
	return &Driver{t: t, name: "snom", prefix: "snom", dect: true, specs: dectModels,
		models: buildModels("snom", "snom", dectModels)}
}

// Name returns the vendor name, "snom" or "gigaset".
func (d *Driver) Name() string { return d.name }

// ProvisioningAuth implements vendors.Credentialer: a Snom phone sends
// http_client_user/http_client_pass to its setting server (reference
// snom.md §3.1, FreePBX's D785 template); offer Digest first, Basic over
// HTTPS. The Gigaset P-series documents no such setting (gigaset.md), nor
// does any source we could read for the DECT bases (README): none.
func (d *Driver) ProvisioningAuth() []vendors.AuthScheme {
	if d.gigaset || d.dect {
		return nil
	}
	return vendors.DigestThenBasic
}

// PnPFile implements vendors.PnPFiler: a Snom phone (and a Gigaset
// P-series) fetches the plug-and-play URL as its setting_server, replacing
// {mac} (reference snom.md §6).
func (d *Driver) PnPFile() string { return "{mac}.xml" }

// Models lists the supported models with their capabilities.
func (d *Driver) Models() []vendors.Model {
	out := make([]vendors.Model, len(d.models))
	copy(out, d.models)
	return out
}

func (d *Driver) model(name string) (vendors.Model, modelSpec, bool) {
	for i, s := range d.specs {
		if d.models[i].Matches(name) || strings.EqualFold(s.name, name) {
			return d.models[i], s, true
		}
	}
	return vendors.Model{}, modelSpec{}, false
}

// Files lists the files a device fetches: <MAC>.xml (the per-device file,
// first), the general file <prefix><model>.htm, the per-phone container
// <prefix><model>-<MAC>.htm and, when a firmware URL is set,
// <prefix><model>-firmware.htm (a DECT base: <MAC>.xml, the container
// snom<model>.htm, the common settings snom<model>.xml and
// snom<model>-<MAC>.htm; no firmware file). Without a MAC only the common
// files are listed.
func (d *Driver) Files(dev *vendors.Device) []string {
	_, s, ok := d.model(dev.Model)
	if !ok {
		return nil
	}
	base := d.prefix + s.fileName()
	var names []string
	if dev.MAC != "" {
		names = append(names, strings.ToUpper(dev.MAC)+".xml")
	}
	names = append(names, base+".htm")
	if d.dect {
		names = append(names, base+".xml")
	}
	if dev.MAC != "" {
		names = append(names, base+"-"+strings.ToUpper(dev.MAC)+".htm")
	}
	if dev.FirmwareURL != "" && !d.dect {
		names = append(names, base+"-firmware.htm")
	}
	return names
}

// Render renders one of the driver's files for dev. Names match in any
// case; an unknown name, a name for another model, a per-phone name
// without a MAC, or the firmware file without a firmware URL give an error
// wrapping vendors.ErrNotFound.
func (d *Driver) Render(name string, dev *vendors.Device) (*vendors.File, error) {
	p := d.parsePath(name)
	if p.kind == vendors.FileUnknown {
		return nil, fmt.Errorf("%s: file %q: %w", d.name, name, vendors.ErrNotFound)
	}
	m, s, ok := d.model(dev.Model)
	if !ok {
		return nil, fmt.Errorf("%s: model %q: %w", d.name, dev.Model, vendors.ErrNotFound)
	}
	if ns, known := findSpec(d.specs, d.prefix, p.modelInName); known && ns.name != s.name {
		return nil, fmt.Errorf("%s: file %q is not for a %s: %w", d.name, name, s.name, vendors.ErrNotFound)
	}
	if d.dect {
		return d.renderDECT(p, name, dev, m)
	}
	var tmpl string
	data := d.view(dev, m, s)
	switch p.file {
	case "device":
		if err := d.ownFile(p, name, dev); err != nil {
			return nil, err
		}
		tmpl = "device.xml.tmpl"
	case "general":
		data.stripDevice()
		tmpl = "general.htm.tmpl"
	case "index":
		data.stripDevice()
		data.MAC = strings.ToUpper(p.mac)
		tmpl = "index.htm.tmpl"
	case "firmware":
		if dev.FirmwareURL == "" {
			return nil, fmt.Errorf("%s: %q: no firmware set: %w", d.name, name, vendors.ErrNotFound)
		}
		data.stripDevice()
		tmpl = "firmware.htm.tmpl"
	}
	var buf bytes.Buffer
	if err := d.t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		// Template errors never quote values, so no secret leaks here.
		return nil, fmt.Errorf("%s: render %s: %w", d.name, tmpl, err)
	}
	return &vendors.File{Name: name, ContentType: ContentType, Body: buf.Bytes()}, nil
}

// RenderDirectory renders the company directory as a Snom XML phone book
// (SnomIPPhoneDirectory with DirectoryEntry Name/Telephone), the format the
// phone shows from a "url" key or dkey_directory.
func (d *Driver) RenderDirectory(entries []vendors.DirectoryEntry) (*vendors.File, error) {
	var buf bytes.Buffer
	if err := d.t.ExecuteTemplate(&buf, "directory.xml.tmpl", map[string]any{"Entries": entries}); err != nil {
		return nil, fmt.Errorf("%s: render directory: %w", d.name, err)
	}
	return &vendors.File{Name: "directory.xml", ContentType: ContentType, Body: buf.Bytes()}, nil
}

// Resync implements vendors.Resyncer: SIP NOTIFY "Event:
// check-sync;reboot=false" reloads the settings (snom.md §6, WAZO), with
// "reboot=true" the phone reboots (Gigaset's page for the Snom-based
// P-series, "SIP: Check-sync message"; Snom's checksync_action executes
// what the event asks). See README.md.
func (d *Driver) Resync(dev *vendors.Device, reboot bool) ([]vendors.SIPRequest, error) {
	return []vendors.SIPRequest{vendors.CheckSync(dev, reboot)}, nil
}

// ownFile refuses a per-device file asked for another device's MAC (or
// for a device without one).
func (d *Driver) ownFile(p pathInfo, name string, dev *vendors.Device) error {
	if dev.MAC == "" || p.mac != dev.MAC {
		return fmt.Errorf("%s: file %q needs the device's MAC: %w", d.name, name, vendors.ErrNotFound)
	}
	return nil
}
