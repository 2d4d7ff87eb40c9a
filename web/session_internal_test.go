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

// TestLoginLimiter: five wrong tokens per client IP, then one more guess
// per 12 s (a full five after a minute); a right token ends the count;
// memory stays bounded under a flood of client IPs, and a client arriving
// during the flood is still limited.
func TestLoginLimiter(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	l := newLoginLimiter(c.now)
	for i := 0; i < loginFails; i++ {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("refused after %d failures", i)
		}
	}
	if l.Allow("192.0.2.1") {
		t.Fatal("allowed after the limit")
	}
	if !l.Allow("192.0.2.2") {
		t.Fatal("another client is refused")
	}
	c.t = c.t.Add(loginWindow/loginFails - time.Second)
	if l.Allow("192.0.2.1") {
		t.Fatal("a guess came back before 12 s")
	}
	c.t = c.t.Add(time.Second)
	if !l.Allow("192.0.2.1") || l.Allow("192.0.2.1") {
		t.Fatal("not exactly one guess back after 12 s")
	}
	c.t = c.t.Add(loginWindow)
	for i := 0; i < loginFails; i++ {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("after the window: refused after %d failures", i)
		}
	}
	// A right token (Forget) gives a full bucket at once.
	l.Forget("192.0.2.1")
	for i := 0; i < loginFails; i++ {
		if !l.Allow("192.0.2.1") {
			t.Fatalf("after a right token: refused after %d failures", i)
		}
	}
	// Memory is bounded.
	for i := 0; i < loginClients+10; i++ {
		l.Allow(string(rune(i)))
	}
	if n := l.Len(); n > loginClients {
		t.Errorf("the limiter holds %d clients", n)
	}
	for i := 0; i < loginFails; i++ {
		l.Allow("198.51.100.7")
	}
	if l.Allow("198.51.100.7") {
		t.Error("a client arriving during a flood is not limited")
	}
}
