package apispec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Reporter is what the checker reports a mismatch to: a *testing.T.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

var router = sync.OnceValues(func() (routers.Router, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// Check holds one exchange with the API to the document: the request (its
// body given apart, as it was sent), the response's status, headers and
// body. It returns nil for a request outside Prefix.
func Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) error {
	if !strings.HasPrefix(req.URL.Path, Prefix+"/") {
		return nil
	}
	if inner, ok := proxied(req.URL.Path); ok {
		// The central's proxy answers as the site would: hold the
		// exchange to the operation of the site's path.
		req = req.Clone(context.Background())
		req.URL.Path, req.URL.RawPath = inner, ""
	}
	r, err := router()
	if err != nil {
		return err
	}
	// The router matches on the path; a client request's URL carries the
	// host, which the document's relative server does not name.
	m := req.Clone(context.Background())
	m.URL.Scheme, m.URL.Host, m.Host = "", "", ""
	m.Body = io.NopCloser(bytes.NewReader(reqBody))
	m.ContentLength = int64(len(reqBody))
	route, params, err := r.FindRoute(m)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // the server does not have it either
		}
		return fmt.Errorf("%s %s is not in the OpenAPI document (server/apispec/openapi.yaml) but the server answered %d: document it (%v)",
			req.Method, req.URL.Path, status, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: m, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			ExcludeRequestBody: !isJSON(req.Header.Get("Content-Type")),
			MultiError:         true,
		},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && status < 400 {
		return fmt.Errorf("%s %s: the server answered %d to a request the OpenAPI document refuses: %v", req.Method, req.URL.Path, status, err)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			ExcludeResponseBody:   !isJSON(header.Get("Content-Type")),
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s: the response (%d) does not conform to the OpenAPI document: %v\nbody: %.600s", req.Method, req.URL.Path, status, err, respBody)
	}
	return nil
}

// proxied returns the site's path of a call through the central's proxy,
// /api/v1/sites/{id}/api/v1/...: /api/v1/...
func proxied(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, Prefix+"/sites/")
	if !ok {
		return "", false
	}
	id, inner, ok := strings.Cut(rest, "/")
	if !ok || id == "" || !strings.HasPrefix("/"+inner, Prefix+"/") {
		return "", false
	}
	return "/" + inner, true
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// Handler wraps h (the HTTP edge's handler) so that every exchange under
// Prefix is checked against the document; a mismatch is reported to t.
// Request bodies are read whole first, so it is for tests only.
func Handler(t Reporter, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, Prefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		// The body as the server reads it, no more (a test may check
		// that a body over a limit is not read).
		var body bytes.Buffer
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &body), r.Body}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := Check(r, body.Bytes(), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Helper()
			t.Errorf("apispec: %v", err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// Transport wraps base (nil: http.DefaultTransport) so that every
// exchange under Prefix is checked against the document; a mismatch is
// reported to t. It reads JSON request bodies and response bodies whole,
// so it is for tests only.
func Transport(t Reporter, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{t, base}
}

type roundTripper struct {
	t    Reporter
	base http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, Prefix+"/") {
		return rt.base.RoundTrip(req)
	}
	var body []byte
	// A body that is not JSON (a firmware image) is not checked, and
	// goes out as a stream, as without the checker.
	if req.Body != nil && req.Body != http.NoBody && isJSON(req.Header.Get("Content-Type")) {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return resp, nil // a body broken off: nothing to hold to the document
		}
		return nil, err
	}
	if err := Check(req, body, resp.StatusCode, resp.Header, rb); err != nil {
		rt.t.Helper()
		rt.t.Errorf("apispec: %v", err)
	}
	return resp, nil
}
