package httpd_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"

	"github.com/autoprov/autoprov/internal/netlist"
)

// nonce masks what differs between two challenges of the same request.
var nonce = regexp.MustCompile(`(nonce|opaque)="[^"]*"`)

// phoneAnswer is what a phone sees of a response.
type phoneAnswer struct {
	status int
	header http.Header
	body   []byte
}

func answerOf(h http.Handler, method, path string, hdr ...string) phoneAnswer {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	for k, vs := range res.Header {
		for i, v := range vs {
			vs[i] = nonce.ReplaceAllString(v, `$1="-"`)
		}
		res.Header[k] = vs
	}
	return phoneAnswer{res.StatusCode, res.Header, rec.Body.Bytes()}
}

// TestFastPathAnswersAsGin: every GET of a phone's file the fast path
// answers (FastPathOnly: gin replaced by 599) gets from it what gin's
// route answers the same request, status, every header and body: a
// cached common file, its 304, a device file without secrets, an unknown
// MAC, ?mac=, a refused path, a client outside the phone networks.
func TestFastPathAnswersAsGin(t *testing.T) {
	for _, tc := range []struct {
		name string
		nets netlist.List
	}{
		{"open", netlist.List{}},
		{"inside the phone networks", mustList(t, "192.0.2.1/32")}, // httptest's client
		{"outside the phone networks", mustList(t, "10.0.0.0/8")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, options{phoneNetworks: tc.nets})
			e.setup()
			gin, fast := e.srv.GinHandler(), e.srv.FastPathOnly()
			// Spend the device's window first (on gin): the file with
			// secrets is answered once, the steady state after it.
			answerOf(gin, "GET", "/prov/"+devMAC+".cfg", "User-Agent", yealinkUA)
			common := answerOf(gin, "GET", "/prov/y000000000000.cfg", "User-Agent", yealinkUA)
			etag := common.header.Get("ETag")
			if tc.nets.Empty() && (common.status != http.StatusOK || etag == "") {
				t.Fatalf("common file: %d, ETag %q", common.status, etag)
			}
			cases := [][]string{
				{"/prov/y000000000000.cfg", "User-Agent", yealinkUA},
				{"/prov/y000000000000.cfg", "User-Agent", yealinkUA, "If-None-Match", etag},
				{"/prov/" + devMAC + ".cfg", "User-Agent", yealinkUA},
				{"/prov/" + devMAC + ".cfg", "User-Agent", yealinkUA, "Authorization", "Basic eDp5"},
				{"/prov/805ec0ffff01.cfg", "User-Agent", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ff:01"},
				{"/prov/y000000000000.boot?mac=805ec0aabb01", "User-Agent", yealinkNoMAC},
				{"/prov/y000000000000.boot?a=%zz&mac=80%3A5E%3AC0%3AAA%3ABB%3A01;x&mac=805ec0aabb01", "User-Agent", yealinkNoMAC},
				{"/prov/y000000000000.boot?mac=nonsense", "User-Agent", yealinkNoMAC},
				{"/prov/../etc/passwd", "User-Agent", yealinkUA},
				{"/prov/", "User-Agent", yealinkUA},
				{"/prov/nothing-here.cfg"},
			}
			for _, c := range cases {
				// Twice each, in both orders: what the first answer
				// changes (a sighting, a cache fill) shows in the second.
				for range 2 {
					want := answerOf(gin, "GET", c[0], c[1:]...)
					got := answerOf(fast, "GET", c[0], c[1:]...)
					if got.status != want.status || !maps.EqualFunc(got.header, want.header, slices.Equal) || !bytes.Equal(got.body, want.body) {
						t.Errorf("GET %s %v:\nfast path %d %v\n%s\ngin       %d %v\n%s", c[0], c[1:], got.status, got.header, got.body,
							want.status, want.header, want.body)
					}
				}
			}
		})
	}
}

func mustList(t *testing.T, s string) netlist.List {
	t.Helper()
	l, err := netlist.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
