package httpauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDigestTransport: a request answered 401 with a challenge is sent
// once more with the answer; a wrong password ends at the second 401; a
// request the server answers at once is sent once.
func TestDigestTransport(t *testing.T) {
	s := NewServer("autoprov", time.Minute, nil, nil)
	var calls int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Path == "/open" {
			io.WriteString(w, "open")
			return
		}
		if s.Verify(Parse(r.Header.Get("Authorization")), "u", "pw", r.Method, r.URL.RequestURI(), false) != OK {
			for _, c := range s.Challenges(true, false, false) {
				w.Header().Add("WWW-Authenticate", c)
			}
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "config")
	}))
	defer ts.Close()
	get := func(pass, path string) (int, string) {
		t.Helper()
		c := &http.Client{Transport: &DigestTransport{Base: ts.Client().Transport, User: "u", Password: pass}}
		resp, err := c.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("pw", "/prov/x.cfg?a=1"); code != 200 || body != "config" || calls != 2 {
		t.Errorf("right password: %d %q after %d requests, want 200 after 2", code, body, calls)
	}
	calls = 0
	if code, _ := get("other", "/prov/x.cfg"); code != 401 || calls != 2 {
		t.Errorf("wrong password: %d after %d requests, want 401 after 2", code, calls)
	}
	calls = 0
	if code, body := get("pw", "/open"); code != 200 || body != "open" || calls != 1 {
		t.Errorf("no challenge: %d %q after %d requests, want 200 after 1", code, body, calls)
	}
}
