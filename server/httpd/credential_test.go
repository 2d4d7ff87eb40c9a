package httpd_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/internal/httpauth"
)

// credDevice is the credential part of a device as the API shows it.
type credDevice struct {
	Credential struct {
		State     string  `json:"state"`
		AppliedAt *string `json:"applied_at"`
	} `json:"credential"`
	TFTPAllowed bool   `json:"tftp_allowed"`
	Firmware    string `json:"firmware"`
	UserAgent   string `json:"user_agent"`
}

func (e *env) cred(mac string) credDevice {
	e.t.Helper()
	var d credDevice
	e.must(http.StatusOK, "GET", "/api/v1/devices/"+mac, nil, &d)
	return d
}

var credLine = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)`)

// credFetch GETs url with the Yealink's User-Agent (ua when not "") and an
// Authorization header when auth is not "".
func credFetch(t *testing.T, c *http.Client, url, ua, auth string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if ua == "" {
		ua = yealinkUA
	}
	req.Header.Set("User-Agent", ua)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestCredentialLifecycle: the secrets carry a credential (issued); once
// that transfer is complete the file is served only to requests that
// present it (the first one makes it applied) (Basic over HTTPS, Digest with SHA-256 and MD5 over
// HTTP), an unknown MAC answers exactly as the device without credentials
// does, only authenticated fetches update the report, and re-opening the
// window resets it.
func TestCredentialLifecycle(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	plain := e.serve()
	tlsSrv := httptest.NewTLSServer(e.srv.Handler())
	t.Cleanup(tlsSrv.Close)
	tc := tlsSrv.Client()
	path := "/prov/" + devMAC + ".cfg"

	if got := e.cred(devMAC).Credential.State; got != "none" {
		t.Fatalf("new device's credential %q, want none", got)
	}
	resp, body := credFetch(t, http.DefaultClient, plain.URL+path, "", "")
	m := credLine.FindStringSubmatch(body)
	if resp.StatusCode != 200 || !strings.Contains(body, sipPass) || m == nil {
		t.Fatalf("first fetch: %d, credential %v\n%s", resp.StatusCode, m, body)
	}
	pass := m[1]
	if !strings.Contains(body, "static.auto_provision.server.username = "+devMAC) {
		t.Errorf("user name is not the MAC:\n%s", body)
	}
	if d := e.completed(devMAC); d.Disclosure.Complete == nil || !*d.Disclosure.Complete {
		t.Fatalf("the secrets transfer is not recorded complete: %v", d.Disclosure.Complete)
	}
	if got := e.cred(devMAC).Credential.State; got != "issued" {
		t.Fatalf("after the secrets: credential %q, want issued", got)
	}
	// Issued by a complete transfer, not applied yet: a fetch without it
	// gets the challenge (no secret, no config); so does one with wrong
	// credentials.
	resp, body = credFetch(t, http.DefaultClient, plain.URL+path, "", "")
	if resp.StatusCode != 401 || strings.Contains(body, "account.") || strings.Contains(body, pass) || len(resp.Header.Values("WWW-Authenticate")) != 2 {
		t.Fatalf("second fetch while issued: %d %q\n%s", resp.StatusCode, resp.Header.Values("WWW-Authenticate"), body)
	}
	if resp, _ = credFetch(t, tc, tlsSrv.URL+path, "", basic(devMAC, "wrong-password-xxxxxxxx")); resp.StatusCode != 401 {
		t.Errorf("wrong Basic while issued: %d, want 401", resp.StatusCode)
	}
	if got := e.cred(devMAC).Credential.State; got != "issued" {
		t.Fatalf("credential %q after a wrong one, want issued", got)
	}
	// Basic over plain HTTP does not count.
	if resp, _ = credFetch(t, http.DefaultClient, plain.URL+path, "", basic(devMAC, pass)); resp.StatusCode != 401 {
		t.Errorf("Basic over HTTP: %d, want 401", resp.StatusCode)
	}
	// The phone presents it over HTTPS: applied.
	resp, body = credFetch(t, tc, tlsSrv.URL+path, "", basic(devMAC, pass))
	if resp.StatusCode != 200 || strings.Contains(body, sipPass) {
		t.Fatalf("right Basic over HTTPS: %d\n%s", resp.StatusCode, body)
	}
	if d := e.cred(devMAC); d.Credential.State != "applied" || d.Credential.AppliedAt == nil {
		t.Fatalf("after presenting it: %+v, want applied with a time", d.Credential)
	}

	// Applied: without or with wrong credentials, no config; an unknown MAC
	// answers exactly alike (status, headers, body; only the nonce differs).
	unknown := "805ec0ffee42"
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	norm := func(r *http.Response) string {
		h := r.Header.Clone()
		h.Del("Date")
		for i, v := range h["Www-Authenticate"] {
			h["Www-Authenticate"][i] = nonce.ReplaceAllString(v, `nonce="-"`)
		}
		j, _ := json.Marshal(h)
		return string(j)
	}
	for _, c := range []struct {
		name, auth string
		client     *http.Client
		base       string
	}{
		{"http, none", "", http.DefaultClient, plain.URL},
		{"https, none", "", tc, tlsSrv.URL},
		{"https, wrong Basic", basic(devMAC, pass+"x"), tc, tlsSrv.URL},
		{"https, other user", basic(unknown, pass), tc, tlsSrv.URL},
		{"http, garbage", "Digest nonsense", http.DefaultClient, plain.URL},
	} {
		known, kb := credFetch(t, c.client, c.base+path, "", c.auth)
		uk, ub := credFetch(t, c.client, c.base+"/prov/"+unknown+".cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ee:42", c.auth)
		if known.StatusCode != 401 || strings.Contains(kb, "account.") {
			t.Errorf("%s: known %d %q, want 401 without config", c.name, known.StatusCode, kb)
		}
		if uk.StatusCode != known.StatusCode || ub != kb || norm(uk) != norm(known) {
			t.Errorf("%s: unknown MAC answers differently:\n%d %s %q\n%d %s %q", c.name, uk.StatusCode, norm(uk), ub, known.StatusCode, norm(known), kb)
		}
		if len(known.Header.Values("WWW-Authenticate")) == 0 {
			t.Errorf("%s: 401 without a challenge", c.name)
		}
	}
	// HEAD tells no more.
	if rec := e.phone("HEAD", path, yealinkUA); rec.Code != 401 {
		t.Errorf("HEAD without credentials: %d", rec.Code)
	}

	// Digest over plain HTTP, with each algorithm offered.
	resp, _ = credFetch(t, http.DefaultClient, plain.URL+path, "", "")
	chs := resp.Header.Values("WWW-Authenticate")
	if len(chs) != 2 || !strings.Contains(chs[0], "SHA-256") || !strings.Contains(chs[1], "MD5") {
		t.Fatalf("challenges over HTTP: %q (want Digest SHA-256, MD5; no Basic)", chs)
	}
	for i, ch := range chs {
		// Both challenges carry one nonce: the second answer counts on.
		a, err := httpauth.AnswerCount(ch, devMAC, pass, "GET", path, uint32(2*i+1))
		if err != nil {
			t.Fatal(err)
		}
		resp, body = credFetch(t, http.DefaultClient, plain.URL+path, "Yealink SIP-T54W 96.86.0.200 80:5e:c0:aa:bb:01", a)
		if resp.StatusCode != 200 || !strings.Contains(body, "account.1.user_name") || strings.Contains(body, sipPass) {
			t.Errorf("Digest (%s): %d\n%s", ch, resp.StatusCode, body)
		}
		// The same answer captured and replayed gets no config: 401, a
		// fresh (stale=true) challenge.
		if resp, body = credFetch(t, http.DefaultClient, plain.URL+path, "", a); resp.StatusCode != 401 ||
			strings.Contains(body, "account.1.user_name") || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "stale=true") {
			t.Errorf("replayed Digest (%s): %d %q", ch, resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
		// The next count on that nonce is the phone's next request: served.
		next, _ := httpauth.AnswerCount(ch, devMAC, pass, "GET", path, uint32(2*i+2))
		if resp, _ = credFetch(t, http.DefaultClient, plain.URL+path, "Yealink SIP-T54W 96.86.0.200 80:5e:c0:aa:bb:01", next); resp.StatusCode != 200 {
			t.Errorf("Digest with the next nonce count (%s): %d", ch, resp.StatusCode)
		}
		bad, _ := httpauth.Answer(ch, devMAC, pass+"x", "GET", path)
		if resp, _ = credFetch(t, http.DefaultClient, plain.URL+path, "", bad); resp.StatusCode != 401 {
			t.Errorf("wrong Digest: %d", resp.StatusCode)
		}
	}
	if d := e.cred(devMAC); d.Firmware != "96.86.0.200" {
		t.Errorf("an authenticated fetch did not update the report: firmware %q", d.Firmware)
	}
	// An unauthenticated fetch with a forged User-Agent changes nothing.
	credFetch(t, http.DefaultClient, plain.URL+path, "Yealink SIP-T54W 66.6.6.6 80:5e:c0:aa:bb:01", "")
	if d := e.cred(devMAC); d.Firmware != "96.86.0.200" {
		t.Errorf("an unauthenticated fetch updated the report: firmware %q", d.Firmware)
	}

	// The password is nowhere in the API or the log.
	for _, p := range []string{"/api/v1/devices/" + devMAC, "/api/v1/devices", "/api/v1/audit"} {
		if rec := e.api("GET", p, nil); strings.Contains(rec.Body.String(), pass) {
			t.Errorf("%s shows the provisioning password", p)
		}
	}
	if strings.Contains(e.log.String(), pass) {
		t.Error("the provisioning password is in the log")
	}

	// Re-opening the window resets it: the next secrets carry a new one.
	e.must(http.StatusOK, "POST", "/api/v1/devices/"+devMAC+"/disclosure", nil, nil)
	if got := e.cred(devMAC).Credential.State; got != "none" {
		t.Fatalf("after re-open: credential %q, want none", got)
	}
	resp, body = credFetch(t, http.DefaultClient, plain.URL+path, "", "")
	m = credLine.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || m[1] == pass || !strings.Contains(body, sipPass) {
		t.Fatalf("fetch after re-open: %d, credential %v (old %s)", resp.StatusCode, m, pass)
	}
}
