package web

import (
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSessionExpires(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	s := newSessions(c.now)
	id, sess := s.create()
	if len(id) != 43 { // 32 bytes, base64url without padding
		t.Errorf("session id %q is %d characters, want 43 (32 random bytes)", id, len(id))
	}
	if got := s.get(id); got != sess {
		t.Fatal("a new session is not found")
	}
	c.t = c.t.Add(sessionTTL - time.Second)
	if s.get(id) == nil {
		t.Fatal("the session ended before 12 h")
	}
	c.t = c.t.Add(time.Second)
	if s.get(id) != nil {
		t.Fatal("the session outlived 12 h")
	}
	if len(s.m) != 0 {
		t.Errorf("an expired session is still held: %d", len(s.m))
	}
	if s.get("") != nil || s.get("nope") != nil {
		t.Error("an unknown id has a session")
	}
}

func TestFailLimiter(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	l := newFailLimiter(c.now)
	for i := 0; i < loginFails; i++ {
		if !l.allowed("192.0.2.1") {
			t.Fatalf("refused after %d failures", i)
		}
		l.fail("192.0.2.1")
	}
	if l.allowed("192.0.2.1") {
		t.Fatal("allowed after the limit")
	}
	if !l.allowed("192.0.2.2") {
		t.Fatal("another client is refused")
	}
	c.t = c.t.Add(loginWindow)
	if !l.allowed("192.0.2.1") {
		t.Fatal("still refused after the window")
	}
	// Memory is bounded: clients beyond the limit share one bucket.
	for i := 0; i < loginClients+10; i++ {
		l.fail(string(rune(i)))
	}
	if len(l.m) > loginClients+1 {
		t.Errorf("the limiter holds %d clients", len(l.m))
	}
	for i := 0; i < loginFails; i++ {
		l.fail("198.51.100.7")
	}
	if l.allowed("198.51.100.7") {
		t.Error("a client in the shared bucket is not limited")
	}
}
