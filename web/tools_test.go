package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov"
)

// upload posts a CSV file as the import page's form does.
func (e *env) upload(name, content string) page {
	e.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("csrf", e.csrf())
	f, _ := w.CreateFormFile("file", name)
	_, _ = f.Write([]byte(content))
	w.Close()
	req, err := http.NewRequest("POST", e.ts.URL+"/ui/import", &b)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return e.do(e.c, req)
}

var hiddenCSV = regexp.MustCompile(`name="csv" value="([^"]*)"`)

// TestImportPage: upload, the dry run's errors by line (nothing written),
// the fixed file's dry run, confirm, and the export without passwords.
func TestImportPage(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.get("/ui/import").want(t, http.StatusOK).has(t, `href="/ui/tools" aria-current="page"`, "key_profile")
	e.get("/ui/tools").want(t, http.StatusOK).has(t, `href="/ui/tools" aria-current="page"`, `href="/ui/import"`, `href="/ui/dhcp"`, `href="/ui/pbx"`, `href="/ui/resync"`)
	bad := "mac,model,label,extension,display_name,password\n" +
		"80-5E-C0-AA-BB-01,T54W,Desk 1,201,Alice,Typed-secret-1\n" +
		"80-5E-C0-AA-BB-02,T54W,Desk 2,202,Bob,\n" +
		"80-5E-C0-AA-BB-03,T99X,Desk 3,203,Carol,\n"
	e.upload("phones.csv", bad).want(t, http.StatusBadRequest).has(t, "phones.csv: 1 line(s) are invalid", `<td data-label="Line in file">4</td><td data-label="Column">model</td>`).lacks(t, "confirm-import")
	if _, n, _ := e.core.Devices(context.Background(), autoprov.DeviceFilter{}); n != 0 {
		t.Fatalf("a refused dry run wrote %d devices", n)
	}
	good := strings.Replace(bad, "T99X", "T57W", 1)
	p := e.upload("phones.csv", good).want(t, http.StatusOK).has(t, "Dry run of phones.csv", "80:5E:C0:AA:BB:03", `id="confirm-import"`)
	if _, n, _ := e.core.Devices(context.Background(), autoprov.DeviceFilter{}); n != 0 {
		t.Fatalf("a dry run wrote %d devices", n)
	}
	m := hiddenCSV.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("the page does not keep the checked file")
	}
	if kept, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1])); err != nil || string(kept) != good {
		t.Fatalf("the page does not keep the checked file: %v %q", err, kept)
	}
	e.post("/ui/import", url.Values{"csrf": {e.csrf()}, "confirm": {"1"}, "name": {"phones.csv"}, "csv": {html.UnescapeString(m[1])}}).
		want(t, http.StatusOK).has(t, "Imported phones.csv: 3 accounts created, 0 updated; 3 devices created")
	d := e.device("805ec0aabb03")
	if d.Model != "T57W" || d.Label != "Desk 3" || strings.Join(d.Accounts, ",") != "203" {
		t.Fatalf("imported device %+v", d)
	}
	exp := e.get("/ui/export").want(t, http.StatusOK)
	if !strings.HasPrefix(exp.h.Get("Content-Type"), "text/csv") || !strings.Contains(exp.body, "80:5e:c0:aa:bb:03,yealink,T57W,Desk 3,,203,Carol,203,\n") ||
		strings.Contains(exp.body, "Typed-secret") {
		t.Fatalf("export:\n%s", exp.body)
	}
	// Without the CSRF token nothing is checked or written.
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	f, _ := w.CreateFormFile("file", "x.csv")
	_, _ = f.Write([]byte(good))
	w.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+"/ui/import", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	e.do(e.c, req).want(t, http.StatusForbidden)
}

func TestDHCPPage(t *testing.T) {
	e := newEnv(t)
	e.login()
	host := strings.TrimPrefix(e.ts.URL, "http://")
	e.get("/ui/dhcp?server=dnsmasq").want(t, http.StatusOK).has(t, `dhcp-option=tag:yealink,66,&#34;http://`+host+`/prov/&#34;`, `<option selected>dnsmasq</option>`)
	e.get("/ui/dhcp?server=isc&tftp=nonsense").want(t, http.StatusBadRequest).has(t, "IPv4")
}

