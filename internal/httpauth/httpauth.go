// Package httpauth is the server side of HTTP Basic (RFC 7617) and Digest
// (RFC 7616, MD5 and SHA-256, qop=auth) authentication, with stateless
// server nonces: a nonce is a time stamp and an HMAC of it under a key the
// server keeps in memory, so any nonce this server issued within its
// lifetime is accepted without storing the nonces it hands out. Against
// replay, the server remembers, per nonce that was answered rightly, the
// highest nonce count (nc) it accepted, and refuses a repeated or lower
// one (Replayed); that memory is bounded (entries expire with the nonce,
// at most MaxSeen of them; see Server). Standard library only.
//
// It knows nothing about phones or devices: the caller finds the password
// for the user name a request names and asks Verify whether the request
// proves it.
package httpauth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Algorithm names of Digest.
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// Scheme is a parsed Authorization header.
type Scheme int

// The schemes Parse recognises.
const (
	None Scheme = iota
	Basic
	Digest
)

// Credentials is what a request's Authorization header presents.
type Credentials struct {
	Scheme   Scheme
	Username string
	// Basic only: the password as sent.
	Password string
	// Digest only: the header's parameters, by lower-case name.
	Params map[string]string
}

// maxHeader bounds the Authorization header Parse reads.
const maxHeader = 4096

// Parse reads an Authorization header value. A header it cannot read (or
// none) yields Scheme None.
func Parse(h string) Credentials {
	if h == "" || len(h) > maxHeader {
		return Credentials{}
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return Credentials{}
		}
		u, p, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credentials{}
		}
		return Credentials{Scheme: Basic, Username: u, Password: p}
	case strings.EqualFold(scheme, "Digest"):
		params, ok := parseParams(rest)
		if !ok || params["username"] == "" {
			return Credentials{}
		}
		return Credentials{Scheme: Digest, Username: params["username"], Params: params}
	}
	return Credentials{}
}

// parseParams reads a comma-separated list of name=value or
// name="quoted value" pairs.
func parseParams(s string) (map[string]string, bool) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out, true
		}
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, false
		}
		name = strings.ToLower(strings.TrimSpace(name))
		rest = strings.TrimLeft(rest, " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, false
			}
			val, s = b.String(), rest[i+1:]
		} else {
			end := strings.IndexAny(rest, ",")
			if end < 0 {
				end = len(rest)
			}
			val, s = strings.TrimSpace(rest[:end]), rest[end:]
		}
		if _, dup := out[name]; dup {
			return nil, false
		}
		out[name] = val
	}
}

// MaxSeen bounds the nonces a Server remembers the nonce count of.
const MaxSeen = 100_000

// Server issues challenges and verifies answers for one realm. It is safe
// for concurrent use.
//
// Replay: for each nonce answered rightly it keeps the highest nonce count
// accepted (an answer without qop, RFC 2069, counts as nc 1, so such a
// nonce is good once). Entries are dropped when their nonce expires. When
// more than maxSeen are live, the expired ones go first, then the oldest
// nonces (by issue time), and every nonce issued no later than the newest
// one dropped is answered Stale from then on: a forgotten nonce is never
// accepted again, the phone just fetches a fresh one.
type Server struct {
	realm string
	key   []byte
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	seen    map[string]seenNonce
	maxSeen int
	floor   time.Time // nonces issued at or before it and not in seen are forgotten

	// proc marks this server's own nonces; another's (a server before a
	// restart, another instance) issued at or before start are forgotten
	// too: their counts are not here. Its own are judged by floor alone,
	// so a clock set back after the start does not make them stale.
	proc  [4]byte
	start time.Time
}

// seenNonce is what a Server remembers of a nonce it accepted.
type seenNonce struct {
	nc     uint64
	issued time.Time
}

// NewServer returns a Server for realm whose nonces live ttl (a stale
// nonce is answered with a fresh challenge marked stale=true). now is the
// clock (time.Now when nil). key signs the nonces: servers given the same
// key (instances of one fleet behind a load balancer) accept each other's;
// a nil key is a random one of this server's own. Nonces issued before
// NewServer (by a server that ran before a restart, or by another
// instance before this one started) are answered Stale.
func NewServer(realm string, ttl time.Duration, now func() time.Time, key []byte) *Server {
	if now == nil {
		now = time.Now
	}
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err)
		}
	}
	s := &Server{realm: realm, key: key, ttl: ttl, now: now, seen: map[string]seenNonce{}, maxSeen: MaxSeen, start: now()}
	if _, err := rand.Read(s.proc[:]); err != nil {
		panic(err)
	}
	return s
}

// Realm is the server's realm.
func (s *Server) Realm() string { return s.realm }

// nonce returns a fresh nonce: 8 bytes of time, this server's 4 bytes
// (proc), 4 random bytes, and an HMAC of all.
func (s *Server) nonce() string {
	b := make([]byte, 16, 48)
	binary.BigEndian.PutUint64(b, uint64(s.now().UnixNano()))
	copy(b[8:12], s.proc[:])
	if _, err := rand.Read(b[12:16]); err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// issued is what a nonce of ours says of itself.
type issued struct {
	at   time.Time
	mine bool // this process issued it (proc)
}

// checkNonce reports whether n is one of this server's nonces (signed
// with its key), whether it is still fresh, and when and by whom it was
// issued.
func (s *Server) checkNonce(n string) (ours, fresh bool, by issued) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 48 {
		return false, false, issued{}
	}
	m := hmac.New(sha256.New, s.key)
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil), b[16:]) {
		return false, false, issued{}
	}
	by = issued{at: time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))), mine: [4]byte(b[8:12]) == s.proc}
	age := s.now().Sub(by.at)
	return true, age >= -time.Minute && age < s.ttl, by
}

