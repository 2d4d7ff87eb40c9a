package provision

import (
	"sync"

	"github.com/autoprov/autoprov"
)

// missRing keeps the latest misses (those the log got, so one per MAC,
// path and reason a minute) for the admin's dashboard.
type missRing struct {
	mu   sync.Mutex
	buf  []autoprov.Miss // oldest first once full
	next int
}

// missesKept is how many misses the ring holds.
const missesKept = 50

func (r *missRing) add(m autoprov.Miss) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) < missesKept {
		r.buf = append(r.buf, m)
		return
	}
	r.buf[r.next] = m
	r.next = (r.next + 1) % missesKept
}

// RecentMisses lists up to n of the latest misses, newest first: the
// requests no file answered, with the reason the log gives (at most one
// per MAC, path and reason a minute).
func (p *Phones) RecentMisses(n int) []autoprov.Miss {
	r := &p.misses
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]autoprov.Miss, 0, min(n, len(r.buf)))
	for i := 0; i < len(r.buf) && len(out) < n; i++ {
		j := (r.next - 1 - i + 2*len(r.buf)) % len(r.buf)
		out = append(out, r.buf[j])
	}
	return out
}
