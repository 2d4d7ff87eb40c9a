package snom

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// dectView is what the DECT templates (dect-*.tmpl) see. Every string is
// raw: the templates escape it with the xml function.
type dectView struct {
	Model        string // "M700"
	MAC          string // upper-case, "" in the common files
	ProvisionURL string
	PnPOff       bool
	NTPServer    string
	Timezone     string // Snom code, e.g. "GER+1"; "" to leave unset
	Language     string
	WebLanguage  string
	ToneScheme   string

	// Per-base part; empty in common files.
	Host      string // SIP server 1: host[:port]
	Outbound  string // outbound proxy host[:port]; "" when none
	Transport string // "udp", "tcp", "tls"; "" to leave unset
	// Extensions are the base's SIP accounts: extension n is handset n.
	Extensions  []dectExtension
	WebUser     string
	WebPassword string // "" when left out
	Params      []rawParam
}

// dectExtension is one SIP account of a base, bound to handset Index.
type dectExtension struct {
	Index                    int
	Active                   bool
	RealName, Name, AuthName string
	Password                 string // "" when left out
	HasPassword              bool
	ACCode                   string // handset registration code; "" when left out
}

func (d *Driver) dectView(dev *vendors.Device, m vendors.Model) *dectView {
	st := dev.Settings
	v := &dectView{
		Model:        m.Name,
		MAC:          strings.ToUpper(dev.MAC),
		ProvisionURL: dev.ProvisionURL,
		PnPOff:       dev.PnPOff,
		NTPServer:    st.NTPServer,
		Timezone:     snomTimezone(dev.Zone),
		Language:     snomLanguage(st.Language),
		WebLanguage:  snomLanguage(st.WebLanguage),
		ToneScheme:   snomToneScheme(st.ToneScheme),
	}
	v.Host = st.SIPServer
	if st.SIPPort > 0 && v.Host != "" {
		v.Host += ":" + strconv.Itoa(st.SIPPort)
	}
	if ph, pp := vendors.SplitHostPort(st.OutboundProxy); ph != "" {
		v.Outbound = ph
		if strings.Contains(ph, ":") {
			v.Outbound = "[" + ph + "]"
		}
		if pp > 0 {
			v.Outbound += ":" + strconv.Itoa(pp)
		}
	}
	if t := strings.ToLower(st.SIPTransport); t == "udp" || t == "tcp" || t == "tls" {
		v.Transport = t
	}
	for i, l := range dev.Lines {
		if i >= m.Lines {
			break
		}
		e := dectExtension{Index: i + 1, Active: true, RealName: l.DisplayName, Name: l.Extension, AuthName: l.AuthUser}
		if e.RealName == "" {
			e.RealName = l.Extension
		}
		if e.AuthName == "" {
			e.AuthName = l.Extension
		}
		if dev.WithSecrets {
			if l.Password != "" {
				e.Password, e.HasPassword = l.Password, true
			}
			e.ACCode = dev.MenuPassword
		}
		v.Extensions = append(v.Extensions, e)
	}
	// Switch off the extensions the base does not use, so an account left
	// on it from before stops registering (as on the desk phones).
	for i := len(v.Extensions) + 1; i <= m.Lines; i++ {
		v.Extensions = append(v.Extensions, dectExtension{Index: i})
	}
	if dev.WebPassword != "" {
		v.WebUser = "admin"
		if dev.WithSecrets {
			v.WebPassword = dev.WebPassword
		}
	}
	v.Params = rawParams(dev.Params)
	return v
}

// renderDECT renders one of a DECT base's files (README, "DECT bases").
func (d *Driver) renderDECT(p pathInfo, name string, dev *vendors.Device, m vendors.Model) (*vendors.File, error) {
	v := d.dectView(dev, m)
	var tmpl string
	switch p.file {
	case "device":
		if err := d.ownFile(p, name, dev); err != nil {
			return nil, err
		}
		tmpl = "dect-device.xml.tmpl"
	case "general":
		v = d.dectCommon(v)
		tmpl = "dect-general.xml.tmpl"
	case "container":
		v = d.dectCommon(v)
		tmpl = "dect-model.htm.tmpl"
	case "index":
		v = d.dectCommon(v)
		v.MAC = strings.ToUpper(p.mac)
		tmpl = "index.htm.tmpl"
	default:
		return nil, fmt.Errorf("%s: file %q: %w", d.name, name, vendors.ErrNotFound)
	}
	var buf bytes.Buffer
	if err := d.t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		// Template errors never quote values, so no secret leaks here.
		return nil, fmt.Errorf("%s: render %s: %w", d.name, tmpl, err)
	}
	return &vendors.File{Name: name, ContentType: ContentType, Body: buf.Bytes()}, nil
}

// dectCommon keeps only what a common file may carry: the model, the
// provisioning URL and the locale; never an account, a secret or PnP off.
func (d *Driver) dectCommon(v *dectView) *dectView {
	return &dectView{Model: v.Model, ProvisionURL: v.ProvisionURL, NTPServer: v.NTPServer,
		Timezone: v.Timezone, Language: v.Language, WebLanguage: v.WebLanguage, ToneScheme: v.ToneScheme}
}
