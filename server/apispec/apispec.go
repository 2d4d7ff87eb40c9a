// Package apispec is the OpenAPI 3 document of the admin API
// (openapi.yaml, embedded; served as JSON at GET /api/v1/openapi.json) and
// the checker that holds the API to it in tests. It is the one package
// that imports github.com/getkin/kin-openapi.
//
// The checker sees every request to /api/v1 and its response (as an
// http.Handler wrapper or an http.RoundTripper) and reports, through the
// test's Errorf:
//   - a path or method the document does not have, unless the server
//     answered it 404 or 405 too (so a new endpoint fails every test that
//     calls it until it is documented);
//   - a request the document refuses that the server accepted (a status
//     below 400): a test may send a bad request on purpose, and then the
//     server must refuse it;
//   - a response whose status, headers or JSON body the document does not
//     allow (an undocumented status is checked against "default", the
//     error object).
//
// See README.md for how to add a path.
package apispec

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Prefix is where the admin API lives; the document's paths are below it.
const Prefix = "/api/v1"

//go:embed openapi.yaml
var source []byte

var load = sync.OnceValues(func() (*openapi3.T, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(source)
	if err != nil {
		return nil, fmt.Errorf("apispec: openapi.yaml does not load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apispec: openapi.yaml is not a valid OpenAPI 3 document: %w", err)
	}
	return doc, nil
})

var jsonDoc = sync.OnceValues(func() ([]byte, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// JSON returns the document as JSON, as GET /api/v1/openapi.json serves
// it. The error is only for a broken embedded document, which the
// package's tests catch.
func JSON() ([]byte, error) { return jsonDoc() }

// Validate loads the embedded document and checks it against the OpenAPI
// 3 rules.
func Validate() error {
	_, err := load()
	return err
}

// Documented reports whether the document has the operation method on
// the route pattern (gin's form, e.g. /api/v1/devices/:mac; the names of
// the parameters do not matter).
func Documented(method, pattern string) (bool, error) {
	doc, err := load()
	if err != nil {
		return false, err
	}
	p, ok := strings.CutPrefix(pattern, Prefix)
	if !ok {
		return false, nil
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	item := doc.Paths.Find(strings.Join(segs, "/"))
	return item != nil && item.GetOperation(method) != nil, nil
}
