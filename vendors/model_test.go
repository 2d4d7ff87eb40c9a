package vendors_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// testModel is a desk phone with 10 keys and up to 3 modules of 20 keys;
// it supports every key type except intercom.
func testModel() vendors.Model {
	return vendors.Model{
		Vendor: "acme", Name: "D10", Family: "D", Kind: "desk", Lines: 4, Keys: 10,
		KeyTypes: []vendors.KeyType{vendors.KeyLine, vendors.KeyBLF, vendors.KeySpeedDial,
			vendors.KeyPark, vendors.KeyPickup, vendors.KeyDND, vendors.KeyForward,
			vendors.KeyDTMF, vendors.KeyURL, vendors.KeyVoicemail, vendors.KeyNone},
		Modules: []vendors.Module{{Name: "EXP20", Keys: 20, Max: 3}},
		Aliases: []string{"ACME-D10", "d10w"},
	}
}

func TestValidateKeysValid(t *testing.T) {
	m := testModel()
	m.KeyTypes = append(m.KeyTypes, vendors.KeyIntercom)
	keys := []vendors.Key{
		{Position: 1, Type: vendors.KeyLine, Line: 1, Label: "Line 1"},
		{Position: 2, Type: vendors.KeyLine}, // line 0: the phone's default
		{Position: 3, Type: vendors.KeyBLF, Value: "201", Label: "Anna", PickupCode: "*8"},
		{Position: 4, Type: vendors.KeySpeedDial, Value: "+49301234567", Line: 2},
		{Position: 5, Type: vendors.KeyIntercom, Value: "202"},
		{Position: 6, Type: vendors.KeyDTMF, Value: "*21#"},
		{Position: 7, Type: vendors.KeyURL, Value: "http://example.com/a?b=c&d=e"},
		{Position: 8, Type: vendors.KeyPark, Value: "700"},
		{Position: 9, Type: vendors.KeyPickup},
		{Position: 10, Type: vendors.KeyDND, Label: "Ruhe"},
		{Module: 1, Position: 1, Type: vendors.KeyForward},
		{Module: 1, Position: 20, Type: vendors.KeyVoicemail},
		{Module: 3, Position: 1, Type: vendors.KeyNone},
		{Module: 2, Position: 1, Type: vendors.KeyBLF, Value: "203", Label: "Zoë — Empfang"},
	}
	if errs := vendors.ValidateKeys(m, keys, 2); len(errs) != 0 {
		t.Errorf("ValidateKeys of a valid list returned %d errors: %v", len(errs), errs)
	}
	if errs := vendors.ValidateKeys(m, nil, 0); len(errs) != 0 {
		t.Errorf("ValidateKeys of no keys returned %v", errs)
	}
}

