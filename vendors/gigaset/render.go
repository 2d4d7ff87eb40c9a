package gigaset

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Files lists the per-device file, <MAC>.xml with the MAC upper-case as in
// Gigaset's examples. The device may ask provisioning.xml first; Render
// serves the same file under that name when the MAC is known.
func (d *Driver) Files(dev *vendors.Device) []string {
	if dev.MAC == "" {
		return nil
	}
	return []string{strings.ToUpper(dev.MAC) + ".xml"}
}

// Render renders <MAC>.xml (any case) or provisioning.xml for dev. Both
// are the complete per-device file; provisioning.xml needs dev.MAC.
func (d *Driver) Render(name string, dev *vendors.Device) (*vendors.File, error) {
	name = strings.TrimPrefix(name, "/")
	switch {
	case strings.EqualFold(name, provisioningFile):
		if dev.MAC == "" {
			return nil, fmt.Errorf("gigaset: %s without a MAC: %w", provisioningFile, vendors.ErrNotFound)
		}
	default:
		m := macFile.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("gigaset: no file %q: %w", name, vendors.ErrNotFound)
		}
		if dev.MAC == "" || !strings.EqualFold(m[1], dev.MAC) {
			return nil, fmt.Errorf("gigaset: %q is not this device's file: %w", name, vendors.ErrNotFound)
		}
	}
	model, ok := lookupModel(dev.Model)
	if !ok {
		return nil, fmt.Errorf("gigaset: model %q: %w", dev.Model, vendors.ErrUnsupported)
	}
	var (
		tmpl string
		data any
	)
	switch model.Family {
	case FamilyNx70:
		tmpl, data = tmplNx70, nx70Data(model, dev)
	default:
		tmpl, data = tmplMaxwell, maxwellData(model, dev)
	}
	var b bytes.Buffer
	if err := d.t.ExecuteTemplate(&b, tmpl, data); err != nil {
		// Template errors name the template and field, never a value.
		return nil, fmt.Errorf("gigaset: render %s for %s: %w", tmpl, model.Name, err)
	}
	return &vendors.File{Name: name, ContentType: ContentType, Body: b.Bytes()}, nil
}

// firmware is the <firmware><file .../></firmware> block.
type firmware struct {
	URL     string
	Version string // "" when the URL names no version
}

var fwVersion = regexp.MustCompile(`\d+\.\d+\.\d+`)

func firmwareOf(dev *vendors.Device) *firmware {
	if dev.FirmwareURL == "" {
		return nil
	}
	if dev.FirmwareVersion != "" {
		var d Driver
		if v := d.NormaliseFirmware(dev.FirmwareVersion); fwVersion.MatchString(v) {
			return &firmware{URL: dev.FirmwareURL, Version: v}
		}
	}
	base := path.Base(dev.FirmwareURL)
	return &firmware{URL: dev.FirmwareURL, Version: fwVersion.FindString(base)}
}

// secret returns v when secrets may go out, else "" (and the template
// leaves the parameter out).
func secret(dev *vendors.Device, v string) string {
	if !dev.WithSecrets {
		return ""
	}
	return v
}

func port(p int, transport string) int {
	if p > 0 {
		return p
	}
	if transport == "tls" {
		return 5061
	}
	return 5060
}

// nx70ProvisioningServer is the Nx70's own file with its MAC written out:
// Gigaset's URL table prefers for the Nx70 "a URL ending in <MAC>.xml"
// and documents %MACD only for the redirect server (gigaset.md §1), so a
// base that did not expand it would ask for a literal "%MACD.xml".
func nx70ProvisioningServer(dev *vendors.Device) string {
	if dev.ProvisionURL == "" || dev.MAC == "" {
		return provisioningServer(dev)
	}
	u := dev.ProvisionURL
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u + strings.ToUpper(dev.MAC) + ".xml"
}

func provisioningServer(dev *vendors.Device) string {
	if dev.ProvisionURL == "" {
		return ""
	}
	u := dev.ProvisionURL
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u + "%MACD.xml"
}

// nx70Handset is one handset (one SIP account) on an Nx70 base.
type nx70Handset struct {
	ID          string // five digits, 00001..
	UserName    string
	AuthName    string
	Password    string // secret; "" = leave out
	DisplayName string
	PIN         string // registration PIN, secret; "" = leave out
}