func TestReplaceAndRevealPages(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.account("201", "Alice")
	if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Label: ptr("Desk 1"),
		Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/devices/805ec0aabb01").want(t, http.StatusOK).has(t, `action="/ui/devices/805ec0aabb01/replace"`)
	e.post("/ui/devices/805ec0aabb01/replace", url.Values{"csrf": {e.csrf()}, "new_mac": {"80-5E-C0-AA-BB-01"}, "confirm": {"1"}}).
		want(t, http.StatusBadRequest).has(t, "Not replaced")
	e.post("/ui/devices/805ec0aabb01/replace", url.Values{"csrf": {e.csrf()}, "new_mac": {"80-5E-C0-AA-BB-02"}, "confirm": {"1"}}).
		want(t, http.StatusSeeOther, "/ui/devices/805ec0aabb02")
	e.get("/ui/devices/805ec0aabb02").want(t, http.StatusOK).has(t, "80:5E:C0:AA:BB:02 replaces 80:5E:C0:AA:BB:01", "Desk 1")
	e.get("/ui/devices/805ec0aabb01").want(t, http.StatusNotFound)

	a, _ := e.core.Account(context.Background(), "201")
	e.get("/ui/pbx").want(t, http.StatusOK).lacks(t, a.Password)
	e.post("/ui/pbx", url.Values{"csrf": {e.csrf()}, "format": {"pjsip"}, "token": {"wrong"}}).
		want(t, http.StatusForbidden).lacks(t, a.Password)
	e.post("/ui/pbx", url.Values{"csrf": {e.csrf()}, "format": {"pjsip"}}).want(t, http.StatusForbidden)
	p := e.post("/ui/pbx", url.Values{"csrf": {e.csrf()}, "format": {"pjsip"}, "token": {token}}).want(t, http.StatusOK).has(t, "password="+a.Password)
	if p.h.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", p.h.Get("Cache-Control"))
	}
	evs, _ := e.core.Audit(context.Background(), "", 5)
	if evs[0].Event != autoprov.EventPasswordRevealed || !strings.HasPrefix(evs[0].Actor, "ui@") || strings.Contains(evs[0].Detail, a.Password) {
		t.Fatalf("audit %+v", evs[0])
	}
	// The audit page, the accounts page and the device page never show it.
	for _, path := range []string{"/ui/audit", "/ui/accounts", "/ui/devices/805ec0aabb02"} {
		e.get(path).want(t, http.StatusOK).lacks(t, a.Password)
	}
}
func ptr[T any](v T) *T { return &v }

// TestBulkResyncPage: the Resync page resyncs the phones typed (any
// notation) or every adopted phone, and lists each outcome.
func TestBulkResyncPage(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.account("201", "Alice")
	e.fetch()
	e.post("/ui/devices/"+phoneMAC+"/adopt", url.Values{"csrf": {e.csrf()}, "model": {"yealink/T46S"}, "account": {"201"}}).want(t, http.StatusSeeOther)
	if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W")}, "test"); err != nil {
		t.Fatal(err)
	}
	e.get("/ui/resync").want(t, http.StatusOK).has(t, `href="/ui/tools" aria-current="page"`)
	e.post("/ui/resync", url.Values{"macs": {"00-15-65-12-34-56"}}).want(t, http.StatusForbidden)
	e.post("/ui/resync", url.Values{"csrf": {e.csrf()}, "macs": {"00-15-65-12-34-56,\n80:5e:c0:aa:bb:01 805ec0aabb09"}}).want(t, http.StatusOK).
		has(t, `00:15:65:12:34:56</a></td><td data-label="Status"><span class="state">sent</span></td><td data-label="Detail">200 OK`,
			`80:5E:C0:AA:BB:01</a></td><td data-label="Status"><span class="state">no_address`,
			`80:5E:C0:AA:BB:09</a></td><td data-label="Status"><span class="state">not_found`)
	// In German, the core's words for what happened are German too.
	e.postLang("/ui/resync", "de", url.Values{"csrf": {e.csrf()}, "macs": {"80:5e:c0:aa:bb:01 805ec0aabb09"}}).want(t, http.StatusOK).
		has(t, `<td data-label="Einzelheiten">keine Adresse des Telefons bekannt: es hat noch nichts von diesem Server abgerufen</td>`,
			`<td data-label="Einzelheiten">Gerät nicht gefunden</td>`).lacks(t, "no address of the phone", "no such device")
	e.post("/ui/resync", url.Values{"csrf": {e.csrf()}, "all": {"1"}}).want(t, http.StatusOK).
		has(t, "00:15:65:12:34:56</a>", "80:5E:C0:AA:BB:01</a>")
	e.post("/ui/resync", url.Values{"csrf": {e.csrf()}, "macs": {"nonsense"}}).want(t, http.StatusBadRequest).has(t, "is not a MAC address")
	evs, _ := e.core.Audit(context.Background(), phoneMAC, 5)
	if len(evs) == 0 || evs[0].Event != autoprov.EventDeviceResync || !strings.HasPrefix(evs[0].Actor, "ui@") {
		t.Fatalf("audit %+v", evs)
	}
}

