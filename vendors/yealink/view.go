package yealink

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// view is what the templates see: the device plus every value already
// mapped to Yealink's representation, so that templates only print.
type view struct {
	Dev         *vendors.Device
	Model       vendors.Model // zero for a common file of an unknown model
	MAC         string
	CommonFile  string // y0000000000XX.cfg, or "" when the ID is not known
	DeviceFile  string // <mac>.cfg
	WithSecrets bool

	// Locale and time.
	TimeZone   string // local_time.time_zone, e.g. "+1", "+5:30"
	SummerTime int    // local_time.summer_time: 0 off, 1 on (by week)
	DSTStart   string // M/W/D/H, D 1=Mon..7=Sun, W 5=last
	DSTEnd     string
	DSTOffset  int // minutes
	LangGUI    string
	LangWUI    string
	Tone       string
	// HandsetLanguage is custom.handset.language on a DECT base ("" on
	// other models and common files of an unknown model).
	HandsetLanguage string

	// SIP.
	SIPPort   int
	Transport int // 0 udp, 1 tcp, 2 tls
	ProxyHost string
	ProxyPort int

	Accounts []account
	Disabled []int // account numbers beyond the device's lines
	// Handsets are the handset numbers of a DECT base, one per account:
	// handset N takes account N, in and out (nil elsewhere).
	Handsets   []int
	LineKeys   []key // positions 1..Model.Keys, unset ones with Type 0
	ModuleKeys []key // every position of every module the model takes, free ones cleared (Set false)
}

// account is one SIP account, numbered from 1.
type account struct {
	N           int
	Label       string
	DisplayName string
	UserName    string
	AuthName    string
	Password    string
	// DirectPickupCode and GroupPickupCode are account.N.direct_pickup_code
	// and account.N.group_pickup_code: the pickup code of the account's
	// pickup keys (pickupCodes); the template writes %NULL% for none, so
	// that a code goes from the phone with the last key that had it.
	DirectPickupCode string
	GroupPickupCode  string
}

// key is one rendered key: linekey.Pos or expansion_module.Module.key.Pos.
type key struct {
	Module    int
	Pos       int
	Type      int
	Set       bool // configured (false: a free position reset to type 0)
	Line      int
	Value     string
	Label     string
	Extension string
}

// keyCodes maps the product's key types to Yealink's type codes
// (reference §4).
func keyCode(t vendors.KeyType) (int, bool) {
	switch t {
	case vendors.KeyNone:
		return 0, true
	case vendors.KeyForward:
		return 2, true
	case vendors.KeyDND:
		return 5, true
	case vendors.KeyPickup:
		return 9, true
	case vendors.KeyPark:
		return 10, true
	case vendors.KeyDTMF:
		return 11, true
	case vendors.KeyVoicemail:
		return 12, true
	case vendors.KeySpeedDial:
		return 13, true
	case vendors.KeyIntercom:
		return 14, true
	case vendors.KeyLine:
		return 15, true
	case vendors.KeyBLF:
		return 16, true
	case vendors.KeyURL:
		return 17, true
	}
	return 0, false
}

