package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)) }

// step is one call in a table: at a time relative to the start, an Allow
// (or, with peek, a Peek; with forget, a Forget) of key and its answer.
type step struct {
	at     time.Duration
	key    string
	want   bool
	peek   bool
	forget bool
}

func run(t *testing.T, cfg Config, steps []step) *Keyed {
	t.Helper()
	c := newClock()
	start := c.Now()
	cfg.Now = c.Now
	k := New(cfg)
	for i, s := range steps {
		c.Set(start.Add(s.at))
		switch {
		case s.forget:
			k.Forget(s.key)
		case s.peek:
			if got := k.Peek(s.key); got != s.want {
				t.Errorf("step %d: Peek(%q) at +%v = %v, want %v", i, s.key, s.at, got, s.want)
			}
		default:
			if got := k.Allow(s.key); got != s.want {
				t.Errorf("step %d: Allow(%q) at +%v = %v, want %v", i, s.key, s.at, got, s.want)
			}
		}
	}
	return k
}

func TestKeyed(t *testing.T) {
	const ns = time.Nanosecond
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"one per interval", Config{Every: time.Minute, Burst: 1}, []step{
			{at: 0, key: "a", want: true},
			{at: time.Second, key: "a", want: false},
			{at: time.Second, key: "b", want: true}, // keys are independent
			{at: time.Minute - ns, key: "a", want: false},
			{at: time.Minute, key: "a", want: true}, // refilled exactly at Every
			{at: time.Minute, key: "a", want: false},
			{at: time.Minute + time.Second, key: "b", want: true},
		}},
		{"burst 0 means 1", Config{Every: time.Second}, []step{
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", want: false},
			{at: time.Second, key: "a", want: true},
		}},
		{"burst then refill", Config{Every: 12 * time.Second, Burst: 5}, []step{
			{at: 0, key: "ip", want: true},
			{at: 0, key: "ip", want: true},
			{at: 1 * time.Second, key: "ip", want: true},
			{at: 2 * time.Second, key: "ip", want: true},
			{at: 3 * time.Second, key: "ip", want: true},
			{at: 3 * time.Second, key: "ip", want: false}, // the bucket is empty
			{at: 12*time.Second - time.Millisecond, key: "ip", want: false},
			{at: 12 * time.Second, key: "ip", want: true}, // one token back after Every
			{at: 12 * time.Second, key: "ip", want: false},
			{at: 12*time.Second + 60*time.Second, key: "ip", want: true}, // full again: 5 in a row
			{at: 72 * time.Second, key: "ip", want: true},
			{at: 72 * time.Second, key: "ip", want: true},
			{at: 72 * time.Second, key: "ip", want: true},
			{at: 72 * time.Second, key: "ip", want: true},
			{at: 72 * time.Second, key: "ip", want: false},
			{at: time.Hour, key: "ip", want: true}, // a long idle time gives no more than Burst
			{at: time.Hour, key: "ip", want: true},
			{at: time.Hour, key: "ip", want: true},
			{at: time.Hour, key: "ip", want: true},
			{at: time.Hour, key: "ip", want: true},
			{at: time.Hour, key: "ip", want: false},
		}},
		{"refused calls do not delay the refill", Config{Every: 10 * time.Second, Burst: 1}, []step{
			{at: 0, key: "a", want: true},
			{at: 5 * time.Second, key: "a", want: false},
			{at: 9 * time.Second, key: "a", want: false},
			{at: 10 * time.Second, key: "a", want: true},
		}},
		{"peek takes nothing", Config{Every: time.Minute, Burst: 2}, []step{
			{at: 0, key: "a", peek: true, want: true}, // unknown key: a full bucket
			{at: 0, key: "a", peek: true, want: true},
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", peek: true, want: true},
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", peek: true, want: false},
			{at: 0, key: "a", want: false},
			{at: 30 * time.Second, key: "a", peek: true, want: false},
			{at: time.Minute - ns, key: "a", peek: true, want: false},
			{at: time.Minute, key: "a", peek: true, want: true},
			{at: time.Minute, key: "a", peek: true, want: true},
			{at: time.Minute, key: "a", want: true},
			{at: time.Minute, key: "a", peek: true, want: false},
		}},
		{"forget gives a full bucket", Config{Every: time.Hour, Burst: 2}, []step{
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", want: false},
			{at: 0, key: "a", forget: true},
			{at: 0, key: "a", peek: true, want: true},
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", want: false},
			{at: 0, key: "nope", forget: true}, // forgetting an unknown key is fine
		}},
		{"no limit when Every <= 0", Config{Every: 0, Burst: 1}, []step{
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", want: true},
			{at: 0, key: "a", peek: true, want: true},
		}},
		{"a clock stepping back starts the key afresh", Config{Every: time.Hour, Burst: 1}, []step{
			{at: 2 * time.Hour, key: "a", want: true},
			{at: 2 * time.Hour, key: "a", want: false},
			{at: time.Hour, key: "a", peek: true, want: true},
			{at: time.Hour, key: "a", want: true},
			{at: time.Hour + time.Minute, key: "a", want: false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.cfg, tc.steps) })
	}
}

