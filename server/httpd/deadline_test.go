package httpd

import (
	"context"
	"errors"
	"testing"
	"time"
)

// lazyTimeout behaves as context.WithTimeout: its deadline, its end at
// the deadline (Done closes, Err says so), its parent's end, its release.
func TestLazyTimeout(t *testing.T) {
	ctx := newLazyTimeout(context.Background(), 20*time.Millisecond)
	defer ctx.release()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
		t.Fatalf("deadline %v %v", d, ok)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not close after the deadline")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline: %v", ctx.Err())
	}

	// Never asked for Done: Err still tells the deadline passed.
	past := newLazyTimeout(context.Background(), -time.Second)
	defer past.release()
	if !errors.Is(past.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err past the deadline, Done never asked: %v", past.Err())
	}

	parent, stop := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	child := newLazyTimeout(parent, time.Hour)
	defer child.release()
	if child.Value(ctxKey{}) != "v" || child.Err() != nil {
		t.Fatalf("value %v, err %v", child.Value(ctxKey{}), child.Err())
	}
	stop()
	<-child.Done()
	if !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("Err after the parent ended: %v", child.Err())
	}

	// Released before and after Done was asked for.
	for _, ask := range []bool{false, true} {
		c := newLazyTimeout(context.Background(), time.Hour)
		if ask {
			c.Done()
		}
		c.release()
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("released (Done asked before: %v): Done did not close", ask)
		}
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("released: Err %v", c.Err())
		}
	}
}

type ctxKey struct{}

// TestLaneConnTimeoutReuse: a connection's request whose timeout nothing
// waited on hands it to the next request, reset (its new deadline, its
// new parent, live again); one that was waited on is never reused.
func TestLaneConnTimeoutReuse(t *testing.T) {
	var lc laneConn
	first := lc.timeout(context.Background(), time.Now().Add(time.Hour))
	lc.done(first) // a cache hit: neither Done nor Err asked
	parent, stop := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "second"))
	defer stop()
	// A second ahead: the reset timeout must still be live when looked at
	// below, and a loaded machine may stall this goroutine for tens of
	// milliseconds between two statements.
	at := time.Now().Add(time.Second)
	second := lc.timeout(parent, at)
	if second != first {
		t.Fatal("an unwaited timeout was not reused")
	}
	if d, _ := second.Deadline(); !d.Equal(at) || second.Value(ctxKey{}) != "second" || second.Err() != nil {
		t.Fatalf("reset: deadline %v (want %v), value %v, err %v", d, at, second.Value(ctxKey{}), second.Err())
	}
	select {
	case <-second.Done(): // its own deadline
	case <-time.After(10 * time.Second):
		t.Fatal("the reused timeout did not end at its new deadline")
	}
	lc.done(second) // waited on: someone may still hold its Done
	if third := lc.timeout(context.Background(), time.Now().Add(time.Hour)); third == second {
		t.Fatal("a timeout that was waited on was reused")
	}
}
