package tftpd

import (
	"sync"
	"time"
)

// logLimiter lets one log line per key through per window. Phones retry a
// refused or missing file forever; the first refusal is news, the next
// thousand are not.
type logLimiter struct {
	window time.Duration
	max    int // entries kept; the map is cleared when it is full

	mu   sync.Mutex
	last map[string]time.Time
}

// allow reports whether the line with this key should be logged now.
func (l *logLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.window {
		return false
	}
	if l.last == nil || len(l.last) >= l.max {
		l.last = make(map[string]time.Time)
	}
	l.last[key] = now
	return true
}
