package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/metrics"
)

// TestHotPathSeries: Fetch and HTTPRequest count into the series of their
// labels (kept between calls), and a client's own method names make no
// series of their own.
func TestHotPathSeries(t *testing.T) {
	labels := map[string]string{"vendor": "yealink", "kind": "device", "transport": "http", "outcome": "ok"}
	before, _ := metrics.Sample([]byte(gather(t)), "autoprov_fetches_total", labels)
	for range 3 {
		metrics.Fetch("yealink", "device", "http", "ok", time.Millisecond)
	}
	metrics.Fetch("yealink", "device", "http", "miss", time.Millisecond)
	after, err := metrics.Sample([]byte(gather(t)), "autoprov_fetches_total", labels)
	if err != nil || after-before != 3 {
		t.Fatalf("fetches_total{ok} went from %v to %v (%v), want +3", before, after, err)
	}
	for _, m := range []string{"FOO1", "FOO2", "BREW"} {
		metrics.HTTPRequest("unmatched", m, 404, time.Millisecond)
	}
	metrics.HTTPRequest("unmatched", "GET", 404, time.Millisecond)
	text := gather(t)
	for _, m := range []string{"FOO1", "FOO2", "BREW"} {
		if strings.Contains(text, `method="`+m+`"`) {
			t.Errorf("a series for the client's method %s", m)
		}
	}
	if !strings.Contains(text, `method="other"`) || !strings.Contains(text, `method="GET"`) {
		t.Error("no series for method other and GET")
	}
}
