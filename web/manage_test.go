package web_test

import (
	"context"
	"errors"
	"github.com/autoprov/autoprov"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// adopted gives the env accounts 201 and 202 and the phone adopted as a
// T46S on 201, through the core.
func (e *env) adopted() {
	e.t.Helper()
	e.account("201", "Alice Example")
	e.account("202", "Bob Example")
	e.fetch()
	mac, vendor, model := phoneMAC, "yealink", "T46S"
	if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model, Accounts: &[]string{"201"}}, "test"); err != nil {
		e.t.Fatal(err)
	}
}

// keyForm is the key editor's form: one row per key, then a blank row.
func keyForm(csrf string, rows ...[7]string) url.Values {
	f := url.Values{"csrf": {csrf}}
	rows = append(rows, [7]string{})
	for _, r := range rows {
		for i, name := range []string{"position", "module", "type", "account", "value", "label", "pickup"} {
			f.Add("k_"+name, r[i])
		}
	}
	return f
}

func editForm(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "label": {"Front desk"}, "model": {"yealink/T46S"}, "account": {"201", "202", ""},
		"key_profile": {""}, "timezone": {"Europe/Berlin"}, "language": {"de"}, "web_language": {""}, "tone_scheme": {"DE"},
		"ntp_server": {"ntp.example.org"}}
}

func TestDeviceEdit(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	path := "/ui/devices/" + phoneMAC

	e.get(path).want(t, http.StatusOK).has(t, `action="/ui/devices/`+phoneMAC+`/edit"`, `<option value="yealink/T46S" selected>`,
		`id="capabilities"`, "16 lines, 27 programmable keys", "up to 6 EXP40 modules of 40 keys", "Key types: line, BLF, speed dial")
	opened := e.device(phoneMAC).Disclosure.OpenedAt

	e.post(path+"/edit", editForm(csrf)).want(t, http.StatusSeeOther, path)
	d := e.device(phoneMAC)
	if d.Label != "Front desk" || strings.Join(d.Accounts, ",") != "201,202" || d.Overrides.Timezone != "Europe/Berlin" ||
		d.Overrides.Language != "de" || d.Overrides.ToneScheme != "DE" || d.Overrides.NTPServer != "ntp.example.org" {
		t.Fatalf("device after the edit: %+v", d)
	}
	if d.Disclosure.OpenedAt == nil || opened == nil || !d.Disclosure.OpenedAt.After(*opened) && !d.Disclosure.OpenedAt.Equal(*opened) {
		t.Errorf("window not re-opened after an account change: %v then %v", opened, d.Disclosure.OpenedAt)
	}
	e.get(path).want(t, http.StatusOK).has(t, "Device saved.", `value="Front desk"`, `<option value="de" selected>`,
		`<option value="DE" selected>`, `value="Europe/Berlin"`, `value="ntp.example.org"`, `name="account" list="accounts" value="202"`)

	// A refusal is shown with what was typed, and nothing is saved.
	bad := editForm(csrf)
	bad.Set("label", "Typed but refused")
	bad.Set("timezone", "Mars/Olympus")
	e.post(path+"/edit", bad).want(t, http.StatusBadRequest).has(t, "Not saved: unknown time zone", `value="Typed but refused"`,
		`value="Mars/Olympus"`, `<label class="bad">Time zone`)
	bad = editForm(csrf)
	bad.Set("label", "Typed but refused")
	bad["account"] = []string{"201", "999"}
	e.post(path+"/edit", bad).want(t, http.StatusBadRequest).has(t, "account 999 does not exist")
	if d := e.device(phoneMAC); d.Label != "Front desk" || d.Overrides.Timezone != "Europe/Berlin" || len(d.Accounts) != 2 {
		t.Errorf("a refused edit changed the device: %+v", d)
	}
}

