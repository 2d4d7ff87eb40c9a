package httpauth

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestDigestRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := NewServer("autoprov", time.Minute, func() time.Time { return now }, nil)
	ch := s.Challenges(true, false, false)
	if len(ch) != 2 || !strings.Contains(ch[0], "SHA-256") || !strings.Contains(ch[1], "MD5") {
		t.Fatalf("challenges %q", ch)
	}
	for i, c := range ch {
		// Both challenges carry one nonce: the second answer counts on.
		a, err := AnswerCount(c, "0015651234ab", "pw-secret", "GET", "/prov/0015651234ab.cfg", uint32(i+1))
		if err != nil {
			t.Fatal(err)
		}
		cr := Parse(a)
		if got := s.Verify(cr, "0015651234ab", "pw-secret", "GET", "/prov/0015651234ab.cfg", false); got != OK {
			t.Errorf("%s: right answer: %v", c, got)
		}
		for name, r := range map[string]Result{
			"wrong password": s.Verify(cr, "0015651234ab", "pw-other", "GET", "/prov/0015651234ab.cfg", false),
			"other user":     s.Verify(cr, "0015651234ac", "pw-secret", "GET", "/prov/0015651234ab.cfg", false),
			"other uri":      s.Verify(cr, "0015651234ab", "pw-secret", "GET", "/prov/0015651234ac.cfg", false),
			"other method":   s.Verify(cr, "0015651234ab", "pw-secret", "HEAD", "/prov/0015651234ab.cfg", false),
		} {
			if r != Denied {
				t.Errorf("%s: %v", name, r)
			}
		}
		// A nonce another server (another key) issued is not ours.
		other := NewServer("autoprov", time.Minute, func() time.Time { return now }, nil)
		if got := other.Verify(cr, "0015651234ab", "pw-secret", "GET", "/prov/0015651234ab.cfg", false); got != Denied {
			t.Errorf("foreign nonce: %v", got)
		}
	}
	a, _ := Answer(ch[0], "u", "p", "GET", "/x")
	now = now.Add(2 * time.Minute)
	if got := s.Verify(Parse(a), "u", "p", "GET", "/x", false); got != Stale {
		t.Errorf("expired nonce: %v", got)
	}
}

func TestBasicOnlyWhereAllowed(t *testing.T) {
	s := NewServer("autoprov", time.Minute, nil, nil)
	h := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p:w"))
	c := Parse(h)
	if c.Scheme != Basic || c.Username != "u" || c.Password != "p:w" {
		t.Fatalf("%+v", c)
	}
	if s.Verify(c, "u", "p:w", "GET", "/", true) != OK {
		t.Error("right Basic over HTTPS refused")
	}
	if s.Verify(c, "u", "p:w", "GET", "/", false) != Denied {
		t.Error("Basic accepted where it is not allowed")
	}
	if s.Verify(c, "u", "p:x", "GET", "/", true) != Denied {
		t.Error("wrong Basic accepted")
	}
	for _, bad := range []string{"", "Basic !!", "Digest", `Digest username="a", realm="unterminated`, "Bearer x", strings.Repeat("a", 5000)} {
		if got := Parse(bad); got.Scheme != None {
			t.Errorf("Parse(%.20q) = %v", bad, got.Scheme)
		}
	}
}

// Servers given one key (instances of a fleet behind a load balancer)
// accept each other's nonces; a server with another key does not.
func TestSharedNonceKey(t *testing.T) {
	key := make([]byte, 32)
	a := NewServer("autoprov", time.Minute, nil, key)
	b := NewServer("autoprov", time.Minute, nil, key)
	other := NewServer("autoprov", time.Minute, nil, []byte("another key, another fleet......"))
	ans, err := Answer(a.Challenges(true, false, false)[0], "u", "p", "GET", "/x")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Verify(Parse(ans), "u", "p", "GET", "/x", false); got != OK {
		t.Fatalf("a nonce of a server with the same key: %v, want OK", got)
	}
	if got := other.Verify(Parse(ans), "u", "p", "GET", "/x", false); got != Denied {
		t.Fatalf("a nonce of a server with another key: %v, want Denied", got)
	}
}

