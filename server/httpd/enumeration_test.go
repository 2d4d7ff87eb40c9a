package httpd_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestAppliedAnswersAsUnknown: once a Yealink's credential is applied, a
// request that does not present it gets exactly what the same request
// naming an unknown MAC of the same vendor gets (status, headers but the
// Digest nonce, body), for its per-device file, the other vendors' file
// names and a common file naming it in ?mac=, with every User-Agent, GET
// and HEAD; and none of them touches the device's report. Before, the
// device's own driver and model answered: 404 vs 401 for <MAC>.xml, 200
// vs 404 for <MAC>.boot, the device's model in the common file.
func TestAppliedAnswersAsUnknown(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	plain := e.serve()
	tlsSrv := httptest.NewTLSServer(e.srv.Handler())
	t.Cleanup(tlsSrv.Close)
	path := "/prov/" + devMAC + ".cfg"
	_, body := credFetch(t, http.DefaultClient, plain.URL+path, "", "")
	m := credLine.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("first fetch carries no credential:\n%s", body)
	}
	pass := m[1]
	e.settled(devMAC, "consumed")
	if r, _ := credFetch(t, tlsSrv.Client(), tlsSrv.URL+path, "", basic(devMAC, pass)); r.StatusCode != http.StatusOK {
		t.Fatalf("fetch with the credential: %d", r.StatusCode)
	}
	before := e.cred(devMAC)
	if before.Credential.State != "applied" {
		t.Fatalf("credential %q, want applied", before.Credential.State)
	}

	const unknown = "805ec0ffee42" // a Yealink OUI, not in the inventory
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	// A file naming the MAC it was asked for differs by that MAC alone
	// (and so does its ETag, a hash of the body).
	ans := func(method, p, ua, auth, mac string) string {
		t.Helper()
		req, _ := http.NewRequest(method, plain.URL+p, nil)
		req.Header.Set("User-Agent", ua)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		h.Del("Date")
		for i, v := range h["Www-Authenticate"] {
			h["Www-Authenticate"][i] = nonce.ReplaceAllString(v, `nonce="-"`)
		}
		if h.Get("Etag") != "" {
			h.Set("Etag", "present")
		}
		for _, form := range []string{mac, strings.ToUpper(mac), colon(mac), strings.ToUpper(colon(mac))} {
			b = []byte(strings.ReplaceAll(string(b), form, "<mac>"))
		}
		return fmt.Sprintf("%d %v %q", r.StatusCode, h, b)
	}
	uas := []string{"", "curl/8", yealinkUA, yealinkNoMAC, snomUA, "Gigaset N870 IP PRO/83.V2.23.0+build.a546;7C2F80FFEE42",
		"Mozilla/5.0 Gigaset", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ee:42", "Yealink SIP-T46U 108.86.0.20"}
	files := []string{"/prov/%s.cfg", "/prov/%s.xml", "/prov/%s.boot", "/prov/y000000000108.cfg?mac=%s",
		"/prov/y000000000000.cfg?mac=%s", "/prov/%s-local.cfg", "/prov/snomD785-%s.htm", "/prov/%s.xml?x", "/prov/%s.cfg?x"}
	auths := []string{"", basic(devMAC, "wrong-password"), `Digest username="` + devMAC + `", realm="autoprov", nonce="x", uri="/", response="0"`}
	for _, ua := range uas {
		for _, method := range []string{"GET", "HEAD"} {
			for _, tmpl := range files {
				for _, auth := range auths {
					for _, mac := range []string{devMAC, strings.ToUpper(devMAC)} {
						um := unknown
						if mac != devMAC {
							um = strings.ToUpper(unknown)
						}
						k := ans(method, fmt.Sprintf(tmpl, mac), ua, strings.ReplaceAll(auth, devMAC, mac), devMAC)
						u := ans(method, fmt.Sprintf(tmpl, um), ua, strings.ReplaceAll(auth, devMAC, um), unknown)
						if k != u {
							t.Errorf("%s %s ua=%q auth=%v:\n known   %s\n unknown %s", method, tmpl, ua, auth != "", k, u)
						}
					}
				}
			}
		}
	}
	if after := e.cred(devMAC); after.UserAgent != before.UserAgent || after.Firmware != before.Firmware {
		t.Errorf("report changed by requests without the credential: %+v -> %+v", before, after)
	}
	// The phone itself, with its credential, still gets its file.
	if r, b := credFetch(t, tlsSrv.Client(), tlsSrv.URL+path, "", basic(devMAC, pass)); r.StatusCode != http.StatusOK || !strings.Contains(b, "account.1") {
		t.Fatalf("fetch with the credential after the probes: %d\n%s", r.StatusCode, b)
	}
}

// colon writes a 12-digit MAC with colons.
func colon(mac string) string {
	var b strings.Builder
	for i := 0; i < len(mac); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(mac[i : i+2])
	}
	return b.String()
}
