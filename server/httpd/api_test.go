package httpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/httpd"
)

func TestHealthzWithoutAuth(t *testing.T) {
	e := newEnv(t, options{})
	rec := e.do(httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got) != 1 || got["status"] != "ok" {
		t.Errorf(`body %q (%v), want {"status":"ok"}`, rec.Body, err)
	}
}

func TestHealthzUnavailable(t *testing.T) {
	e := newFakeEnv(t, &fakeCore{ready: errors.New("database is locked")})
	rec := e.do(httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"unavailable"`) {
		t.Errorf("status %d %s, want 503 unavailable", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "locked") || !strings.Contains(e.log.String(), "database is locked") {
		t.Errorf("the reason belongs in the log only: body %s\nlog %s", rec.Body, e.log)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, options{})
	for i, c := range []struct {
		name, header string
		want         int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer wrong", http.StatusUnauthorized},
		{"basic", "Basic x", http.StatusUnauthorized},
		{"basic with the token", "Basic tok", http.StatusUnauthorized},
		{"scheme only", "Bearer", http.StatusUnauthorized},
		{"empty token", "Bearer ", http.StatusUnauthorized},
		{"token prefix", "Bearer to", http.StatusUnauthorized},
		{"token longer", "Bearer tokk", http.StatusUnauthorized},
		{"extra space before", "Bearer  tok", http.StatusUnauthorized},
		{"extra space after", "Bearer tok ", http.StatusUnauthorized},
		{"extra spaces around", "Bearer   tok   ", http.StatusUnauthorized},
		{"correct", "Bearer tok", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/v1/settings", nil)
			// One client address per case: wrong tokens from one address
			// are throttled (TestAuthThrottle).
			req.RemoteAddr = "198.51.100." + strconv.Itoa(i+1) + ":1234"
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			rec := e.do(req)
			if c.want == http.StatusOK {
				if rec.Code != http.StatusOK || rec.Header().Get("WWW-Authenticate") != "" {
					t.Fatalf("status %d (WWW-Authenticate %q), want 200: %s", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
				}
				return
			}
			wantErr(t, rec, c.want, "")
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestAuthOverTheWire: the same through a real socket, where net/http
// parses the header.
func TestAuthOverTheWire(t *testing.T) {
	e := newEnv(t, options{})
	ts := e.serve()
	for hdr, want := range map[string]int{"": 401, "Bearer wrong": 401, "Basic x": 401, "Bearer  tok": 401, "Bearer tok": 200} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/accounts", nil)
		if hdr != "" {
			req.Header.Set("Authorization", hdr)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: status %d, want %d: %s", hdr, resp.StatusCode, want, body)
		}
		if want == 401 {
			checkErr(t, resp.StatusCode, resp.Header, body, 401, "")
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("Authorization %q: no WWW-Authenticate", hdr)
			}
		}
	}
}

// TestAuthNoTokenConfigured: an empty admin token locks the API rather
// than opening it.
func TestAuthNoTokenConfigured(t *testing.T) {
	empty := ""
	e := newEnv(t, options{adminToken: &empty})
	for _, hdr := range []string{"", "Bearer ", "Bearer"} {
		req := httptest.NewRequest("GET", "/api/v1/settings", nil)
		req.Header.Set("Authorization", hdr)
		wantErr(t, e.do(req), http.StatusUnauthorized, "")
	}
}

// accountBody is a valid POST /api/v1/accounts body for the extension of
// exactly n bytes (n >= 60), padded with trailing white space.
func accountBody(ext string, n int) []byte {
	b := `{"extension":"` + ext + `","password":"Secret-pw-1"}`
	return []byte(b + strings.Repeat(" ", n-len(b)))
}

func TestBodyLimitDefault(t *testing.T) {
	e := newEnv(t, options{})
	big := accountBody("301", 1<<20+1)

	t.Run("content-length", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/api/v1/accounts", bytes.NewReader(big))
		req.Header.Set("Authorization", "Bearer "+token)
		if req.ContentLength != int64(len(big)) {
			t.Fatalf("content length %d", req.ContentLength)
		}
		wantErr(t, e.do(req), http.StatusRequestEntityTooLarge, "")
	})
	t.Run("declared too large is not read", func(t *testing.T) {
		body := &countingReader{r: bytes.NewReader(big)}
		req := httptest.NewRequest("POST", "/api/v1/accounts", body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.ContentLength = int64(len(big))
		wantErr(t, e.do(req), http.StatusRequestEntityTooLarge, "")
		if body.n != 0 {
			t.Errorf("read %d bytes of a body whose Content-Length is over the limit", body.n)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/api/v1/accounts", io.MultiReader(bytes.NewReader(big)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
		wantErr(t, e.do(req), http.StatusRequestEntityTooLarge, "")
	})
	if code := e.api("GET", "/api/v1/accounts/301", nil).Code; code != http.StatusNotFound {
		t.Errorf("account 301 after refused bodies: status %d, want 404", code)
	}
	// Exactly 1 MiB is within the limit.
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", accountBody("302", 1<<20), nil)
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestBodyLimitOption: MaxBody is respected, over a real socket, with and
// without a Content-Length.
func TestBodyLimitOption(t *testing.T) {
	e := newEnv(t, options{maxBody: 200})
	ts := e.serve()
	post := func(body []byte, chunked bool) (int, http.Header, []byte) {
		t.Helper()
		var rd io.Reader = bytes.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd) // hides the length
		}
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/accounts", rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if chunked {
			req.ContentLength = -1
			req.TransferEncoding = []string{"chunked"}
		} else if req.ContentLength != int64(len(body)) {
			t.Fatalf("content length %d", req.ContentLength)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, out
	}
	for _, chunked := range []bool{false, true} {
		code, h, out := post(accountBody("301", 201), chunked)
		checkErr(t, code, h, out, http.StatusRequestEntityTooLarge, "")
		if !strings.Contains(string(out), "too large") {
			t.Errorf("chunked=%v: body %s", chunked, out)
		}
	}
	if code := e.api("GET", "/api/v1/accounts/301", nil).Code; code != http.StatusNotFound {
		t.Errorf("account 301 after refused bodies: status %d, want 404", code)
	}
	for i, chunked := range []bool{false, true} {
		if code, _, out := post(accountBody(fmt.Sprint(310+i), 200), chunked); code != http.StatusCreated {
			t.Fatalf("200-byte body (chunked=%v): status %d, want 201: %s", chunked, code, out)
		}
	}
}

func TestStrictJSON(t *testing.T) {
	e := newEnv(t, options{})
	for _, c := range []struct {
		name, method, path, body, field, msg string
	}{
		{"unknown field", "POST", "/api/v1/accounts", `{"extension":"301","colour":"red"}`, "colour", "colour"},
		{"unknown nested field", "POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","overrides":{"tz":"UTC"}}`, "tz", "tz"},
		{"wrong type", "POST", "/api/v1/accounts", `{"extension":301}`, "extension", "extension"},
		{"wrong type in settings", "PUT", "/api/v1/settings", `{"sip_port":"5060"}`, "sip_port", "sip_port"},
		{"wrong type in a list", "POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","accounts":"201"}`, "accounts", "accounts"},
		{"invalid JSON", "POST", "/api/v1/accounts", `{"extension":`, "", "JSON"},
		{"not JSON", "POST", "/api/v1/accounts", `extension=301`, "", "JSON"},
		{"empty body", "POST", "/api/v1/accounts", ``, "", "JSON"},
		{"two values", "POST", "/api/v1/accounts", `{"extension":"301"} {"extension":"302"}`, "", "more than one"},
		{"value then a bracket", "POST", "/api/v1/accounts", `{"extension":"301"}]`, "", ""},
		{"value then a brace", "POST", "/api/v1/accounts", `{"extension":"301","password":"Secret-301-pw"}}`, "", ""},
		{"value then a comma", "POST", "/api/v1/accounts", `{"extension":"301","password":"Secret-301-pw"},`, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := wantErr(t, e.api(c.method, c.path, c.body), http.StatusBadRequest, c.field)
			if !strings.Contains(got.Error, c.msg) {
				t.Errorf("error %q does not mention %q", got.Error, c.msg)
			}
		})
	}
	// Nothing of the refused bodies was stored.
	if code := e.api("GET", "/api/v1/accounts/301", nil).Code; code != http.StatusNotFound {
		t.Errorf("account 301: status %d, want 404", code)
	}
	if code := e.api("GET", "/api/v1/devices/805ec0000001", nil).Code; code != http.StatusNotFound {
		t.Errorf("device 805ec0000001: status %d, want 404", code)
	}
	// A clean body is accepted, so the cases above fail for their flaw alone.
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", `{"extension":"301","password":"Secret-301-pw"}`, nil)
}

// goTypeSpelling matches what a Go type name looks like in a message:
// package-qualified names, slices, maps, pointers, Go's numeric and bool
// types. (JSON has strings too, so "a string" is checked per case.)
var goTypeSpelling = regexp.MustCompile(`provision\.|vendors\.|httpd\.|time\.|\[\]|map\[|\*|\bu?int(8|16|32|64)?\b|\bfloat(32|64)\b|\bbool\b|\binterface\b|\bstruct\b`)

// TestWrongTypesSpeakJSON: every endpoint that takes a JSON body answers
// a wrong-typed value with 400, the field's path, and the JSON kind it
// should have had, in the API's words and never a Go type name.
func TestWrongTypesSpeakJSON(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	e.must(http.StatusCreated, "POST", "/api/v1/key-profiles", `{"name":"p","keys":[]}`, nil)
	const (
		object = "request body must be a JSON object"
		list   = "request body must be a JSON list of objects"
	)
	keys := "/api/v1/devices/" + devMAC + "/keys"
	for _, c := range []struct {
		method, path, body, field, msg string
	}{
		{"PUT", "/api/v1/settings", `{"sip_port":"5060"}`, "sip_port", "sip_port must be a whole number"},
		{"PUT", "/api/v1/settings", `{"sip_port":5060.5}`, "sip_port", "sip_port must be a whole number"},
		{"PUT", "/api/v1/settings", `{"disclosure_window_seconds":true}`, "disclosure_window_seconds", "disclosure_window_seconds must be a whole number"},
		{"PUT", "/api/v1/settings", `{"sip_server":5}`, "sip_server", "sip_server must be a string"},
		{"PUT", "/api/v1/settings", `[]`, "", object},
		{"PUT", "/api/v1/settings", `"pbx.example.com"`, "", object},

		{"POST", "/api/v1/accounts", `{"extension":301}`, "extension", "extension must be a string"},
		{"POST", "/api/v1/accounts", `{"extension":"301","display_name":["A"]}`, "display_name", "display_name must be a string"},
		{"POST", "/api/v1/accounts", `[{"extension":"301"}]`, "", object},
		{"PATCH", "/api/v1/accounts/201", `{"password":true}`, "password", "password must be a string"},
		{"PATCH", "/api/v1/accounts/201", `42`, "", object},

		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","accounts":"201"}`, "accounts", "accounts must be a list of strings"},
		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","accounts":[201]}`, "accounts", "accounts must be a list of strings"},
		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","keys":{"position":1}}`, "keys", "keys must be a list of objects"},
		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","keys":[1]}`, "keys", "keys must be a list of objects"},
		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","keys":[{"position":"1","type":"dnd"}]}`, "keys.position", "keys.position must be a whole number"},
		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","overrides":["UTC"]}`, "overrides", "overrides must be an object"},
		{"POST", "/api/v1/devices", `{"mac":"805ec0000001","model":"T54W","overrides":{"timezone":1}}`, "overrides.timezone", "overrides.timezone must be a string"},
		{"POST", "/api/v1/devices", `["805ec0000001"]`, "", object},
		{"PATCH", "/api/v1/devices/" + devMAC, `{"label":false}`, "label", "label must be a string"},
		{"PATCH", "/api/v1/devices/" + devMAC, `{"keys":[{"position":1,"type":5}]}`, "keys.type", "keys.type must be a string"},
		{"PATCH", "/api/v1/devices/" + devMAC, `"T46S"`, "", object},

		{"PUT", keys, `"dnd"`, "", list},
		{"PUT", keys, `[1]`, "", list},
		{"PUT", keys, `[{"position":"1","type":"dnd"}]`, "position", "position must be a whole number"},
		{"PUT", keys, `[{"position":1,"type":"dnd","module":true}]`, "module", "module must be a whole number"},
		{"PUT", keys, `{"keys":"dnd"}`, "keys", "keys must be a list of objects"},
		{"PUT", keys, `{"keys":[{"position":1,"type":"dnd","label":7}]}`, "keys.label", "keys.label must be a string"},

		{"POST", "/api/v1/key-profiles", `{"name":1}`, "name", "name must be a string"},
		{"POST", "/api/v1/key-profiles", `{"name":"q","keys":{}}`, "keys", "keys must be a list of objects"},
		{"POST", "/api/v1/key-profiles", `[]`, "", object},
		{"PUT", "/api/v1/key-profiles/p", `{"description":["x"]}`, "description", "description must be a string"},
		{"PUT", "/api/v1/key-profiles/p", `{"keys":[{"position":1,"type":"line","line":"1"}]}`, "keys.line", "keys.line must be a whole number"},
	} {
		t.Run(c.method+" "+c.path+" "+c.body, func(t *testing.T) {
			got := wantErr(t, e.api(c.method, c.path, c.body), http.StatusBadRequest, c.field)
			if got.Error != c.msg {
				t.Errorf("error %q, want %q", got.Error, c.msg)
			}
			if m := goTypeSpelling.FindString(got.Error); m != "" {
				t.Errorf("error %q spells a Go type (%q)", got.Error, m)
			}
		})
	}
	// Nothing of the refused bodies was stored.
	if code := e.api("GET", "/api/v1/devices/805ec0000001", nil).Code; code != http.StatusNotFound {
		t.Errorf("device 805ec0000001: status %d, want 404", code)
	}
	var d struct {
		Label string            `json:"label"`
		Keys  []json.RawMessage `json:"keys"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/devices/"+devMAC, nil, &d)
	if d.Label != "" || len(d.Keys) != 0 {
		t.Errorf("device changed by refused requests: label %q keys %s", d.Label, d.Keys)
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t, options{})
	for _, p := range []string{"/api/v1/nope", "/api/v2/accounts", "/nope", "/api/v1/devices/805ec0aabb01/nope"} {
		wantErr(t, e.api("GET", p, nil), http.StatusNotFound, "")
	}
	for _, c := range [][2]string{{"DELETE", "/api/v1/settings"}, {"POST", "/api/v1/accounts/201"}, {"PUT", "/api/v1/devices"}, {"POST", "/healthz"}, {"DELETE", "/prov/y000000000096.cfg"}} {
		rec := e.api(c[0], c[1], nil)
		if e := wantErr(t, rec, http.StatusMethodNotAllowed, ""); e.Error != "method not allowed" {
			t.Errorf("%s %s: error %q", c[0], c[1], e.Error)
		}
	}
}

func TestPutKeys(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()

	var d device
	e.must(http.StatusOK, "PUT", "/api/v1/devices/"+devMAC+"/keys", `[{"position":12,"type":"dnd","label":"DND"}]`, &d)
	if len(d.Keys) != 1 || d.Keys[0].Position != 12 || d.Keys[0].Type != "dnd" {
		t.Errorf("keys from a list: %+v", d.Keys)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/devices/"+devMAC+"/keys", ` {"keys":[{"position":13,"type":"dnd","label":"X"},{"position":14,"type":"dnd","label":"Y"}]}`, &d)
	if len(d.Keys) != 2 || d.Keys[0].Position != 13 || d.Keys[1].Position != 14 {
		t.Errorf("keys from an object: %+v", d.Keys)
	}
	if got := e.device(devMAC); len(got.Keys) != 2 {
		t.Errorf("stored keys: %+v", got.Keys)
	}

	// The object form is strict too.
	wantErr(t, e.api("PUT", "/api/v1/devices/"+devMAC+"/keys", `{"keys":[],"key":[]}`), http.StatusBadRequest, "key")
	wantErr(t, e.api("PUT", "/api/v1/devices/"+devMAC+"/keys", `[{"position":"1","type":"dnd"}]`), http.StatusBadRequest, "-")
	wantErr(t, e.api("PUT", "/api/v1/devices/"+devMAC+"/keys", `[] []`), http.StatusBadRequest, "")

	// Keys the model cannot take: 400 with field and one detail per key.
	got := wantErr(t, e.api("PUT", "/api/v1/devices/"+devMAC+"/keys", `[{"position":99,"type":"dnd"},{"position":98,"type":"dnd"}]`), http.StatusBadRequest, "keys")
	if len(got.Details) != 2 {
		t.Errorf("details %q, want one per bad key", got.Details)
	}
	if got := e.device(devMAC); len(got.Keys) != 2 || got.Keys[0].Position != 13 {
		t.Errorf("keys changed by refused requests: %+v", got.Keys)
	}

	// A bad MAC in the URL.
	for _, bad := range []string{"zz", "805ec0aabb", "000000000000", "805ec0aabb01aa"} {
		wantErr(t, e.api("PUT", "/api/v1/devices/"+bad+"/keys", `[]`), http.StatusBadRequest, "mac")
		wantErr(t, e.api("GET", "/api/v1/devices/"+bad, nil), http.StatusBadRequest, "mac")
	}
	// Any common notation names the same device.
	for i, m := range []string{"80-5E-C0-AA-BB-01", "80:5e:c0:aa:bb:01", "805e.c0aa.bb01", "805EC0AABB01"} {
		e.must(http.StatusOK, "PUT", "/api/v1/devices/"+m+"/keys", []key{{Position: 20 + i, Type: "dnd"}}, &d)
		if d.MAC != devMAC || len(d.Keys) != 1 || d.Keys[0].Position != 20+i {
			t.Errorf("%s: device %s keys %+v", m, d.MAC, d.Keys)
		}
		if got := e.device(m); got.MAC != devMAC {
			t.Errorf("GET %s: mac %q", m, got.MAC)
		}
	}
	wantErr(t, e.api("PUT", "/api/v1/devices/805ec0aabb02/keys", `[]`), http.StatusNotFound, "")
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()

	// InvalidError: 400 with field (and details, checked in TestPutKeys).
	wantErr(t, e.api("POST", "/api/v1/accounts", map[string]any{"extension": "bad ext"}), http.StatusBadRequest, "extension")
	wantErr(t, e.api("POST", "/api/v1/devices", map[string]any{"mac": "805ec0000009", "model": "X1"}), http.StatusBadRequest, "model")
	wantErr(t, e.api("GET", "/api/v1/audit?limit=0", nil), http.StatusBadRequest, "limit")
	// A boolean parameter is true or false, not "anything but true".
	wantErr(t, e.api("DELETE", "/api/v1/devices/"+devMAC+"?deregister=maybe", nil), http.StatusBadRequest, "deregister")
	if got := e.device(devMAC); got.MAC != devMAC {
		t.Errorf("a DELETE refused for its parameter removed the device: %+v", got)
	}
	wantErr(t, e.api("POST", "/api/v1/bulk?dry_run=perhaps", map[string]any{}), http.StatusBadRequest, "dry_run")

	// Not found.
	for _, p := range []string{"/api/v1/accounts/999", "/api/v1/devices/805ec0ffff01", "/api/v1/key-profiles/none"} {
		wantErr(t, e.api("GET", p, nil), http.StatusNotFound, "")
	}
	wantErr(t, e.api("DELETE", "/api/v1/accounts/999", nil), http.StatusNotFound, "")

	// Conflict.
	wantErr(t, e.api("POST", "/api/v1/accounts", map[string]any{"extension": "201", "password": "Another-pw-1"}), http.StatusConflict, "")
	wantErr(t, e.api("POST", "/api/v1/devices", map[string]any{"mac": devMAC, "model": "T54W"}), http.StatusConflict, "")
	wantErr(t, e.api("DELETE", "/api/v1/accounts/201", nil), http.StatusConflict, "") // device 805ec0aabb01 carries it
}

// TestInternalErrorHidesDetail: an unexpected error is a bare 500; the
// detail goes to the log only.
func TestInternalErrorHidesDetail(t *testing.T) {
	e := newFakeEnv(t, &fakeCore{accountsErr: fmt.Errorf("list accounts: open db password=hunter2: %w", errors.New("disk I/O error"))})
	rec := e.api("GET", "/api/v1/accounts", nil)
	wantErr(t, rec, http.StatusInternalServerError, "")
	if got := strings.TrimSpace(rec.Body.String()); got != `{"error":"internal error"}` {
		t.Errorf("body %s, want {\"error\":\"internal error\"}", got)
	}
	if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "disk") {
		t.Errorf("response leaks the detail: %s", rec.Body)
	}
	if !strings.Contains(e.log.String(), "hunter2") {
		t.Errorf("the detail is not in the log:\n%s", e.log)
	}
}

// TestPanicRecovered: a panicking handler answers 500 JSON and the server
// keeps serving.
func TestPanicRecovered(t *testing.T) {
	e := newFakeEnv(t, &fakeCore{panicAccounts: true})
	ts := e.serve()
	get := func(path string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	for range 2 {
		code, h, body := get("/api/v1/accounts")
		checkErr(t, code, h, body, http.StatusInternalServerError, "")
		if strings.Contains(string(body), "kaboom") {
			t.Errorf("panic value leaked: %s", body)
		}
		if code, _, body := get("/healthz"); code != http.StatusOK {
			t.Fatalf("healthz after a panic: %d %s", code, body)
		}
	}
	if !strings.Contains(e.log.String(), "panic in handler") || !strings.Contains(e.log.String(), "kaboom") {
		t.Errorf("panic not logged:\n%s", e.log)
	}
}

// fakeCore is a Core for the failures a real core will not produce. Its
// unimplemented methods panic (nil embedded interface).
type fakeCore struct {
	httpd.Phones
	httpd.Inventory
	ready         error
	accountsErr   error
	panicAccounts bool
}

func (f *fakeCore) Ready(context.Context) error { return f.ready }

func (f *fakeCore) ListAccounts(context.Context, autoprov.AccountFilter) ([]autoprov.Account, int, error) {
	if f.panicAccounts {
		panic("kaboom")
	}
	return nil, 0, f.accountsErr
}
