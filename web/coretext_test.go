package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/web"
)

// TestGermanCoreMessages: messages the core words (a refused MAC, a
// conflict, an import's bad lines, from the CSV reader and from the core's
// dry run) reach a German admin in German, in cells no longer marked
// lang="en", while the REST API answers the same refusal in English.
func TestGermanCoreMessages(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.adopted()
	e.get("/ui/lang/de?back=/ui/import").want(t, http.StatusSeeOther, "/ui/import")
	csrf := e.csrf()

	// A MAC the core refuses (vendors.ParseMAC, through autoprov.ParseMAC).
	e.post("/ui/devices/"+phoneMAC+"/replace", url.Values{"csrf": {csrf}, "new_mac": {"80-5E-C0-AA-BB-0Z"}}).
		want(t, http.StatusBadRequest).
		has(t, "Nicht ersetzt: ungültige MAC-Adresse &#34;80-5E-C0-AA-BB-0Z&#34;: unerwartetes Zeichen &#39;Z&#39;").
		lacks(t, "invalid MAC address", "unexpected character")

	// A conflict the core words (autoprov.Conflict), without ": conflict".
	e.fleet(1)
	e.post("/ui/devices/"+phoneMAC+"/replace", url.Values{"csrf": {csrf}, "new_mac": {fleetMAC(0)}, "confirm": {"1"}}).
		want(t, http.StatusConflict).
		has(t, "Nicht ersetzt: Konflikt: Gerät 805ec0000000 existiert und ist übernommen; löschen Sie es zuerst<").
		lacks(t, "exists and is adopted", ": conflict")

	// An import: a line the CSV reader refuses (an extension twice on one
	// phone), then, with that fixed, a line the core's dry run refuses
	// (an unknown model: the registry's words, through the bulk row).
	twice := "mac,model,extension\n" +
		"80-5E-C0-AA-BB-01,T54W,301\n" +
		"80-5E-C0-AA-BB-01,T54W,301\n"
	e.upload("phones.csv", twice).want(t, http.StatusBadRequest).
		has(t, "phones.csv: 1 Zeile(n) ungültig",
			`<td data-label="Zeile">3</td><td data-label="Spalte">extension</td><td data-label="Problem">Gerät 80:5e:c0:aa:bb:01 trägt die Nebenstelle 301 doppelt</td>`).
		lacks(t, "carries extension", `data-label="Problem" lang="en"`)
	unknown := "mac,model,extension\n" +
		"80-5E-C0-AA-BB-01,T54W,301\n" +
		"80-5E-C0-AA-BB-02,T99X,302\n"
	e.upload("phones.csv", unknown).want(t, http.StatusBadRequest).
		has(t, `<td data-label="Zeile">3</td><td data-label="Spalte">model</td><td data-label="Problem">unbekanntes Modell &#34;T99X&#34; (unterstützt: `).
		lacks(t, "unknown model", "supported:", `data-label="Problem" lang="en"`)

	// In English the same line says what the API says.
	e.get("/ui/lang/en?back=/ui/import").want(t, http.StatusSeeOther, "/ui/import")
	e.upload("phones.csv", twice).want(t, http.StatusBadRequest).
		has(t, `<td data-label="Problem">device 80:5e:c0:aa:bb:01 carries extension 301 twice</td>`)

	// The API stays English whatever the client's language.
	body, _ := json.Marshal(map[string]any{"mac": "80-5E-C0-AA-BB-0Z", "model": "T54W"})
	req, err := http.NewRequest("POST", e.ts.URL+"/api/v1/devices", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "de")
	p := e.do(http.DefaultClient, req).want(t, http.StatusBadRequest)
	var got map[string]any
	if err := json.Unmarshal([]byte(p.body), &got); err != nil {
		t.Fatalf("API answer %q: %v", p.body, err)
	}
	if got["error"] != `invalid MAC address "80-5E-C0-AA-BB-0Z": unexpected character 'Z'` || got["field"] != "mac" || strings.Contains(p.body, "ungültig") {
		t.Errorf("API answer %s, want the English refusal of field mac", p.body)
	}
}

