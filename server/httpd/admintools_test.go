package httpd_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/server/httpd"
)

// csvRequest posts a CSV body to the bulk endpoint.
func (e *env) csvRequest(path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	return e.do(req)
}

// sheet20 is a 20-row sheet: MACs in dashed notation, two lines on one
// phone, accounts without a phone; bad names one row whose model is wrong.
func sheet20(bad bool) string {
	var b strings.Builder
	b.WriteString("mac,model,label,extension,display_name\n")
	for i := 1; i <= 17; i++ {
		model := "T54W"
		if bad && i == 11 {
			model = "T99X" // line 12
		}
		fmt.Fprintf(&b, "80-5E-C0-AA-BB-%02X,%s,Desk %d,%d,User %d\n", i, model, i, 200+i, i)
	}
	b.WriteString("80-5E-C0-AA-BB-01,,,230,Second line\n")
	b.WriteString(",,,240,No phone\n")
	b.WriteString("00:04:13:AA:BB:01,D785,Snom,,\n")
	return b.String()
}

// TestCSVImportExport is the acceptance line: the dry run reports the one
// bad line by number and writes nothing, the fixed file imports, and the
// export gives the same rows back, without a password.
func TestCSVImportExport(t *testing.T) {
	e := newEnv(t, options{})
	rec := e.csvRequest("/api/v1/bulk?dry_run=true", sheet20(true))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"errors":[{"line":12,"field":"model"`) {
		t.Fatalf("dry run of the bad sheet: %d %s", rec.Code, rec.Body)
	}
	// Not a dry run: still nothing written.
	if rec := e.csvRequest("/api/v1/bulk", sheet20(true)); rec.Code != http.StatusBadRequest {
		t.Fatalf("import of the bad sheet: %d %s", rec.Code, rec.Body)
	}
	var page struct{ Total int }
	e.must(http.StatusOK, "GET", "/api/v1/devices", nil, &page)
	if page.Total != 0 {
		t.Fatalf("a refused import wrote %d devices", page.Total)
	}
	var res struct {
		DryRun   bool `json:"dry_run"`
		Accounts struct{ Created int }
		Devices  struct {
			Created     int
			CreatedKeys []string `json:"created_keys"`
		}
	}
	rec = e.csvRequest("/api/v1/bulk?dry_run=true", sheet20(false))
	if rec.Code != http.StatusOK {
		t.Fatalf("dry run: %d %s", rec.Code, rec.Body)
	}
	rec = e.csvRequest("/api/v1/bulk", sheet20(false))
	if rec.Code != http.StatusOK {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	if err := jsonDecode(rec.Body.Bytes(), &res); err != nil || res.Accounts.Created != 19 || res.Devices.Created != 18 {
		t.Fatalf("import answer %s", rec.Body)
	}

	req := httptest.NewRequest("GET", "/api/v1/export", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = e.do(req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", rec.Code, rec.Header())
	}
	got, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got[0][8] != "password" {
		t.Fatalf("header %v", got[0])
	}
	// The sheet's rows, in the export's columns (MAC colon notation, the
	// vendor the model named).
	want, _ := csv.NewReader(strings.NewReader(sheet20(false))).ReadAll()
	norm := func(rows [][]string, cols []int) []string {
		var out []string
		for _, r := range rows[1:] {
			var f []string
			for _, c := range cols {
				f = append(f, strings.ToLower(strings.ReplaceAll(r[c], "-", ":")))
			}
			out = append(out, strings.Join(f, "|"))
		}
		slices.Sort(out)
		return out
	}
	// mac, label, extension, display_name (model is blank on the second line in the sheet).
	if g, w := norm(got, []int{0, 3, 5, 6}), norm(want, []int{0, 2, 3, 4}); !slices.Equal(g, w) {
		// The sheet's second line of a phone leaves label empty: fill it as the export does.
		w2 := strings.Join(w, "\n")
		w2 = strings.Replace(w2, "80:5e:c0:aa:bb:01||230", "80:5e:c0:aa:bb:01|desk 1|230", 1)
		if strings.Join(g, "\n") != w2 {
			t.Fatalf("export rows:\n%s\nwant:\n%s", strings.Join(g, "\n"), w2)
		}
	}
	for _, r := range got[1:] {
		if r[8] != "" {
			t.Fatalf("an export carries a password: %v", r)
		}
	}
	// And the export imports as it is (nothing new).
	rec = e.csvRequest("/api/v1/bulk?dry_run=true", rec.Body.String())
	if err := jsonDecode(rec.Body.Bytes(), &res); rec.Code != http.StatusOK || err != nil || res.Accounts.Created != 0 || res.Devices.Created != 0 {
		t.Fatalf("re-import of the export: %d %s", rec.Code, rec.Body)
	}
}

func TestDHCPConfigAPI(t *testing.T) {
	e := newEnv(t, options{})
	req := httptest.NewRequest("GET", "/api/v1/dhcp-config?server=dnsmasq&tftp=192.0.2.10", nil)
	req.Host = "prov.example.com:8080"
	req.Header.Set("Authorization", "Bearer "+token)
	rec := e.do(req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `dhcp-option=tag:yealink,66,"http://prov.example.com:8080/prov/"`) ||
		!strings.Contains(rec.Body.String(), "tag:cisco,150,192.0.2.10") {
		t.Fatalf("dnsmasq: %d %s", rec.Code, rec.Body)
	}
	wantErr(t, e.api("GET", "/api/v1/dhcp-config?server=bind", nil), http.StatusBadRequest, "server")
	wantErr(t, e.api("GET", "/api/v1/dhcp-config?server=isc&tftp=prov.example.com", nil), http.StatusBadRequest, "tftp")
	long := "http://" + strings.Repeat("p", 70) + ".example.com/"
	wantErr(t, e.api("GET", "/api/v1/dhcp-config?server=isc&url="+long, nil), http.StatusBadRequest, "url")
	// --public-url wins over the address the admin reached.
	e = newEnv(t, options{publicURL: "https://prov.example.net/"})
	if rec := e.api("GET", "/api/v1/dhcp-config?server=isc", nil); !strings.Contains(rec.Body.String(), `option default-url "https://prov.example.net/prov/";`) {
		t.Fatalf("isc with --public-url: %s", rec.Body)
	}
	if rec := e.api("GET", "/api/v1/dhcp-config?server=isc", nil); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
}

func TestReplaceAPI(t *testing.T) {
	e := newEnv(t, options{})
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", `{"extension":"201","display_name":"Alice"}`, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/devices", `{"mac":"805ec0aabb01","model":"T54W","label":"Desk 1","accounts":["201"]}`, nil)
	var d struct {
		MAC, Label string
		Accounts   []string
		Disclosure struct{ State string }
	}
	e.must(http.StatusOK, "POST", "/api/v1/devices/80-5e-c0-aa-bb-01/replace", `{"new_mac":"80:5E:C0:AA:BB:02"}`, &d)
	if d.MAC != "805ec0aabb02" || d.Label != "Desk 1" || len(d.Accounts) != 1 || d.Disclosure.State != "open" {
		t.Fatalf("replaced: %+v", d)
	}
	wantErr(t, e.api("GET", "/api/v1/devices/805ec0aabb01", nil), http.StatusNotFound, "-")
	// The new phone's first fetch gets the account's secrets.
	rec := e.phone("GET", "/prov/805ec0aabb02.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:02")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "account.1.password") {
		t.Fatalf("new phone's fetch: %d %s", rec.Code, rec.Body)
	}
	wantErr(t, e.api("POST", "/api/v1/devices/805ec0aabb02/replace", `{"new_mac":"bogus"}`), http.StatusBadRequest, "new_mac")
	wantErr(t, e.api("POST", "/api/v1/devices/805ec0aabb09/replace", `{"new_mac":"805ec0aabb03"}`), http.StatusNotFound, "-")
}

func TestRevealAPI(t *testing.T) {
	e := newEnv(t, options{})
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", `{"extension":"201","display_name":"Alice"}`, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", `{"extension":"202","password":"Typed-by-admin-202"}`, nil)
	rec := e.api("POST", "/api/v1/accounts/reveal", `{"admin_token":"wrong","extensions":["201"]}`)
	wantErr(t, rec, http.StatusForbidden, "admin_token")
	rec = e.api("POST", "/api/v1/accounts/reveal", `{"extensions":["201"]}`)
	wantErr(t, rec, http.StatusForbidden, "admin_token")
	var audit struct {
		Items []struct{ Event, Actor, Detail string }
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit", nil, &audit)
	for _, ev := range audit.Items {
		if ev.Event == "account.password_revealed" {
			t.Fatal("a refused reveal was audited as done")
		}
	}
	rec = e.api("POST", "/api/v1/accounts/reveal", `{"admin_token":"`+token+`","extensions":["201"]}`)
	pass, ok := strings.CutPrefix(strings.TrimSpace(rec.Body.String()), "201 ")
	if rec.Code != http.StatusOK || !ok || len(pass) != 20 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal: %d %q", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/accounts/reveal", `{"admin_token":"`+token+`","format":"pjsip"}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "password="+pass) || strings.Contains(rec.Body.String(), "Typed-by-admin") {
		t.Fatalf("pjsip: %d %s", rec.Code, rec.Body)
	}
	wantErr(t, e.api("POST", "/api/v1/accounts/reveal", `{"admin_token":"`+token+`","extensions":["202"]}`), http.StatusBadRequest, "extensions")
	e.must(http.StatusOK, "GET", "/api/v1/audit", nil, &audit)
	n := 0
	for _, ev := range audit.Items {
		if ev.Event == "account.password_revealed" {
			n++
			if strings.Contains(ev.Detail, pass) || !strings.HasPrefix(ev.Actor, "api@") {
				t.Fatalf("audit %+v", ev)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d reveals audited, want 2", n)
	}
	// Nothing else shows it.
	for _, p := range []string{"/api/v1/accounts/201", "/api/v1/accounts", "/api/v1/audit", "/api/v1/export"} {
		if rec := e.api("GET", p, nil); strings.Contains(rec.Body.String(), pass) {
			t.Fatalf("%s shows the password", p)
		}
	}
	if !strings.Contains(e.log.String(), "wrong admin_token") || strings.Contains(e.log.String(), pass) {
		t.Fatal("the log lacks the refused reveal, or holds the password")
	}
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestRevealThrottled: the admin token typed again to reveal passwords is
// throttled like the bearer token, also for a request the central sent
// over this site's link (it has no bearer token to pass first), and a
// throttled request is refused whatever token it carries.
func TestRevealThrottled(t *testing.T) {
	e := newEnv(t, options{})
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", `{"extension":"201","display_name":"Alice"}`, nil)
	viaLink := func(adminToken string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/accounts/reveal", strings.NewReader(`{"admin_token":"`+adminToken+`","extensions":["201"]}`))
		req.Header.Set("Content-Type", "application/json")
		return e.do(req.WithContext(central.WithLinkActor(req.Context(), "central@192.0.2.9")))
	}
	if rec := viaLink(token); rec.Code != http.StatusOK {
		t.Fatalf("reveal over the link with the right token: %d %s", rec.Code, rec.Body)
	}
	for i := range httpd.AuthFailBurst {
		if rec := viaLink(fmt.Sprintf("guess-%d", i)); rec.Code != http.StatusForbidden {
			t.Fatalf("guess %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := viaLink(token)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "201 ") {
		t.Fatalf("after %d wrong tokens over the link: %d %s", httpd.AuthFailBurst, rec.Code, rec.Body)
	}
	// The API's own clients: their bearer token passing does not refill
	// the bucket of the token typed again.
	for i := range httpd.AuthFailBurst {
		wantErr(t, e.api("POST", "/api/v1/accounts/reveal", fmt.Sprintf(`{"admin_token":"guess-%d","extensions":["201"]}`, i)), http.StatusForbidden, "admin_token")
	}
	if rec := e.api("POST", "/api/v1/accounts/reveal", `{"admin_token":"`+token+`","extensions":["201"]}`); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after %d wrong tokens: %d %s", httpd.AuthFailBurst, rec.Code, rec.Body)
	}
}

// TestExportWholeFleet: GET /export carries every adopted phone, not the
// core's default page of 100 (the rest came out as accounts alone).
func TestExportWholeFleet(t *testing.T) {
	e := newEnv(t, options{})
	var b strings.Builder
	b.WriteString("mac,model,extension\n")
	for i := range 150 {
		fmt.Fprintf(&b, "80-5E-C0-AA-%02X-%02X,T54W,%d\n", i/256, i%256, 1000+i)
	}
	if rec := e.csvRequest("/api/v1/bulk", b.String()); rec.Code != http.StatusOK {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest("GET", "/api/v1/export", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := e.do(req)
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if rec.Code != http.StatusOK || err != nil {
		t.Fatalf("export: %d %v", rec.Code, err)
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
