package snom

import (
	"strconv"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// view is what the templates see. Every string is raw: the templates
// escape it with the xml function.
type view struct {
	Vendor, Model string
	FileModel     string // model string in file names ("D785", "715", "P820")
	Prefix        string // "snom" or "Gigaset"
	MAC           string // upper-case, "" when unknown

	SettingServer     string // ProvisionURL + "{mac}.xml"
	ProvisionURL      string
	ProvisioningOrder string
	PnPOff            bool // write pnp_config off (Snom only; see README)
	NTPServer         string
	Timezone          string // Snom code, e.g. "GER+1"; "" to leave unset
	Language          string // Snom's own name; "" to leave unset
	WebLanguage       string
	ToneScheme        string // Snom code, e.g. "GER"; "" to leave unset
	// FirmwareURL is the image to install now, set directly as the
	// phone setting firmware (snom.md §5), only in a per-device file.
	FirmwareURL string

	// Per-device part; empty in common files.
	Identities   []identity
	WebUser      string
	WebPassword  string // "" when left out
	MenuPassword string // "" when left out
	// The provisioning credential (http_client_user/_pass); "" when left out.
	ProvisionUser, ProvisionPassword string
	DirectoryURL                     string
	FunctionKeys                     []fkey
	WithFunctions                    bool
	// Params are the raw parameters, last in phone-settings; a name's
	// "[n]" becomes idx="n".
	Params []rawParam
}

// rawParam is one raw parameter as Snom's XML writes it.
type rawParam struct{ Name, Index, Value string }

type identity struct {
	Index                                  int
	Active                                 bool
	RealName, Name, AuthName, Host, Outbnd string
	Password                               string // "" when left out
	HasPassword                            bool
}

type fkey struct {
	Index   int
	Context string
	Label   string
	Value   string
}

func (d *Driver) view(dev *vendors.Device, m vendors.Model, s modelSpec) *view {
	st := dev.Settings
	v := &view{
		Vendor:        d.name,
		Model:         m.Name,
		FileModel:     s.fileName(),
		Prefix:        d.prefix,
		MAC:           strings.ToUpper(dev.MAC),
		ProvisionURL:  dev.ProvisionURL,
		NTPServer:     st.NTPServer,
		Timezone:      snomTimezone(dev.Zone),
		Language:      snomLanguage(st.Language),
		WebLanguage:   snomLanguage(st.WebLanguage),
		ToneScheme:    snomToneScheme(st.ToneScheme),
		FirmwareURL:   dev.FirmwareURL,
		DirectoryURL:  dev.DirectoryURL,
		WithFunctions: true,
	}
	if dev.ProvisionURL != "" {
		v.SettingServer = dev.ProvisionURL + "{mac}.xml"
	}
	// Keep the phone on the setting server it was given: DHCP may still
	// re-point it, the cloud redirection may not (snom.md §6; gigaset.md
	// §7 for the P-series' dhcp114 source). PnP stays in the order until
	// the device is adopted (Device.PnPOff): then the order drops it,
	// and a Snom also gets pnp_config off (snom.md §6; the P-series
	// documents no pnp_config, so its order alone says it).
	v.ProvisioningOrder = "pnp:stop dhcp:stop"
	if d.gigaset {
		v.ProvisioningOrder = "pnp:stop dhcp114:stop dhcp:stop"
	}
	if dev.PnPOff {
		v.ProvisioningOrder = strings.TrimPrefix(v.ProvisioningOrder, "pnp:stop ")
		v.PnPOff = !d.gigaset
	}

	host := st.SIPServer
	if st.SIPPort > 0 && host != "" {
		host += ":" + strconv.Itoa(st.SIPPort)
	}
	outbound := host
	if ph, pp := vendors.SplitHostPort(st.OutboundProxy); ph != "" {
		outbound = ph
		if strings.Contains(ph, ":") {
			outbound = "[" + ph + "]"
		}
		if pp > 0 {
			outbound += ":" + strconv.Itoa(pp)
		}
	}
	if t := strings.ToLower(st.SIPTransport); outbound != "" && (t == "udp" || t == "tcp" || t == "tls") {
		outbound += ";transport=" + t
	}
	for i, l := range dev.Lines {
		if i >= m.Lines {
			break
		}
		id := identity{
			Index: i + 1, Active: true,
			RealName: l.DisplayName, Name: l.Extension, AuthName: l.AuthUser,
			Host: host, Outbnd: outbound,
		}
		if id.RealName == "" {
			id.RealName = l.Extension
		}
		if id.AuthName == "" {
			id.AuthName = l.Extension
		}
		if dev.WithSecrets && l.Password != "" {
			id.Password, id.HasPassword = l.Password, true
		}
		v.Identities = append(v.Identities, id)
	}
	// Switch off the identities the device does not use, so an account
	// left on the phone from before stops registering.
	for i := len(v.Identities) + 1; i <= m.Lines; i++ {
		v.Identities = append(v.Identities, identity{Index: i})
	}
	if dev.WebPassword != "" {
		v.WebUser = "admin"
		if dev.WithSecrets {
			v.WebPassword = dev.WebPassword
		}
	}
	if dev.WithSecrets {
		v.MenuPassword = dev.MenuPassword
	}
	if dev.WithSecrets && dev.ProvisionPassword != "" && !d.gigaset {
		v.ProvisionUser, v.ProvisionPassword = dev.ProvisionUser, dev.ProvisionPassword
	}
	v.FunctionKeys = functionKeys(m, dev.Keys)
	v.Params = rawParams(dev.Params)
	return v
}

// stripDevice empties everything that belongs only in the per-device
// file, so common files never depend on lines, keys or secrets.
func (v *view) stripDevice() {
	v.Identities, v.FunctionKeys = nil, nil
	v.WebUser, v.WebPassword, v.MenuPassword = "", "", ""
	v.ProvisionUser, v.ProvisionPassword = "", ""
	v.DirectoryURL = ""
	v.WithFunctions = false
	v.Params = nil
}

// functionKeys renders the resolved key layout as Snom fkeys (snom.md §4):
// idx is 0-based and runs over the phone's keys, then over each module's
// keys in turn. Every key of the phone and of every module the model
// takes is written, unused ones as "none": the phone keeps what its file
// does not name, so a removed key would otherwise stay.
func functionKeys(m vendors.Model, keys []vendors.Key) []fkey {
	modKeys, maxMod := 0, 0
	if len(m.Modules) > 0 {
		modKeys, maxMod = m.Modules[0].Keys, m.Modules[0].Max
	}
	total := m.Keys + maxMod*modKeys
	out := make([]fkey, total)
	for i := range out {
		out[i] = fkey{Index: i, Context: "active", Value: "none"}
	}
	for _, k := range keys {
		var idx int
		switch {
		case k.Module == 0 && k.Position >= 1 && k.Position <= m.Keys:
			idx = k.Position - 1
		case k.Module >= 1 && k.Module <= maxMod && k.Position >= 1 && k.Position <= modKeys:
			idx = m.Keys + (k.Module-1)*modKeys + k.Position - 1
		default:
			continue // the core validated the keys; skip what cannot be placed
		}
		out[idx] = fkey{Index: idx, Context: keyContext(k), Label: k.Label, Value: keyValue(k)}
	}
	return out
}

func keyContext(k vendors.Key) string {
	if k.Line > 0 {
		return strconv.Itoa(k.Line)
	}
	if k.Type == vendors.KeyLine {
		return "1"
	}
	return "active"
}

// keyValue maps a key to Snom's "TYPE ARGUMENT" (snom.md §4, Snom
// "Function Key Types"; key events from WAZO/GS3 templates).
func keyValue(k vendors.Key) string {
	v := strings.TrimSpace(k.Value)
	switch k.Type {
	case vendors.KeyLine:
		return "line"
	case vendors.KeyBLF:
		if pc := strings.TrimSpace(k.PickupCode); pc != "" {
			return "blf " + v + "|" + pc
		}
		return "blf " + v
	case vendors.KeySpeedDial:
		return "speed " + v
	case vendors.KeyIntercom:
		return "icom " + v
	case vendors.KeyDTMF:
		return "dtmf " + v
	case vendors.KeyURL:
		return "url " + v
	case vendors.KeyPark:
		if v != "" {
			return "orbit " + v
		}
		return "keyevent F_PARK"
	case vendors.KeyPickup:
		return pickupValue(v, strings.TrimSpace(k.PickupCode))
	case vendors.KeyDND:
		return "keyevent F_DND"
	case vendors.KeyForward:
		if v != "" {
			return "redirect " + v
		}
		return "keyevent F_REDIRECT"
	case vendors.KeyVoicemail:
		if v != "" {
			return "speed " + v
		}
		return "keyevent F_RETRIEVE"
	}
	return "none"
}

// pickupValue is a pickup key's Snom form. Value is the extension to pick
// up from, PickupCode the PBX's pickup prefix (snom.md §4 has no pickup
// type: a PBX pickup is the code dialled before the extension, as in the
// BLF form "blf <ext>|<code>"):
//   - extension and code: "speed <code><ext>", which dials the directed
//     pickup (e.g. "speed *8202"); "speed <ext>" alone would call the
//     colleague instead of taking the call;
//   - extension, no code: "blf <ext>", the phone's own pickup of a ringing
//     call on a monitored extension (dialog-info with Replaces; Snom's
//     "Call Pickup" wiki page), the only pickup Snom makes without a code;
//     a value that starts with '*' or '#' is a feature code already (the
//     group pickup "*8", or a code and extension "**202") and is dialled
//     as is;
//   - code, no extension: "speed <code>", the PBX's group pickup;
//   - neither: "keyevent F_PICKUP" (unverified, README).
func pickupValue(ext, code string) string {
	switch {
	case ext != "" && code != "":
		return "speed " + code + ext
	case ext != "" && strings.ContainsAny(ext[:1], "*#"):
		return "speed " + ext
	case ext != "":
		return "blf " + ext
	case code != "":
		return "speed " + code
	}
	return "keyevent F_PICKUP"
}

// rawParams are the device's raw parameters as the templates write them:
// "name[2]" is the name with idx="2".
func rawParams(ps []vendors.Param) []rawParam {
	var out []rawParam
	for _, p := range ps {
		r := rawParam{Name: p.Name, Value: p.Value}
		if i := strings.IndexByte(p.Name, '['); i > 0 && strings.HasSuffix(p.Name, "]") {
			r.Name, r.Index = p.Name[:i], p.Name[i+1:len(p.Name)-1]
		}
		out = append(out, r)
	}
	return out
}