// TestGermanSiteAlarm: a site's own alarm, which its status carries as a
// Text too, is German on the banner and the Sites page for a German
// admin, no longer marked lang="en"; one without a Text stays marked.
func TestGermanSiteAlarm(t *testing.T) {
	hb := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC)
	text := autoprov.T("no link to the central server since %s; grace period until %s", hb.Format(time.RFC3339), until.Format(time.RFC3339))
	link := &switchLink{st: central.Status{State: central.StateGrace, SiteID: "s-berlin", LastHeartbeat: &hb, GraceUntil: &until,
		Alarm: text.String(), AlarmText: text}}
	e := newEnvWith(t, web.WithSites(nil, link))
	e.login()
	for _, page := range []string{"/ui/dashboard", "/ui/sites"} {
		e.getLang(page, "de").want(t, http.StatusOK).
			has(t, "<p>keine Verbindung zum zentralen Server seit 2026-11-20T09:00:00Z; Karenzzeit bis 2026-12-20T09:00:00Z</p>").
			lacks(t, "no link to the central server")
		e.getLang(page, "en").want(t, http.StatusOK).has(t, ">no link to the central server since 2026-11-20T09:00:00Z; grace period until 2026-12-20T09:00:00Z</p>")
	}
	e.getLang("/ui/sites", "de").has(t, `<p class="error" role="alert">keine Verbindung zum zentralen Server seit`)
	link.set(central.Status{State: central.StateGrace, SiteID: "s-berlin", LastHeartbeat: &hb, GraceUntil: &until, Alarm: "an alarm in English"})
	e.getLang("/ui/dashboard", "de").has(t, `<p lang="en">an alarm in English</p>`)
}

// uploadFirmware posts an image as the Firmware page's form does, as a
// browser whose Accept-Language is lang.
func (e *env) uploadFirmware(lang, vendor, version, models string, image []byte) page {
	e.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range [][2]string{{"vendor", vendor}, {"version", version}, {"models", models}} {
		_ = w.WriteField(f[0], f[1])
	}
	f, _ := w.CreateFormFile("file", "image.rom")
	_, _ = f.Write(image)
	w.Close()
	req, err := http.NewRequest("POST", e.ts.URL+"/ui/firmware/upload?csrf="+url.QueryEscape(e.csrf()), &b)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept-Language", lang)
	return e.do(e.c, req)
}

// TestGermanFirmwareConflict: an image for a model that already has its
// version is refused (409) in the admin's language, as the other pages'
// conflicts are ("Konflikt: ..."), without the sentinel's English
// ": conflict" tail after the German.
func TestGermanFirmwareConflict(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.uploadFirmware("de", "yealink", "96.86.0.100", "T54W", []byte("first image")).want(t, http.StatusSeeOther)
	e.uploadFirmware("de", "yealink", "96.86.0.100", "T54W", []byte("another image")).want(t, http.StatusConflict).
		has(t, "Nicht hochgeladen: Konflikt: yealink T54W hat bereits die Version 96.86.0.100 (Firmware 1)<").
		lacks(t, ": conflict", "already has version")
	e.uploadFirmware("en", "yealink", "96.86.0.100", "T54W", []byte("a third image")).want(t, http.StatusConflict).
		has(t, "Not uploaded: Conflict: yealink T54W already has version 96.86.0.100 (firmware 1)<")
}

// TestGermanCSVQuote: a stray quote (as a spreadsheet's cell with an inch
// sign writes it) is explained in German on the import page.
func TestGermanCSVQuote(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.get("/ui/lang/de?back=/ui/import").want(t, http.StatusSeeOther, "/ui/import")
	e.upload("phones.csv", "mac,model,label\n80-5E-C0-AA-BB-01,T54W,Monitor 24\"\n").want(t, http.StatusBadRequest).
		has(t, `<td data-label="Zeile">2</td><td data-label="Spalte"></td><td data-label="Problem">Anführungszeichen (&#34;) in einem Feld, das nicht mit einem Anführungszeichen beginnt`).
		lacks(t, "non-quoted-field")
}

