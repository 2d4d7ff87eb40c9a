// Package cisco is the autoprov driver for Cisco IP Phone 6800, 7800 and
// 8800 Multiplatform phones (MPP, "3PCC" firmware), and identifies the
// older SPA/ATA family, which it does not provision.
//
// A factory phone fetches the bootstrap <model>-3PCC.xml (Profile_Rule
// /$PSN.xml), from the server DHCP names, or walks the fallback tails
// down to Cisco/CP-<model>-3PCC/<mac>.cfg. The bootstrap sets an absolute
// Profile_Rule at this server's per-device file <mac>.xml, which is
// complete on its own and the only file that carries secrets. See
// README.md for the mapping decisions and their sources.
package cisco

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"text/template"

	"github.com/autoprov/autoprov/vendors"
)

// Name is the driver's vendor name.
const Name = "cisco"

// ContentType of every file the driver serves: XML flat profiles.
const ContentType = "text/xml; charset=utf-8"

// Template names in templates/cisco.
const (
	tmplDevice = "device.xml.tmpl"
	tmplBoot   = "bootstrap.xml.tmpl"
)

// Driver renders Cisco MPP flat profiles. It is immutable after New and
// safe for concurrent use.
type Driver struct {
	t      *template.Template
	models []vendors.Model
}

// New returns a driver that renders with t, the Cisco template set from
// templates.Load or templates.MustLoad("cisco").
func New(t *template.Template) *Driver {
	return &Driver{t: t, models: modelTable()}
}

// Resync implements vendors.Resyncer: a SIP NOTIFY "Event: resync" makes
// an MPP phone run its profile rules now, when its profile sets
// Resync_From_SIP (ours does; cisco-mpp.md §9). It is addressed to line
// 1's extension; the phone may challenge it with that line's SIP
// credentials. No reboot trigger is documented, so a reboot is
// unsupported.
func (d *Driver) Resync(dev *vendors.Device, reboot bool) ([]vendors.SIPRequest, error) {
	if reboot {
		return nil, fmt.Errorf("cisco: reboot: %w", vendors.ErrUnsupported)
	}
	r := vendors.SIPRequest{Method: "NOTIFY", Event: "resync"}
	if dev != nil && len(dev.Lines) > 0 {
		r.User = dev.Lines[0].Extension
	}
	return []vendors.SIPRequest{r}, nil
}

// Name implements vendors.Vendor.
func (d *Driver) Name() string { return Name }

// Models implements vendors.Vendor. It returns a fresh copy on every call.
func (d *Driver) Models() []vendors.Model { return modelTable() }

// ProvisioningAuth implements vendors.Credentialer: the per-device file
// writes the credential into its Profile_Rule as
// "[--uid <user> --pwd <password>]<url>" (cisco-mpp.md §3), and the 8800
// MPP admin guide says a rule with user and password makes the phone
// answer the server's "authentication or digest" challenge. Digest is
// preferred; Basic is accepted over HTTPS only (by the core).
func (d *Driver) ProvisioningAuth() []vendors.AuthScheme {
	return vendors.DigestThenBasic
}

// CertMAC implements vendors.CertMACer. A Cisco MPP device certificate
// carries the product in OU, the serial number in L and the MAC in S
// ("OU=CP-8841-3PCC, L=88012BA01234, S=000e08abcdef", cisco-mpp.md §1),
// so only the subject's S= is read: it must name exactly one MAC, in any
// common notation. The layout comes from one admin guide page; should a
// firmware put the MAC elsewhere, the certificate names none here and the
// phone is refused, never mistaken for another.
func (d *Driver) CertMAC(cert *x509.Certificate) (string, bool) {
	if cert == nil {
		return "", false
	}
	// Only the state field: AnyCertMAC reads the subject's state last,
	// after CN, SANs and serial number, which this copy leaves empty.
	return vendors.AnyCertMAC(&x509.Certificate{Subject: pkix.Name{Province: cert.Subject.Province}})
}

// deviceFile is the per-device file's name: <mac>.xml, the name the
// bootstrap's Profile_Rule asks for.
func deviceFile(mac string) string { return mac + ".xml" }

// Files implements vendors.Vendor: <mac>.xml first, then the fallback
// tails Cisco/CP-<model>-3PCC/<mac>.cfg and .xml, then the bootstrap
// <model>-3PCC.xml and its CP- alias. Without a MAC only the bootstraps.
func (d *Driver) Files(dev *vendors.Device) []string {
	m, ok := d.lookup(dev.Model)
	var names []string
	if dev.MAC != "" {
		names = append(names, deviceFile(dev.MAC))
		if ok {
			names = append(names, "Cisco/CP-"+m.Name+"-3PCC/"+dev.MAC+".cfg", "Cisco/CP-"+m.Name+"-3PCC/"+dev.MAC+".xml")
		}
	}
	if ok {
		names = append(names, m.Name+"-3PCC.xml", "CP-"+m.Name+"-3PCC.xml")
	}
	return names
}

// Render implements vendors.Vendor.
func (d *Driver) Render(name string, dev *vendors.Device) (*vendors.File, error) {
	p := d.classifyPath(name)
	tmpl := ""
	switch {
	case p.Kind == vendors.FileDevice:
		tmpl = tmplDevice
		// The name must name the phone: one phone's secrets are never
		// rendered under another's name, nor for another model's path.
		if dev.MAC == "" || p.MAC != dev.MAC {
			return nil, fmt.Errorf("cisco: %q does not name device %s: %w", name, dev.MAC, vendors.ErrNotFound)
		}
		if p.Model != "" {
			if m, ok := d.lookup(dev.Model); !ok || m.Name != p.Model {
				return nil, fmt.Errorf("cisco: %q is another model's path than the device's %s: %w", name, dev.Model, vendors.ErrNotFound)
			}
		}
	case p.Boot:
		tmpl = tmplBoot
	default:
		return nil, fmt.Errorf("cisco: %q is not a file the driver serves: %w", name, vendors.ErrNotFound)
	}
	v, err := d.view(dev, tmpl == tmplDevice)
	if err != nil {
		return nil, fmt.Errorf("cisco: %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := d.t.ExecuteTemplate(&b, tmpl, v); err != nil {
		// Template errors name the template and field, never a value.
		return nil, fmt.Errorf("cisco: render %s: %w", name, err)
	}
	return &vendors.File{Name: name, ContentType: ContentType, Body: b.Bytes()}, nil
}

var (
	_ vendors.Vendor       = (*Driver)(nil)
	_ vendors.Credentialer = (*Driver)(nil)
	_ vendors.CertMACer    = (*Driver)(nil)
)