// TestRefillRounding: rate.Limiter counts tokens in float64; a refill due
// exactly at a multiple of Every must not fall short by a rounding error.
func TestRefillRounding(t *testing.T) {
	for _, every := range []time.Duration{333 * time.Millisecond, 7 * time.Second, 12 * time.Second, time.Minute} {
		c := newClock()
		k := New(Config{Every: every, Burst: 1, Now: c.Now})
		for i := range 200 {
			if !k.Peek("a") || !k.Allow("a") {
				t.Fatalf("Every %v: refused at refill %d", every, i)
			}
			c.Add(every - time.Nanosecond)
			if k.Peek("a") || k.Allow("a") {
				t.Fatalf("Every %v: allowed a nanosecond before refill %d", every, i+1)
			}
			c.Add(time.Nanosecond)
		}
	}
}

func TestForgetting(t *testing.T) {
	c := newClock()
	k := New(Config{Every: time.Minute, Burst: 2, MaxKeys: 3, Now: c.Now})
	drain := func(key string) {
		for k.Allow(key) {
		}
	}
	drain("a") // +0: a empty, full again at +2m
	c.Add(time.Minute)
	drain("b") // +1m
	c.Add(time.Minute)
	k.Allow("c") // +2m: one of two tokens taken, full again at +3m
	k.Allow("a") // +2m: a was full; one taken, full again at +3m
	c.Add(90 * time.Second)
	drain("b") // +3m30s: b had refilled; empty again, full at +5m30s
	// Now a and c are full, b is empty. Recency, oldest first: c, a, b.
	// A new key forgets a full bucket first (not c for being the oldest,
	// and never b while a full one is there).
	if !k.Allow("d") {
		t.Fatal("a new key was refused")
	}
	if k.Len() != 3 {
		t.Fatalf("Len %d, want 3", k.Len())
	}
	if k.Peek("b") {
		t.Error("the drained key b was forgotten while full buckets were there")
	}
	// a and c were full: one of them is gone, the other still there. The next
	// new key forgets the other full one.
	k.Allow("e")
	if k.Peek("b") {
		t.Error("the drained key b was forgotten while a full bucket was there")
	}
	for _, key := range []string{"a", "c"} {
		if _, ok := k.keys[key]; ok {
			t.Errorf("full bucket %s still remembered", key)
		}
	}
	// Now b (drained), d and e (one taken each) are not full: the oldest
	// goes, which is b, the least recently asked about.
	k.Allow("f")
	if !k.Peek("b") {
		t.Error("the oldest key b was not forgotten")
	}
	for _, key := range []string{"d", "e", "f"} {
		if _, ok := k.keys[key]; !ok {
			t.Errorf("key %s forgotten, want b forgotten", key)
		}
	}
}