func TestDeviceKeys(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	path := "/ui/devices/" + phoneMAC

	e.post(path+"/keys", keyForm(csrf, [7]string{"3", "", "blf", "201", "202", "Bob", "*8"})).want(t, http.StatusSeeOther, path+"#keys")
	d := e.device(phoneMAC)
	if len(d.Keys) != 1 || d.Keys[0] != (autoprov.KeySpec{Position: 3, Type: "blf", Account: "201", Value: "202", Label: "Bob", PickupCode: "*8"}) {
		t.Fatalf("keys after save: %+v", d.Keys)
	}
	p := e.get(path).want(t, http.StatusOK).has(t, "Keys saved: 1", `id="effective"`,
		"<td>3</td><td>BLF</td><td>201</td><td>202</td><td>Bob</td><td>device</td>",
		"<td>1</td><td>line</td><td>201</td><td></td><td>201</td><td>model default</td>") // the label the phone shows: its extension
	// the type select holds only the model's types, the saved key's selected
	p.has(t, `<option value="blf" selected>BLF</option>`).lacks(t, "row-error\">position")

	// Every bad key is listed, the rows keep what was typed, nothing is stored.
	p = e.post(path+"/keys", keyForm(csrf,
		[7]string{"99", "", "blf", "", "202", "Far away", ""},
		[7]string{"4", "", "speed_dial", "", "", "Nothing", ""},
		[7]string{"5", "", "dnd", "", "", "DND", ""},
	)).want(t, http.StatusBadRequest)
	p.has(t, "2 invalid key(s)", `id="key-errors"`,
		"key 1 (blf at position 99): position must be between 1 and 27 on the T46S",
		"key 2 (speed_dial at position 4): speed_dial key needs a number to dial in value",
		`value="99"`, `value="Far away"`, `value="Nothing"`, `value="DND"`,
		`<td class="row-error">position must be between 1 and 27 on the T46S</td>`)
	// the three typed rows, then the blank ones
	if n := strings.Count(p.body, `name="k_position"`); n != 3+4 {
		t.Errorf("%d key rows after a refusal, want 7", n)
	}
	p = e.post(path+"/keys", keyForm(csrf, [7]string{"x", "", "blf", "", "202", "", ""})).want(t, http.StatusBadRequest)
	p.has(t, "row 1: position must be a number", `value="x"`)
	if d := e.device(phoneMAC); len(d.Keys) != 1 || d.Keys[0].Position != 3 {
		t.Errorf("a refused key list changed the keys: %+v", d.Keys)
	}

	// An incomplete table (a field missing) is refused.
	f := keyForm(csrf)
	f.Del("k_label")
	e.post(path+"/keys", f).want(t, http.StatusBadRequest)

	// Blank rows only: the device's own keys are cleared.
	e.post(path+"/keys", keyForm(csrf)).want(t, http.StatusSeeOther)
	if d := e.device(phoneMAC); len(d.Keys) != 0 {
		t.Errorf("keys after saving an empty table: %+v", d.Keys)
	}
}

func TestDeviceDelete(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	path := "/ui/devices/" + phoneMAC
	e.get(path).want(t, http.StatusOK).has(t, `href="/ui/devices/`+phoneMAC+`/delete"`)
	// The link leads to a confirmation; GET deletes nothing.
	e.get(path+"/delete").want(t, http.StatusOK).has(t, "Delete 00:15:65:12:34:56?", `action="/ui/devices/`+phoneMAC+`/delete"`)
	e.device(phoneMAC)
	e.post(path+"/delete", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther, "/ui/devices")
	if _, err := e.core.Device(context.Background(), phoneMAC); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("device after delete: %v", err)
	}
	e.get("/ui/devices").has(t, "00:15:65:12:34:56 deleted.")
	e.post(path+"/delete", url.Values{"csrf": {csrf}}).want(t, http.StatusNotFound)
}

func TestEditInboxPhoneRefused(t *testing.T) {
	e := newEnv(t)
	e.account("201", "Alice")
	e.fetch()
	e.login()
	csrf := e.csrf()
	e.post("/ui/devices/"+phoneMAC+"/edit", editForm(csrf)).want(t, http.StatusConflict)
	e.post("/ui/devices/"+phoneMAC+"/keys", keyForm(csrf)).want(t, http.StatusConflict)
	if d := e.device(phoneMAC); d.State != autoprov.StateUnassigned {
		t.Errorf("an edit adopted the phone: %+v", d)
	}
}

func settingsValues(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "sip_server": {"pbx.example.org"}, "sip_port": {"5061"}, "sip_transport": {"tls"},
		"outbound_proxy": {"proxy.example.org:5061"}, "ntp_server": {"ntp.example.org"}, "timezone": {"Europe/Vienna"},
		"language": {"de"}, "web_language": {"en"}, "tone_scheme": {"AT"}, "disclosure_window_seconds": {"900"}, "inbox_cap": {"2000"}}
}

