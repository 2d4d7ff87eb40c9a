package cisco

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// view is what the templates see: every value already mapped to MPP's
// representation, so that templates only print (through xml).
type view struct {
	Dev         *vendors.Device
	Model       vendors.Model // zero for a bootstrap of a model the driver does not support
	MAC         string
	WithSecrets bool

	// DeviceURL is the absolute per-device URL as a profile rule:
	// <ProvisionURL>$MA.xml, with the base's own '$' doubled.
	DeviceURL string
	// ProfileRule is the Profile_Rule to set, or "" to leave the
	// phone's: the bootstrap's is DeviceURL; the per-device file's is
	// DeviceURL behind "[--uid <user> --pwd <password>]" when the file
	// carries the provisioning credential, else "" (README.md).
	ProfileRule string
	// ProfileRuleB is the bootstrap's DeviceURL (so the phone fetches its
	// file in the same resync), "" in the per-device file.
	ProfileRuleB string

	Station string // Station_Display_Name

	// UpgradeRule is the Upgrade_Rule: empty (clearing one a phone kept
	// from an earlier profile) unless the core offers firmware, then
	// ($SWVER ne "<version>")? <url>, so a phone already on it skips it.
	UpgradeRule string

	TimeZone string // GMT+01:00
	DST      bool
	DSTRule  string // start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1
	Language string // Language_Selection
	Locale   string // Locale
	// Tones are the call-progress tones of the device's tone scheme
	// (toneTable), nil when the table has none (nothing written).
	Tones *tones

	Lines      []line
	Keys       []key // positions 1..Model.Keys
	ModuleKeys []key
	Units      int // Number_of_Units when module keys are used, else 0
}

// line is one of the model's lines, numbered from 1; Enabled false for
// lines beyond the device's accounts.
type line struct {
	N           int
	Enabled     bool
	DisplayName string
	UserID      string
	AuthID      string
	Password    string
	Proxy       string // host[:port]
	Transport   string // UDP, TCP, TLS
	Outbound    string // host[:port] or ""
}

// key is one rendered line key (Extension_n_, Short_Name_n_,
// Extended_Function_n_) or module key (Unit_u_Key_k_).
type key struct {
	Unit      int
	Pos       int
	Extension string // "1".."n" for a line key, else "Disabled"
	ShortName string
	Function  string // the Extended_Function value, "" to clear
}

// macroSafe doubles '$' so that the phone's macro expansion gives the
// text back (cisco-mpp.md §3.1: "$$" is a literal '$').
func macroSafe(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// fnValue is a value inside an Extended_Function: macro-safe, and
// without the ';' that separates its pairs.
func fnValue(s string) string { return macroSafe(strings.ReplaceAll(s, ";", ",")) }

// target is a number or URI to dial or monitor: "<n>@$PROXY" for a
// bare number (the line's proxy, as Cisco's examples write it), as is
// when it names a host already.
func target(v string) string {
	if strings.Contains(v, "@") {
		return fnValue(v)
	}
	return fnValue(v) + "@$PROXY"
}

// ruleOption quotes a [--uid/--pwd] argument unless it is plain.
func ruleOption(s string) string {
	plain := s != ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			plain = false
		}
	}
	if plain {
		return s
	}
	return `"` + macroSafe(strings.ReplaceAll(s, `"`, "")) + `"`
}

