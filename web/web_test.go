package web_test

import (
	"context"
	"fmt"
	"github.com/autoprov/autoprov"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/web"
)

func TestNewRefusesEmptyToken(t *testing.T) {
	if _, err := web.New(nil, slog.New(slog.DiscardHandler), "x"); err == nil {
		t.Error("New without a core succeeded")
	}
	e := newEnv(t)
	if _, err := web.New(e.core, nil, ""); err == nil {
		t.Error("New with an empty admin token succeeded")
	}
}

func TestSessionRequired(t *testing.T) {
	e := newEnv(t)
	e.get("/").want(t, http.StatusFound, "/ui/")
	for _, path := range []string{"/ui/", "/ui/inbox", "/ui/devices", "/ui/accounts", "/ui/devices/" + phoneMAC,
		"/ui/devices/" + phoneMAC + "/files/" + phoneMAC + ".cfg"} {
		e.get(path).want(t, http.StatusSeeOther, "/ui/login")
	}
	// A POST without a session changes nothing and goes to the login form.
	e.post("/ui/accounts", url.Values{"extension": {"201"}, "csrf": {"x"}}).want(t, http.StatusSeeOther, "/ui/login")
	if accts, _ := e.core.Accounts(context.Background()); len(accts) != 0 {
		t.Errorf("accounts after an unauthenticated POST: %v", accts)
	}
	// A made-up cookie is no session.
	u, _ := url.Parse(e.ts.URL + "/ui/")
	e.c.Jar.SetCookies(u, []*http.Cookie{{Name: "autoprov_session", Value: "forged", Path: "/ui"}})
	e.get("/ui/inbox").want(t, http.StatusSeeOther, "/ui/login")
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	e.get("/ui/login").want(t, http.StatusOK).has(t, `name="token"`, `type="password"`)

	p := e.post("/ui/login", url.Values{"token": {"wrong"}}).want(t, http.StatusUnauthorized).has(t, "Wrong token.", `name="token"`)
	if len(p.h.Values("Set-Cookie")) != 0 {
		t.Errorf("a wrong token got a cookie: %v", p.h.Values("Set-Cookie"))
	}
	e.post("/ui/login", url.Values{"token": {token + "x"}}).want(t, http.StatusUnauthorized)
	e.post("/ui/login", url.Values{}).want(t, http.StatusUnauthorized)

	p = e.post("/ui/login", url.Values{"token": {token}}).want(t, http.StatusSeeOther, "/ui/dashboard")
	cookie := p.h.Get("Set-Cookie")
	for _, attr := range []string{"autoprov_session=", "Path=/ui", "HttpOnly", "SameSite=Strict", "Max-Age=43200"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie over plain HTTP is Secure (browsers would drop it): %q", cookie)
	}
	e.get("/ui/inbox").want(t, http.StatusOK).has(t, "Inbox", "Log out")
	e.get("/ui/login").want(t, http.StatusSeeOther, "/ui/dashboard")
	e.get("/ui/").want(t, http.StatusFound, "/ui/dashboard")

	// Keep the old cookie to show the server forgot it, not just the browser.
	u, _ := url.Parse(e.ts.URL + "/ui/")
	old := e.c.Jar.Cookies(u)
	csrf := e.csrf()
	e.post("/ui/logout", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther, "/ui/login")
	e.get("/ui/inbox").want(t, http.StatusSeeOther, "/ui/login")
	e.c.Jar.SetCookies(u, old)
	e.get("/ui/inbox").want(t, http.StatusSeeOther, "/ui/login")
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.post("/ui/login", url.Values{"token": {"wrong"}}).want(t, http.StatusUnauthorized)
	}
	// Even the right token is refused now: no more guesses this minute.
	e.post("/ui/login", url.Values{"token": {token}}).want(t, http.StatusTooManyRequests).has(t, "Too many wrong tokens")
	e.get("/ui/inbox").want(t, http.StatusSeeOther, "/ui/login")
}

