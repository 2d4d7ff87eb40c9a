package httpd

import "sync"

// interner keeps one copy of each string the lane reads from phones'
// requests (User-Agents, file names): a fleet sends the same few per
// phone, so a request finds its strings here instead of allocating them
// (a lookup by a []byte converted in the map index allocates nothing).
// Fewer allocations a fetch make the garbage collections that mark a
// cached fleet rarer. Bounded by the bytes it holds: it starts over past
// maxBytes, so requests with ever new strings cost it nothing but a new
// start.
type interner struct {
	mu       sync.RWMutex
	m        map[string]string
	bytes    int
	maxBytes int
}

// internOverhead is what a string costs the interner besides its bytes
// (its header twice and the map's slot), for the bound.
const internOverhead = 64

// maxInterned keeps longer strings out of the interner.
const maxInterned = 512

func newInterner(maxBytes int) *interner {
	return &interner{m: map[string]string{}, maxBytes: maxBytes}
}

// of returns b as a string, the interned copy when there is one.
func (t *interner) of(b []byte) string {
	t.mu.RLock()
	s, ok := t.m[string(b)]
	t.mu.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	if len(s) > maxInterned {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bytes+len(s)+internOverhead > t.maxBytes {
		clear(t.m)
		t.bytes = 0
	}
	if _, ok := t.m[s]; !ok {
		t.m[s] = s
		t.bytes += len(s) + internOverhead
	}
	return s
}