func TestValidateKeysErrors(t *testing.T) {
	noKeys := testModel()
	noKeys.Keys, noKeys.Modules = 0, nil
	noModules := testModel()
	noModules.Modules = nil

	tests := []struct {
		name  string
		model vendors.Model // zero: testModel()
		lines int
		key   vendors.Key
		msg   string // a substring of the error message
	}{
		{name: "position 0 on phone", key: vendors.Key{Position: 0, Type: vendors.KeyDND}, msg: "between 1 and 10"},
		{name: "negative position on phone", key: vendors.Key{Position: -1, Type: vendors.KeyDND}, msg: "between 1 and 10"},
		{name: "position beyond phone keys", key: vendors.Key{Position: 11, Type: vendors.KeyDND}, msg: "between 1 and 10 on the D10"},
		{name: "position 0 on module", key: vendors.Key{Module: 1, Position: 0, Type: vendors.KeyDND}, msg: "between 1 and 20 on a EXP20"},
		{name: "position beyond module keys", key: vendors.Key{Module: 1, Position: 21, Type: vendors.KeyDND}, msg: "between 1 and 20"},
		{name: "module beyond max", key: vendors.Key{Module: 4, Position: 1, Type: vendors.KeyDND}, msg: "at most 3 EXP20 modules"},
		{name: "negative module", key: vendors.Key{Module: -1, Position: 1, Type: vendors.KeyDND}, msg: "module must be"},
		{name: "module on a model without modules", model: noModules, key: vendors.Key{Module: 1, Position: 1, Type: vendors.KeyDND}, msg: "takes no expansion module"},
		{name: "model without keys", model: noKeys, key: vendors.Key{Position: 1, Type: vendors.KeyLine, Line: 1}, msg: "no programmable keys"},
		{name: "unsupported type", key: vendors.Key{Position: 1, Type: vendors.KeyIntercom, Value: "201"}, msg: "does not support intercom"},
		{name: "unknown type", key: vendors.Key{Position: 1, Type: "teleport"}, msg: `unknown key type "teleport"`},
		{name: "empty type", key: vendors.Key{Position: 1}, msg: "type is required"},
		{name: "blf without value", key: vendors.Key{Position: 1, Type: vendors.KeyBLF}, msg: "blf key needs"},
		{name: "blf with blank value", key: vendors.Key{Position: 1, Type: vendors.KeyBLF, Value: "  "}, msg: "blf key needs"},
		{name: "speed_dial without value", key: vendors.Key{Position: 1, Type: vendors.KeySpeedDial}, msg: "speed_dial key needs"},
		{name: "intercom without value", model: withIntercom(), key: vendors.Key{Position: 1, Type: vendors.KeyIntercom}, msg: "intercom key needs"},
		{name: "dtmf without value", key: vendors.Key{Position: 1, Type: vendors.KeyDTMF}, msg: "dtmf key needs"},
		{name: "url without value", key: vendors.Key{Position: 1, Type: vendors.KeyURL}, msg: "url key needs"},
		{name: "line beyond device lines", lines: 2, key: vendors.Key{Position: 1, Type: vendors.KeyLine, Line: 3}, msg: "line 3 is not on the device (it has 2)"},
		{name: "negative line", lines: 2, key: vendors.Key{Position: 1, Type: vendors.KeyBLF, Value: "201", Line: -1}, msg: "line -1"},
		{name: "line key on device without lines", lines: 0, key: vendors.Key{Position: 1, Type: vendors.KeyLine}, msg: "without an account"},
		{name: "newline in label", lines: 1, key: vendors.Key{Position: 1, Type: vendors.KeyBLF, Value: "201", Label: "a\nb"}, msg: "control characters"},
		{name: "CR in value", lines: 1, key: vendors.Key{Position: 1, Type: vendors.KeyBLF, Value: "201\r"}, msg: "control characters"},
		{name: "NUL in value", lines: 1, key: vendors.Key{Position: 1, Type: vendors.KeySpeedDial, Value: "1\x002"}, msg: "control characters"},
		{name: "tab in label", lines: 1, key: vendors.Key{Position: 1, Type: vendors.KeyDND, Label: "a\tb"}, msg: "control characters"},
		{name: "DEL in label", lines: 1, key: vendors.Key{Position: 1, Type: vendors.KeyDND, Label: "a\x7f"}, msg: "control characters"},
		{name: "control in pickup code", lines: 1, key: vendors.Key{Position: 1, Type: vendors.KeyBLF, Value: "201", PickupCode: "*8\n"}, msg: "control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model
			if m.Name == "" {
				m = testModel()
			}
			// A valid key first, so the index of the bad key is 1.
			keys := []vendors.Key{{Position: 10, Type: vendors.KeyPickup}, tc.key}
			if tc.name == "model without keys" {
				keys = keys[1:]
			}
			errs := vendors.ValidateKeys(m, keys, tc.lines)
			if len(errs) != 1 {
				t.Fatalf("ValidateKeys(%+v) = %v, want exactly one error", tc.key, errs)
			}
			e := errs[0]
			wantIndex := len(keys) - 1
			if e.Index != wantIndex {
				t.Errorf("Index = %d, want %d", e.Index, wantIndex)
			}
			if !reflect.DeepEqual(e.Key, tc.key) {
				t.Errorf("Key = %+v, want %+v", e.Key, tc.key)
			}
			if e.Conflict != -1 {
				t.Errorf("Conflict = %d, want -1", e.Conflict)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tc.msg)
			}
			if !strings.Contains(e.Error(), e.Message) {
				t.Errorf("Error() = %q does not contain the message", e.Error())
			}
		})
	}
}

func withIntercom() vendors.Model {
	m := testModel()
	m.KeyTypes = append(m.KeyTypes, vendors.KeyIntercom)
	return m
}

