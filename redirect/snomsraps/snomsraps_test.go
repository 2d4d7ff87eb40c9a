package snomsraps

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

const answerOK = `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value><string>Ok</string></value></data></array></value></param></params></methodResponse>`

func answerErr(text string) string {
	return `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><boolean>0</boolean></value><value><string>` + text + `</string></value></data></array></value></param></params></methodResponse>`
}

// fake is SRAPS on loopback TLS: it records each request's body and
// answers with answer(body).
func fake(t *testing.T, answer func(body string) (int, string)) (*httptest.Server, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "acme" || p != "s3cret-pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/xmlrpc/" || r.Header.Get("Content-Type") != "text/xml" {
			t.Errorf("request %s %s %q: want POST /xmlrpc/ text/xml", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		code, body := answer(string(b))
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestRegisterSendsTheDocumentedCall(t *testing.T) {
	srv, got := fake(t, func(string) (int, string) { return 200, answerOK })
	c := New(srv.URL+"/xmlrpc/", "acme", "s3cret-pw", "https://prov.example.com/prov/r/snom-sraps/{mac}.xml", srv.Client())
	if err := c.Register(context.Background(), "000413aabbcc"); err != nil {
		t.Fatal(err)
	}
	want := "<methodCall><methodName>redirect.registerPhone</methodName><params>" +
		"<param><value><string>000413AABBCC</string></value></param>" +
		"<param><value><string>https://prov.example.com/prov/r/snom-sraps/{mac}.xml</string></value></param></params></methodCall>"
	if len(*got) != 1 || !strings.Contains((*got)[0], want) {
		t.Fatalf("request = %q, want %q", *got, want)
	}
	if err := c.Deregister(context.Background(), "000413aabbcc"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains((*got)[1], "<methodName>redirect.deregisterPhone</methodName><params><param><value><string>000413AABBCC</string></value></param></params>") {
		t.Fatalf("deregister = %q", (*got)[1])
	}
}

func TestLookup(t *testing.T) {
	srv, got := fake(t, func(string) (int, string) {
		return 200, `<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value>Acme, https://prov.example.com/x</value></data></array></value></param></params></methodResponse>`
	})
	c := New(srv.URL+"/xmlrpc/", "acme", "s3cret-pw", "", srv.Client())
	where, err := c.Lookup(context.Background(), "000413aabbcc")
	if err != nil || where != "Acme, https://prov.example.com/x" {
		t.Fatalf("Lookup = %q, %v", where, err)
	}
	if !strings.Contains((*got)[0], "<methodName>redirect.getPhoneRedirection</methodName>") {
		t.Fatalf("request = %q", (*got)[0])
	}
}

func TestDocumentedErrors(t *testing.T) {
	for _, reason := range []string{ReasonOwnedByOther, ReasonMalformedURL, ReasonMalformedMAC} {
		srv, _ := fake(t, func(string) (int, string) { return 200, answerErr("Error:" + reason) })
		c := New(srv.URL+"/xmlrpc/", "acme", "s3cret-pw", "https://x.example/", srv.Client())
		err := c.Register(context.Background(), "000413aabbcc")
		var r *xmlrpc.Refused
		if !errors.As(err, &r) || r.Reason != reason || r.Answer != "Error:"+reason {
			t.Fatalf("%s: err = %v", reason, err)
		}
	}
}

func TestTransientErrors(t *testing.T) {
	// A 5xx, a wrong password, a fault and a hang are not refusals: the
	// caller retries them.
	srv, _ := fake(t, func(string) (int, string) { return 503, "busy" })
	c := New(srv.URL+"/xmlrpc/", "acme", "s3cret-pw", "https://x.example/", srv.Client())
	err := c.Register(context.Background(), "000413aabbcc")
	var st *xmlrpc.StatusError
	if !errors.As(err, &st) || st.Code != 503 {
		t.Fatalf("5xx: err = %v", err)
	}
	c = New(srv.URL+"/xmlrpc/", "acme", "wrong", "https://x.example/", srv.Client())
	if err := c.Register(context.Background(), "000413aabbcc"); !errors.As(err, &st) || st.Code != 401 {
		t.Fatalf("401: err = %v", err)
	}
	fault, _ := fake(t, func(string) (int, string) {
		return 200, `<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value><string>Too many parameters</string></value></member></struct></value></fault></methodResponse>`
	})
	c = New(fault.URL+"/xmlrpc/", "acme", "s3cret-pw", "https://x.example/", fault.Client())
	var f *xmlrpc.Fault
	if err := c.Register(context.Background(), "000413aabbcc"); !errors.As(err, &f) || f.Code != 4 || f.String != "Too many parameters" {
		t.Fatalf("fault: err = %v", err)
	}
	release := make(chan struct{})
	hang := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	hc := hang.Client()
	hc.Timeout = 200 * time.Millisecond
	c = New(hang.URL+"/xmlrpc/", "acme", "s3cret-pw", "https://x.example/", hc)
	var r *xmlrpc.Refused
	if err := c.Register(context.Background(), "000413aabbcc"); err == nil || errors.As(err, &r) {
		t.Fatalf("hang: err = %v, want a timeout", err)
	}
}
