package provision

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// TestIDMemoBoundedByBytes: a client that forges ever new User-Agents of
// the longest kept (a flood of request shapes) never makes the memo hold
// more than its bound; it starts over instead, and the shapes it holds
// are still answered from it.
func TestIDMemoBoundedByBytes(t *testing.T) {
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	const bound = 64 << 10
	p := &Phones{ids: newIDMemo(bound), renderer: renderer{reg: reg}}
	long := strings.Repeat("x", maxIDField-40)
	restarts, last := 0, 0
	for i := range 1000 {
		req := vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: "Yealink SIP-T54W 96.86.0.100 " + long + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i)}
		e, id, _ := p.identify(req, nil)
		if e == nil || id.Score == 0 {
			t.Fatalf("request %d not identified through the memo", i)
		}
		p.ids.mu.RLock()
		n, held := len(p.ids.m), p.ids.bytes
		p.ids.mu.RUnlock()
		if held > bound {
			t.Fatalf("after %d shapes the memo holds %d bytes, bound %d", i+1, held, bound)
		}
		if n < last {
			restarts++
		}
		last = n
		if again, _, _ := p.identify(req, nil); again != e {
			t.Fatalf("request %d identified again instead of answered from the memo", i)
		}
	}
	if restarts == 0 {
		t.Fatal("1,000 shapes of 500 bytes fit in 64 KiB: the bound was not applied")
	}
}

// TestHotUntil: a hot answer holds to the end of its year (the time zone
// rules change with it) in the server's zone, or to the end of its minute
// when the firmware offer waits for a window; never past either.
func TestHotUntil(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 31, 23, 59, 30, 5, berlin)
	if got, want := hotUntil(now, false), time.Date(2027, 1, 1, 0, 0, 0, 0, berlin); !got.Equal(want) {
		t.Fatalf("year: %v, want %v", got, want)
	}
	if got, want := hotUntil(now, true), time.Date(2027, 1, 1, 0, 0, 0, 0, berlin); !got.Equal(want) {
		t.Fatalf("minute at the year's end: %v, want %v", got, want)
	}
	mid := time.Date(2026, 6, 1, 14, 7, 59, 999, berlin)
	if got, want := hotUntil(mid, true), time.Date(2026, 6, 1, 14, 8, 0, 0, berlin); !got.Equal(want) {
		t.Fatalf("minute: %v, want %v", got, want)
	}
}

// TestPackedKey: a packed key holds the same strings, in one piece of
// memory.
func TestPackedKey(t *testing.T) {
	for _, k := range []idKey{
		{path: "805ec0aabb01.cfg", ua: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01", mac: "805ec0aabb01", vendorClass: "yealink"},
		{path: "y000000000044.cfg"},
		{ua: "only a User-Agent"},
		{},
	} {
		p := k.packed()
		if p != k {
			t.Fatalf("packed %+v is %+v", k, p)
		}
		if len(p.path) > 0 && len(p.ua) > 0 && unsafe.StringData(p.ua) != (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(p.path)), len(p.path))) {
			t.Fatalf("packed %+v: the User-Agent does not follow the path", k)
		}
	}
}

// TestMemoTakesOnlyItsKey: the memo's map is keyed by a hash of the
// shape, and an entry is taken only for the very key it was kept for;
// one of the same hash takes its place.
func TestMemoTakesOnlyItsKey(t *testing.T) {
	k := idKey{path: "805ec0aabb01.cfg", ua: "Yealink SIP-T54W 96.86.0.100", mac: "805ec0aabb01", vendorClass: "x"}
	m := newIDMemo(0)
	e := &idEntry{key: k.packed()}
	m.put(e)
	if got := m.get(k); got != e {
		t.Fatalf("get %+v: %v, want its entry", k, got)
	}
	for _, o := range []idKey{
		{path: "805ec0aabb01.cf", ua: "gYealink SIP-T54W 96.86.0.100", mac: "805ec0aabb01", vendorClass: "x"},
		{path: "805ec0aabb02.cfg", ua: "Yealink SIP-T54W 96.86.0.100", mac: "805ec0aabb01", vendorClass: "x"},
		{path: "805ec0aabb01.cfg", ua: "Yealink SIP-T54W 96.86.0.100", mac: "805ec0aabb01"},
	} {
		if got := m.get(o); got != nil {
			t.Errorf("get %+v: the entry of %+v", o, got.key)
		}
		// Nor in the slot of its own hash when k's entry sits there (a
		// collision, forced): the entry is k's, not o's.
		m.mu.Lock()
		m.m[m.hash(o)] = e
		m.mu.Unlock()
		if got := m.get(o); got != nil {
			t.Errorf("get %+v in k's slot: the entry of %+v", o, got.key)
		}
	}
	// A key kept in a slot that holds another's takes it over, and the
	// bytes held count the new key, not both.
	held := m.bytes
	o := &idEntry{key: idKey{path: k.path, ua: k.ua, mac: k.mac}}
	m.mu.Lock()
	m.m[m.hash(o.key)] = e // the colliding slot, holding k's entry
	m.mu.Unlock()
	m.put(o)
	if got := m.get(o.key); got != o {
		t.Fatalf("get after put of a colliding key: %v", got)
	}
	if want := held - e.key.size() + o.key.size(); m.bytes != want {
		t.Fatalf("bytes after a colliding key took the slot: %d, want %d", m.bytes, want)
	}
}
