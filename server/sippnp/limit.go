package sippnp

import (
	"sync"
	"time"
)

// limiter allows burst events per key in each window. Its memory is
// bounded: past maxKeys it forgets the windows that have ended, and if
// that is not enough, all of them.
type limiter struct {
	window time.Duration
	burst  int

	mu   sync.Mutex
	seen map[string]slot
}

type slot struct {
	start time.Time
	n     int
}

const maxKeys = 8192

func newLimiter(window time.Duration, burst int) *limiter {
	return &limiter{window: window, burst: burst, seen: map[string]slot{}}
}

// allow counts an event for key and reports whether it is within the limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	sl, ok := l.seen[key]
	if !ok || now.Sub(sl.start) >= l.window {
		if !ok && len(l.seen) >= maxKeys {
			for k, v := range l.seen {
				if now.Sub(v.start) >= l.window {
					delete(l.seen, k)
				}
			}
			if len(l.seen) >= maxKeys {
				clear(l.seen)
			}
		}
		sl = slot{start: now}
	}
	sl.n++
	l.seen[key] = sl
	return sl.n <= l.burst
}