// TestLoginRefusesCrossSite: the login form has no session and so no CSRF
// token yet; a login POST the browser marks as coming from another site
// (Sec-Fetch-Site, no Origin header to give it away) is refused even with
// the right token, and leaves no session. One from the UI's own page, or
// typed by the user, logs in.
func TestLoginRefusesCrossSite(t *testing.T) {
	e := newEnv(t)
	login := func(c *http.Client, site string) page {
		t.Helper()
		req, err := http.NewRequest("POST", e.ts.URL+"/ui/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", site)
		return e.do(c, req)
	}
	for _, site := range []string{"cross-site", "same-site"} {
		p := login(e.c, site).want(t, http.StatusForbidden).has(t, "Cross-site request refused.")
		if c := p.h.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("a %s login got a cookie: %v", site, c)
		}
		e.get("/ui/inbox").want(t, http.StatusSeeOther, "/ui/login")
	}
	for _, site := range []string{"same-origin", "none"} {
		c := newClient(t)
		login(c, site).want(t, http.StatusSeeOther, "/ui/dashboard")
		req, _ := http.NewRequest("GET", e.ts.URL+"/ui/inbox", nil)
		e.do(c, req).want(t, http.StatusOK).has(t, "Log out")
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	e.login()
	good := e.csrf()

	other := newClient(t)
	e.postWith(other, "/ui/login", url.Values{"token": {token}}).want(t, http.StatusSeeOther)
	req, _ := http.NewRequest("GET", e.ts.URL+"/ui/accounts", nil)
	otherCSRF := csrfRE.FindStringSubmatch(e.do(other, req).body)[1]
	if otherCSRF == good {
		t.Fatal("two sessions share a CSRF token")
	}

	for name, form := range map[string]url.Values{
		"missing":       {"extension": {"201"}},
		"empty":         {"extension": {"201"}, "csrf": {""}},
		"wrong":         {"extension": {"201"}, "csrf": {"AAAA" + good[4:]}},
		"other session": {"extension": {"201"}, "csrf": {otherCSRF}},
	} {
		t.Run(name, func(t *testing.T) {
			e.post("/ui/accounts", form).want(t, http.StatusForbidden)
		})
	}
	if accts, _ := e.core.Accounts(context.Background()); len(accts) != 0 {
		t.Fatalf("an account was created without a valid CSRF token: %v", accts)
	}

	e.fetch()
	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"model": {"yealink/T46S"}}).want(t, http.StatusForbidden)
	if d := e.device(phoneMAC); d.State != autoprov.StateUnassigned {
		t.Errorf("adopted without a CSRF token: state %s", d.State)
	}
	e.post("/ui/logout", url.Values{}).want(t, http.StatusForbidden)
	e.get("/ui/inbox").want(t, http.StatusOK) // still logged in

	// A cross-site form is refused even with the token.
	req, _ = http.NewRequest("POST", e.ts.URL+"/ui/accounts", strings.NewReader(url.Values{"extension": {"201"}, "csrf": {good}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	e.do(e.c, req).want(t, http.StatusForbidden)

	// The right token works.
	e.post("/ui/accounts", url.Values{"extension": {"201"}, "csrf": {good}}).want(t, http.StatusSeeOther, "/ui/accounts")
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	check := func(what string, p page) {
		t.Helper()
		want := map[string]string{
			"Content-Security-Policy": "default-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Cache-Control":           "no-store",
		}
		for k, v := range want {
			if got := p.h.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", what, k, got, v)
			}
		}
	}
	check("GET /", e.get("/"))
	check("login form", e.get("/ui/login"))
	check("redirect to login", e.get("/ui/inbox"))
	check("wrong token", e.post("/ui/login", url.Values{"token": {"no"}}))
	css := e.get("/ui/static/style.css").want(t, http.StatusOK)
	check("stylesheet", css)
	if ct := css.h.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("stylesheet content type %q", ct)
	}
	e.get("/ui/static/../web.go").want(t, http.StatusNotFound)
	e.login()
	for _, path := range []string{"/ui/inbox", "/ui/devices", "/ui/accounts", "/ui/devices/000000000000"} {
		check(path, e.get(path))
	}
	check("CSRF refused", e.post("/ui/accounts", url.Values{}))
}

