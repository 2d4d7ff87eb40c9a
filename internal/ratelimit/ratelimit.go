// Package ratelimit is the one keyed rate limiter of autoprov: a token
// bucket per key (a MAC, a client IP, a log line), with bounded memory and
// an injectable clock. Phones retry forever and a LAN can be noisy; every
// component that must not act (or log) on each repetition uses it.
//
// It is the only package that imports golang.org/x/time/rate. The clock is
// always passed to rate.Limiter explicitly (AllowN, TokensAt), so a test's
// fake clock governs every decision.
package ratelimit

import (
	"container/heap"
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoprov/autoprov/internal/netlist"
)

// DefaultMaxKeys is the number of keys a Keyed remembers when
// Config.MaxKeys is 0.
const DefaultMaxKeys = 10000

// Config configures a Keyed limiter.
type Config struct {
	// Every is the refill interval: one token per Every per key. Every <= 0
	// means no limit (Allow always succeeds and nothing is remembered).
	Every time.Duration
	// Burst is the bucket size: how many events one key may have at once
	// before it must wait for a refill. Values < 1 mean 1.
	Burst int
	// MaxKeys bounds the keys remembered. When a new key arrives at the
	// bound, a full bucket (one idle long enough to have refilled, which
	// is no different from a key never seen) is forgotten first; if there
	// is none, the key asked about least recently is. Values < 1 mean
	// DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Keyed is a set of token buckets, one per key, all with the same rate and
// size. A key's bucket starts full. The zero value is not usable: call New.
// A Keyed is safe for concurrent use.
type Keyed struct {
	limit   rate.Limit // rate.Inf when Every <= 0
	burst   int
	maxKeys int
	now     func() time.Time

	mu     sync.Mutex
	keys   map[string]*entry
	recent *list.List // of *entry, most recently asked about at the front
	byFull fullHeap   // the bucket that is full first at index 0
}

// entry is one key's bucket.
type entry struct {
	key  string
	lim  *rate.Limiter
	took time.Time     // the clock when a token was last taken
	full time.Time     // when the bucket is full again (then forgetting it loses nothing; untold: never)
	elem *list.Element // in Keyed.recent
	idx  int           // in Keyed.byFull
	// missed counts the events AllowCounted refused since the last one
	// allowed.
	missed int64
}

// New returns a Keyed limiter for cfg.
func New(cfg Config) *Keyed {
	k := &Keyed{limit: rate.Every(cfg.Every), burst: max(cfg.Burst, 1), maxKeys: cfg.MaxKeys, now: cfg.Now,
		keys: map[string]*entry{}, recent: list.New()}
	if k.maxKeys < 1 {
		k.maxKeys = DefaultMaxKeys
	}
	if k.now == nil {
		k.now = time.Now
	}
	return k
}

// Allow takes a token from key's bucket if one is there and reports
// whether it did: true means the event may happen now.
func (k *Keyed) Allow(key string) bool {
	ok, _ := k.allow(key, false)
	return ok
}

// AllowCounted is Allow that also says, when it allows, how many of
// key's events it refused since the last one it allowed: a log line
// limited with it can tell how many lines it stands for. A key holding
// such a count is not forgotten as a full bucket at MaxKeys (its count
// would go), only as the least recent; the count of a key forgotten
// (that way, or by Forget) is lost with it.
func (k *Keyed) AllowCounted(key string) (ok bool, suppressed int64) {
	return k.allow(key, true)
}

// untold is an entry's time full while it holds a count AllowCounted has
// not told yet: never, for evict.
var untold = time.Unix(1<<62, 0)

func (k *Keyed) allow(key string, counted bool) (ok bool, suppressed int64) {
	if k.limit == rate.Inf {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.keys[key]
	if e != nil && now.Before(e.took) {
		// The clock stepped back past the last take (only an injected
		// clock without a monotonic reading can): start the key afresh
		// rather than refuse it until the clock catches up.
		k.remove(e)
		e = nil
	}
	if e == nil {
		if len(k.keys) >= k.maxKeys {
			k.evict(now)
		}
		e = &entry{key: key, lim: rate.NewLimiter(k.limit, k.burst)}
		k.keys[key] = e
		e.elem = k.recent.PushFront(e)
		heap.Push(&k.byFull, e)
	} else {
		k.recent.MoveToFront(e.elem)
	}
	if !e.lim.AllowN(now, 1) {
		if counted {
			if e.missed == 0 {
				e.full = untold // forgetting it would lose the count
				heap.Fix(&k.byFull, e.idx)
			}
			e.missed++
		}
		return false, 0
	}
	e.took = now
	e.full = now.Add(k.refill(float64(k.burst) - e.lim.TokensAt(now)))
	heap.Fix(&k.byFull, e.idx)
	suppressed, e.missed = e.missed, 0
	return true, suppressed
}

// Peek reports whether Allow(key) would succeed now, without taking a
// token or changing what is remembered.
func (k *Keyed) Peek(key string) bool {
	if k.limit == rate.Inf {
		return true
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.keys[key]
	if e == nil || now.Before(e.took) {
		return true
	}
	// AllowN succeeds when the missing fraction of a token would refill in
	// under a nanosecond (float rounding); so does Peek.
	return k.refill(1-e.lim.TokensAt(now)) <= 0
}

// RetryAfter returns how long until Allow(key) can succeed: 0 when it can
// now. It takes nothing. Use it for a refused client's Retry-After.
func (k *Keyed) RetryAfter(key string) time.Duration {
	if k.limit == rate.Inf {
		return 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.keys[key]
	if e == nil || now.Before(e.took) {
		return 0
	}
	return k.refill(1 - e.lim.TokensAt(now))
}

// Forget drops key's bucket: its next event finds a full one. Use it when
// the key has proved itself (a correct login ends the count of wrong ones).
func (k *Keyed) Forget(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.keys[key]; e != nil {
		k.remove(e)
	}
}

// Len returns the number of keys remembered (at most Config.MaxKeys).
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}

// refill returns how long the bucket takes to gain tokens, computed as
// rate.Limiter does (so a shortfall under a nanosecond is none).
func (k *Keyed) refill(tokens float64) time.Duration {
	if tokens <= 0 {
		return 0
	}
	d := tokens / float64(k.limit) * float64(time.Second)
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// evict forgets one key to make room: a full bucket if there is one, else
// the key asked about least recently. k.mu is held.
func (k *Keyed) evict(now time.Time) {
	if len(k.byFull) > 0 && !k.byFull[0].full.After(now) {
		k.remove(k.byFull[0])
		return
	}
	if back := k.recent.Back(); back != nil {
		k.remove(back.Value.(*entry))
	}
}

// remove forgets e. k.mu is held.
func (k *Keyed) remove(e *entry) {
	delete(k.keys, e.key)
	k.recent.Remove(e.elem)
	heap.Remove(&k.byFull, e.idx)
}

// fullHeap orders entries by the time their bucket is full again.
type fullHeap []*entry

func (h fullHeap) Len() int           { return len(h) }
func (h fullHeap) Less(i, j int) bool { return h[i].full.Before(h[j].full) }
func (h fullHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *fullHeap) Push(x any) {
	e := x.(*entry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *fullHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// ClientKey is the key of a client address (an IP, as gin's ClientIP
// gives it) for limits on what one client may do, such as guessing a
// token: an IPv4 address (also written IPv4-mapped) is its own key, an
// IPv6 address the /64 it is in, "2001:db8:1:2::/64". A host usually gets
// a whole /64 and picks any address in it at will: keyed per address, it
// would have 2^64 fresh buckets. Anything else is its own key.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	h := netlist.Host(a)
	if h.Is6() {
		return netip.PrefixFrom(h, 64).String()
	}
	return h.String()
}
