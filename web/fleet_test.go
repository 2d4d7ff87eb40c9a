package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// getLang GETs a page as a browser whose Accept-Language is lang.
func (e *env) getLang(path, lang string) page {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.ts.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", lang)
	return e.do(e.c, req)
}

// fleetMAC is the MAC of fleet device i.
func fleetMAC(i int) string { return fmt.Sprintf("805ec00000%02x", i) }

// fleet adopts n Yealink T46S phones, device i with account 30i and label
// labels[i] (or "desk i"), all in one bulk change: every window is open.
func (e *env) fleet(n int, labels ...string) {
	e.t.Helper()
	var in autoprov.BulkInput
	for i := range n {
		ext, name := fmt.Sprintf("3%02d", i), fmt.Sprintf("User %d", i)
		in.Accounts = append(in.Accounts, autoprov.AccountInput{Extension: &ext, DisplayName: &name})
		mac, vendor, model, label := fleetMAC(i), "yealink", "T46S", fmt.Sprintf("desk %d", i)
		if i < len(labels) {
			label = labels[i]
		}
		in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model, Label: &label, Accounts: &[]string{ext}})
	}
	if _, err := e.core.Bulk(context.Background(), in, false, "test"); err != nil {
		e.t.Fatal(err)
	}
}

var rowRE = regexp.MustCompile(`<tr id="device-([0-9a-f]{12})">`)