// nx70View is the data of nx70.tmpl.
type nx70View struct {
	Firmware           *firmware
	WebPassword        string // secret; "" = leave out
	ToneScheme         string
	NTPServer          string
	TimeZone           string
	ProvisioningServer string
	Domain             string
	Port               int
	Transport          int
	OutboundProxy      string
	OutboundProxyPort  int
	Handsets           []nx70Handset
	DirectoryURL       string
	// PnPOff writes SystemSettings.global.SipMulticastEnabled=0 (the
	// models Gigaset's page lists, see README).
	PnPOff bool
	// Params are the raw parameters, last in <nvm>.
	Params []vendors.Param
}

// multicastSwitch are the models whose SIP multicast (plug-and-play) Gigaset
// documents a switch for: SystemSettings.global.SipMulticastEnabled, "valid
// for N610, N670, N870, N870E" (GIGAWIKI pageId 1049428309; gigaset.md §6).
// The N770 is not on that list, the Maxwell family has no such page: their
// files say nothing about PnP.
var multicastSwitch = map[string]bool{"N610": true, "N670": true, "N870": true, "N870E": true}

// nx70Transport maps udp/tcp/tls to SipProvider.<n>.TransportProtocol
// (reference gigaset.md §3.1).
func nx70Transport(t string) int {
	switch t {
	case "tcp":
		return 2
	case "tls":
		return 3
	}
	return 1
}

func nx70Data(m vendors.Model, dev *vendors.Device) nx70View {
	s := dev.Settings
	v := nx70View{
		Firmware:           firmwareOf(dev),
		WebPassword:        secret(dev, dev.WebPassword),
		ToneScheme:         nx70ToneScheme(s.ToneScheme),
		NTPServer:          s.NTPServer,
		TimeZone:           nx70TimeZone(dev.Zone),
		ProvisioningServer: nx70ProvisioningServer(dev),
		Domain:             s.SIPServer,
		Port:               port(s.SIPPort, s.SIPTransport),
		Transport:          nx70Transport(s.SIPTransport),
		DirectoryURL:       dev.DirectoryURL,
		PnPOff:             dev.PnPOff && multicastSwitch[m.Name],
		Params:             dev.Params,
	}
	if h, p := vendors.SplitHostPort(s.OutboundProxy); h != "" {
		v.OutboundProxy, v.OutboundProxyPort = h, port(p, s.SIPTransport)
	}
	for i, l := range dev.Lines {
		if i >= m.Lines {
			break
		}
		v.Handsets = append(v.Handsets, nx70Handset{
			ID:          fmt.Sprintf("%05d", i+1),
			UserName:    l.Extension,
			AuthName:    firstNonEmpty(l.AuthUser, l.Extension),
			Password:    secret(dev, l.Password),
			DisplayName: l.DisplayName,
			PIN:         secret(dev, dev.MenuPassword),
		})
	}
	return v
}

// maxwellAccount is one SIP.Account.<n> block.
type maxwellAccount struct {
	Index             int // 0-based
	Username          string
	AuthName          string
	Password          string // secret; "" = leave out
	DisplayName       string
	Domain            string
	Port              int
	OutboundProxy     string
	OutboundProxyPort int
}

// maxwellKey is one PhoneUI.Keys.FunctionKeys.<n> block.
type maxwellKey struct {
	Index       int // 0-based
	Type        int
	DisplayName string
	PhoneNumber string
	PickupCode  string
	Connection  string
	URL         string
	EnableCode  string
}

// maxwellView is the data of maxwell.tmpl.
type maxwellView struct {
	ProductID          string // "" = leave the attribute out
	Firmware           *firmware
	AdminPassword      string // secret
	UserPIN            string // secret
	NTPServer          string
	TimeZone           string
	DST                bool
	Language           string
	WebLanguage        string
	ToneScheme         string
	ProvisioningServer string
	Transport          int
	Accounts           []maxwellAccount
	// Inactive are the 0-based accounts beyond the device's lines, set
	// Active=0 so one taken off the phone stops registering.
	Inactive []int
	Keys     []maxwellKey
	Params   []vendors.Param // raw parameters, last in <nvm>
}