// TestExportWholeFleet: the export carries every adopted phone, not the
// first page the core lists by default (it stopped at 100 and wrote the
// other phones' accounts as accounts without a phone).
func TestExportWholeFleet(t *testing.T) {
	e := newEnv(t)
	e.fleet(150)
	e.login()
	exp := e.get("/ui/export").want(t, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(exp.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	phones := 0
	for _, r := range rows[1:] {
		if r[0] != "" {
			phones++
		}
	}
	if phones != 150 || len(rows) != 151 {
		t.Fatalf("export: %d rows, %d with a phone; want 150 phones", len(rows)-1, phones)
	}
}

// TestReplaceConfirms: Replace removes the phone's device, so it asks
// first (as Delete does), and a refused MAC keeps what was typed (the
// field came back empty).
func TestReplaceConfirms(t *testing.T) {
	e := newEnv(t)
	e.login()
	e.account("201", "Alice")
	if _, err := e.core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Label: ptr("Desk 1"),
		Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	e.post("/ui/devices/805ec0aabb01/replace", url.Values{"csrf": {e.csrf()}, "new_mac": {"80-5E-C0-AA-BB-0Z"}, "model": {"T57W"}}).
		want(t, http.StatusBadRequest).has(t, "Not replaced", `name="new_mac" value="80-5E-C0-AA-BB-0Z"`, `name="model" value="T57W"`)
	e.post("/ui/devices/805ec0aabb01/replace", url.Values{"csrf": {e.csrf()}, "new_mac": {"80-5E-C0-AA-BB-02"}, "model": {"T57W"}}).
		want(t, http.StatusOK).has(t, "Replace 80:5E:C0:AA:BB:01 with 80:5E:C0:AA:BB:02?", `name="confirm"`, `type="hidden" name="new_mac" value="80:5E:C0:AA:BB:02"`,
		`type="hidden" name="model" value="T57W"`, `href="/ui/devices/805ec0aabb01"`)
	if d := e.device("805ec0aabb01"); d.Label != "Desk 1" || strings.Join(d.Accounts, ",") != "201" {
		t.Fatalf("the question changed the device: %+v", d)
	}
	if _, err := e.core.Device(context.Background(), "805ec0aabb02"); err == nil {
		t.Fatal("the question created the new device")
	}
	e.post("/ui/devices/805ec0aabb01/replace", url.Values{"csrf": {e.csrf()}, "new_mac": {"80:5E:C0:AA:BB:02"}, "model": {"T57W"}, "confirm": {"1"}}).
		want(t, http.StatusSeeOther, "/ui/devices/805ec0aabb02")
	if d := e.device("805ec0aabb02"); d.Model != "T57W" || d.Label != "Desk 1" {
		t.Fatalf("replaced: %+v", d)
	}
}
