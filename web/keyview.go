package web

import (
	"strconv"
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// The key editor shows the phone: its programmable keys where they sit
// (half left, half right of the screen, as on the desk phones the drivers
// serve) and each expansion module in use as a column pair, every key
// marked by where it comes from. A key is a link to its row in the key
// table; ui.js makes a click fill a blank row and a drag move or swap
// keys (it rewrites the rows' position and module; Save keys saves).

// keySlot is one key of the phone picture.
type keySlot struct {
	Module, Position int
	Key              *autoprov.LayoutKey // nil: the slot is free
	Src              string              // "device", "profile", "default" or ""
	Row              int                 // the key table row of the device's own key, or -1
	Reserved         string              // why the slot cannot carry a key, or ""
}

// moduleView is one expansion module of the picture.
type moduleView struct {
	N           int
	Name        string
	Left, Right []keySlot
}

// phoneView is the picture of a phone and its modules.
type phoneView struct {
	Name        string
	Left, Right []keySlot
	Modules     []moduleView
}

// sourceOf shortens a LayoutKey's Source for a CSS class and the legend.
func sourceOf(s string) string {
	switch {
	case s == "device":
		return "device"
	case strings.HasPrefix(s, "profile"):
		return "profile"
	default:
		return "default"
	}
}

// newPhoneView places the effective layout and the key table's rows on the
// model's keys.
func newPhoneView(m *vendors.Model, eff []autoprov.LayoutKey, rows []keyRow) *phoneView {
	if m == nil {
		return nil
	}
	at := map[[2]int]*autoprov.LayoutKey{}
	maxModule := 0
	for i := range eff {
		k := &eff[i]
		at[[2]int{k.Module, k.Position}] = k
		maxModule = max(maxModule, k.Module)
	}
	rowAt := map[[2]int]int{}
	for i, r := range rows {
		pos, err := strconv.Atoi(strings.TrimSpace(r.Position))
		if err != nil {
			continue
		}
		mod, _ := strconv.Atoi(strings.TrimSpace(r.Module))
		rowAt[[2]int{mod, pos}] = i
		maxModule = max(maxModule, mod)
	}
	slot := func(mod, pos int, reserved string) keySlot {
		s := keySlot{Module: mod, Position: pos, Row: -1, Reserved: reserved}
		if k, ok := at[[2]int{mod, pos}]; ok {
			s.Key, s.Src = k, sourceOf(k.Source)
		}
		if i, ok := rowAt[[2]int{mod, pos}]; ok {
			s.Row = i
		}
		return s
	}
	halves := func(mod, n int, reserved map[int]string) (l, r []keySlot) {
		for p := 1; p <= n; p++ {
			if p <= (n+1)/2 {
				l = append(l, slot(mod, p, reserved[p]))
			} else {
				r = append(r, slot(mod, p, reserved[p]))
			}
		}
		return l, r
	}
	v := &phoneView{Name: m.Vendor + " " + m.Name}
	v.Left, v.Right = halves(0, m.Keys, nil)
	if len(m.Modules) > 0 {
		mod := m.Modules[0]
		reserved := map[int]string{}
		for _, r := range mod.Reserved {
			reserved[r.Position] = r.Reason
		}
		// The modules in use and one more, to place a key on.
		for n := 1; n <= min(maxModule+1, mod.Max); n++ {
			mv := moduleView{N: n, Name: mod.Name}
			mv.Left, mv.Right = halves(n, mod.Keys, reserved)
			v.Modules = append(v.Modules, mv)
		}
	}
	return v
}

// keyTypeLabels name the key types for people (the English texts of the
// catalogue); the forms send the type itself.
var keyTypeLabels = map[vendors.KeyType]string{
	vendors.KeyNone: "unused", vendors.KeyLine: "line", vendors.KeyBLF: "BLF", vendors.KeySpeedDial: "speed dial",
	vendors.KeyPark: "park", vendors.KeyPickup: "pickup", vendors.KeyDND: "do not disturb", vendors.KeyForward: "forward",
	vendors.KeyIntercom: "intercom", vendors.KeyDTMF: "DTMF", vendors.KeyURL: "URL", vendors.KeyVoicemail: "voicemail",
}

// keyTypeLabel is a key type's label, or the type itself for one it does
// not know.
func keyTypeLabel(t string) string {
	if l, ok := keyTypeLabels[vendors.KeyType(t)]; ok {
		return l
	}
	return t
}