// maxwellProductIDs: only Maxwell 3's "mx3b" is attested (Gigaset's nested
// profiles FAQ); TANC sends no productID at all, so the others leave it out.
var maxwellProductIDs = map[string]string{"Maxwell 3": "mx3b"}

// maxwellTransport maps udp/tcp/tls to SIP.TransportProtocol: TANC uses
// 1 for plain and 2 for TLS; 3 for TCP is unverified.
func maxwellTransport(t string) int {
	switch t {
	case "tls":
		return 2
	case "tcp":
		return 3
	}
	return 1
}

// Maxwell function key type codes (reference gigaset.md §4).
var maxwellKeyCodes = map[vendors.KeyType]int{
	vendors.KeyNone: -1, vendors.KeyLine: 0, vendors.KeySpeedDial: 3, vendors.KeyBLF: 4,
	vendors.KeyForward: 6, vendors.KeyDTMF: 7, vendors.KeyURL: 8,
}

func maxwellData(m vendors.Model, dev *vendors.Device) maxwellView {
	s := dev.Settings
	v := maxwellView{
		ProductID:          maxwellProductIDs[m.Name],
		Firmware:           firmwareOf(dev),
		AdminPassword:      secret(dev, dev.WebPassword),
		UserPIN:            secret(dev, dev.MenuPassword),
		NTPServer:          s.NTPServer,
		TimeZone:           maxwellTimeZone(dev.Zone),
		DST:                dev.Zone.DST != nil,
		Language:           maxwellLanguage(s.Language),
		WebLanguage:        maxwellLanguage(firstNonEmpty(s.WebLanguage, s.Language)),
		ToneScheme:         maxwellToneScheme(s.ToneScheme),
		ProvisioningServer: provisioningServer(dev),
		Transport:          maxwellTransport(s.SIPTransport),
		Params:             dev.Params,
	}
	proxy, proxyPort := vendors.SplitHostPort(s.OutboundProxy)
	for i, l := range dev.Lines {
		if i >= m.Lines {
			break
		}
		a := maxwellAccount{
			Index: i, Username: l.Extension, AuthName: firstNonEmpty(l.AuthUser, l.Extension),
			Password: secret(dev, l.Password), DisplayName: l.DisplayName,
			Domain: s.SIPServer, Port: port(s.SIPPort, s.SIPTransport),
		}
		if proxy != "" {
			a.OutboundProxy, a.OutboundProxyPort = proxy, port(proxyPort, s.SIPTransport)
		}
		v.Accounts = append(v.Accounts, a)
	}
	for i := len(v.Accounts); i < m.Lines; i++ {
		v.Inactive = append(v.Inactive, i)
	}
	if m.Keys > 0 {
		v.Keys = maxwellKeyList(m, dev)
	}
	return v
}

// maxwellKeyList renders every function key position: the device's keys
// where set, type -1 (none) elsewhere, so stale keys are cleared.
func maxwellKeyList(m vendors.Model, dev *vendors.Device) []maxwellKey {
	keys := make([]maxwellKey, m.Keys)
	for i := range keys {
		keys[i] = maxwellKey{Index: i, Type: -1}
	}
	for _, k := range dev.Keys {
		if k.Module != 0 || k.Position < 1 || k.Position > m.Keys {
			continue // refused by ValidateKeys; never rendered
		}
		code, ok := maxwellKeyCodes[k.Type]
		if !ok {
			continue
		}
		mk := maxwellKey{Index: k.Position - 1, Type: code, DisplayName: k.Label}
		switch k.Type {
		case vendors.KeyLine:
			line := max(k.Line, 1)
			mk.Connection = strconv.Itoa(line - 1)
			if mk.DisplayName == "" && line <= len(dev.Lines) {
				mk.DisplayName = firstNonEmpty(dev.Lines[line-1].DisplayName, dev.Lines[line-1].Extension)
			}
		case vendors.KeySpeedDial, vendors.KeyForward:
			mk.PhoneNumber = k.Value
		case vendors.KeyBLF:
			mk.PhoneNumber, mk.PickupCode = k.Value, k.PickupCode
		case vendors.KeyDTMF:
			mk.EnableCode = k.Value
		case vendors.KeyURL:
			mk.URL = k.Value
		}
		keys[k.Position-1] = mk
	}
	return keys
}