// api sends an API request with the admin token as a client whose
// Accept-Language is de: the API answers in English whatever it asks for.
func (e *env) api(method, path, contentType, body string) page {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", "de")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.do(http.DefaultClient, req)
}

// TestGermanCSVHeaderQuote: a stray quote in the header line, which
// encoding/csv words with its line and column, is German on the import
// page (where the reader stopped and why), while the API's answer to
// the same file is the reader's English, byte for byte as before.
func TestGermanCSVHeaderQuote(t *testing.T) {
	e := newEnv(t)
	e.login()
	const file = "mac,mo\"del\n80-5E-C0-AA-BB-01,T54W\n"
	const spans = "mac,\"mo\ndel\"x\n80-5E-C0-AA-BB-01,T54W\n"
	e.get("/ui/lang/de?back=/ui/import").want(t, http.StatusSeeOther, "/ui/import")
	e.upload("phones.csv", file).want(t, http.StatusBadRequest).
		has(t, `<td data-label="Zeile">1</td><td data-label="Spalte"></td><td data-label="Problem">Fehler in Zeile 1 an Stelle 7: Anführungszeichen (&#34;) in einem Feld, das nicht mit einem Anführungszeichen beginnt`).
		lacks(t, "parse error", "non-quoted-field", `data-label="Problem" lang="en"`)
	e.upload("phones.csv", spans).want(t, http.StatusBadRequest).
		has(t, `<td data-label="Problem">Eintrag ab Zeile 1: Fehler in Zeile 2 an Stelle 4: fehlendes oder überzähliges Anführungszeichen`).
		lacks(t, "parse error", "quoted-field")

	e.get("/ui/lang/en?back=/ui/import").want(t, http.StatusSeeOther, "/ui/import")
	e.upload("phones.csv", file).want(t, http.StatusBadRequest).
		has(t, `<td data-label="Problem">parse error on line 1, column 7: bare &#34; in non-quoted-field</td>`)

	e.api("POST", "/api/v1/bulk?dry_run=true", "text/csv", file).want(t, http.StatusBadRequest).
		has(t, `{"error":"line 1: parse error on line 1, column 7: bare \" in non-quoted-field","errors":[{"line":1,"error":"parse error on line 1, column 7: bare \" in non-quoted-field"}]}`)
	e.api("POST", "/api/v1/bulk?dry_run=true", "text/csv", spans).want(t, http.StatusBadRequest).
		has(t, `{"error":"line 1: record on line 1; parse error on line 2, column 4: extraneous or missing \" in quoted-field","errors":[{"line":1,"error":"record on line 1; parse error on line 2, column 4: extraneous or missing \" in quoted-field"}]}`)
}