// TestRecencyCountsRefusals: a key that keeps knocking while refused is in
// use, so it is not the oldest.
func TestRecencyCountsRefusals(t *testing.T) {
	c := newClock()
	k := New(Config{Every: time.Hour, Burst: 1, MaxKeys: 2, Now: c.Now})
	k.Allow("noisy")
	c.Add(time.Second)
	k.Allow("quiet")
	c.Add(time.Second)
	if k.Allow("noisy") {
		t.Fatal("noisy allowed twice")
	}
	c.Add(time.Second)
	k.Allow("new") // neither bucket is full: the least recent, quiet, goes
	if _, ok := k.keys["quiet"]; ok {
		t.Error("quiet still remembered")
	}
	if k.Allow("noisy") {
		t.Error("noisy forgotten: a refused key got a fresh bucket")
	}
}

func TestBoundedMemory(t *testing.T) {
	c := newClock()
	k := New(Config{Every: time.Minute, Burst: 3, MaxKeys: 1000, Now: c.Now})
	for i := range 100000 {
		if !k.Allow(strconv.Itoa(i)) {
			t.Fatalf("new key %d refused", i)
		}
		if i%997 == 0 {
			c.Add(time.Second) // some buckets fill up on the way
		}
		if n := k.Len(); n > 1000 {
			t.Fatalf("after %d keys: Len %d, want <= 1000", i+1, n)
		}
	}
	if k.recent.Len() != k.Len() || len(k.byFull) != k.Len() {
		t.Errorf("index sizes disagree: map %d, list %d, heap %d", k.Len(), k.recent.Len(), len(k.byFull))
	}
	// The newest keys are the ones remembered.
	for _, key := range []string{"99999", "99000"} {
		if _, ok := k.keys[key]; !ok {
			t.Errorf("the recent key %s was forgotten", key)
		}
	}
}

func TestDefaultMaxKeys(t *testing.T) {
	k := New(Config{Every: time.Hour, Now: newClock().Now})
	for i := range DefaultMaxKeys + 500 {
		k.Allow(strconv.Itoa(i))
	}
	if k.Len() != DefaultMaxKeys {
		t.Errorf("Len %d, want %d", k.Len(), DefaultMaxKeys)
	}
}

// TestConcurrent runs many goroutines on few keys (go test -race): with
// the clock stopped, each key lets exactly Burst events through.
func TestConcurrent(t *testing.T) {
	c := newClock()
	const burst, keys, workers, calls = 10, 4, 16, 200
	k := New(Config{Every: time.Hour, Burst: burst, MaxKeys: keys, Now: c.Now})
	var allowed [keys]atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				key := (w + i) % keys
				if k.Allow(strconv.Itoa(key)) {
					allowed[key].Add(1)
				}
				k.Peek(strconv.Itoa(key))
				if i%50 == 0 {
					k.Len()
				}
			}
		})
	}
	wg.Wait()
	for key := range keys {
		if n := allowed[key].Load(); n != burst {
			t.Errorf("key %d: %d allowed, want %d", key, n, burst)
		}
	}
	// Forget and eviction under contention keep the indexes consistent.
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				key := strconv.Itoa(w*calls + i)
				k.Allow(key)
				if i%3 == 0 {
					k.Forget(key)
				}
				if i%7 == 0 {
					c.Add(time.Minute)
				}
			}
		})
	}
	wg.Wait()
	if k.Len() > keys || k.recent.Len() != k.Len() || len(k.byFull) != k.Len() {
		t.Errorf("map %d, list %d, heap %d; want equal and <= %d", k.Len(), k.recent.Len(), len(k.byFull), keys)
	}
}

// TestSlowRefill: a bucket that takes longer than time.Duration can hold to
// refill still works (the time it is full again saturates).
func TestSlowRefill(t *testing.T) {
	c := newClock()
	k := New(Config{Every: 100 * 365 * 24 * time.Hour, Burst: 1000, MaxKeys: 1, Now: c.Now})
	for i := range 1000 {
		if !k.Allow("a") {
			t.Fatalf("refused after %d", i)
		}
	}
	if k.Allow("a") {
		t.Fatal("allowed past the burst")
	}
	if !k.Allow("b") || k.Len() != 1 {
		t.Fatalf("a new key at the bound: Len %d", k.Len())
	}
}

