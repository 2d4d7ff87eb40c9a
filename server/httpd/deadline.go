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

// reusable reports, after release, whether nothing ever asked t for Done
// or Err: then nothing can be waiting on it, and the connection that
// made it may reset it for its next request (reset) instead of making
// another (a cache hit allocates nothing for its timeout).
func (c *lazyTimeout) reusable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.released && c.inner == nil
}

// reset makes a reusable t the context of another request.
func (c *lazyTimeout) reset(parent context.Context, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Context, c.deadline, c.released = parent, deadline, false
}
