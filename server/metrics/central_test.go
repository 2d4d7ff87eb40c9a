package metrics_test

import (
	"strings"
	"testing"

	"github.com/autoprov/autoprov/server/metrics"
)

// TestCentralLink: a site's link state is one series per state, 1 for
// the state the site is in; the alarms are a counter; without a source
// (no --central) neither family is there.
func TestCentralLink(t *testing.T) {
	state, alarms := "grace", 2
	metrics.CentralLink(func() (string, int) { return state, alarms })
	defer metrics.CentralLink(nil)
	check := func(want string, wantAlarms int) {
		t.Helper()
		text := []byte(gather(t))
		for _, s := range metrics.CentralStates {
			w := 0.0
			if s == want {
				w = 1
			}
			if v, err := metrics.Sample(text, "autoprov_central_link_state", map[string]string{"state": s}); err != nil || v != w {
				t.Errorf("autoprov_central_link_state{state=%s} = %v, %v; want %v", s, v, err, w)
			}
		}
		if v, err := metrics.Sample(text, "autoprov_central_alarms_total", nil); err != nil || v != float64(wantAlarms) {
			t.Errorf("autoprov_central_alarms_total = %v, %v; want %d", v, err, wantAlarms)
		}
		if !strings.Contains(string(text), "# TYPE autoprov_central_alarms_total counter") {
			t.Error("autoprov_central_alarms_total is not a counter")
		}
	}
	check("grace", 2)
	state, alarms = "expired", 3
	check("expired", 3)
	state = "connected"
	check("connected", 3)

	metrics.CentralLink(nil)
	if text := gather(t); strings.Contains(text, "autoprov_central_link_state{") || strings.Contains(text, "autoprov_central_alarms_total ") {
		t.Errorf("without a site the link state is exported:\n%s", text)
	}
}
