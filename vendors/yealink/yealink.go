// Package yealink is the autoprov driver for Yealink SIP desk phones (T2x,
// T3x, T4xS, T4xU, T5x) and DECT bases (W52P, W60B, W70B).
//
// A phone fetches <mac>.boot (or y000000000000.boot), which includes the
// common file y0000000000XX.cfg of its model and then <mac>.cfg; older
// firmware fetches y0000000000XX.cfg and <mac>.cfg directly. <mac>.cfg is
// complete on its own and is the only file that carries secrets. See
// README.md for the mapping decisions and their sources.
package yealink

import (
	"bytes"
	"fmt"
	"text/template"

	"github.com/autoprov/autoprov/vendors"
)

// Name is the driver's vendor name.
const Name = "yealink"

// Content types of the files the driver serves.
const (
	ContentTypeConfig    = "text/plain; charset=utf-8"
	ContentTypeDirectory = "text/xml; charset=utf-8"
)

// Template names in templates/yealink.
const (
	tmplDevice    = "device.cfg.tmpl"
	tmplCommon    = "common.cfg.tmpl"
	tmplBoot      = "boot.tmpl"
	tmplDirectory = "directory.xml.tmpl"
)

// Driver renders Yealink files. It is immutable after New and safe for
// concurrent use.
type Driver struct {
	t      *template.Template
	models []modelInfo
}

// New returns a driver that renders with t, the Yealink template set from
// templates.Load or templates.MustLoad("yealink").
func New(t *template.Template) *Driver {
	return &Driver{t: t, models: modelTable()}
}

// Name implements vendors.Vendor.
func (d *Driver) Name() string { return Name }

// ProvisioningAuth implements vendors.Credentialer: the per-device file
// sets static.auto_provision.server.username/.password (reference
// yealink.md, "Provisioning server"); whether the firmware answers Basic
// or Digest is unverified, so both are offered, Digest first.
func (d *Driver) ProvisioningAuth() []vendors.AuthScheme {
	return vendors.DigestThenBasic
}

// Models implements vendors.Vendor. It returns a fresh copy on every call.
func (d *Driver) Models() []vendors.Model {
	out := make([]vendors.Model, 0, len(d.models))
	for _, m := range modelTable() {
		out = append(out, m.Model)
	}
	return out
}

// CommonFile returns the name of a model's common file, y0000000000XX.cfg,
// or "" when the model's ID is not known.
func (d *Driver) CommonFile(model string) string {
	m, ok := d.lookup(model)
	if !ok || m.CommonID == "" {
		return ""
	}
	return "y000000000" + m.CommonID + ".cfg"
}

// Files implements vendors.Vendor: <mac>.cfg first, then the boot files
// and the model's common file. Without a MAC only the common file.
func (d *Driver) Files(dev *vendors.Device) []string {
	var names []string
	if dev.MAC != "" {
		names = append(names, dev.MAC+".cfg", dev.MAC+".boot", "y000000000000.boot")
	}
	if c := d.CommonFile(dev.Model); c != "" {
		names = append(names, c)
	}
	return names
}

// Render implements vendors.Vendor.
func (d *Driver) Render(name string, dev *vendors.Device) (*vendors.File, error) {
	p := classifyPath(name)
	var tmpl string
	switch {
	case p.Kind == vendors.FileDevice:
		tmpl = tmplDevice
	case p.Kind == vendors.FileCommon && p.CommonID != "":
		tmpl = tmplCommon
	case p.Kind == vendors.FileCommon:
		tmpl = tmplBoot
	default:
		return nil, fmt.Errorf("yealink: %q is not a file the driver serves: %w", name, vendors.ErrNotFound)
	}
	if tmpl != tmplCommon {
		// Per-phone files need the phone, and the name must name it.
		if dev.MAC == "" {
			return nil, fmt.Errorf("yealink: %q needs the phone's MAC: %w", name, vendors.ErrNotFound)
		}
		if p.MAC != "" && p.MAC != dev.MAC {
			return nil, fmt.Errorf("yealink: %q does not name device %s: %w", name, dev.MAC, vendors.ErrNotFound)
		}
	}
	v, err := d.view(dev, tmpl != tmplCommon)
	if err != nil {
		return nil, fmt.Errorf("yealink: %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := d.t.ExecuteTemplate(&b, tmpl, v); err != nil {
		// Template errors name the template and field, never a value.
		return nil, fmt.Errorf("yealink: render %s: %w", name, err)
	}
	return &vendors.File{Name: name, ContentType: ContentTypeConfig, Body: b.Bytes()}, nil
}

// RenderDirectory implements vendors.DirectoryRenderer: a Yealink remote
// phone book (YealinkIPPhoneDirectory with DirectoryEntry Name/Telephone).
func (d *Driver) RenderDirectory(entries []vendors.DirectoryEntry) (*vendors.File, error) {
	var b bytes.Buffer
	if err := d.t.ExecuteTemplate(&b, tmplDirectory, entries); err != nil {
		return nil, fmt.Errorf("yealink: render directory: %w", err)
	}
	return &vendors.File{Name: "directory.xml", ContentType: ContentTypeDirectory, Body: b.Bytes()}, nil
}

var (
	_ vendors.Vendor            = (*Driver)(nil)
	_ vendors.DirectoryRenderer = (*Driver)(nil)
)

// Resync implements vendors.Resyncer: SIP NOTIFY "Event: check-sync" makes
// the phone run its auto provisioning; "reboot=true" reboots it. The
// files set sip.notify_reboot_enable = 0, without which (factory default
// 1) every check-sync reboots the phone (Yealink T2/T5 administrator
// guides, "sip.notify_reboot_enable"; yealink.md §6).
func (d *Driver) Resync(dev *vendors.Device, reboot bool) ([]vendors.SIPRequest, error) {
	return []vendors.SIPRequest{vendors.CheckSync(dev, reboot)}, nil
}
