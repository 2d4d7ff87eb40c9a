package main

import (
	"io"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/server/central"
)

// TestCentralEventsMaxFlag: the bound of each site's events on a central
// defaults to central.DefaultMaxEventsBytes, is taken from the flag or the
// environment, and a bound too small to hold a batch stops start-up.
func TestCentralEventsMaxFlag(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	if c, err := parse(nil, none, io.Discard); err != nil || c.central.eventsMax != central.DefaultMaxEventsBytes {
		t.Fatalf("default: %d %v", c.central.eventsMax, err)
	}
	env := func(k string) (string, bool) { return "1048576", k == "AUTOPROV_CENTRAL_EVENTS_MAX_BYTES" }
	if c, err := parse(nil, env, io.Discard); err != nil || c.central.eventsMax != 1<<20 {
		t.Fatalf("from the environment: %d %v", c.central.eventsMax, err)
	}
	if _, err := parse([]string{"--central-events-max-bytes", "1000"}, none, io.Discard); err == nil || !strings.Contains(err.Error(), "--central-events-max-bytes") {
		t.Fatalf("a tiny bound: %v", err)
	}
}