// view builds the template data. perPhone is false for the common file,
// which must render from Model, Settings, Zone and ProvisionURL alone.
func (d *Driver) view(dev *vendors.Device, perPhone bool) (*view, error) {
	v := &view{Dev: dev, MAC: dev.MAC, WithSecrets: dev.WithSecrets}
	mi, known := d.lookup(dev.Model)
	if perPhone && !known {
		return nil, fmt.Errorf("model %q: %w", dev.Model, vendors.ErrUnsupported)
	}
	v.Model = mi.Model
	if mi.CommonID != "" {
		v.CommonFile = "y000000000" + mi.CommonID + ".cfg"
	}
	if dev.MAC != "" {
		v.DeviceFile = dev.MAC + ".cfg"
	}

	s := dev.Settings
	v.TimeZone = timeZone(nearestOffset(dev.Zone.Offset))
	if r := dev.Zone.DST; r != nil {
		v.SummerTime = 1
		v.DSTStart = byWeek(r.Start)
		v.DSTEnd = byWeek(r.End)
		v.DSTOffset = r.Save / 60
	}
	v.LangGUI = language(s.Language)
	v.LangWUI = language(s.WebLanguage)
	v.Tone = toneCountry(s.ToneScheme)
	if mi.Kind == "dect" {
		v.HandsetLanguage = handsetLanguage(s.Language)
	}

	v.SIPPort = s.SIPPort
	if v.SIPPort == 0 {
		v.SIPPort = defaultPort(s.SIPTransport)
	}
	v.Transport = transport(s.SIPTransport)
	if h, p := vendors.SplitHostPort(s.OutboundProxy); h != "" {
		v.ProxyHost, v.ProxyPort = h, p
		if p == 0 {
			v.ProxyPort = defaultPort(s.SIPTransport)
		}
	}
	if !perPhone {
		return v, nil
	}

	for i, l := range dev.Lines {
		if i >= mi.Lines {
			break
		}
		a := account{N: i + 1, DisplayName: orNull(l.DisplayName), UserName: l.Extension,
			AuthName: l.AuthUser, Password: l.Password, Label: l.DisplayName}
		if a.AuthName == "" {
			a.AuthName = l.Extension
		}
		if a.Label == "" {
			a.Label = l.Extension
		}
		v.Accounts = append(v.Accounts, a)
	}
	for n := len(v.Accounts) + 1; n <= mi.Lines; n++ {
		v.Disabled = append(v.Disabled, n)
	}
	if mi.Kind == "dect" {
		for _, a := range v.Accounts {
			v.Handsets = append(v.Handsets, a.N)
		}
	}

	pickupCodes(v.Accounts, dev.Keys)
	keys, err := renderKeys(mi.Model, dev.Keys)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Module == 0 {
			v.LineKeys = append(v.LineKeys, k)
		} else {
			v.ModuleKeys = append(v.ModuleKeys, k)
		}
	}
	return v, nil
}

// pickupCodes sets the accounts' pickup codes from their pickup keys. A
// Yealink pickup key carries no code of its own: linekey.N.extension and
// pickup_value are the BLF key's (yealink.md §4); a directed pickup key
// (type 9) dials the account's account.N.direct_pickup_code before its
// value, a group pickup key (type 23) sends account.N.group_pickup_code
// (Yealink administrator guides, "Directed Call Pickup" and "Group Call
// Pickup": the per-account code wins over features.pickup.*). So a pickup
// key's code becomes its account's; two pickup keys of one account with
// different codes cannot both be had, and the first in key order wins.
func pickupCodes(accts []account, keys []vendors.Key) {
	for _, k := range keys {
		code := strings.TrimSpace(k.PickupCode)
		n := max(k.Line, 1)
		if k.Type != vendors.KeyPickup || code == "" || n > len(accts) {
			continue
		}
		a := &accts[n-1]
		if strings.TrimSpace(k.Value) == "" {
			if a.GroupPickupCode == "" {
				a.GroupPickupCode = code
			}
		} else if a.DirectPickupCode == "" {
			a.DirectPickupCode = code
		}
	}
}

