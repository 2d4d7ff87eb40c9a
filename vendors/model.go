package vendors

import (
	"fmt"
	"strings"
)

// KeyType is a vendor-neutral function-key type.
type KeyType string

// The key types the product knows. Drivers map them to their own codes.
const (
	KeyNone      KeyType = "none"
	KeyLine      KeyType = "line"
	KeyBLF       KeyType = "blf"
	KeySpeedDial KeyType = "speed_dial"
	KeyPark      KeyType = "park"
	KeyPickup    KeyType = "pickup"
	KeyDND       KeyType = "dnd"
	KeyForward   KeyType = "forward"
	KeyIntercom  KeyType = "intercom"
	KeyDTMF      KeyType = "dtmf"
	KeyURL       KeyType = "url"
	KeyVoicemail KeyType = "voicemail"
)

// AllKeyTypes lists every key type in a stable order.
var AllKeyTypes = []KeyType{KeyLine, KeyBLF, KeySpeedDial, KeyPark, KeyPickup, KeyDND,
	KeyForward, KeyIntercom, KeyDTMF, KeyURL, KeyVoicemail, KeyNone}

// needsValue lists the key types that do nothing without a Value.
var needsValue = map[KeyType]Text{
	KeyBLF: T("a monitored extension"), KeySpeedDial: T("a number to dial"),
	KeyIntercom: T("an extension"), KeyDTMF: T("digits to send"), KeyURL: T("a URL"),
}

// Key is one programmable key, vendor-neutral.
type Key struct {
	// Position is 1-based on the phone or, with Module > 0, on that module.
	Position int `json:"position"`
	// Module is 0 for the phone itself, else the 1-based expansion module.
	Module int `json:"module,omitempty"`
	// Type is the key's function.
	Type KeyType `json:"type"`
	// Line is the 1-based index into Device.Lines the key acts for
	// (0: the phone's default). For KeyLine it is the line shown.
	Line int `json:"line,omitempty"`
	// Value is the target: extension for blf/intercom, number for
	// speed_dial, orbit for park, digits for dtmf, URL for url, the
	// extension to pick up from for pickup (empty: a group pickup).
	Value string `json:"value,omitempty"`
	// Label is the text shown next to the key.
	Label string `json:"label,omitempty"`
	// PickupCode is the PBX's call pickup prefix (e.g. "*8") for a BLF
	// or pickup key: the phone dials it before the extension to take a
	// call ringing there.
	PickupCode string `json:"pickup_code,omitempty"`
}

// Module describes an expansion module a model accepts.
type Module struct {
	Name string `json:"name"` // e.g. "EXP50"
	Keys int    `json:"keys"` // keys per module
	Max  int    `json:"max"`  // how many can be chained
	// Reserved are positions on every such module that cannot carry a
	// key on this model, each with the vendor's reason (the Yealink T2
	// guide: on a T27G/T29G the EXP40's key 21 switches pages).
	Reserved []Reserved `json:"reserved,omitempty"`
}

// Reserved is a key position the vendor's guide keeps for itself.
type Reserved struct {
	Position int    `json:"position"`
	Reason   string `json:"reason"`
}

// reason returns why position p is reserved on the module, or "".
func (m Module) reason(p int) string {
	for _, r := range m.Reserved {
		if r.Position == p {
			return r.Reason
		}
	}
	return ""
}

// Model is one phone model and its capabilities.
type Model struct {
	Vendor string `json:"vendor"`
	Name   string `json:"model"`  // canonical, e.g. "T54W"
	Family string `json:"family"` // driver's grouping, e.g. "T5x"
	// Kind is "desk" or "dect".
	Kind string `json:"kind"`
	// Lines is the number of SIP accounts the model can carry.
	Lines int `json:"lines"`
	// Keys is the number of programmable keys on the phone itself
	// (including line keys); 0 when keys cannot be provisioned.
	Keys int `json:"keys"`
	// KeyTypes are the key types the model supports.
	KeyTypes []KeyType `json:"key_types"`
	// Modules are the expansion modules the model accepts (the first is
	// the one keys on modules are rendered for).
	Modules []Module `json:"modules,omitempty"`
	// MenuPINDigits, when not 0, is the exact number of digits the phone
	// accepts for Device.MenuPassword (a DECT registration code takes 4);
	// 0 means any PIN of digits up to 32 long.
	MenuPINDigits int `json:"menu_pin_digits,omitempty"`
	// NoFirmware says the driver writes no firmware settings for this
	// model (it ignores Device.FirmwareURL): autoprov cannot roll
	// firmware out to it, so the core refuses a firmware target for it.
	NoFirmware bool `json:"no_firmware,omitempty"`
	// Aliases are other spellings that name this model (e.g. "SIP-T54W").
	Aliases []string `json:"aliases,omitempty"`
}

