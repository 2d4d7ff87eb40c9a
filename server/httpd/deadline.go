package httpd

import (
	"context"
	"sync"
	"time"
)

// lazyTimeout is context.WithTimeout for a phone request whose steady
// state never waits: its deadline is known at once (Deadline), but the
// timer and the Done channel are made only when something first asks for
// Done or Err, i.e. when the core goes to the database. A cache hit costs
// one small allocation instead of a cancel context and a timer.
type lazyTimeout struct {
	context.Context // the parent
	deadline        time.Time

	mu       sync.Mutex
	inner    context.Context // context.WithDeadline(parent, deadline), once asked for
	cancel   context.CancelFunc
	released bool
}

// newLazyTimeout returns a context ending at now+d or with parent; call
// its release when the work is done (as a CancelFunc).
func newLazyTimeout(parent context.Context, d time.Duration) *lazyTimeout {
	return &lazyTimeout{Context: parent, deadline: time.Now().Add(d)}
}

func (c *lazyTimeout) started() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		c.inner, c.cancel = context.WithDeadline(c.Context, c.deadline)
		if c.released {
			c.cancel()
		}
	}
	return c.inner
}

// Deadline implements context.Context.
func (c *lazyTimeout) Deadline() (time.Time, bool) { return c.deadline, true }

// Done implements context.Context: it starts the timer.
func (c *lazyTimeout) Done() <-chan struct{} { return c.started().Done() }

// Err implements context.Context.
func (c *lazyTimeout) Err() error { return c.started().Err() }

// release ends the context, as a CancelFunc does, and its timer if any.
func (c *lazyTimeout) release() {
	c.mu.Lock()
	c.released = true
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
