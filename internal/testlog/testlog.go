// Package testlog is a log sink for tests whose servers log from several
// goroutines: the tests read back what was logged (to look for a reason, or
// to make sure no secret is there).
package testlog

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Holds reports whether text carries secret. A secret of digits only (a
// phone-menu PIN, a DECT access code) counts where it stands as a number
// of its own: not inside a longer number, nor as the digits after a
// decimal point. "4711" is in the port 47113, a duration 2.4711ms and a
// timestamp's nanoseconds by chance; a real leak writes it whole, as
// "pin=4711" or "4711". Any other secret counts wherever it stands; an
// empty secret is in no text (there is nothing to leak).
func Holds(text, secret string) bool {
	if secret == "" {
		return false
	}
	if strings.Trim(secret, "0123456789") != "" {
		return strings.Contains(text, secret)
	}
	digit := func(b byte) bool { return b >= '0' && b <= '9' }
	for from := 0; ; {
		i := strings.Index(text[from:], secret)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(secret)
		before := i > 0 && (digit(text[i-1]) || text[i-1] == '.')
		after := end < len(text) && digit(text[end])
		if !before && !after {
			return true
		}
		from = i + 1
	}
}