func TestNoExternalAssets(t *testing.T) {
	e := newEnv(t)
	check := func(path string) {
		t.Helper()
		p := e.get(path).want(t, http.StatusOK)
		p.lacks(t, "http://", "https://", "<script>", " style=", `src="//`)
		p.has(t, `<link rel="stylesheet" href="/ui/static/style.css">`)
	}
	check("/ui/login")
	e.login()
	e.fetch()
	check("/ui/inbox")
}

func TestInboxAndAdopt(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.get("/ui/inbox").want(t, http.StatusOK).has(t, "The inbox is empty")

	e.fetch()
	p := e.get("/ui/inbox").want(t, http.StatusOK)
	p.has(t, "00:15:65:12:34:56", "yealink", "T46S", "66.86.0.15", phoneIP, "just now", phoneMAC+".cfg",
		`action="/ui/devices/`+phoneMAC+`/adopt"`,
		`<option value="yealink/T46S" selected>T46S</option>`)
	p.lacks(t, "snom/", "The inbox is empty") // only the vendor's models are offered

	// Create an account through the UI, then adopt with it.
	csrf := e.csrf()
	e.post("/ui/accounts", url.Values{"csrf": {csrf}, "extension": {"201"}, "display_name": {"Alice"}}).want(t, http.StatusSeeOther)
	e.get("/ui/inbox").has(t, `<option value="201">Alice</option>`)

	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"},
		"account": {"201"}, "label": {"Reception"}}).want(t, http.StatusSeeOther, "/ui/devices/"+phoneMAC)

	d := e.device(phoneMAC)
	if d.State != autoprov.StateAssigned || d.Disclosure.State != autoprov.DisclosureOpen ||
		d.Label != "Reception" || strings.Join(d.Accounts, ",") != "201" || d.Model != "T46S" {
		t.Fatalf("after adopt: state %s, window %s, label %q, accounts %v, model %s", d.State, d.Disclosure.State, d.Label, d.Accounts, d.Model)
	}
	p = e.get("/ui/devices/"+phoneMAC).want(t, http.StatusOK)
	p.has(t, "00:15:65:12:34:56 adopted; its secrets go out on its next fetch within 10 minutes.",
		`<span class="state state-assigned">assigned</span>`, `class="state state-open">open, `, "Reception", "Alice",
		"Re-open secret window")
	// The flash is shown once.
	e.get("/ui/devices/"+phoneMAC).lacks(t, "adopted; its secrets")

	e.get("/ui/inbox").lacks(t, "00:15:65:12:34:56").has(t, "The inbox is empty")
	e.get("/ui/devices").want(t, http.StatusOK).has(t, "00:15:65:12:34:56", "Reception", "open, ", "1–1 of 1")

	ev, err := e.core.Audit(context.Background(), phoneMAC, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range ev {
		if a.Event == "device.adopted" {
			found = true
			if a.Actor != "ui@127.0.0.1" {
				t.Errorf("adopt audited as %q, want ui@127.0.0.1", a.Actor)
			}
		}
	}
	if !found {
		t.Errorf("no device.adopted in the audit log: %+v", ev)
	}

	// Adopting it again is refused and changes nothing.
	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T54W"}}).
		want(t, http.StatusConflict).has(t, "already adopted")
	if d := e.device(phoneMAC); d.Model != "T46S" {
		t.Errorf("a second adopt changed the model to %s", d.Model)
	}
}

func TestAdoptErrorsChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.fetch()
	csrf := e.csrf()
	adopt := func(form url.Values) page {
		form.Set("csrf", csrf)
		return e.post("/ui/devices/"+phoneMAC+"/adopt", form)
	}
	adopt(url.Values{"model": {"yealink/NOPE"}}).want(t, http.StatusBadRequest).has(t, "Adopting 00:15:65:12:34:56: ", "NOPE", "00:15:65:12:34:56")
	adopt(url.Values{"model": {"yealink/T46S"}, "account": {"999"}}).want(t, http.StatusBadRequest).has(t, "account 999 does not exist")
	adopt(url.Values{"model": {""}}).want(t, http.StatusBadRequest).has(t, "choose a model")
	adopt(url.Values{"model": {"yealink/T46S"}, "label": {"bad\nlabel"}}).want(t, http.StatusBadRequest).has(t, "label must be")
	if d := e.device(phoneMAC); d.State != autoprov.StateUnassigned || d.Label != "" || len(d.Accounts) != 0 {
		t.Fatalf("a refused adopt left state %s, label %q, accounts %v", d.State, d.Label, d.Accounts)
	}
	// A MAC the server has never seen is not created from the inbox form.
	e.post("/ui/devices/001565999999/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"}}).
		want(t, http.StatusNotFound).has(t, "not in the inbox")
	if _, err := e.core.Device(context.Background(), "001565999999"); err == nil {
		t.Error("adopting an unknown MAC created it")
	}
	e.post("/ui/devices/zzz/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"}}).want(t, http.StatusNotFound)

	// Without an account it is adopted, but no window opens.
	adopt(url.Values{"model": {"yealink/T46S"}}).want(t, http.StatusSeeOther)
	e.get("/ui/devices/"+phoneMAC).has(t, "adopted without an account")
	if d := e.device(phoneMAC); d.State != autoprov.StateAssigned || d.Disclosure.State != autoprov.DisclosureNone {
		t.Fatalf("adopted without account: state %s, window %s", d.State, d.Disclosure.State)
	}
}