func TestRetryAfter(t *testing.T) {
	c := newClock()
	k := New(Config{Every: 12 * time.Second, Burst: 2, Now: c.Now})
	if d := k.RetryAfter("a"); d != 0 {
		t.Fatalf("unknown key: RetryAfter %v, want 0", d)
	}
	k.Allow("a")
	if d := k.RetryAfter("a"); d != 0 {
		t.Fatalf("one token left: RetryAfter %v, want 0", d)
	}
	k.Allow("a")
	if d := k.RetryAfter("a"); d != 12*time.Second {
		t.Fatalf("empty: RetryAfter %v, want 12s", d)
	}
	c.Add(5 * time.Second)
	if d := k.RetryAfter("a"); d != 7*time.Second {
		t.Fatalf("5 s later: RetryAfter %v, want 7s", d)
	}
	if k.Allow("a") {
		t.Fatal("RetryAfter took nothing, yet Allow succeeded early")
	}
	c.Add(7 * time.Second)
	if d := k.RetryAfter("a"); d != 0 || !k.Allow("a") {
		t.Fatalf("at refill: RetryAfter %v, want 0 and Allow", d)
	}
	if d := New(Config{}).RetryAfter("a"); d != 0 {
		t.Fatalf("no limit: RetryAfter %v", d)
	}
}

// TestAllowCounted: an allowed event tells how many of its key's were
// refused since the last one allowed, per key; a forgotten key's count
// goes with it; an unlimited Keyed refuses none.
func TestAllowCounted(t *testing.T) {
	c := newClock()
	k := New(Config{Every: time.Minute, Burst: 1, Now: c.Now})
	expect := func(key string, ok bool, n int64) {
		t.Helper()
		if gotOK, gotN := k.AllowCounted(key); gotOK != ok || gotN != n {
			t.Fatalf("%s: %v %d, want %v %d", key, gotOK, gotN, ok, n)
		}
	}
	expect("a", true, 0)
	for range 5 {
		expect("a", false, 0)
	}
	expect("b", true, 0)
	expect("b", false, 0)
	c.Add(time.Minute)
	expect("a", true, 5)
	expect("a", false, 0)
	expect("b", true, 1)
	k.Forget("a")
	expect("a", true, 0)
	if ok, n := New(Config{}).AllowCounted("a"); !ok || n != 0 {
		t.Fatalf("unlimited: %v %d", ok, n)
	}
}

// TestAllowCountedKeepsCount: at MaxKeys, a key holding a count not
// told yet is not forgotten as a full bucket (its count would go, and a
// limited log line under a flood of other keys would say it left out
// none): another full bucket is, though the counted key's refilled first.
func TestAllowCountedKeepsCount(t *testing.T) {
	c := newClock()
	k := New(Config{Every: time.Minute, Burst: 1, MaxKeys: 2, Now: c.Now})
	if ok, _ := k.AllowCounted("line"); !ok {
		t.Fatal("the first line refused")
	}
	for range 3 {
		if ok, _ := k.AllowCounted("line"); ok {
			t.Fatal("a second line within the minute allowed")
		}
	}
	c.Add(time.Second)
	k.Allow("flood 1")
	c.Add(2 * time.Minute) // both buckets are full again
	k.Allow("flood 2")     // at MaxKeys: one is forgotten
	if ok, n := k.AllowCounted("line"); !ok || n != 3 {
		t.Fatalf("the line after a flood of keys: %v, suppressed %d, want true, 3", ok, n)
	}
	if k.Len() != 2 {
		t.Fatalf("%d keys, want 2", k.Len())
	}
}

// TestClientKey: IPv4 addresses are their own keys, IPv6 ones share their
// /64's.
func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2::1":         "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
		"fe80::1%eth0":            "fe80::/64",
		"::1":                     "::/64",
		"not an address":          "not an address",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
