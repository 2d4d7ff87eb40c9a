package web_test

import (
	"context"
	"errors"
	"github.com/autoprov/autoprov"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
	"github.com/autoprov/autoprov/web"
)

const (
	token = "ui-test-token-0123456789"
	// phoneUA is a Yealink T46S that names its MAC, as its firmware does.
	phoneUA  = "Yealink SIP-T46S 66.86.0.15 00:15:65:12:34:56"
	phoneMAC = "001565123456"
	phoneIP  = "192.0.2.3"
)

// core is both services of the core, as main wires them.
type core struct {
	*provision.Phones
	*provision.Inventory
}

// env is the UI mounted on the real HTTP edge over a real core and a
// real SQLite file, served on loopback.
type env struct {
	t    *testing.T
	core *core
	ts   *httptest.Server
	c    *http.Client // with a cookie jar; does not follow redirects
	st   *store.Store // the SQLite file, for rows the core would refuse
}

// newEnv builds the env; opts are added to the UI's (misses, firmware).
func newEnv(t *testing.T, opts ...web.Option) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log, Resync: phoneAnswers{}}, st)
	core := &core{phones, inv}
	fw, err := firmware.Open(context.Background(), dir+"/firmware", st, reg)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := web.New(inv, log, token, append([]web.Option{web.WithMisses(phones.RecentMisses), web.WithFirmware(fw, inv)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Log: log, AdminToken: token, Mount: ui.Mount})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, core: core, ts: ts, c: newClient(t), st: st}
}

// newClient is a browser-like client: cookies, no redirects followed.
func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// page is a response with its body read.
type page struct {
	code int
	h    http.Header
	body string
	loc  string
}

func (e *env) do(c *http.Client, req *http.Request) page {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return page{code: resp.StatusCode, h: resp.Header, body: string(b), loc: resp.Header.Get("Location")}
}

func (e *env) get(path string) page {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.ts.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(e.c, req)
}

// post sends a form as a browser on the UI's own page would.
func (e *env) post(path string, form url.Values) page {
	e.t.Helper()
	return e.postWith(e.c, path, form)
}

func (e *env) postWith(c *http.Client, path string, form url.Values) page {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(c, req)
}

// want fails unless p has the status (and, for a redirect, the location).
func (p page) want(t *testing.T, code int, loc ...string) page {
	t.Helper()
	if p.code != code {
		t.Fatalf("status %d, want %d; location %q; body:\n%s", p.code, code, p.loc, p.body)
	}
	if len(loc) > 0 && p.loc != loc[0] {
		t.Fatalf("redirect to %q, want %q", p.loc, loc[0])
	}
	return p
}

// has fails unless the body holds every string.
func (p page) has(t *testing.T, s ...string) page {
	t.Helper()
	for _, x := range s {
		if !strings.Contains(p.body, x) {
			t.Errorf("page lacks %q; body:\n%s", x, p.body)
		}
	}
	return p
}

// lacks fails when the body holds one of the strings.
func (p page) lacks(t *testing.T, s ...string) page {
	t.Helper()
	for _, x := range s {
		if strings.Contains(p.body, x) {
			t.Errorf("page holds %q; body:\n%s", x, p.body)
		}
	}
	return p
}

func (e *env) login() {
	e.t.Helper()
	e.post("/ui/login", url.Values{"token": {token}}).want(e.t, http.StatusSeeOther, "/ui/dashboard")
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the session's CSRF token, read from a page as a browser has it.
func (e *env) csrf() string {
	e.t.Helper()
	p := e.get("/ui/accounts").want(e.t, http.StatusOK)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		e.t.Fatalf("no CSRF field on the page:\n%s", p.body)
	}
	return m[1]
}

// fetch simulates the phone asking for its own file: the core records it
// (unassigned) and answers not found.
func (e *env) fetch() {
	e.t.Helper()
	_, err := e.core.Provide(context.Background(), vendors.Request{Path: phoneMAC + ".cfg", UserAgent: phoneUA, RemoteAddr: phoneIP, Transport: "http"})
	if !errors.Is(err, autoprov.ErrNotFound) {
		e.t.Fatalf("an unknown phone's fetch: %v, want not found", err)
	}
}

// account creates an account through the core.
func (e *env) account(ext, name string) {
	e.t.Helper()
	if _, err := e.core.CreateAccount(context.Background(), autoprov.AccountInput{Extension: &ext, DisplayName: &name}, "test"); err != nil {
		e.t.Fatal(err)
	}
}

// device returns a device from the core.
func (e *env) device(mac string) autoprov.Device {
	e.t.Helper()
	d, err := e.core.Device(context.Background(), mac)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// phoneAnswers stands for the network in resyncs: every phone answers
// 200 OK (server/resync and cmd/autoprov test the real thing).
type phoneAnswers struct{}

func (phoneAnswers) SendSIP(context.Context, netip.AddrPort, vendors.SIPRequest) (int, string, error) {
	return 200, "OK", nil
}
