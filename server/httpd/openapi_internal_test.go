package httpd

import (
	"strings"
	"testing"

	"github.com/autoprov/autoprov/server/apispec"
)

// TestEveryRouteDocumented: every admin API route the edge registers
// (with every optional part configured) is an operation of the OpenAPI
// document, whether or not a test calls it. A new endpoint fails here
// until it is added to server/apispec/openapi.yaml.
func TestEveryRouteDocumented(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range s.engine.Routes() {
		if !strings.HasPrefix(r.Path, apispec.Prefix+"/") {
			continue
		}
		n++
		ok, err := apispec.Documented(r.Method, r.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("%s %s is not in server/apispec/openapi.yaml (see server/apispec/README.md)", r.Method, r.Path)
		}
	}
	if n < 40 {
		t.Errorf("only %d API routes registered", n)
	}
}
