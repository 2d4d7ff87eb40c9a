package httpd_test

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/autoprov/autoprov/server/metrics"
)

// dialogueFetches scrapes the process's /metrics: autoprov_fetches_total of
// vendor openstage, kind dialogue, over https, with the outcome.
func dialogueFetches(t *testing.T, outcome string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	v, err := metrics.Sample(body, "autoprov_fetches_total",
		map[string]string{"vendor": "openstage", "kind": "dialogue", "transport": "https", "outcome": outcome})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWPIMetrics: each message of a WPI session counts as a fetch of
// kind "dialogue" by the openstage driver: the start-up session's
// messages as served, the one that carried the SIP password as secrets.
// (The registry is per process: the test compares before and after.)
func TestWPIMetrics(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage()
	served, secrets := dialogueFetches(t, "served"), dialogueFetches(t, "secrets")
	rs := session(t, e.phone(), "start-up", nil)
	if got := actions(rs); got != "WriteItems WriteItems CleanUp" {
		t.Fatalf("start-up session: %s", got)
	}
	if d := dialogueFetches(t, "secrets") - secrets; d != 1 {
		t.Errorf("messages answered with secrets: %v, want 1", d)
	}
	if d := dialogueFetches(t, "served") - served; d != float64(len(rs)-1) {
		t.Errorf("messages answered without secrets: %v, want %d", d, len(rs)-1)
	}
}