// count records that nonce (issued by) was answered rightly with nonce
// count nc, and returns OK; Replayed when nc is not above the highest
// count accepted for it, Stale when the nonce was forgotten (evicted, or
// another process's issued before this one started).
func (s *Server) count(nonce string, by issued, nc uint64) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.seen[nonce]; ok {
		if nc <= e.nc {
			return Replayed
		}
		e.nc = nc
		s.seen[nonce] = e
		return OK
	}
	if !by.at.After(s.floor) || !by.at.After(s.start) && !by.mine {
		return Stale
	}
	s.seen[nonce] = seenNonce{nc: nc, issued: by.at}
	if len(s.seen) > s.maxSeen {
		s.evict()
	}
	return OK
}

// evict drops the expired entries, then, if still more than maxSeen are
// left, the oldest ones down to nine tenths of maxSeen, raising the floor
// to the newest dropped. Called with mu held; amortised over the tenth.
func (s *Server) evict() {
	now := s.now()
	for n, e := range s.seen {
		if now.Sub(e.issued) >= s.ttl {
			delete(s.seen, n)
		}
	}
	if len(s.seen) <= s.maxSeen {
		return
	}
	type entry struct {
		nonce  string
		issued time.Time
	}
	all := make([]entry, 0, len(s.seen))
	for n, e := range s.seen {
		all = append(all, entry{n, e.issued})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].issued.Before(all[j].issued) })
	drop := len(all) - s.maxSeen*9/10
	for _, e := range all[:drop] {
		delete(s.seen, e.nonce)
		if e.issued.After(s.floor) {
			s.floor = e.issued
		}
	}
}

// Challenges returns the WWW-Authenticate header values for a 401: Digest
// with SHA-256, then with MD5 (RFC 7616 §3.7: the preferred first), when
// digest is set; Basic when basic is set. stale marks the Digest
// challenges as answering an expired nonce.
func (s *Server) Challenges(digest, basic, stale bool) []string {
	var out []string
	if digest {
		n := s.nonce()
		st := ""
		if stale {
			st = ", stale=true"
		}
		for _, alg := range []string{SHA256, MD5} {
			out = append(out, fmt.Sprintf(`Digest realm=%q, qop="auth", algorithm=%s, nonce=%q%s`, s.realm, alg, n, st))
		}
	}
	if basic {
		out = append(out, fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, s.realm))
	}
	return out
}

// Result is the outcome of Verify.
type Result int

// Verify's outcomes.
const (
	// Denied: the credentials do not prove the password.
	Denied Result = iota
	// OK: they do.
	OK
	// Stale: a Digest answer that would be right, for a nonce of this
	// server that has expired (or been forgotten): challenge again with
	// stale=true.
	Stale
	// Replayed: a right Digest answer whose nonce count is not above one
	// already accepted for that nonce (a replay, or a client that reuses
	// counts): refused; challenge again with a fresh nonce.
	Replayed
)

// Verify checks that c proves password for user. method and uri are the
// request's method and request-target (Digest's uri must name it); basic
// says whether Basic is acceptable on this connection (HTTPS only).
func (s *Server) Verify(c Credentials, user, password, method, uri string, basic bool) Result {
	if !eq(c.Username, user) {
		return Denied
	}
	switch c.Scheme {
	case Basic:
		if basic && eq(c.Password, password) {
			return OK
		}
		return Denied
	case Digest:
		return s.verifyDigest(c.Params, user, password, method, uri)
	}
	return Denied
}

func (s *Server) verifyDigest(p map[string]string, user, password, method, uri string) Result {
	var h func() hash.Hash
	switch alg := p["algorithm"]; {
	case alg == "" || strings.EqualFold(alg, MD5):
		h = md5.New
	case strings.EqualFold(alg, SHA256):
		h = sha256.New
	default:
		return Denied
	}
	if p["realm"] != s.realm || p["uri"] != uri || p["userhash"] == "true" {
		return Denied
	}
	ours, fresh, by := s.checkNonce(p["nonce"])
	if !ours {
		return Denied
	}
	sum := func(parts ...string) string {
		d := h()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	ha1 := sum(user, s.realm, password)
	ha2 := sum(method, uri)
	var want string
	nc := uint64(1)
	switch p["qop"] {
	case "auth":
		if p["nc"] == "" || p["cnonce"] == "" {
			return Denied
		}
		n, err := strconv.ParseUint(p["nc"], 16, 32)
		if err != nil || len(p["nc"]) != 8 {
			return Denied
		}
		nc = n
		want = sum(ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2)
	case "": // RFC 2069 compatibility
		want = sum(ha1, p["nonce"], ha2)
	default:
		return Denied
	}
	if !eq(strings.ToLower(p["response"]), want) {
		return Denied
	}
	if !fresh {
		return Stale
	}
	return s.count(p["nonce"], by, nc)
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