func TestSettingsPage(t *testing.T) {
	e := newEnv(t)
	e.login()
	csrf := e.csrf()
	e.get("/ui/settings").want(t, http.StatusOK).has(t, `name="sip_port" inputmode="numeric" value="5060"`,
		`<option selected>udp</option>`, `value="600"`, `<option value="US" selected>`)

	e.post("/ui/settings", settingsValues(csrf)).want(t, http.StatusSeeOther, "/ui/settings")
	st, _ := e.core.Settings(context.Background())
	want := autoprov.Settings{SIPServer: "pbx.example.org", SIPPort: 5061, SIPTransport: "tls", OutboundProxy: "proxy.example.org:5061",
		NTPServer: "ntp.example.org", Timezone: "Europe/Vienna", Language: "de", WebLanguage: "en", ToneScheme: "AT", DisclosureWindowSeconds: 900, InboxCap: 2000}
	if st != want {
		t.Fatalf("settings %+v, want %+v", st, want)
	}
	e.get("/ui/settings").has(t, "Settings saved", `value="pbx.example.org"`, `<option selected>tls</option>`, `<option value="AT" selected>`)

	for field, v := range map[string]string{"sip_port": "70000", "timezone": "Nowhere/Land", "outbound_proxy": "proxy:0",
		"disclosure_window_seconds": "soon"} {
		t.Run(field, func(t *testing.T) {
			f := settingsValues(csrf)
			f.Set("sip_server", "typed.example.org")
			f.Set(field, v)
			p := e.post("/ui/settings", f).want(t, http.StatusBadRequest)
			p.has(t, `<label class="bad">`, `value="typed.example.org"`, `value="`+v+`"`, `<span class="field-error">`)
			// the message sits in the refused field's label
			i := strings.Index(p.body, `<label class="bad">`)
			j := strings.Index(p.body[i:], "</label>")
			if seg := p.body[i : i+j]; !strings.Contains(seg, `name="`+field+`"`) || !strings.Contains(seg, field) {
				t.Errorf("the marked field is not %s: %s", field, seg)
			}
			if st2, _ := e.core.Settings(context.Background()); st2 != want {
				t.Errorf("a refused form changed the settings: %+v", st2)
			}
		})
	}
}

func TestKeyProfiles(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	e.get("/ui/profiles").want(t, http.StatusOK).has(t, "No key profiles yet.")
	e.post("/ui/profiles", url.Values{"csrf": {csrf}, "name": {"reception"}, "description": {"Front desk"}}).
		want(t, http.StatusSeeOther, "/ui/profiles/reception")
	e.post("/ui/profiles", url.Values{"csrf": {csrf}, "name": {"reception"}}).want(t, http.StatusConflict).has(t, "exists already")
	e.post("/ui/profiles", url.Values{"csrf": {csrf}, "name": {"bad name!"}}).want(t, http.StatusBadRequest).has(t, "name must be")

	// The profile's key table names lines, not accounts.
	f := url.Values{"csrf": {csrf}, "description": {"Front desk keys"}}
	for name, v := range map[string][]string{"position": {"5", ""}, "module": {"", ""}, "type": {"speed_dial", ""}, "line": {"1", ""},
		"value": {"100", ""}, "label": {"Lobby", ""}, "pickup": {"", ""}} {
		f["k_"+name] = v
	}
	e.get("/ui/profiles/reception").want(t, http.StatusOK).has(t, `name="k_line"`).lacks(t, `name="k_account"`)
	e.post("/ui/profiles/reception", f).want(t, http.StatusSeeOther, "/ui/profiles/reception")
	p, err := e.core.KeyProfile(context.Background(), "reception")
	if err != nil || p.Description != "Front desk keys" || len(p.Keys) != 1 ||
		p.Keys[0] != (autoprov.KeySpec{Position: 5, Type: "speed_dial", Line: 1, Value: "100", Label: "Lobby"}) {
		t.Fatalf("profile after save: %+v, %v", p, err)
	}
	e.get("/ui/profiles").has(t, `<a href="/ui/profiles/reception">reception</a>`, "Front desk keys")

	// In use by the phone: a change that breaks its layout and deletion are refused.
	prof := "reception"
	if _, err := e.core.UpdateDevice(context.Background(), phoneMAC, autoprov.DeviceInput{KeyProfile: &prof}, "test"); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/devices/"+phoneMAC).has(t, "<td>5</td><td>speed dial</td><td>201</td><td>100</td><td>Lobby</td><td>profile reception</td>",
		`<option selected>reception</option>`)
	f.Set("k_position", "99")
	f["k_position"] = []string{"99", ""}
	e.post("/ui/profiles/reception", f).want(t, http.StatusBadRequest).has(t, "device "+phoneMAC+":",
		"position must be between 1 and 27", `value="99"`, `<td class="row-error">position must be between 1 and 27 on the T46S</td>`)
	if p, _ := e.core.KeyProfile(context.Background(), "reception"); p.Keys[0].Position != 5 {
		t.Errorf("a refused profile was saved: %+v", p.Keys)
	}
	e.get("/ui/profiles/reception/delete").want(t, http.StatusOK).has(t, "Delete key profile reception?")
	e.post("/ui/profiles/reception/delete", url.Values{"csrf": {csrf}}).want(t, http.StatusConflict).
		has(t, "Not deleted: key profile reception is used by devices ["+phoneMAC+"]; give them another profile first.")
	if _, err := e.core.KeyProfile(context.Background(), "reception"); err != nil {
		t.Fatalf("a profile in use was deleted: %v", err)
	}

	none := ""
	if _, err := e.core.UpdateDevice(context.Background(), phoneMAC, autoprov.DeviceInput{KeyProfile: &none}, "test"); err != nil {
		t.Fatal(err)
	}
	e.post("/ui/profiles/reception/delete", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther, "/ui/profiles")
	if _, err := e.core.KeyProfile(context.Background(), "reception"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Errorf("profile after delete: %v", err)
	}
	e.get("/ui/profiles/reception").want(t, http.StatusNotFound)
}

