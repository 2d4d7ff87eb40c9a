package testlog

import "testing"

// TestHolds: the leak check finds a PIN written whole, in a log
// attribute, a JSON value or alone, and not the same digits inside a port,
// a longer number or a duration's fraction; any other secret is found
// wherever it stands.
func TestHolds(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{`pin=4711 mac=x`, true},
		{`{"menu_password":"4711"}`, true},
		{`4711`, true},
		{`code:4711.`, true},
		{`addr=127.0.0.1:47113`, false},
		{`took=2.4711ms`, false},
		{`id=94711 n=47110`, false},
		{`took=2.4711ms pin=4711`, true},
	} {
		if got := Holds(tc.text, "4711"); got != tc.want {
			t.Errorf("Holds(%q, 4711) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if !Holds("x=ab47-Pass-cd", "47-Pass") {
		t.Error("a secret with letters is found anywhere")
	}
	// An empty secret (a device without a menu PIN) leaks nothing, and
	// never runs the search past the end of a text ending in a digit.
	for _, text := range []string{"", "a", "1", "port 47113"} {
		if Holds(text, "") {
			t.Errorf("Holds(%q, \"\") = true, want false", text)
		}
	}
}