// view builds the template data; perPhone is false for a bootstrap file,
// which renders from ProvisionURL (and the model, when known) alone.
func (d *Driver) view(dev *vendors.Device, perPhone bool) (*view, error) {
	v := &view{Dev: dev, MAC: dev.MAC, WithSecrets: dev.WithSecrets}
	m, known := d.lookup(dev.Model)
	if perPhone && !known {
		return nil, fmt.Errorf("model %q: %w", dev.Model, vendors.ErrUnsupported)
	}
	v.Model = m
	v.DeviceURL = macroSafe(dev.ProvisionURL) + "$MA.xml"
	if !perPhone {
		v.ProfileRule, v.ProfileRuleB = v.DeviceURL, v.DeviceURL
		return v, nil
	}
	if dev.WithSecrets && dev.ProvisionPassword != "" {
		v.ProfileRule = "[--uid " + ruleOption(dev.ProvisionUser) + " --pwd " + ruleOption(dev.ProvisionPassword) + "]" + v.DeviceURL
	}

	s := dev.Settings
	v.TimeZone = timeZone(nearestOffset(dev.Zone.Offset))
	if r := dev.Zone.DST; r != nil {
		v.DST = true
		v.DSTRule = dstRule(*r)
	}
	v.Language, v.Locale = language(s.Language)
	if t, ok := toneScripts(s.ToneScheme); ok {
		v.Tones = &t
	}

	proxy := s.SIPServer
	if s.SIPPort != 0 && proxy != "" {
		proxy = hostPort(s.SIPServer, s.SIPPort)
	}
	outbound := ""
	if h, p := vendors.SplitHostPort(s.OutboundProxy); h != "" {
		outbound = hostPort(h, p)
	}
	for n := 1; n <= m.Lines; n++ {
		l := line{N: n, Proxy: proxy, Transport: transport(s.SIPTransport), Outbound: outbound}
		if n <= len(dev.Lines) {
			a := dev.Lines[n-1]
			l.Enabled, l.DisplayName, l.UserID, l.AuthID, l.Password = true, a.DisplayName, a.Extension, a.AuthUser, a.Password
			if l.AuthID == "" {
				l.AuthID = a.Extension
			}
		}
		v.Lines = append(v.Lines, l)
	}
	if dev.FirmwareURL != "" {
		v.UpgradeRule = `($SWVER ne "` + macroSafe(strings.ReplaceAll(dev.FirmwareVersion, `"`, "")) + `")? ` + macroSafe(dev.FirmwareURL)
	}
	v.Station = dev.Label
	if v.Station == "" && len(dev.Lines) > 0 {
		v.Station = dev.Lines[0].DisplayName
		if v.Station == "" {
			v.Station = dev.Lines[0].Extension
		}
	}
	return v, d.keys(v, m, dev.Keys)
}

// keys maps the resolved key layout: every phone position 1..m.Keys (a
// free one is disabled and cleared, so a removed key does not linger),
// then every key of every unit the model takes, in unit and position
// order (a free one empty, for the same reason: the phone keeps what its
// profile does not name).
func (d *Driver) keys(v *view, m vendors.Model, keys []vendors.Key) error {
	v.Keys = make([]key, m.Keys)
	for i := range v.Keys {
		v.Keys[i] = key{Pos: i + 1, Extension: "Disabled"}
	}
	var mods []key
	if len(m.Modules) > 0 {
		mod := m.Modules[0]
		mods = make([]key, 0, mod.Max*mod.Keys)
		for u := 1; u <= mod.Max; u++ {
			for p := 1; p <= mod.Keys; p++ {
				mods = append(mods, key{Unit: u, Pos: p})
			}
		}
	}
	for _, k := range keys {
		r, err := function(k)
		if err != nil {
			return err
		}
		switch {
		case k.Module == 0 && k.Position >= 1 && k.Position <= m.Keys:
			v.Keys[k.Position-1] = r
		case k.Module > 0 && len(m.Modules) > 0 && k.Module <= m.Modules[0].Max &&
			k.Position >= 1 && k.Position <= m.Modules[0].Keys:
			if k.Type == vendors.KeyLine {
				// A module key cannot carry a line (no Extension for units;
				// README.md): it is left empty rather than refused.
				r.Function = ""
			}
			mods[(k.Module-1)*m.Modules[0].Keys+k.Position-1] = r
			v.Units = max(v.Units, k.Module)
		default:
			return fmt.Errorf("key at module %d position %d does not fit the %s: %w",
				k.Module, k.Position, m.Name, vendors.ErrUnsupported)
		}
	}
	v.ModuleKeys = mods
	return nil
}