// Supports reports whether the model supports key type t.
func (m Model) Supports(t KeyType) bool {
	for _, k := range m.KeyTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Matches reports whether name names this model (case-insensitive, aliases included).
func (m Model) Matches(name string) bool {
	if strings.EqualFold(m.Name, name) {
		return true
	}
	for _, a := range m.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// KeyError is one refused key.
type KeyError struct {
	Index   int    `json:"index"` // position in the submitted list, 0-based
	Key     Key    `json:"key"`
	Message string `json:"message"`
	// Text is Message as a translatable Text (see Text).
	Text Text `json:"-"`
	// Conflict is the index of the earlier key this one shares a position
	// with, or -1.
	Conflict int `json:"-"`
}

// Error implements error.
func (e KeyError) Error() string {
	return fmt.Sprintf("key %d (%s at %s): %s", e.Index+1, e.Key.Type, e.where(), e.Message)
}

func (e KeyError) where() string {
	if e.Key.Module > 0 {
		return fmt.Sprintf("module %d position %d", e.Key.Module, e.Key.Position)
	}
	return fmt.Sprintf("position %d", e.Key.Position)
}

// ValidateKeys checks keys against the model's capabilities for a device
// with the given number of lines. It returns one KeyError per bad key.
func ValidateKeys(m Model, keys []Key, lines int) []KeyError {
	var errs []KeyError
	seen := map[[2]int]int{}
	for i, k := range keys {
		bad := func(t Text) {
			errs = append(errs, KeyError{Index: i, Key: k, Message: t.String(), Text: t, Conflict: -1})
		}
		switch {
		case m.Keys == 0 && len(m.Modules) == 0:
			bad(T("the %s has no programmable keys", m.Name))
			continue
		case k.Type == "":
			bad(T("type is required"))
			continue
		case !knownKeyType(k.Type):
			bad(T("unknown key type %q", k.Type))
			continue
		case !m.Supports(k.Type):
			bad(T("the %s does not support %s keys", m.Name, k.Type))
			continue
		}
		if k.Module < 0 {
			bad(T("module must be 0 (the phone) or more"))
			continue
		}
		if k.Module == 0 {
			if k.Position < 1 || k.Position > m.Keys {
				bad(T("position must be between 1 and %d on the %s", m.Keys, m.Name))
				continue
			}
		} else {
			if len(m.Modules) == 0 {
				bad(T("the %s takes no expansion module", m.Name))
				continue
			}
			mod := m.Modules[0]
			if k.Module > mod.Max {
				bad(T("the %s takes at most %d %s modules", m.Name, mod.Max, mod.Name))
				continue
			}
			if k.Position < 1 || k.Position > mod.Keys {
				bad(T("position must be between 1 and %d on a %s", mod.Keys, mod.Name))
				continue
			}
			if why := mod.reason(k.Position); why != "" {
				bad(T("position %d of a %s on the %s cannot be configured: %s", k.Position, mod.Name, m.Name, why))
				continue
			}
		}
		if j, dup := seen[[2]int{k.Module, k.Position}]; dup {
			bad(T("same position as key %d", j+1))
			errs[len(errs)-1].Conflict = j
			continue
		}
		seen[[2]int{k.Module, k.Position}] = i
		if what, ok := needsValue[k.Type]; ok && strings.TrimSpace(k.Value) == "" {
			bad(T("%s key needs %s in value", k.Type, what))
			continue
		}
		if k.Line < 0 || k.Line > lines {
			bad(T("line %d is not on the device (it has %d)", k.Line, lines))
			continue
		}
		if k.Type == KeyLine && k.Line == 0 && lines == 0 {
			bad(T("line key without an account on the device"))
			continue
		}
		if !SafeText(k.Value) || !SafeText(k.Label) || !SafeText(k.PickupCode) {
			bad(T("value, label and pickup code must not contain control characters"))
		}
	}
	return errs
}

func knownKeyType(t KeyType) bool {
	for _, k := range AllKeyTypes {
		if k == t {
			return true
		}
	}
	return false
}

// DefaultKeys returns the default layout of a model with the given number
// of lines: one line key per line, from position 1.
func DefaultKeys(m Model, lines int) []Key {
	if !m.Supports(KeyLine) {
		return nil
	}
	var keys []Key
	for i := 1; i <= lines && i <= m.Keys; i++ {
		keys = append(keys, Key{Position: i, Type: KeyLine, Line: i})
	}
	return keys
}