func TestValidateKeysDuplicates(t *testing.T) {
	keys := []vendors.Key{
		{Position: 1, Type: vendors.KeyLine, Line: 1},             // 0
		{Position: 2, Type: vendors.KeyDND},                       // 1
		{Module: 1, Position: 1, Type: vendors.KeyDND},            // 2: same position, other module: fine
		{Position: 2, Type: vendors.KeyBLF, Value: "201"},         // 3: dup of 1
		{Module: 1, Position: 1, Type: vendors.KeyPickup},         // 4: dup of 2
		{Position: 1, Type: vendors.KeyPark},                      // 5: dup of 0
		{Position: 3, Type: vendors.KeyBLF},                       // 6: missing value, not a dup
		{Position: 99, Type: vendors.KeyDND},                      // 7: out of range, not a dup
		{Position: 2, Type: vendors.KeyForward},                   // 8: dup of 1 (the first holder)
		{Position: 3, Type: vendors.KeySpeedDial, Value: "12345"}, // 9: dup of 6, which was refused for its value
	}
	errs := vendors.ValidateKeys(testModel(), keys, 1)
	want := []struct{ index, conflict int }{{3, 1}, {4, 2}, {5, 0}, {6, -1}, {7, -1}, {8, 1}, {9, 6}}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		e := errs[i]
		if e.Index != w.index || e.Conflict != w.conflict {
			t.Errorf("error %d: Index, Conflict = %d, %d; want %d, %d (%v)", i, e.Index, e.Conflict, w.index, w.conflict, e)
		}
		if w.conflict >= 0 {
			if wantMsg := "same position as key " + strconv.Itoa(w.conflict+1); e.Message != wantMsg {
				t.Errorf("error %d: Message = %q, want %q", i, e.Message, wantMsg)
			}
		}
	}
}

func TestKeyErrorError(t *testing.T) {
	tests := []struct {
		e    vendors.KeyError
		want string
	}{
		{vendors.KeyError{Index: 0, Key: vendors.Key{Position: 3, Type: vendors.KeyBLF}, Message: "boom"},
			"key 1 (blf at position 3): boom"},
		{vendors.KeyError{Index: 4, Key: vendors.Key{Module: 2, Position: 7, Type: vendors.KeyDND}, Message: "bang"},
			"key 5 (dnd at module 2 position 7): bang"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestDefaultKeys(t *testing.T) {
	noLineKeys := testModel()
	noLineKeys.KeyTypes = []vendors.KeyType{vendors.KeyBLF, vendors.KeyDND}
	fewKeys := testModel()
	fewKeys.Keys = 2
	lines := func(n int) []vendors.Key {
		var ks []vendors.Key
		for i := 1; i <= n; i++ {
			ks = append(ks, vendors.Key{Position: i, Type: vendors.KeyLine, Line: i})
		}
		return ks
	}
	tests := []struct {
		name  string
		model vendors.Model
		lines int
		want  []vendors.Key
	}{
		{"no lines", testModel(), 0, nil},
		{"one line", testModel(), 1, lines(1)},
		{"three lines", testModel(), 3, lines(3)},
		{"more lines than keys", fewKeys, 4, lines(2)},
		{"no line keys", noLineKeys, 3, nil},
		{"no keys at all", vendors.Model{Name: "X", KeyTypes: []vendors.KeyType{vendors.KeyLine}}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := vendors.DefaultKeys(tc.model, tc.lines)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DefaultKeys = %+v, want %+v", got, tc.want)
			}
			if errs := vendors.ValidateKeys(tc.model, got, tc.lines); len(got) > 0 && len(errs) != 0 {
				t.Errorf("the default keys do not validate: %v", errs)
			}
		})
	}
}

func TestModelMatches(t *testing.T) {
	m := testModel()
	tests := []struct {
		name string
		want bool
	}{
		{"D10", true},
		{"d10", true},
		{"ACME-D10", true},
		{"acme-d10", true},
		{"D10W", true},
		{"D1", false},
		{"D10 ", false},
		{"acme", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := m.Matches(tc.name); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestModelSupports(t *testing.T) {
	m := testModel()
	for _, kt := range vendors.AllKeyTypes {
		want := kt != vendors.KeyIntercom
		if got := m.Supports(kt); got != want {
			t.Errorf("Supports(%q) = %v, want %v", kt, got, want)
		}
	}
	if m.Supports("teleport") || m.Supports("") || m.Supports("BLF") {
		t.Error("Supports accepted a type the model does not list")
	}
	if (vendors.Model{}).Supports(vendors.KeyLine) {
		t.Error("a model without key types supports line keys")
	}
}