// A captured Digest answer replayed is refused; the same nonce with a
// higher nonce count is accepted, a lower or repeated count is not, and an
// answer without qop (RFC 2069) is good once.
func TestDigestReplayRefused(t *testing.T) {
	s := NewServer("autoprov", time.Minute, nil, nil)
	ch := s.Challenges(true, false, false)[0]
	const user, pass, uri = "0015651234ab", "pw-secret", "/prov/0015651234ab.cfg"
	ans := func(nc uint32) Credentials {
		t.Helper()
		a, err := AnswerCount(ch, user, pass, "GET", uri, nc)
		if err != nil {
			t.Fatal(err)
		}
		return Parse(a)
	}
	first := ans(1)
	if got := s.Verify(first, user, pass, "GET", uri, false); got != OK {
		t.Fatalf("first answer: %v", got)
	}
	if got := s.Verify(first, user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("replayed answer: %v, want Replayed", got)
	}
	if got := s.Verify(ans(1), user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("nc 1 again (another cnonce): %v, want Replayed", got)
	}
	third := ans(3)
	if got := s.Verify(third, user, pass, "GET", uri, false); got != OK {
		t.Fatalf("fresh nc 3: %v", got)
	}
	if got := s.Verify(ans(2), user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("lower nc 2 after 3: %v, want Replayed", got)
	}
	if got := s.Verify(third, user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("replayed nc 3: %v, want Replayed", got)
	}
	if got := s.Verify(ans(4), user, pass, "GET", uri, false); got != OK {
		t.Fatalf("fresh nc 4: %v", got)
	}

	// RFC 2069 (no qop): the nonce is good once.
	nonce := Parse(`Digest username="x", ` + strings.TrimPrefix(s.Challenges(true, false, false)[1], "Digest ")).Params["nonce"]
	h := func(parts ...string) string { return md5hex(strings.Join(parts, ":")) }
	resp := h(h(user, "autoprov", pass), nonce, h("GET", uri))
	old := Parse(`Digest username="` + user + `", realm="autoprov", nonce="` + nonce + `", uri="` + uri + `", response="` + resp + `"`)
	if got := s.Verify(old, user, pass, "GET", uri, false); got != OK {
		t.Fatalf("RFC 2069 answer: %v", got)
	}
	if got := s.Verify(old, user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("RFC 2069 answer replayed: %v, want Replayed", got)
	}
}

// A restart forgets which nonces were answered: a server started after a
// nonce was issued answers it Stale (a fresh challenge), so an answer
// captured before the restart is not accepted a second time; its own
// nonces work.
func TestDigestReplayAfterRestart(t *testing.T) {
	key := make([]byte, 32)
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const user, pass, uri = "0015651234ab", "pw-secret", "/prov/0015651234ab.cfg"
	before := NewServer("autoprov", 5*time.Minute, clock, key)
	a, err := AnswerCount(before.Challenges(true, false, false)[0], user, pass, "GET", uri, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := before.Verify(Parse(a), user, pass, "GET", uri, false); got != OK {
		t.Fatalf("the answer before the restart: %v", got)
	}
	now = now.Add(time.Second)
	after := NewServer("autoprov", 5*time.Minute, clock, key)
	if got := after.Verify(Parse(a), user, pass, "GET", uri, false); got != Stale {
		t.Fatalf("the captured answer after the restart: %v, want Stale", got)
	}
	b, err := AnswerCount(after.Challenges(true, false, false)[0], user, pass, "GET", uri, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Verify(Parse(b), user, pass, "GET", uri, false); got != OK {
		t.Fatalf("a nonce of the restarted server: %v", got)
	}
	// Its clock set back after its start (NTP correcting a fast clock at
	// boot): its own new nonces still work.
	now = now.Add(-time.Minute)
	c, err := AnswerCount(after.Challenges(true, false, false)[0], user, pass, "GET", uri, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Verify(Parse(c), user, pass, "GET", uri, false); got != OK {
		t.Fatalf("a nonce issued after the clock was set back: %v", got)
	}
}

// The replay memory is bounded: beyond its cap the expired entries go
// first, then the oldest; a forgotten nonce is never accepted again
// (Stale: the client fetches a fresh one), and a live one still refuses
// its replay.
func TestDigestReplayMemoryBounded(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := NewServer("autoprov", time.Minute, func() time.Time { return now }, nil)
	s.maxSeen = 10
	const user, pass, uri = "u", "p", "/x"
	answer := func() Credentials {
		t.Helper()
		a, err := Answer(s.Challenges(true, false, false)[0], user, pass, "GET", uri)
		if err != nil {
			t.Fatal(err)
		}
		return Parse(a)
	}
	// Ten answers whose nonces then expire: the next ones push them out.
	for range 10 {
		if got := s.Verify(answer(), user, pass, "GET", uri, false); got != OK {
			t.Fatal(got)
		}
	}
	now = now.Add(2 * time.Minute)
	var live []Credentials
	for i := range 10 {
		c := answer()
		now = now.Add(time.Millisecond)
		if got := s.Verify(c, user, pass, "GET", uri, false); got != OK {
			t.Fatalf("answer %d: %v", i, got)
		}
		live = append(live, c)
	}
	if len(s.seen) != 10 || !s.floor.IsZero() {
		t.Fatalf("after expiry: %d entries, floor %v; want the 10 live ones and no floor", len(s.seen), s.floor)
	}
	// One more live answer: over the cap with nothing expired, the oldest go.
	extra := answer()
	if got := s.Verify(extra, user, pass, "GET", uri, false); got != OK {
		t.Fatal(got)
	}
	if len(s.seen) > 10 || s.floor.IsZero() {
		t.Fatalf("over the cap: %d entries, floor %v", len(s.seen), s.floor)
	}
	if got := s.Verify(live[0], user, pass, "GET", uri, false); got != Stale {
		t.Fatalf("replay of a forgotten nonce: %v, want Stale", got)
	}
	if got := s.Verify(live[9], user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("replay of a remembered nonce: %v, want Replayed", got)
	}
	if got := s.Verify(extra, user, pass, "GET", uri, false); got != Replayed {
		t.Fatalf("replay of the newest: %v, want Replayed", got)
	}
}

func md5hex(s string) string {
	d := md5.Sum([]byte(s))
	return hex.EncodeToString(d[:])
}