func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	e.post("/ui/devices/"+phoneMAC+"/edit", editForm(csrf)).want(t, http.StatusSeeOther)
	e.post("/ui/settings", settingsValues(csrf)).want(t, http.StatusSeeOther)

	p := e.get("/ui/audit").want(t, http.StatusOK).has(t, "device.updated", "settings.updated", "device.adopted",
		"<td>ui@127.0.0.1</td>", "changed: label, accounts, overrides")
	// newest first: the settings change came last
	if i, j := strings.Index(p.body, "settings.updated"), strings.Index(p.body, "device.updated"); i > j {
		t.Error("audit is not newest first")
	}
	e.get("/ui/audit?mac=00-15-65-12-34-56").want(t, http.StatusOK).has(t, "device.updated", `value="00-15-65-12-34-56"`).
		lacks(t, "settings.updated")
	e.get("/ui/audit?mac=001565000000").want(t, http.StatusOK).has(t, "No events.")
	e.get("/ui/audit?mac=nonsense").want(t, http.StatusBadRequest).has(t, "Not a MAC")
	e.get("/ui/audit?limit=0").want(t, http.StatusBadRequest)
	p = e.get("/ui/audit?limit=1").want(t, http.StatusOK)
	if n := strings.Count(p.body, "<tr><td>"); n != 1 {
		t.Errorf("limit=1 shows %d events", n)
	}
}