// rows lists the MACs of the device list's rows, in order.
func rows(p page) []string {
	var out []string
	for _, m := range rowRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDashboard: the tallies, the open windows with their countdown, the
// latest misses with their reason, every time in the fleet's zone with
// the zone named, and all of it in German for Accept-Language: de.
func TestDashboard(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.fetch() // a phone in the inbox, and a miss
	e.fleet(3)
	tz := "Europe/Berlin"
	if _, err := e.core.PutSettings(context.Background(), autoprov.SettingsPatch{Timezone: &tz}, "test"); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/").want(t, http.StatusFound, "/ui/dashboard")
	p := e.get("/ui/dashboard").want(t, http.StatusOK)
	p.has(t, `id="tile-assigned"><span class="n">3</span>`, `id="tile-inbox"><span class="n">1</span>`,
		`id="tile-seen"><span class="n">1</span>`, `id="tile-windows"><span class="n">3</span>`,
		`<a href="/ui/devices?vendor=yealink">yealink</a> <span class="n">3</span>`,
		`<a href="/ui/devices?onboarding=local">local</a> <span class="n">3</span>`,
		"Times are in Europe/Berlin.", `class="countdown" data-until="`, `data-left="%s left"`,
		"/ui/devices/"+fleetMAC(0), "/ui/devices/"+fleetMAC(2))
	// The miss of the unknown phone, with the reason only the admin sees.
	if !regexp.MustCompile(`<td data-label="File" class="file">` + phoneMAC + `\.cfg</td>`).MatchString(p.body) {
		t.Errorf("dashboard lacks the miss of %s.cfg:\n%s", phoneMAC, p.body)
	}
	// Berlin is CET in winter and CEST in summer (the times are the real
	// clock's); no time is shown in UTC.
	if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T\b`).MatchString(p.body) || strings.Contains(p.body, " UTC") {
		t.Errorf("times not in Europe/Berlin:\n%s", p.body)
	}

	de := e.getLang("/ui/dashboard", "de-DE,de;q=0.9,en;q=0.5").want(t, http.StatusOK)
	de.has(t, `<html lang="de">`, "<h1>Übersicht</h1>", "übernommene Telefone", "Offene Geheimnisfenster",
		"Zeiten in Europe/Berlin.", `data-left="noch %s"`, "Letzte Fehlabrufe", ">Geräte</a>", ">Abmelden</button>")
	de.lacks(t, ">Dashboard<", "adopted phones", "Open secret windows", "Latest misses", ">Log out<", "Times are in")
}

// TestDashboardOne: one adopted phone with one open window is "1 adopted
// phone", "1 open secret window" (German "1 übernommenes Telefon"), not
// the plural.
func TestDashboardOne(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.fleet(1)
	p := e.get("/ui/dashboard").want(t, http.StatusOK)
	p.has(t, `id="tile-assigned"><span class="n">1</span> adopted phone</a>`, `id="tile-windows"><span class="n">1</span> open secret window</a>`)
	de := e.getLang("/ui/dashboard", "de").want(t, http.StatusOK)
	de.has(t, `<span class="n">1</span> übernommenes Telefon</a>`, `<span class="n">1</span> offenes Geheimnisfenster</a>`)
}

// TestDeviceSearchSortFilter: one search box finds a MAC in any notation,
// a label, an extension; the filters and the column sort keep each other
// in their links.
func TestDeviceSearchSortFilter(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.fleet(5, "c", "a", "e", "b", "d")
	for q, want := range map[string]string{
		"80-5E-C0-00-00-02": fleetMAC(2), "805ec0.0000.03": fleetMAC(3), "80:5e:c0:00:00:04": fleetMAC(4),
		"b": fleetMAC(3), "301": fleetMAC(1), "User 4": fleetMAC(4),
	} {
		p := e.get("/ui/devices?q="+url.QueryEscape(q)).want(t, http.StatusOK)
		if got := rows(p); len(got) != 1 || got[0] != want {
			t.Errorf("q=%q: rows %v, want [%s]", q, got, want)
		}
	}
	if got := rows(e.get("/ui/devices?sort=label").want(t, http.StatusOK)); strings.Join(got, ",") != strings.Join([]string{fleetMAC(1), fleetMAC(3), fleetMAC(0), fleetMAC(4), fleetMAC(2)}, ",") {
		t.Errorf("sort=label: %v", got)
	}
	p := e.get("/ui/devices?sort=-label&q=805ec0").want(t, http.StatusOK)
	if got := rows(p); len(got) != 5 || got[0] != fleetMAC(2) || got[4] != fleetMAC(1) {
		t.Errorf("sort=-label: %v", got)
	}
	// The current column is marked and its link turns the order round,
	// keeping the search.
	p.has(t, `aria-sort="descending"><a href="/ui/devices?q=805ec0&amp;sort=label">`)
	p = e.get("/ui/devices?limit=2&sort=label").want(t, http.StatusOK)
	p.has(t, `href="/ui/devices?limit=2&amp;offset=2&amp;sort=label"`, "1–2 of 5")
	e.get("/ui/devices?seen=hour").want(t, http.StatusOK).has(t, "No device matches.")
	e.get("/ui/devices?model=T46S&state=all&onboarding=local&seen=week").want(t, http.StatusOK)
	e.get("/ui/devices?model=T54W").want(t, http.StatusOK).has(t, "No device matches.")
	// No model has a firmware target: every phone's status is none.
	if got := rows(e.get("/ui/devices?firmware=none&sort=label&limit=2&offset=1").want(t, http.StatusOK).has(t, "2–3 of 5")); len(got) != 2 || got[0] != fleetMAC(3) {
		t.Errorf("firmware=none, page 2 by label: %v", got)
	}
	e.get("/ui/devices?firmware=failed").want(t, http.StatusOK).has(t, "No device matches.")
	e.get("/ui/devices?firmware=on+target&q=b").want(t, http.StatusOK).has(t, "No device matches.")
	for _, bad := range []string{"firmware=broken", "sort=password", "seen=year", "state=gone", "onboarding=nope", "vendor=acme"} {
		e.get("/ui/devices?"+bad).want(t, http.StatusBadRequest)
	}
}

// TestBulkActions: re-open windows, set a key profile, resync and delete
// (after a confirmation page) for a selection; nothing without a
// selection or without the CSRF token.
func TestBulkActions(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.fleet(5)
	csrf := e.csrf()
	ctx := context.Background()
	// Consume nothing, but close the windows: expire them by re-opening
	// only after they are consumed is not possible here, so compare the
	// audit: every re-open writes one disclosure.opened event.
	opened := func(mac string) int {
		evs, err := e.core.Audit(ctx, mac, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Event == autoprov.EventDisclosureOpened {
				n++
			}
		}
		return n
	}
	pick := url.Values{"csrf": {csrf}, "back": {"/ui/devices?sort=label"}, "mac": {fleetMAC(0), "80-5E-C0-00-00-01", "805ec0.0000.02"}}
	with := func(action string, extra ...string) url.Values {
		v := url.Values{}
		for k, vs := range pick {
			v[k] = vs
		}
		v.Set("action", action)
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	before := opened(fleetMAC(0))
	e.post("/ui/devices/bulk", with("reopen")).want(t, http.StatusSeeOther, "/ui/devices?sort=label")
	e.get("/ui/devices").has(t, "Secret windows re-opened: 3 of 3.")
	for i := range 5 {
		if want := before + map[bool]int{true: 1}[i < 3]; opened(fleetMAC(i)) != want {
			t.Errorf("device %d: %d windows opened, want %d", i, opened(fleetMAC(i)), want)
		}
	}

	if _, err := e.core.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "desk"}, true, "test"); err != nil {
		t.Fatal(err)
	}
	e.post("/ui/devices/bulk", with("profile", "profile", "desk")).want(t, http.StatusSeeOther)
	e.get("/ui/devices").has(t, "Key profile desk set on 3 devices.")
	for i := range 5 {
		if got, want := e.device(fleetMAC(i)).KeyProfile, map[bool]string{true: "desk"}[i < 3]; got != want {
			t.Errorf("device %d profile %q, want %q", i, got, want)
		}
	}
	// The profile's page lists them.
	e.get("/ui/profiles/desk").want(t, http.StatusOK).has(t, `id="profile-devices"`, "/ui/devices/"+fleetMAC(2)).lacks(t, "/ui/devices/"+fleetMAC(3))
	e.post("/ui/devices/bulk", with("profile", "profile", "nope")).want(t, http.StatusSeeOther)
	e.get("/ui/devices").has(t, "Key profile not set; nothing was changed.")
	if e.device(fleetMAC(0)).KeyProfile != "desk" {
		t.Error("a refused bulk profile change changed a device")
	}

	// Two of the three have fetched, so their address is known.
	for _, i := range []int{0, 1} {
		if _, err := e.core.Provide(ctx, vendors.Request{Path: fleetMAC(i) + ".cfg", UserAgent: "Yealink SIP-T46S 66.86.0.15 " + fleetMAC(i),
			RemoteAddr: fmt.Sprintf("192.0.2.%d", 10+i), Transport: "http"}); err != nil {
			t.Fatal(err)
		}
	}
	e.post("/ui/devices/bulk", with("resync")).want(t, http.StatusSeeOther)
	e.get("/ui/devices").has(t, "Resync sent: 2 of 3. 80:5E:C0:00:00:02: no_address (no address of the phone is known")

	p := e.post("/ui/devices/bulk", with("delete")).want(t, http.StatusOK)
	p.has(t, "Delete 3 devices?", "80:5E:C0:00:00:01", `value="delete-confirmed"`)
	if _, _, err := e.core.Devices(ctx, autoprov.DeviceFilter{}); err != nil || len(rows(e.get("/ui/devices"))) != 5 {
		t.Fatal("the confirmation page deleted something")
	}
	e.post("/ui/devices/bulk", with("delete-confirmed")).want(t, http.StatusSeeOther)
	p = e.get("/ui/devices").has(t, "Devices deleted: 3 of 3.")
	if got := rows(p); len(got) != 2 || got[0] != fleetMAC(3) {
		t.Errorf("after the bulk delete: %v", got)
	}

	e.post("/ui/devices/bulk", url.Values{"csrf": {csrf}, "action": {"reopen"}}).want(t, http.StatusSeeOther, "/ui/")
	e.get("/ui/devices").has(t, "No device selected")
	noCSRF := with("delete-confirmed")
	noCSRF.Del("csrf")
	noCSRF.Set("mac", fleetMAC(3))
	e.post("/ui/devices/bulk", noCSRF).want(t, http.StatusForbidden)
	e.device(fleetMAC(3))
	e.post("/ui/devices/bulk", with("explode")).want(t, http.StatusBadRequest)
	// A back link off this UI is not followed.
	v := with("reopen")
	v.Set("back", "//evil.example/")
	v.Set("mac", fleetMAC(3))
	e.post("/ui/devices/bulk", v).want(t, http.StatusSeeOther, "/ui/")
}

// TestAccountsEditDelete: the account list is paged and searchable; an
// account's display name changes, a new password is generated without
// ever being shown, and an account is deleted only when no device uses it.
func TestAccountsEditDelete(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.fleet(1)
	for i := range 55 {
		e.account(fmt.Sprintf("4%02d", i), fmt.Sprintf("Extra %d", i))
	}
	p := e.get("/ui/accounts").want(t, http.StatusOK).has(t, "1–50 of 56", `href="/ui/accounts?offset=50"`)
	e.get("/ui/accounts?offset=50").want(t, http.StatusOK).has(t, "51–56 of 56", `id="account-454"`)
	e.get("/ui/accounts?q=Extra+1").want(t, http.StatusOK).has(t, "1–11 of 11")
	_ = p

	csrf := e.csrf()
	old, _ := e.core.Account(context.Background(), "300")
	e.get("/ui/accounts/300").want(t, http.StatusOK).has(t, `value="User 0"`, "/ui/devices/"+fleetMAC(0)).lacks(t, old.Password)
	e.post("/ui/accounts/300", url.Values{"csrf": {csrf}, "display_name": {"Reception"}, "auth_user": {""}, "new_password": {"1"}}).
		want(t, http.StatusSeeOther, "/ui/accounts/300")
	now, _ := e.core.Account(context.Background(), "300")
	if now.DisplayName != "Reception" || now.Password == old.Password || now.Password == "" {
		t.Errorf("account after the edit: %q, password changed %v", now.DisplayName, now.Password != old.Password)
	}
	e.get("/ui/accounts/300").has(t, "Account 300 saved. A new password was generated", `value="Reception"`).lacks(t, now.Password, old.Password)
	// A bad display name is refused, keeps what was typed, saves nothing.
	e.post("/ui/accounts/300", url.Values{"csrf": {csrf}, "display_name": {"bad\x01name"}}).want(t, http.StatusBadRequest).has(t, "Not saved:")
	if a, _ := e.core.Account(context.Background(), "300"); a.DisplayName != "Reception" {
		t.Errorf("a refused edit saved %q", a.DisplayName)
	}

	e.get("/ui/accounts/300/delete").want(t, http.StatusOK).has(t, "Devices still use it:")
	e.post("/ui/accounts/300/delete", url.Values{"csrf": {csrf}}).want(t, http.StatusConflict).has(t, "Not deleted: devices still use it.")
	e.get("/ui/accounts/401/delete").want(t, http.StatusOK).has(t, "Delete account 401?", "no device uses it")
	e.post("/ui/accounts/401/delete", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther, "/ui/accounts")
	if _, err := e.core.Account(context.Background(), "401"); err == nil {
		t.Error("account 401 not deleted")
	}
	e.post("/ui/accounts/402/delete", url.Values{}).want(t, http.StatusForbidden)
	e.get("/ui/accounts/999").want(t, http.StatusNotFound)
}

// TestLanguageSwitch: the switch sticks over Accept-Language, goes back to
// the page it was used on and nowhere else; settings and device pages are
// German throughout.
func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.adopted()
	e.getLang("/ui/settings", "en").has(t, `<html lang="en">`, "<h1>Settings</h1>", `href="/ui/lang/de?back=%2fui%2fsettings"`)
	e.get("/ui/lang/de?back=/ui/settings").want(t, http.StatusSeeOther, "/ui/settings")
	s := e.getLang("/ui/settings", "en-US,en").want(t, http.StatusOK)
	s.has(t, `<html lang="de">`, "<h1>Einstellungen</h1>", "SIP-Server", "Zeitzone", "Einstellungen speichern", "de – Deutsch", "DE – Deutschland")
	s.lacks(t, "Save settings", "Time zone", "Tone scheme", "– German", "– Germany")
	d := e.get("/ui/devices/"+phoneMAC).want(t, http.StatusOK)
	d.has(t, "Geheimnisfenster", "Tasten speichern", "Wirksame Belegung", "zugewiesen", "offen, noch")
	d.lacks(t, "Save keys", "Effective layout", "Secret window", "Re-open", ">assigned<", "open, ")
	e.get("/ui/lang/en?back=/ui/devices").want(t, http.StatusSeeOther, "/ui/devices")
	e.getLang("/ui/settings", "de").has(t, "<h1>Settings</h1>")
	e.get("/ui/lang/fr").want(t, http.StatusNotFound)
	e.get("/ui/lang/de?back=//evil.example/x").want(t, http.StatusSeeOther, "/ui/")
	// The login page too, before any session.
	c := newClient(t)
	req, _ := http.NewRequest("GET", e.ts.URL+"/ui/login", nil)
	req.Header.Set("Accept-Language", "de")
	e.do(c, req).has(t, "<h1>Anmelden</h1>", "Admin-Token")
}

// TestKeyEditorPhone: the key editor draws the model's keys where they sit,
// each marked by where it comes from, an own key linked to its row.
func TestKeyEditorPhone(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.adopted()
	if _, err := e.core.SetKeys(context.Background(), phoneMAC, []autoprov.KeySpec{{Position: 4, Type: "blf", Account: "201", Value: "202", Label: "Bob"}, {Position: 3, Module: 1, Type: "speed_dial", Value: "100"}}, "test"); err != nil {
		t.Fatal(err)
	}
	p := e.get("/ui/devices/"+phoneMAC).want(t, http.StatusOK)
	p.has(t, `<figure class="phone" aria-label="yealink T46S">`,
		`<a class="slot src-device" href="#key-row-0" data-module="0" data-position="4" data-row="0" draggable="true"><span class="pos">4</span> <span class="kl">Bob</span> <span class="kt">BLF</span></a>`,
		`class="slot src-default" href="#key-table" data-module="0" data-position="1"`,
		`<figure class="module" aria-label="EXP40 1">`, `data-module="1" data-position="3" data-row="1" draggable="true"`,
		`<figure class="module" aria-label="EXP40 2">`, // one more module to place keys on
		`<script src="/ui/static/ui.js"></script>`)
	if n := strings.Count(p.body, `data-module="0" data-position=`); n != 27 {
		t.Errorf("the T46S picture has %d keys, want its 27 programmable keys", n)
	}
	e.get("/ui/static/ui.js").want(t, http.StatusOK).has(t, "dragstart", "countdown")
}

// postLang posts a form as a browser whose Accept-Language is lang.
func (e *env) postLang(path, lang string, form url.Values) page {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", lang)
	return e.do(e.c, req)
}

// TestGermanOwnMessages: the UI's own messages that carry a number, the
// error pages' titles and the key editor's row errors are German for
// Accept-Language: de (they were built with fmt.Sprintf, outside the
// catalogue, and showed in English).
func TestGermanOwnMessages(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	e.getLang("/ui/devices?limit=9999", "de").want(t, http.StatusBadRequest).
		has(t, "<title>Ungültige Anfrage", "limit muss 1 bis 500 sein").lacks(t, "Bad Request", "limit must be")
	e.getLang("/ui/audit?limit=0", "de").want(t, http.StatusBadRequest).has(t, "limit muss 1 bis 1000 sein").lacks(t, "limit must be")
	e.getLang("/ui/devices/zz", "de").want(t, http.StatusNotFound).has(t, "<title>Nicht gefunden").lacks(t, "Not Found")
	e.postLang("/ui/devices/"+phoneMAC+"/keys", "de", keyForm(csrf, [7]string{"x", "", "blf", "201", "202", "", ""})).
		want(t, http.StatusBadRequest).has(t, "Zeile 1: Position muss eine Zahl sein").lacks(t, "row 1", "must be a number")
	e.postLang("/ui/devices/"+phoneMAC+"/keys", "de", keyForm(csrf, [7]string{"", "", "blf", "201", "202", "", ""})).
		want(t, http.StatusBadRequest).has(t, "Position fehlt").lacks(t, "position is required")
	e.postLang("/ui/settings", "de", url.Values{"csrf": {csrf}, "sip_port": {"abc"}}).
		want(t, http.StatusBadRequest).has(t, "sip_port muss eine ganze Zahl sein").lacks(t, "must be a whole number")
	e.postLang("/ui/firmware/targets", "de", url.Values{"csrf": {csrf}, "model": {"yealink/T46S"}, "version": {"1"}, "stage": {"abc"}}).
		want(t, http.StatusBadRequest).has(t, "Stufe muss ein Prozentsatz von 1 bis 100 sein").lacks(t, "stage must be")
	noModel := editForm(csrf)
	noModel.Set("model", "")
	e.postLang("/ui/devices/"+phoneMAC+"/edit", "de", noModel).want(t, http.StatusBadRequest).has(t, "Wählen Sie ein Modell.").lacks(t, "Choose a model")
	// A conflict says what the core said once, without its sentinel's
	// ": conflict" tail.
	e.fleet(1)
	e.postLang("/ui/devices/"+phoneMAC+"/replace", "de", url.Values{"csrf": {csrf}, "new_mac": {fleetMAC(0)}, "confirm": {"1"}}).
		want(t, http.StatusConflict).has(t, "Nicht ersetzt: Konflikt: Gerät 805ec0000000 existiert und ist übernommen; löschen Sie es zuerst<").lacks(t, ": conflict")
	e.postLang("/ui/devices/"+phoneMAC+"/edit", "de", editForm(csrf)).want(t, http.StatusSeeOther)
	e.getLang("/ui/devices/"+phoneMAC, "de").want(t, http.StatusOK).
		has(t, "Gerät gespeichert. Seine Konten haben sich geändert").lacks(t, "Its accounts changed")
	// Sizes for a person, and "none" as German says it of anything.
	e.getLang("/ui/firmware", "de").want(t, http.StatusOK).has(t, "Höchstens 512 MiB.").lacks(t, "536870912")
	e.getLang("/ui/devices/"+phoneMAC, "de").want(t, http.StatusOK).has(t, "Provisionierungs-Zugangsdaten: <span class=\"state\">keine<")
}

// TestFirmwareTargetFormRefusesDECTBase: the Firmware page's target form
// for a model whose files carry no firmware setting (a Snom M700 base)
// answers 400 naming the model, in German too, and stores no target; a
// desk model's refusal is still about its catalogue.
func TestFirmwareTargetFormRefusesDECTBase(t *testing.T) {
	e := newEnv(t)
	e.login()
	csrf := e.csrf()
	e.postLang("/ui/firmware/targets", "en", url.Values{"csrf": {csrf}, "model": {"snom/M700"}, "version": {"530.1"}}).
		want(t, http.StatusBadRequest).has(t, "Not saved: snom M700 cannot get firmware from autoprov")
	e.postLang("/ui/firmware/targets", "de", url.Values{"csrf": {csrf}, "model": {"snom/M700"}, "version": {"530.1"}}).
		want(t, http.StatusBadRequest).has(t, "snom M700 kann keine Firmware von autoprov erhalten").lacks(t, "cannot get firmware")
	e.postLang("/ui/firmware/targets", "en", url.Values{"csrf": {csrf}, "model": {"snom/D785"}, "version": {"530.1"}}).
		want(t, http.StatusBadRequest).has(t, "the catalogue has no snom D785 firmware 530.1").lacks(t, "cannot get firmware")
}

// TestFirmwarePageStaleTargetUnsupported: a target for a Snom M700 base
// written straight into the SQLite file (as a release before the core
// refused them stored it) is still listed among the targets, with a
// warning naming the model, and the base's status reads "unsupported"
// (German "nicht unterstützt"), never "upgrading"; the device list
// filters by it.
func TestFirmwarePageStaleTargetUnsupported(t *testing.T) {
	e := newEnv(t)
	e.login()
	ctx := context.Background()
	e.uploadFirmware("en", "snom", "530.1", "M700", []byte("an M700 image")).want(t, http.StatusSeeOther)
	fws, _, err := e.st.Firmwares(ctx, autoprov.FirmwareFilter{Vendor: "snom"})
	if err != nil || len(fws) != 1 {
		t.Fatalf("catalogue: %v %v", fws, err)
	}
	mac, vendor, model := "000413b60681", "snom", "M700"
	if _, err := e.core.CreateDevice(ctx, autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: vendor, Model: model, Firmware: &fws[0], Stage: 100}, "old release"); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?s)<tr id="rollout-` + mac + `">.*?<td class="status">([^<]*)</td>`)
	for lang, want := range map[string][2]string{
		"en": {"unsupported", "snom M700 takes no firmware from autoprov"},
		"de": {"nicht unterstützt", "snom M700 erhält keine Firmware von autoprov"},
	} {
		p := e.getLang("/ui/firmware", lang).want(t, http.StatusOK).has(t, `id="target-snom-M700"`).has(t, want[1])
		if m := row.FindStringSubmatch(p.body); m == nil || m[1] != want[0] {
			t.Errorf("%s: the base's rollout status %q, want %q", lang, m, want[0])
		}
	}
	if got := rows(e.get("/ui/devices?firmware=unsupported").want(t, http.StatusOK)); len(got) != 1 || got[0] != mac {
		t.Errorf("firmware=unsupported: %v", got)
	}
	e.get("/ui/devices?firmware=upgrading").want(t, http.StatusOK).has(t, "No device matches.")
}
