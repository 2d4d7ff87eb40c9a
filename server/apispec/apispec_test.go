package apispec_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/server/apispec"
)

// TestDocumentValidates: the embedded document loads and follows the
// OpenAPI 3 rules, and its JSON form is the same document.
func TestDocumentValidates(t *testing.T) {
	if err := apispec.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := apispec.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) < 30 {
		t.Fatalf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
}

// TestDocumented: routes in gin's form are found with any parameter
// names; others are not.
func TestDocumented(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"PATCH", "/api/v1/devices/:mac", true},
		{"GET", "/api/v1/devices/:x/files/:y", true},
		{"GET", "/api/v1/firmware/targets", true},
		{"DELETE", "/api/v1/settings", false},
		{"GET", "/api/v1/nowhere", false},
		{"GET", "/prov/*file", false},
	} {
		if got, err := apispec.Documented(c.method, c.path); err != nil || got != c.want {
			t.Errorf("Documented(%s %s) = %v, %v; want %v", c.method, c.path, got, err, c.want)
		}
	}
}

// recorder collects what the checker reports.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

// TestCheckerCatches: the checker reports an undocumented path the server
// answers, a response that departs from the document, and a request the
// document refuses that the server accepted; it lets a conforming
// exchange, a refused bad request and a 404 for an unknown path pass. A
// call through the central's proxy (/sites/{id}/api/v1/...) is held to
// the site's operation.
func TestCheckerCatches(t *testing.T) {
	account := `{"extension":"201","display_name":"A","auth_user":"201","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		answer                   string
		wantErr                  string
	}{
		{"conforming", "GET", "/api/v1/accounts/201", "", 200, account, ""},
		{"undocumented path", "GET", "/api/v1/nowhere", "", 200, `{"items":[]}`, "not in the OpenAPI document"},
		{"undocumented method", "DELETE", "/api/v1/settings", "", 204, ``, "not in the OpenAPI document"},
		{"unknown path answered 404", "GET", "/api/v1/nothing-here", "", 404, `{"error":"not found"}`, ""},
		{"extra field", "GET", "/api/v1/accounts/201", "", 200, strings.Replace(account, `"extension"`, `"password":"x","extension"`, 1), "does not conform"},
		{"wrong type", "GET", "/api/v1/accounts/201", "", 200, strings.Replace(account, `"201","display`, `201,"display`, 1), "does not conform"},
		{"error body", "GET", "/api/v1/accounts/999", "", 404, `{"message":"no"}`, "does not conform"},
		{"bad request refused", "POST", "/api/v1/accounts", `{"extension":201}`, 400, `{"error":"extension must be a string","field":"extension"}`, ""},
		{"bad request accepted", "POST", "/api/v1/accounts", `{"extension":201}`, 201, account, "document refuses"},
		{"proxied to a site", "GET", "/api/v1/sites/s-1/api/v1/accounts/201", "", 200, account, ""},
		{"proxied, extra field", "GET", "/api/v1/sites/s-1/api/v1/accounts/201", "", 200, strings.Replace(account, `"extension"`, `"password":"x","extension"`, 1), "does not conform"},
		{"proxied, site not connected", "GET", "/api/v1/sites/s-1/api/v1/accounts/201", "", 503, `{"error":"site not connected"}`, ""},
		{"proxied, undocumented", "GET", "/api/v1/sites/s-1/api/v1/nowhere", "", 200, `{}`, "not in the OpenAPI document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(c.status)
				w.Write([]byte(c.answer))
			})
			rec := &recorder{}
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			apispec.Handler(rec, h).ServeHTTP(httptest.NewRecorder(), req)
			got := strings.Join(rec.errs, "\n")
			if c.wantErr == "" && got != "" {
				t.Errorf("reported: %s", got)
			}
			if c.wantErr != "" && !strings.Contains(got, c.wantErr) {
				t.Errorf("want a report with %q, got %q", c.wantErr, got)
			}
		})
	}
}