// TestGermanKeyErrors: the core's per-key errors (which key, where, why)
// are German on the device page, in the list above the key table and next
// to each row, and on the key profile page a change that would break a
// device says why in German too; the API answers the same keys with the
// English detail, byte for byte as before, whatever the client's language.
func TestGermanKeyErrors(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	e.get("/ui/lang/de?back=/ui/devices/"+phoneMAC).want(t, http.StatusSeeOther, "/ui/devices/"+phoneMAC)
	csrf := e.csrf()
	path := "/ui/devices/" + phoneMAC

	e.post(path+"/keys", keyForm(csrf,
		[7]string{"99", "", "blf", "", "202", "Far away", ""},
		[7]string{"4", "", "speed_dial", "", "", "Nothing", ""},
		[7]string{"4", "", "dnd", "", "", "DND", ""},
	)).want(t, http.StatusBadRequest).
		has(t, "Tasten nicht gespeichert: 3 ungültige Taste(n), unten aufgeführt.",
			"<li>Taste 1 (blf an Position 99): die Position muss zwischen 1 und 27 liegen (so viele Tasten hat das T46S)</li>",
			"<li>Taste 2 (speed_dial an Position 4): eine speed_dial-Taste braucht eine zu wählende Rufnummer als Wert</li>",
			"<li>Taste 3 (dnd an Position 4): gleiche Position wie Taste 2</li>",
			`<td class="row-error">die Position muss zwischen 1 und 27 liegen (so viele Tasten hat das T46S)</td>`,
			`<td class="row-error">gleiche Position wie Taste 2</td>`).
		lacks(t, "position must be", "key 1 (", "needs a number", "same position")

	// A profile change that would break the device: the whole refusal.
	prof := "reception"
	if _, err := e.core.SaveKeyProfile(context.Background(), autoprov.KeyProfile{Name: prof}, true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.UpdateDevice(context.Background(), phoneMAC, autoprov.DeviceInput{KeyProfile: &prof}, "test"); err != nil {
		t.Fatal(err)
	}
	f := url.Values{"csrf": {csrf}, "description": {""}, "k_position": {"99", ""}, "k_module": {"", ""}, "k_type": {"dnd", ""},
		"k_line": {"", ""}, "k_value": {"", ""}, "k_label": {"", ""}, "k_pickup": {"", ""}}
	e.post("/ui/profiles/"+prof, f).want(t, http.StatusBadRequest).
		has(t, "Nicht gespeichert: Gerät "+phoneMAC+": 1 ungültige Taste(n) für das T46S: Tastenprofil reception, Taste 1 (dnd an Position 99): die Position muss zwischen 1 und 27 liegen",
			"<li>Tastenprofil reception, Taste 1 (dnd an Position 99): die Position muss",
			`<td class="row-error">die Position muss zwischen 1 und 27 liegen (so viele Tasten hat das T46S)</td>`).
		lacks(t, "position must be", "invalid key")

	// The API's English, as before.
	e.api("PUT", "/api/v1/devices/"+phoneMAC+"/keys", "application/json",
		`[{"position":99,"type":"blf","value":"202"},{"position":4,"type":"speed_dial"},{"position":4,"type":"dnd"}]`).
		want(t, http.StatusBadRequest).
		has(t, `{"error":"3 invalid key(s) for the T46S: key 1 (blf at position 99): position must be between 1 and 27 on the T46S; `+
			`key 2 (speed_dial at position 4): speed_dial key needs a number to dial in value; key 3 (dnd at position 4): same position as key 2",`+
			`"field":"keys","details":["key 1 (blf at position 99): position must be between 1 and 27 on the T46S",`+
			`"key 2 (speed_dial at position 4): speed_dial key needs a number to dial in value","key 3 (dnd at position 4): same position as key 2"]}`)
}

// TestGermanNotFound: what the store did not find is named in the
// admin's language (an unknown account's page, a firmware target that is
// not there), where the UI said only "Not found."; the API answers the
// same request in English, byte for byte as before.
func TestGermanNotFound(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.getLang("/ui/accounts/999", "de").want(t, http.StatusNotFound).
		has(t, "<title>Nicht gefunden", `<p class="error" role="alert">Nicht gefunden: Konto 999.</p>`).lacks(t, "account 999", "not found")
	e.getLang("/ui/accounts/999", "en").want(t, http.StatusNotFound).has(t, `<p class="error" role="alert">Not found: account 999.</p>`)

	e.get("/ui/lang/de?back=/ui/firmware").want(t, http.StatusSeeOther, "/ui/firmware")
	e.post("/ui/firmware/targets/delete", url.Values{"csrf": {e.csrf()}, "vendor": {"yealink"}, "model": {"T54W"}}).
		want(t, http.StatusNotFound).
		has(t, "Nicht entfernt: Nicht gefunden: Firmware-Ziel von Modell yealink T54W.").lacks(t, "firmware target of", "not found")

	e.api("GET", "/api/v1/accounts/999", "", "").want(t, http.StatusNotFound).has(t, `{"error":"account 999: not found"}`)
}