// function maps one key to its Extension, Short_Name and
// Extended_Function (cisco-mpp.md §5).
func function(k vendors.Key) (key, error) {
	r := key{Unit: k.Module, Pos: k.Position, Extension: "Disabled", ShortName: macroSafe(k.Label)}
	ln := k.Line
	if ln == 0 {
		ln = 1
	}
	vid := ";vid=" + strconv.Itoa(ln)
	nme := ""
	if k.Label != "" {
		nme = ";nme=" + fnValue(k.Label)
	}
	switch k.Type {
	case vendors.KeyLine:
		r.Extension = strconv.Itoa(ln)
		if k.Label == "" {
			r.ShortName = "$USER" // the phone's default: the line's user ID
		}
	case vendors.KeyNone:
	case vendors.KeyBLF:
		r.Function = "fnc=blf+sd+cp;sub=" + target(k.Value) + vid + nme
	case vendors.KeySpeedDial:
		r.Function = "fnc=sd;ext=" + target(k.Value) + vid + nme
	case vendors.KeyPark:
		r.Function = "fnc=prk" + vid + nme
		if k.Value != "" {
			r.Function = "fnc=prk;sub=" + target(k.Value) + vid + nme
		}
	case vendors.KeyDND:
		r.Function = "fnc=dnd" + vid + nme
	case vendors.KeyURL:
		r.Function = "fnc=xml;url=" + fnValue(k.Value) + vid + nme
	case vendors.KeyVoicemail:
		r.Function = "fnc=mwi" + vid + nme
		if k.Value != "" {
			r.Function = "fnc=mwi+sd;ext=" + target(k.Value) + ";sub=" + target(k.Value) + vid + nme
		}
	default:
		return key{}, fmt.Errorf("key type %q: %w", k.Type, vendors.ErrUnsupported)
	}
	return r, nil
}

// hostPort joins a host and a port, bracketing IPv6 literals; port 0
// leaves the host alone.
func hostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if p == 0 {
		return h
	}
	return h + ":" + strconv.Itoa(p)
}

// transport maps udp|tcp|tls to SIP_Transport_n_ (cisco-mpp.md §4.1).
func transport(t string) string {
	switch strings.ToLower(t) {
	case "tcp":
		return "TCP"
	case "tls":
		return "TLS"
	}
	return "UDP"
}

// timeZone formats a standard offset as Time_Zone takes it: "GMT+01:00",
// "GMT-05:00", "GMT+05:30", "GMT" for UTC.
func timeZone(offset int) string {
	if offset == 0 {
		return "GMT"
	}
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	return fmt.Sprintf("GMT%s%02d:%02d", sign, offset/3600, (offset%3600)/60)
}

// dstRule formats Daylight_Saving_Time_Rule (cisco-mpp.md §4.1):
// start=<month>/<day>/<weekday>/<h:m:s>;end=...;save=<h[:m:s]>. With a
// weekday the day says where to look: the first such weekday on or after
// a positive day, on or before the last day for -1; weekday 1 = Monday ..
// 7 = Sunday. The n-th week is day 1+7(n-1), the last week -1.
func dstRule(r vendors.DSTRule) string {
	save := strconv.Itoa(r.Save / 3600)
	if r.Save%3600 != 0 {
		save = fmt.Sprintf("%d:%d:%d", r.Save/3600, (r.Save%3600)/60, r.Save%60)
	}
	return "start=" + transition(r.Start) + ";end=" + transition(r.End) + ";save=" + save
}

func transition(t vendors.Transition) string {
	day := 1 + 7*(t.Week-1)
	if t.Week >= 5 {
		day = -1
	}
	wd := int(t.Weekday)
	if t.Weekday == time.Sunday {
		wd = 7
	}
	return fmt.Sprintf("%d/%d/%d/%d:%d:0", t.Month, day, wd, t.Hour, t.Minute)
}
