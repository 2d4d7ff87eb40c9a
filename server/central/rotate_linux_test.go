package central

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEventsCountAfterFailedAppend: when the append after a rotation
// fails (here the file size limit, as a full disk would), the events
// the rotation dropped are no longer counted: the site's count is what
// the list holds, not what it held before the rotation until a restart.
// The limit is set in a child process (it holds for every file the
// process writes), which runs this test again.
func TestEventsCountAfterFailedAppend(t *testing.T) {
	if inChild(t) {
		return
	}
	const limit = 8 << 10 // a batch below is some 3 KiB: every second one rotates
	hub, created := hubWithSite(t, HubConfig{Dir: t.TempDir(), Heartbeat: time.Second, MaxEventsBytes: limit})
	detail := strings.Repeat("x", 250)
	next := uint(1)
	store := func() error {
		var batch []Event
		for range 10 {
			batch = append(batch, Event{ID: next, Event: "device.updated", Detail: detail})
			next++
		}
		_, err := hub.storeEvents(created.ID, batch)
		return err
	}
	counts := func(when string) {
		t.Helper()
		var page struct {
			Total int `json:"total"`
		}
		w := httptest.NewRecorder()
		hub.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/sites/"+created.ID+"/events?limit=1000", nil))
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &page) != nil {
			t.Fatalf("%s: events: %d %.200s", when, w.Code, w.Body)
		}
		hub.mu.Lock()
		events := hub.sites[created.ID].Events
		hub.mu.Unlock()
		if events != page.Total {
			t.Fatalf("%s: the site counts %d events, the list has %d", when, events, page.Total)
		}
	}
	for range 3 { // the third rotates, dropping the first
		if err := store(); err != nil {
			t.Fatal(err)
		}
	}
	counts("after a rotation")

	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 0, Max: was.Max}); err != nil {
		t.Fatal(err)
	}
	err := store() // rotates (dropping the second batch), then cannot write
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("the append past the file size limit: %v, want EFBIG", err)
	}
	counts("after a rotation whose append failed")
	if err := store(); err != nil {
		t.Fatal(err)
	}
	counts("after the next append")
}

// TestTornAppendCutBack: an append that the disk cuts short (here the
// file size limit lets a few bytes of the batch in) leaves no torn line:
// the site sends the batch again and every event of it is listed, where
// the torn line used to swallow the first event of the batch sent after
// it until a restart. The limit is set in a child process, which runs
// this test again.
func TestTornAppendCutBack(t *testing.T) {
	if inChild(t) {
		return
	}
	hub, created := hubWithSite(t, HubConfig{Dir: t.TempDir(), Heartbeat: time.Second})
	batch := func(from uint) []Event {
		var evs []Event
		for id := from; id < from+5; id++ {
			evs = append(evs, Event{ID: id, Event: "device.updated", Detail: strings.Repeat("x", 100)})
		}
		return evs
	}
	if _, err := hub.storeEvents(created.ID, batch(1)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(hub.eventsPath(created.ID))
	if err != nil {
		t.Fatal(err)
	}
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	// Room for part of the next batch's first line.
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(fi.Size()) + 40, Max: was.Max}); err != nil {
		t.Fatal(err)
	}
	_, err = hub.storeEvents(created.ID, batch(6))
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("the append past the file size limit: %v, want EFBIG", err)
	}
	if after, err := os.Stat(hub.eventsPath(created.ID)); err != nil {
		t.Fatal(err)
	} else if after.Size() != fi.Size() {
		t.Fatalf("after the failed append the file is %d bytes, want %d as before it", after.Size(), fi.Size())
	}
	// The site sends the batch again, then the next one.
	for _, from := range []uint{6, 11} {
		if _, err := hub.storeEvents(created.ID, batch(from)); err != nil {
			t.Fatal(err)
		}
	}
	w := httptest.NewRecorder()
	hub.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/sites/"+created.ID+"/events?limit=1000", nil))
	var page struct {
		Total int     `json:"total"`
		Items []Event `json:"items"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &page) != nil {
		t.Fatalf("events: %d %.200s", w.Code, w.Body)
	}
	seen := map[uint]bool{}
	for _, e := range page.Items {
		seen[e.ID] = true
	}
	for id := uint(1); id <= 15; id++ {
		if !seen[id] {
			t.Errorf("event %d is not listed (%d listed, total %d)", id, len(page.Items), page.Total)
		}
	}
}

// inChild runs t again in a child process (this test binary) and
// reports true when t is not the child, after failing t if the child
// did not pass: the child may lower its own resource limits (a file
// size limit holds for every file the process writes).
func inChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv("AUTOPROV_TEST_FSIZE_CHILD") != "" {
		return false
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "AUTOPROV_TEST_FSIZE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return true
}

// hubWithSite starts a hub with cfg and creates the site Berlin through
// its API.
func hubWithSite(t *testing.T, cfg HubConfig) (*Hub, SiteView) {
	t.Helper()
	hub, err := NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	hub.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/sites", strings.NewReader(`{"name":"Berlin"}`)))
	var created SiteView
	if w.Code != 201 && w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &created) != nil || created.ID == "" {
		t.Fatalf("create site: %d %s", w.Code, w.Body)
	}
	return hub, created
}