// renderKeys maps the resolved keys: every phone position 1..m.Keys, then,
// when the device has a key on a module, every position of every module
// the model takes, in module and position order (free ones reset to type
// 0 so a removed key does not linger: the phone keeps what its file does
// not name; WAZO clears every EXP position the same way). A module's
// reserved positions are left to the phone. A device without module keys
// gets no module lines: the 180 to 240 of them would triple the size of
// every Yealink file (and of the phone cache) for phones that have no
// module; the price is that taking the last key off a module leaves the
// module's keys on the phone (README).
func renderKeys(m vendors.Model, keys []vendors.Key) ([]key, error) {
	var out []key
	phone := make([]key, m.Keys)
	for i := range phone {
		phone[i] = key{Pos: i + 1}
	}
	// Every module position, in module and position order: position p of
	// module u at (u-1)*Keys + p-1.
	var mods []key
	if len(m.Modules) > 0 && slices.ContainsFunc(keys, func(k vendors.Key) bool { return k.Module > 0 }) {
		mod := m.Modules[0]
		mods = make([]key, mod.Max*mod.Keys)
		for i := range mods {
			mods[i] = key{Module: i/mod.Keys + 1, Pos: i%mod.Keys + 1}
		}
	}
	for _, k := range keys {
		code, ok := keyCode(k.Type)
		if !ok {
			return nil, fmt.Errorf("key type %q: %w", k.Type, vendors.ErrUnsupported)
		}
		if k.Type == vendors.KeyPickup && strings.TrimSpace(k.Value) == "" {
			// No number to pick up from: the phone's group pickup (type 23,
			// with its own group pickup code), not a directed pickup of
			// nobody (type 9; README.md, "Values").
			code = 23
		}
		r := key{Module: k.Module, Pos: k.Position, Type: code, Set: true, Line: k.Line,
			Value: orNull(k.Value), Label: orNull(k.Label)}
		if k.Type == vendors.KeyBLF {
			// The BLF's pickup code; a pickup key's is its account's
			// (pickupCodes).
			r.Extension = k.PickupCode
		}
		if r.Line == 0 {
			r.Line = 1
		}
		switch {
		case k.Module == 0 && k.Position >= 1 && k.Position <= m.Keys:
			phone[k.Position-1] = r
		case k.Module > 0 && len(m.Modules) > 0 && reserved(m.Modules[0], k.Position):
			// Stored before the rule: the phone keeps the slot (validation
			// refuses new ones), so nothing is written there.
		case k.Module > 0 && len(m.Modules) > 0 && k.Module <= m.Modules[0].Max &&
			k.Position >= 1 && k.Position <= m.Modules[0].Keys:
			mods[(k.Module-1)*m.Modules[0].Keys+k.Position-1] = r
		default:
			return nil, fmt.Errorf("key at module %d position %d does not fit the %s: %w",
				k.Module, k.Position, m.Name, vendors.ErrUnsupported)
		}
	}
	out = append(out, phone...)
	for _, k := range mods {
		if !reserved(m.Modules[0], k.Pos) {
			out = append(out, k)
		}
	}
	return out, nil
}

// reserved reports whether position p of module mod is the vendor's.
func reserved(mod vendors.Module, p int) bool {
	for _, r := range mod.Reserved {
		if r.Position == p {
			return true
		}
	}
	return false
}

// orNull returns s, or Yealink's %NULL% that clears a parameter (an empty
// value would leave the phone's old one in place; reference §3).
func orNull(s string) string {
	if s == "" {
		return "%NULL%"
	}
	return s
}

// timeZone formats a standard offset the way local_time.time_zone takes
// it: "+1", "-5", "+5:30", "0" for UTC.
func timeZone(offset int) string {
	if offset == 0 {
		return "0"
	}
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	h, m := offset/3600, (offset%3600)/60
	if m == 0 {
		return fmt.Sprintf("%s%d", sign, h)
	}
	return fmt.Sprintf("%s%d:%02d", sign, h, m)
}

// byWeek formats a transition in Yealink's DST-by-week form
// Month/Week of Month/Day of Week/Hour of Day: week 1..4, 5 = last;
// day 1 = Monday .. 7 = Sunday; hour 0..23 (Yealink admin guides,
// local_time.start_time).
func byWeek(t vendors.Transition) string {
	day := int(t.Weekday)
	if t.Weekday == time.Sunday {
		day = 7
	}
	return fmt.Sprintf("%d/%d/%d/%d", t.Month, t.Week, day, t.Hour)
}

// transport maps udp|tcp|tls to sip_server.M.transport_type.
func transport(t string) int {
	switch strings.ToLower(t) {
	case "tcp":
		return 1
	case "tls":
		return 2
	}
	return 0
}

func defaultPort(t string) int {
	if strings.EqualFold(t, "tls") {
		return 5061
	}
	return 5060
}
