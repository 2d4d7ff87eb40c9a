package yealinkrps

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/redirect/xmlrpc"
)

// answer is RPS's documented answer shape: an array of a boolean and an
// untyped text value.
func answer(ok bool, text string) string {
	b := "0"
	if ok {
		b = "1"
	}
	return `<?xml version="1.0" encoding="UTF-8"?><methodResponse xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"><params><param><value><array><data><value><boolean>` +
		b + `</boolean></value><value>` + text + `</value></data></array></value></param></params></methodResponse>`
}

func fake(t *testing.T, reply func(body string) (int, string)) (*httptest.Server, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "acme" || p != "rps-pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/xmlrpc" || r.Header.Get("Content-Type") != "text/xml" {
			t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		code, body := reply(string(b))
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

const regCall = "<methodCall><methodName>redirect.registerDevice</methodName><params>" +
	"<param><value><string>805EC0AABB01</string></value></param>" +
	"<param><value><string>autoprov</string></value></param>" +
	"<param><value><string>1</string></value></param></params></methodCall>"

func TestRegisterSendsTheDocumentedCall(t *testing.T) {
	srv, got := fake(t, func(string) (int, string) { return 200, answer(true, "OK") })
	c := New(srv.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "https://prov.example.com/prov/r/yealink-rps/", srv.Client())
	if err := c.Register(context.Background(), "805ec0aabb01"); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 1 || !strings.Contains((*got)[0], regCall) {
		t.Fatalf("request = %q, want %q", *got, regCall)
	}
	if err := c.Deregister(context.Background(), "805ec0aabb01"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains((*got)[1], "<methodName>redirect.deRegisterDevice</methodName><params><param><value><string>805EC0AABB01</string></value></param></params>") {
		t.Fatalf("deregister = %q", (*got)[1])
	}
}

func TestRegisterDefinesAnUnknownServer(t *testing.T) {
	n := 0
	srv, got := fake(t, func(body string) (int, string) {
		n++
		switch {
		case strings.Contains(body, "redirect.addServer"):
			return 200, answer(true, "OK")
		case n == 1:
			return 200, answer(false, "Error: Invalid server")
		}
		return 200, answer(true, "OK")
	})
	c := New(srv.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "https://prov.example.com/prov/r/yealink-rps/", srv.Client())
	if err := c.Register(context.Background(), "805ec0aabb01"); err != nil {
		t.Fatal(err)
	}
	wantAdd := "<methodName>redirect.addServer</methodName><params><param><value><string>autoprov</string></value></param>" +
		"<param><value><string>https://prov.example.com/prov/r/yealink-rps/</string></value></param></params>"
	if len(*got) != 3 || !strings.Contains((*got)[1], wantAdd) || !strings.Contains((*got)[2], regCall) {
		t.Fatalf("requests = %q", *got)
	}
}

func TestLookupAndRefusals(t *testing.T) {
	srv, got := fake(t, func(body string) (int, string) {
		if strings.Contains(body, "checkDevice") {
			return 200, answer(true, "autoprov")
		}
		return 200, answer(false, "Error:Invalid MAC(s):00s1122334400")
	})
	c := New(srv.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "", srv.Client())
	if where, err := c.Lookup(context.Background(), "805ec0aabb01"); err != nil || where != "autoprov" {
		t.Fatalf("Lookup = %q, %v", where, err)
	}
	if !strings.Contains((*got)[0], "<methodName>redirect.checkDevice</methodName>") {
		t.Fatalf("request = %q", (*got)[0])
	}
	var r *xmlrpc.Refused
	if err := c.Register(context.Background(), "805ec0aabb01"); !errors.As(err, &r) || r.Reason != ReasonMalformedMAC {
		t.Fatalf("err = %v", err)
	}
	other, _ := fake(t, func(string) (int, string) {
		return 200, answer(false, "Are you sure you want to override MAC addresses")
	})
	c = New(other.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "", other.Client())
	if err := c.Register(context.Background(), "805ec0aabb01"); !errors.As(err, &r) || r.Reason != ReasonOwnedByOther {
		t.Fatalf("err = %v", err)
	}
}

func TestTransientErrors(t *testing.T) {
	srv, _ := fake(t, func(string) (int, string) { return 500, "oops" })
	c := New(srv.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "", srv.Client())
	var st *xmlrpc.StatusError
	if err := c.Register(context.Background(), "805ec0aabb01"); !errors.As(err, &st) || st.Code != 500 {
		t.Fatalf("err = %v", err)
	}
	garbage, _ := fake(t, func(string) (int, string) { return 200, "<html>maintenance</html>" })
	c = New(garbage.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "", garbage.Client())
	if err := c.Register(context.Background(), "805ec0aabb01"); !errors.Is(err, xmlrpc.ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
	release := make(chan struct{})
	hang := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c = New(hang.URL+"/xmlrpc", "acme", "rps-pw", "autoprov", "", hang.Client())
	if err := c.Register(ctx, "805ec0aabb01"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