func TestXSSInert(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	const escaped = `&lt;script&gt;alert(1)&lt;/script&gt;`
	e := newEnv(t)
	e.login()
	e.account("201", evil)
	e.fetch()
	csrf := e.csrf()
	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"},
		"account": {"201"}, "label": {evil}}).want(t, http.StatusSeeOther)
	if d := e.device(phoneMAC); d.Label != evil {
		t.Fatalf("label stored as %q", d.Label)
	}
	for _, path := range []string{"/ui/devices/" + phoneMAC, "/ui/devices", "/ui/accounts"} {
		e.get(path).want(t, http.StatusOK).has(t, escaped).lacks(t, evil, "<script>")
	}
	// An invalid value echoed back in a form is escaped too.
	e.post("/ui/accounts", url.Values{"csrf": {csrf}, "extension": {`"><script>alert(1)</script>`}}).
		want(t, http.StatusBadRequest).lacks(t, "<script>").has(t, "&#34;&gt;&lt;script&gt;")
	// So is a User-Agent a phone sent.
	_, _ = e.core.Provide(context.Background(), vendors.Request{Path: "001565abcdef.cfg",
		UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:ab:cd:ef " + evil, RemoteAddr: phoneIP})
	e.get("/ui/devices/001565abcdef").want(t, http.StatusOK).lacks(t, "<script>").has(t, escaped)
}

func TestReopenWindow(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.account("201", "Alice")
	e.fetch()
	csrf := e.csrf()
	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"}, "account": {"201"}}).want(t, http.StatusSeeOther)

	// The phone fetches its file: the window is consumed at the first
	// byte; the page says so while the transfer is in flight, and then
	// that it broke off.
	res, err := e.core.Provide(context.Background(), vendors.Request{Path: phoneMAC + ".cfg", UserAgent: phoneUA, RemoteAddr: phoneIP, Transport: "http"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Sending(); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/devices/"+phoneMAC).has(t, `state-consumed">consumed by `+phoneIP+" at ", "(transfer in flight)")
	res.Finish(false)
	e.get("/ui/devices/"+phoneMAC).has(t, `state-consumed">consumed by `+phoneIP+" at ", "secrets sent, transfer did not complete: re-open the window")
	e.get("/ui/devices").has(t, "consumed by "+phoneIP)

	e.post("/ui/devices/"+phoneMAC+"/disclosure", url.Values{}).want(t, http.StatusForbidden)
	if d := e.device(phoneMAC); d.Disclosure.State != autoprov.DisclosureConsumed {
		t.Fatalf("window %s after a refused re-open", d.Disclosure.State)
	}
	e.post("/ui/devices/"+phoneMAC+"/disclosure", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther, "/ui/devices/"+phoneMAC)
	if d := e.device(phoneMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("window %s after re-open, want open", d.Disclosure.State)
	}
	e.get("/ui/devices/"+phoneMAC).has(t, "Secret window re-opened: the next fetch within 10 minutes gets the secrets.", `state-open">open, `)

	// An inbox phone has no window to open.
	_, _ = e.core.Provide(context.Background(), vendors.Request{Path: "001565abcdef.cfg", UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:ab:cd:ef", RemoteAddr: phoneIP})
	e.post("/ui/devices/001565abcdef/disclosure", url.Values{"csrf": {csrf}}).want(t, http.StatusBadRequest).has(t, "unassigned")
	e.post("/ui/devices/001565000000/disclosure", url.Values{"csrf": {csrf}}).want(t, http.StatusNotFound)
}

func TestAccountCreate(t *testing.T) {
	e := newEnv(t)
	e.login()
	csrf := e.csrf()
	e.get("/ui/accounts").has(t, "No accounts yet.")
	e.post("/ui/accounts", url.Values{"csrf": {csrf}, "extension": {"202"}, "display_name": {"Bob Example"}}).
		want(t, http.StatusSeeOther, "/ui/accounts")
	a, err := e.core.Account(context.Background(), "202")
	if err != nil {
		t.Fatal(err)
	}
	if a.DisplayName != "Bob Example" || len(a.Password) < 8 {
		t.Fatalf("account %+v", a)
	}
	p := e.get("/ui/accounts").want(t, http.StatusOK)
	p.has(t, "Account 202 created; its password was generated and is never shown.", `data-label="Extension">202</td>`, "Bob Example")
	p.lacks(t, a.Password)

	e.post("/ui/accounts", url.Values{"csrf": {csrf}, "extension": {"202"}, "display_name": {"Again"}}).
		want(t, http.StatusConflict).has(t, "Extension 202 exists already.", `value="Again"`)
	e.post("/ui/accounts", url.Values{"csrf": {csrf}, "extension": {"bad ext"}}).
		want(t, http.StatusBadRequest).has(t, "extension must be")
	if accts, _ := e.core.Accounts(context.Background()); len(accts) != 1 {
		t.Errorf("%d accounts, want 1", len(accts))
	}
}

func TestDevicesFilterAndPaging(t *testing.T) {
	e := newEnv(t)
	e.login()
	for _, d := range [][3]string{{"805ec0aabb01", "yealink", "T54W"}, {"805ec0aabb02", "yealink", "T46S"}, {"000413aabb03", "snom", "D785"}} {
		mac, vendor, model := d[0], d[1], d[2]
		if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	e.fetch() // an inbox phone is not listed among devices
	e.get("/ui/devices").want(t, http.StatusOK).has(t, "80:5E:C0:AA:BB:01", "80:5E:C0:AA:BB:02", "00:04:13:AA:BB:03", "1–3 of 3", `state-none">none`).
		lacks(t, "00:15:65:12:34:56", "next →")
	p := e.get("/ui/devices?limit=2").want(t, http.StatusOK).has(t, "1–2 of 3", `href="/ui/devices?limit=2&amp;offset=2"`)
	p.lacks(t, "← previous")
	e.get("/ui/devices?limit=2&offset=2").want(t, http.StatusOK).has(t, "3–3 of 3", `href="/ui/devices?limit=2"`).lacks(t, "next →")
	e.get("/ui/devices?vendor=snom").want(t, http.StatusOK).has(t, "00:04:13:AA:BB:03", "1–1 of 1", `<option value="snom" selected>`).
		lacks(t, "80:5E:C0:AA:BB:01")
	e.get("/ui/devices?vendor=nope").want(t, http.StatusBadRequest)
	// Onboarding: every device here was added by hand (local), none provisioned.
	e.get("/ui/devices?onboarding=local").want(t, http.StatusOK).has(t, "1–3 of 3", `<option value="local" selected>`, `title="found on the network (its own fetch, DHCP, plug-and-play) or added by hand">local</span>`)
	e.get("/ui/devices?onboarding=provisioned").want(t, http.StatusOK).lacks(t, "80:5E:C0:AA:BB:01")
	e.get("/ui/devices?onboarding=nope").want(t, http.StatusBadRequest)
	e.get("/ui/devices?limit=0").want(t, http.StatusBadRequest)
	e.get("/ui/devices?offset=-1").want(t, http.StatusBadRequest)
	e.get("/ui/devices?limit=x").want(t, http.StatusBadRequest)
}

func TestDevicePageAndPreview(t *testing.T) {
	e := newEnv(t)
	e.login()
	pass := "Sip-Pass-201-xyz"
	ext, name := "201", "Alice"
	if _, err := e.core.CreateAccount(context.Background(), autoprov.AccountInput{Extension: &ext, DisplayName: &name, Password: &pass}, "test"); err != nil {
		t.Fatal(err)
	}
	mac, model := "80:5E:C0:AA:BB:01", "T54W"
	keys := []autoprov.KeySpec{{Position: 2, Type: vendors.KeyBLF, Value: "202", Label: "Bob"}}
	if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Model: &model, Accounts: &[]string{"201"}, Keys: &keys}, "test"); err != nil {
		t.Fatal(err)
	}
	p := e.get("/ui/devices/80-5e-c0-aa-bb-01").want(t, http.StatusOK) // any notation
	p.has(t, "80:5E:C0:AA:BB:01", "T54W", "Alice", "<td>BLF</td>", "Bob", `id="onboarding-state">Onboarding: <span class="state">local</span>`,
		`href="/ui/devices/805ec0aabb01/files/805ec0aabb01.cfg"`)
	p.lacks(t, pass)

	p = e.get("/ui/devices/805ec0aabb01/files/805ec0aabb01.cfg").want(t, http.StatusOK)
	p.has(t, "********", "account.1.").lacks(t, pass)
	if !strings.Contains(p.body, `<pre class="preview"`) {
		t.Errorf("preview not in a <pre>:\n%s", p.body)
	}
	e.get("/ui/devices/805ec0aabb01/files/nope.txt").want(t, http.StatusNotFound)
	e.get("/ui/devices/805ec0aabb01/files/..%2f..%2fetc%2fpasswd").want(t, http.StatusBadRequest)
	e.get("/ui/devices/000000000001").want(t, http.StatusNotFound)
	e.get("/ui/devices/not-a-mac").want(t, http.StatusNotFound)

	// An inbox phone's page has no window and no files.
	e.fetch()
	e.get("/ui/devices/"+phoneMAC).want(t, http.StatusOK).has(t, "state-unassigned", "adopt it there").lacks(t, "Re-open secret window", "/files/")
}

// The API keeps its own answers: mounting the UI changes nothing there.
func TestAPIUntouched(t *testing.T) {
	e := newEnv(t)
	e.get("/api/v1/devices").want(t, http.StatusUnauthorized)
	e.login()
	e.get("/api/v1/devices").want(t, http.StatusUnauthorized) // the cookie is not a bearer token
}

// TestInboxPaged: the inbox shows a page at a time, newest first, with
// links to the older and newer pages (bounded discovery: it may hold
// thousands of phones).
func TestInboxPaged(t *testing.T) {
	e := newEnv(t)
	e.login()
	for i := range 120 {
		mac := fmt.Sprintf("0015650100%02x", i)
		// One source address per phone: the inbox's per-source rate does not apply.
		_, _ = e.core.Provide(context.Background(), vendors.Request{Path: mac + ".cfg",
			UserAgent: "Yealink SIP-T46S 66.86.0.15 " + mac, RemoteAddr: fmt.Sprintf("192.0.2.%d", i)})
	}
	first := e.get("/ui/inbox").want(t, http.StatusOK).has(t, "1–50 of 120", `href="/ui/inbox?offset=50"`)
	if n := strings.Count(first.body, `class="adopt"`); n != 50 {
		t.Errorf("%d phones on the first page, want 50", n)
	}
	last := e.get("/ui/inbox?offset=100").want(t, http.StatusOK).has(t, "101–120 of 120", `href="/ui/inbox?offset=50"`)
	if n := strings.Count(last.body, `class="adopt"`); n != 20 {
		t.Errorf("%d phones on the last page, want 20", n)
	}
	e.get("/ui/inbox?limit=0").want(t, http.StatusBadRequest)
}

// TestResyncButton: the device page's Resync button (CSRF-protected)
// shows the phone's answer; a device never seen gets a clear conflict.
func TestResyncButton(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.account("201", "Alice")
	e.fetch()
	csrf := e.csrf()
	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"}, "account": {"201"}}).want(t, http.StatusSeeOther)
	e.get("/ui/devices/"+phoneMAC).has(t, `action="/ui/devices/`+phoneMAC+`/resync"`, ">Resync</button>")

	e.post("/ui/devices/"+phoneMAC+"/resync", url.Values{}).want(t, http.StatusForbidden)
	e.post("/ui/devices/"+phoneMAC+"/resync", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther, "/ui/devices/"+phoneMAC)
	e.get("/ui/devices/"+phoneMAC).has(t, "Resync sent: 200 OK.")
	e.post("/ui/devices/"+phoneMAC+"/resync", url.Values{"csrf": {csrf}, "reboot": {"1"}}).want(t, http.StatusSeeOther)
	e.get("/ui/devices/"+phoneMAC).has(t, "Reboot sent: 200 OK.")
	evs, err := e.core.Audit(context.Background(), phoneMAC, 10)
	if err != nil || len(evs) < 2 || evs[0].Event != autoprov.EventDeviceResync || !strings.HasPrefix(evs[0].Actor, "ui@") || evs[0].Detail != "reboot=true: sent (200 OK)" {
		t.Fatalf("audit: %+v %v", evs, err)
	}

	mac, model := "001565654321", "T46S"
	if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Model: &model}, "test"); err != nil {
		t.Fatal(err)
	}
	e.post("/ui/devices/"+mac+"/resync", url.Values{"csrf": {csrf}}).want(t, http.StatusConflict).has(t, "no address of the phone is known")
	e.post("/ui/devices/001565000000/resync", url.Values{"csrf": {csrf}}).want(t, http.StatusNotFound)
}

// TestAccountChoiceAtScale: the inbox and the device page offer the
// accounts once per page (one datalist), not once per phone or line: with
// a select each, 3,000 accounts made the inbox 3.6 MB. A refused adoption
// keeps what was typed in its row.
func TestAccountChoiceAtScale(t *testing.T) {
	e := newEnv(t)
	for i := range 40 {
		e.account(fmt.Sprintf("4%02d", i), fmt.Sprintf("User %d", i))
	}
	e.fetch()
	for _, mac := range []string{"001565000001", "001565000002"} {
		_, _ = e.core.Provide(context.Background(), vendors.Request{Path: mac + ".cfg", RemoteAddr: phoneIP, Transport: "http",
			UserAgent: "Yealink SIP-T46S 66.86.0.15 " + vendors.ColonMAC(mac)})
	}
	e.login()
	p := e.get("/ui/inbox").want(t, http.StatusOK)
	if n := strings.Count(p.body, `<option value="401"`); n != 1 {
		t.Errorf("the inbox offers account 401 %d times, want once", n)
	}
	form := url.Values{"csrf": {e.csrf()}, "model": {"yealink/T46S"}, "account": {"999"}, "label": {"Flur 2"}}
	p = e.post("/ui/devices/"+phoneMAC+"/adopt", form).want(t, http.StatusBadRequest).has(t, "account 999 does not exist")
	row := p.body[strings.Index(p.body, `id="phone-`+phoneMAC+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `value="999"`) || !strings.Contains(row, `value="Flur 2"`) {
		t.Errorf("the refused row lost what was typed:\n%s", row)
	}
	form.Set("account", "401")
	e.post("/ui/devices/"+phoneMAC+"/adopt", form).want(t, http.StatusSeeOther)
	p = e.get("/ui/devices/"+phoneMAC).want(t, http.StatusOK)
	if n := strings.Count(p.body, `<option value="402"`); n != 1 {
		t.Errorf("the device page offers account 402 %d times, want once", n)
	}
	if !strings.Contains(p.body, `name="account" list="accounts" value="401"`) {
		t.Errorf("the device page does not show line 1's account")
	}
}
