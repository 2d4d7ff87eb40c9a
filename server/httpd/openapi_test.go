package httpd_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/autoprov/autoprov/internal/netlist"
)

// TestOpenAPIServed: GET /api/v1/openapi.json answers the document as
// JSON without a token, and only to the admin networks.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, options{})
	rec := e.do(httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", rec.Code, rec.Body)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI == "" || doc.Paths["/devices/{mac}"]["patch"] == nil {
		t.Fatalf("not the API's document: openapi %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}

	admins, _ := netlist.Parse("10.1.0.0/16")
	e = newEnv(t, options{adminNetworks: admins})
	if rec := e.do(httptest.NewRequest("GET", "/api/v1/openapi.json", nil)); rec.Code != 403 {
		t.Fatalf("GET /api/v1/openapi.json from outside the admin networks: %d", rec.Code)
	}
	if rec := e.do(httptest.NewRequest("GET", "/metrics", nil)); rec.Code != 403 {
		t.Fatalf("GET /metrics from outside the admin networks: %d", rec.Code)
	}
}
