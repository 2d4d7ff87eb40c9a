package web_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/internal/testlog"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
	"github.com/autoprov/autoprov/web"
)

// loginHandler is the UI on the HTTP edge over a real core, for requests
// in process (so each can come from its own address), logging into log.
func loginHandler(t *testing.T, log *slog.Logger) http.Handler {
	t.Helper()
	st, err := store.Open(t.TempDir() + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log}, st)
	ui, err := web.New(inv, log, token)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Log: log, AdminToken: token, Mount: ui.Mount})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}

// loginFrom posts the login form with tok from the address ip.
func loginFrom(h http.Handler, ip, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/ui/login", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = net.JoinHostPort(ip, "40000")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestLoginFloodCannotLockOut (issue [5], found 6): after 10,000 wrong
// logins from 10,000 loopback addresses, the right token from a fresh
// address logs in at once, and so does one from an address of the flood
// that has guesses left.
func TestLoginFloodCannotLockOut(t *testing.T) {
	h := loginHandler(t, slog.New(slog.DiscardHandler))
	const n = 12000 // the acceptance asks 10,000; more than the 10,000 clients remembered shows the old shared bucket
	for i := range n {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+i/65536, i/256%256, i%256)
		if rec := loginFrom(h, ip, "wrong-"+strconv.Itoa(i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong login %d from %s: %d, want 401", i, ip, rec.Code)
		}
	}
	for _, ip := range []string{"127.200.0.1", "127.1.0.1", "::1"} {
		rec := loginFrom(h, ip, token)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/dashboard" || !strings.Contains(rec.Header().Get("Set-Cookie"), "autoprov_session=") {
			t.Errorf("right token from %s after the flood: %d %q, want 303 to the dashboard with a session", ip, rec.Code, rec.Header().Get("Location"))
		}
	}
}

// TestLoginThrottled: five wrong tokens from one address, then 429 with
// Retry-After for that address whatever it sends, while another logs in;
// every wrong token is one "authentication failed" line with the address,
// throttled attempts at most one line a minute, no line holds a token.
func TestLoginThrottled(t *testing.T) {
	logBuf := &testlog.Buffer{}
	h := loginHandler(t, slog.New(slog.NewTextHandler(logBuf, nil)))
	const bad = "192.0.2.77"
	for i := range 5 {
		if rec := loginFrom(h, bad, "guess-77a"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i+1, rec.Code)
		}
	}
	for _, tok := range []string{"guess-77a", token, "guess-77a"} {
		rec := loginFrom(h, bad, tok)
		ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if rec.Code != http.StatusTooManyRequests || err != nil || ra < 1 || ra > 12 {
			t.Errorf("throttled login: %d, Retry-After %q; want 429 and 1..12 s", rec.Code, rec.Header().Get("Retry-After"))
		}
		if !strings.Contains(rec.Body.String(), "Too many wrong tokens") {
			t.Errorf("throttled login page does not say why")
		}
	}
	if rec := loginFrom(h, "192.0.2.78", token); rec.Code != http.StatusSeeOther {
		t.Errorf("another address: %d, want 303", rec.Code)
	}
	log := logBuf.String()
	if n := strings.Count(log, `msg="authentication failed" component=web remote=192.0.2.77 via=ui reason="wrong token"`); n != 5 {
		t.Errorf("%d wrong-token lines, want 5:\n%s", n, log)
	}
	if n := strings.Count(log, `msg="authentication failed" component=web remote=192.0.2.77 via=ui reason=throttled`); n != 1 {
		t.Errorf("%d throttled lines, want 1:\n%s", n, log)
	}
	if strings.Contains(log, "guess-77a") || strings.Contains(log, token) {
		t.Error("the log holds a token")
	}
}

// TestLoginThrottledPer64: the login's guesses are counted per IPv6 /64,
// not per address: five wrong tokens from five addresses of one /64 and
// the sixth address of it is told to wait, even with the right token;
// another /64 logs in.
func TestLoginThrottledPer64(t *testing.T) {
	h := loginHandler(t, slog.New(slog.DiscardHandler))
	for i := range 5 {
		if rec := loginFrom(h, fmt.Sprintf("2001:db8:7:7::%x", i+1), "guess-64"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i+1, rec.Code)
		}
	}
	if rec := loginFrom(h, "2001:db8:7:7:abcd::1", token); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", rec.Code)
	}
	if rec := loginFrom(h, "2001:db8:7:8::1", token); rec.Code != http.StatusSeeOther {
		t.Errorf("another /64: %d, want 303", rec.Code)
	}
}
