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
