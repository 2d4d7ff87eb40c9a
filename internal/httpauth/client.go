package httpauth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// Answer is the client side of Digest: the Authorization header value
// that answers challenge (a WWW-Authenticate value) for user and password
// on a request of method to uri, with qop=auth and nonce count 1. The
// server uses Verify; Answer exists for tests and tools that play a phone.
func Answer(challenge, user, password, method, uri string) (string, error) {
	return AnswerCount(challenge, user, password, method, uri, 1)
}

// AnswerCount is Answer with nonce count nc (a client's nc-th request with
// one nonce).
func AnswerCount(challenge, user, password, method, uri string, nc uint32) (string, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(challenge), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return "", errors.New("not a Digest challenge")
	}
	p, ok := parseParams(rest)
	if !ok {
		return "", errors.New("unreadable Digest challenge")
	}
	var h func() hash.Hash
	switch alg := p["algorithm"]; {
	case alg == "" || strings.EqualFold(alg, MD5):
		h, p["algorithm"] = md5.New, MD5
	case strings.EqualFold(alg, SHA256):
		h = sha256.New
	default:
		return "", fmt.Errorf("algorithm %q not supported", alg)
	}
	sum := func(parts ...string) string {
		d := h()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	cb := make([]byte, 8)
	if _, err := rand.Read(cb); err != nil {
		return "", err
	}
	cnonce, count := hex.EncodeToString(cb), fmt.Sprintf("%08x", nc)
	resp := sum(sum(user, p["realm"], password), p["nonce"], count, cnonce, "auth", sum(method, uri))
	return fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, algorithm=%s, qop=auth, nc=%s, cnonce=%q, response=%q`,
		user, p["realm"], p["nonce"], uri, p["algorithm"], count, cnonce, resp), nil
}

// DigestTransport is an http.RoundTripper that plays a phone holding a
// provisioning credential, for tests and tools: it sends a request as is
// and, when the answer is 401 with a Digest challenge, sends it once more
// answering the first challenge it can (nonce count 1) for User and
// Password. Requests must have no body (GET, HEAD).
type DigestTransport struct {
	Base           http.RoundTripper // nil: http.DefaultTransport
	User, Password string
}

// RoundTrip implements http.RoundTripper.
func (d *DigestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := d.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if req.Body != nil && req.Body != http.NoBody {
		return nil, errors.New("httpauth: DigestTransport sends no request body")
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	for _, ch := range resp.Header.Values("WWW-Authenticate") {
		a, err := Answer(ch, d.User, d.Password, req.Method, req.URL.RequestURI())
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		again := req.Clone(req.Context())
		again.Header.Set("Authorization", a)
		return base.RoundTrip(again)
	}
	return resp, nil
}
