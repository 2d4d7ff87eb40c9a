package httpauth

import (
	"encoding/base64"
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
	for _, c := range ch {
		a, err := Answer(c, "0015651234ab", "pw-secret", "GET", "/prov/0015651234ab.cfg")
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
