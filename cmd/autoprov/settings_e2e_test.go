package main

import (
	"net/http"
	"testing"
)

// The bug report, end to end: PUT /settings with only sip_server must not
// pin disclosure_window_seconds, so a later --disclosure-window applies;
// and with language de in Europe/Berlin the tone scheme follows Germany.
func TestSettingsLeftOutFollowTheirDefaults(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data, "--disclosure-window", "5m")
	s.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com"}, nil)
	var st struct {
		Window   int    `json:"disclosure_window_seconds"`
		Tone     string `json:"tone_scheme"`
		Timezone string `json:"timezone"`
	}
	s.must(http.StatusOK, "GET", "/api/v1/settings", nil, &st)
	if st.Window != 300 || st.Tone != "US" || st.Timezone != "UTC" {
		t.Fatalf("first start: %+v", st)
	}
	s.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"language": "de", "timezone": "Europe/Berlin"}, &st)
	if st.Tone != "DE" {
		t.Fatalf("tone scheme in Europe/Berlin is %q, want DE", st.Tone)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = startWith(t, data, "--disclosure-window", "7m")
	s.must(http.StatusOK, "GET", "/api/v1/settings", nil, &st)
	if st.Window != 420 {
		t.Fatalf("after a restart with --disclosure-window 7m the window is %d s, want 420", st.Window)
	}
}