// TestNewPostsNeedCSRF: every POST of the new pages is refused without the
// session's token, and changes nothing.
func TestNewPostsNeedCSRF(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	if _, err := e.core.SaveKeyProfile(context.Background(), autoprov.KeyProfile{Name: "p1"}, true, "test"); err != nil {
		t.Fatal(err)
	}
	stBefore, _ := e.core.Settings(context.Background())
	dev := "/ui/devices/" + phoneMAC
	for path, form := range map[string]url.Values{
		dev + "/edit":            editForm("wrong"),
		dev + "/keys":            keyForm("", [7]string{"3", "", "blf", "", "202", "", ""}),
		dev + "/delete":          {},
		"/ui/settings":           settingsValues(""),
		"/ui/profiles":           {"name": {"p2"}},
		"/ui/profiles/p1":        keyForm("", [7]string{"3", "", "blf", "", "202", "", ""}),
		"/ui/profiles/p1/delete": {},
	} {
		form.Del("csrf")
		e.post(path, form).want(t, http.StatusForbidden)
	}
	d := e.device(phoneMAC)
	if d.Label != "" || len(d.Keys) != 0 {
		t.Errorf("device changed without CSRF: %+v", d)
	}
	if st, _ := e.core.Settings(context.Background()); st != stBefore {
		t.Errorf("settings changed without CSRF: %+v", st)
	}
	if ps, _ := e.core.KeyProfiles(context.Background()); len(ps) != 1 || len(ps[0].Keys) != 0 {
		t.Errorf("profiles changed without CSRF: %+v", ps)
	}
	// Cross-site with a valid token is refused too.
	req, _ := http.NewRequest("POST", e.ts.URL+dev+"/delete", strings.NewReader(url.Values{"csrf": {e.csrf()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	e.do(e.c, req).want(t, http.StatusForbidden)
	e.device(phoneMAC)
}

func TestNewPagesXSSInert(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	const evil = `<script>alert(1)</script>`
	f := editForm(csrf)
	f.Set("label", evil)
	e.post("/ui/devices/"+phoneMAC+"/edit", f).want(t, http.StatusSeeOther)
	e.post("/ui/devices/"+phoneMAC+"/keys", keyForm(csrf, [7]string{"3", "", "blf", "", "202", evil, ""})).want(t, http.StatusSeeOther)
	if d := e.device(phoneMAC); d.Label != evil || d.Keys[0].Label != evil {
		t.Fatalf("not stored as typed: %+v", d)
	}
	e.post("/ui/profiles", url.Values{"csrf": {csrf}, "name": {"p"}, "description": {evil}}).want(t, http.StatusSeeOther)
	// A refused form echoes what was typed: inert too.
	bad := settingsValues(csrf)
	bad.Set("sip_server", evil)
	for _, p := range []page{
		e.get("/ui/devices/" + phoneMAC),
		e.get("/ui/devices/" + phoneMAC + "/delete"),
		e.get("/ui/profiles"),
		e.get("/ui/profiles/p"),
		e.post("/ui/settings", bad).want(t, http.StatusBadRequest),
		e.post("/ui/devices/"+phoneMAC+"/keys", keyForm(csrf, [7]string{"99", "", "blf", "", evil, evil, ""})).want(t, http.StatusBadRequest),
	} {
		p.lacks(t, "<script>").has(t, "&lt;script&gt;")
	}
	e.get("/ui/audit").lacks(t, "<script>")
}

// TestKeyEditorShowsLineNumbers: keys the API stored with a line number
// come back into the editor without loss.
func TestKeyEditorShowsLineNumbers(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	if _, err := e.core.SetKeys(context.Background(), phoneMAC, []autoprov.KeySpec{{Position: 4, Type: "blf", Line: 1, Value: "202"}}, "test"); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/devices/"+phoneMAC).has(t, `<select name="k_account" aria-label="Account"><option value="">default</option><option selected>201</option>`)
	if _, err := e.core.SaveKeyProfile(context.Background(), autoprov.KeyProfile{Name: "p", Keys: []autoprov.KeySpec{{Position: 20, Type: "line", Line: 12}}}, true, "test"); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/profiles/p").has(t, `<option selected>12</option>`)
}

// The device edit form sets tftp_allowed (a checkbox: absent is off), and
// each change is audited as a device change.
func TestDeviceEditTFTPAllowed(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	path := "/ui/devices/" + phoneMAC

	e.get(path).want(t, http.StatusOK).has(t, `name="tftp_allowed" id="tftp-allowed">`)
	f := editForm(csrf)
	f.Set("tftp_allowed", "on")
	e.post(path+"/edit", f).want(t, http.StatusSeeOther, path)
	if !e.device(phoneMAC).TFTPAllowed {
		t.Fatal("tftp_allowed not set by the edit form")
	}
	e.get(path).want(t, http.StatusOK).has(t, `name="tftp_allowed" id="tftp-allowed" checked>`, "; TFTP allowed")
	e.get("/ui/audit?mac="+phoneMAC).want(t, http.StatusOK).has(t, "device.updated", "tftp_allowed")

	// Without the checkbox it is off again, audited too.
	e.post(path+"/edit", editForm(csrf)).want(t, http.StatusSeeOther, path)
	if e.device(phoneMAC).TFTPAllowed {
		t.Fatal("tftp_allowed still set after an edit without the checkbox")
	}
	evs, err := e.core.Audit(context.Background(), phoneMAC, 10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Event == autoprov.EventDeviceUpdated && strings.Contains(ev.Detail, "tftp_allowed") && ev.Actor != "test" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d device.updated events name tftp_allowed, want 2 (on, off): %+v", n, evs)
	}
	// A refused edit keeps what was typed.
	bad := editForm(csrf)
	bad.Set("tftp_allowed", "on")
	bad.Set("timezone", "Mars/Olympus")
	e.post(path+"/edit", bad).want(t, http.StatusBadRequest).has(t, `id="tftp-allowed" checked>`)
	if e.device(phoneMAC).TFTPAllowed {
		t.Error("a refused edit set tftp_allowed")
	}
}
