package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
)

// siteView is a site as the central's API shows it.
type siteView struct {
	ID            string          `json:"id"`
	State         string          `json:"state"`
	LastHeartbeat *time.Time      `json:"last_heartbeat"`
	EnrollToken   string          `json:"enroll_token"`
	Summary       json.RawMessage `json:"summary"`
}

// linkStatus is a site's GET /api/v1/central.
type linkStatus struct {
	State         string     `json:"state"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	GraceUntil    *time.Time `json:"grace_until"`
	Refused       string     `json:"refused"`
	Alarm         string     `json:"alarm"`
	Alarms        int        `json:"alarms"`
}

// httpsAddr is the HTTPS address a child logged at start.
func httpsAddr(t *testing.T, c *child) string {
	t.Helper()
	m := regexp.MustCompile(`autoprov started.* https=(\S+)`).FindStringSubmatch(c.log.String())
	if m == nil {
		t.Fatalf("no https address in the log:\n%s", c.log.String())
	}
	return m[1]
}

// linkAttempt opens the site link's WebSocket handshake as a client with
// the given certificates and returns the status: anything but 101 is no
// WebSocket.
func linkAttempt(t *testing.T, addr string, roots *x509.CertPool, certs []tls.Certificate) (int, http.Header) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest("GET", "https://"+addr+"/central/link", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("link attempt: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// clientCert makes a client certificate for cn with the serial signed by
// (caCert, caKey), or self-signed when caCert is nil, valid from notBefore
// to notAfter.
func clientCert(t *testing.T, cn string, serial *big.Int, caCert *x509.Certificate, caKey any, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, BasicConstraintsValid: true, IsCA: caCert == nil}
	parent, signer := tmpl, any(key)
	if caCert != nil {
		parent, signer = caCert, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func readPEMCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readPEMKey(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSiteAndCentral is issue [12]'s test: two real processes on loopback,
// each with its own data directory. Enrolment (trying a port where nothing
// listens first), link, heartbeat, an inbox phone adopted through the
// central's API and served by the site; the central killed: the site keeps
// serving; its clock moved past the grace period: no new window, files
// without secrets still served; the central restarted: the alarm clears
// and the audit queued meanwhile arrives in order; refusals of a client
// without a certificate, one from another CA, an expired one, a spent
// enrolment token and a revoked site.
func TestSiteAndCentral(t *testing.T) {
	dir := t.TempDir()
	cdata, sdata := filepath.Join(dir, "central"), filepath.Join(dir, "site")
	httpsPort := looptest.FreePort(t, "tcp")
	cen := startChild(t, "--data", cdata, "--http", "127.0.0.1:0", "--https", "127.0.0.1:"+httpsPort, "--tftp", "")
	caddr := httpsAddr(t, cen)
	capi := &server{t: t, base: cen.base, token: testToken, log: cen.log}
	serverCA := x509.NewCertPool()
	serverCA.AddCert(readPEMCert(t, filepath.Join(cdata, "tls", "cert.pem")))

	var created siteView
	capi.must(201, "POST", "/api/v1/sites", map[string]any{"name": "Berlin office"}, &created)
	if created.ID == "" || len(created.EnrollToken) < 32 || created.State != "pending" {
		t.Fatalf("created site: %+v", created)
	}
	// The data directory keeps the site CA, 0600.
	for _, f := range []string{"ca.pem", "ca-key.pem", "sites.json"} {
		if fi, err := os.Stat(filepath.Join(cdata, "central", f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", f, fi, err)
		}
	}

	siteArgs := []string{"--data", sdata, "--http", "127.0.0.1:0", "--tftp", "", "--central", "https://127.0.0.1",
		"--central-ports", looptest.FreePort(t, "tcp") + "," + httpsPort, "--central-ca", filepath.Join(cdata, "tls", "cert.pem"), "--central-heartbeat", "300ms"}
	site := startChild(t, append(siteArgs, "--site-id", created.ID, "--enroll-token", created.EnrollToken)...)
	sapi := &server{t: t, base: site.base, token: testToken, log: site.log}
	waitFor(t, 30*time.Second, func() (bool, string) {
		var v siteView
		capi.must(200, "GET", "/api/v1/sites/"+created.ID, nil, &v)
		return v.State == "connected" && v.LastHeartbeat != nil && bytes.Contains(v.Summary, []byte(`"state":"connected"`)), fmt.Sprintf("%+v %s", v, site.log.String())
	}, "the site never connected")
	for _, f := range []string{"site-key.pem", "site-cert.pem", "site.json"} {
		if fi, err := os.Stat(filepath.Join(sdata, "central", f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", f, fi, err)
		}
	}
	// The central records the heartbeat before its answer reaches the
	// site, which says "connected" only once it has that answer.
	var st linkStatus
	waitFor(t, 30*time.Second, func() (bool, string) {
		st = linkStatus{}
		sapi.must(200, "GET", "/api/v1/central", nil, &st)
		return st.State == "connected" && st.LastHeartbeat != nil, fmt.Sprintf("site status %+v", st)
	}, "the site never said connected")
	// The metrics of both ends say so.
	if v := scrape(t, capi, "autoprov_site_link_up", map[string]string{"site": created.ID}); v != 1 {
		t.Fatalf("the central's autoprov_site_link_up{site=%s} = %v, want 1", created.ID, v)
	}
	if c, g := scrape(t, sapi, "autoprov_central_link_state", map[string]string{"state": "connected"}),
		scrape(t, sapi, "autoprov_central_link_state", map[string]string{"state": "grace"}); c != 1 || g != 0 {
		t.Fatalf("the site's autoprov_central_link_state: connected %v, grace %v", c, g)
	}

	// The enrolment token is spent.
	enrol := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverCA}}}
	resp, err := enrol.Post("https://"+caddr+"/central/enroll", "application/json",
		strings.NewReader(`{"site_id":"`+created.ID+`","token":"`+created.EnrollToken+`","csr":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("enrolment with the spent token: %d, want 403", resp.StatusCode)
	}

	// Refusals: no certificate, another CA, an expired one of the site CA.
	caCert, caKey := readPEMCert(t, filepath.Join(cdata, "central", "ca.pem")), readPEMKey(t, filepath.Join(cdata, "central", "ca-key.pem"))
	now := time.Now()
	other := clientCert(t, "other CA", big.NewInt(1), nil, nil, now.Add(-time.Hour), now.Add(time.Hour))
	otherCA, _ := x509.ParseCertificate(other.Certificate[0])
	// Both name the site and carry its certificate's serial: only the
	// chain and the validity tell them from the real one.
	serial := readPEMCert(t, filepath.Join(sdata, "central", "site-cert.pem")).SerialNumber
	for name, certs := range map[string][]tls.Certificate{
		"no certificate": nil,
		"another CA":     {clientCert(t, created.ID, serial, otherCA, other.PrivateKey, now.Add(-time.Hour), now.Add(time.Hour))},
		"expired":        {clientCert(t, created.ID, serial, caCert, caKey, now.Add(-48*time.Hour), now.Add(-24*time.Hour))},
	} {
		if code, _ := linkAttempt(t, caddr, serverCA, certs); code == http.StatusSwitchingProtocols || code != 403 {
			t.Errorf("link with %s: %d, want 403 and no WebSocket", name, code)
		}
	}

	// An inbox phone of the site, adopted through the central's API.
	proxy := "/api/v1/sites/" + created.ID
	capi.must(200, "PUT", proxy+"/api/v1/settings", settings, nil)
	capi.must(201, "POST", proxy+"/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice Example", "password": sipPass}, nil)
	if code, _, _ := sapi.get("/prov/805ec0aabb01.cfg", yealinkUA); code == 200 {
		t.Fatalf("an unknown phone's file: %d", code)
	}
	var inbox struct {
		Items []struct {
			MAC string `json:"mac"`
		} `json:"items"`
	}
	capi.must(200, "GET", proxy+"/api/v1/devices?state=unassigned", nil, &inbox)
	if len(inbox.Items) != 1 {
		t.Fatalf("the site's inbox through the central: %+v", inbox)
	}
	capi.must(201, "POST", proxy+"/api/v1/devices", map[string]any{"mac": inbox.Items[0].MAC, "accounts": []string{"201"}}, nil)
	code, first, _ := sapi.get("/prov/805ec0aabb01.cfg", yealinkUA)
	if code != 200 || !bytes.Contains(first, []byte("account.1.password = "+sipPass)) {
		t.Fatalf("the adopted phone's first fetch from the site: %d\n%.300s", code, first)
	}
	cred := credentialOf(t, first)
	var audit struct {
		Items []struct {
			Event, Actor, Detail string
		} `json:"items"`
	}
	sapi.must(200, "GET", "/api/v1/audit", nil, &audit)
	adopted := false
	for _, e := range audit.Items {
		adopted = adopted || e.Event == "device.adopted" && e.Actor == "central@127.0.0.1"
	}
	if !adopted {
		t.Fatalf("the site's audit has no adoption by central@127.0.0.1: %+v", audit.Items)
	}
	capi.must(200, "GET", "/api/v1/audit", nil, &audit)
	if !strings.Contains(fmt.Sprint(audit.Items), "POST /api/v1/devices: 201") {
		t.Fatalf("the central's audit lacks the proxied adoption: %+v", audit.Items)
	}
	// The heartbeat carries the site's summary.
	waitFor(t, 30*time.Second, func() (bool, string) {
		var v siteView
		capi.must(200, "GET", "/api/v1/sites/"+created.ID, nil, &v)
		return bytes.Contains(v.Summary, []byte(`"phones":{"assigned":1,"unassigned":0}`)) && bytes.Contains(v.Summary, []byte(`"open_windows":0`)) &&
			bytes.Contains(v.Summary, []byte(`"grace_seconds":2592000`)), string(v.Summary)
	}, "the heartbeat does not report the adopted phone")

	// The central's web UI lists the site and opens its pages through the
	// link.
	jar, _ := cookiejar.New(nil)
	ui := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if code, _ := do(t, ui, "POST", cen.base+"/ui/login", strings.NewReader(url.Values{"token": {testToken}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded"); code != http.StatusSeeOther {
		t.Fatalf("login to the central's UI: %d", code)
	}
	if code, body := do(t, ui, "GET", cen.base+"/ui/sites", nil); code != 200 || !strings.Contains(body, "Berlin office") || !strings.Contains(body, ">connected<") {
		t.Fatalf("the central's Sites page: %d\n%s", code, body)
	}
	if code, body := do(t, ui, "GET", cen.base+"/ui/sites/"+created.ID, nil); code != 200 || !strings.Contains(body, "Devices (1)") || !strings.Contains(body, "80:5E:C0:AA:BB:01") {
		t.Fatalf("the site's page through the link: %d\n%s", code, body)
	}

	// One call finds a MAC across the connected sites.
	var found struct {
		Items []struct {
			SiteID string `json:"site_id"`
		} `json:"items"`
		Total int `json:"total"`
	}
	capi.must(200, "GET", "/api/v1/sites/devices?mac=80:5e:c0:aa:bb:01", nil, &found)
	if found.Total != 1 || found.Items[0].SiteID != created.ID {
		t.Fatalf("MAC search: %+v", found)
	}

	// Kill the central for longer than three heartbeats: the site serves.
	cen.cmd.Process.Kill()
	<-cen.done
	waitFor(t, 30*time.Second, func() (bool, string) {
		st = linkStatus{}
		sapi.must(200, "GET", "/api/v1/central", nil, &st)
		return st.State == "grace" && st.Alarm != "" && st.GraceUntil != nil, fmt.Sprintf("%+v", st)
	}, "the site shows no grace period with an alarm")
	if d := time.Until(*st.GraceUntil); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("grace until %v, want about 30 days from now", st.GraceUntil)
	}
	// The alarm is counted on the alarm loop's next tick.
	waitFor(t, 30*time.Second, func() (bool, string) {
		c, g := scrape(t, sapi, "autoprov_central_link_state", map[string]string{"state": "connected"}),
			scrape(t, sapi, "autoprov_central_link_state", map[string]string{"state": "grace"})
		a := scrape(t, sapi, "autoprov_central_alarms_total", nil)
		return c == 0 && g == 1 && a >= 1, fmt.Sprintf("connected %v, grace %v, alarms %v", c, g, a)
	}, "the site's metrics do not show its grace period and the alarm")
	if code, _, _ := sapi.get("/healthz", ""); code != 200 {
		t.Fatalf("healthz with the central down: %d", code)
	}
	if code, _, _ := sapi.getAs("/prov/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", cred); code != 200 {
		t.Fatalf("the phone's file with the central down: %d", code)
	}
	// An admin change while the link is down is queued.
	sapi.must(200, "PATCH", "/api/v1/devices/805ec0aabb01", map[string]any{"label": "queued while down"}, nil)

	// The site's clock moves past 30 days (a restart with the test clock):
	// no new window, no adoption; files without secrets still served.
	site.stop(t)
	site = startChildEnv(t, []string{"AUTOPROV_ADMIN_TOKEN=" + testToken, "AUTOPROV_SECRET_KEY=" + testFleetKey, "AUTOPROV_TEST_CLOCK_OFFSET=721h"}, siteArgs...)
	sapi = &server{t: t, base: site.base, token: testToken, log: site.log}
	sapi.must(200, "GET", "/api/v1/central", nil, &st)
	if st.State != "expired" {
		t.Fatalf("past the grace period the site is %+v, want expired", st)
	}
	if v := scrape(t, sapi, "autoprov_central_link_state", map[string]string{"state": "expired"}); v != 1 {
		t.Fatalf("the site's autoprov_central_link_state{state=expired} = %v, want 1", v)
	}
	if code, body := sapi.api("POST", "/api/v1/devices/805ec0aabb01/disclosure", nil); code != 409 || !strings.Contains(string(body), "grace period") {
		t.Fatalf("a new window past the grace period: %d %s, want 409", code, body)
	}
	code, body, _ := sapi.getAs("/prov/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", cred)
	if code != 200 || bytes.Contains(body, []byte(sipPass)) || !bytes.Contains(body, []byte("pbx.example.com")) {
		t.Fatalf("the phone's file past the grace period: %d\n%.300s", code, body)
	}
	sapi.get("/prov/805ec0aabb02.cfg", strings.Replace(yealinkUA, "aa:bb:01", "aa:bb:02", 1))
	if code, body := sapi.api("POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:02", "accounts": []string{"201"}}); code != 409 {
		t.Fatalf("an adoption past the grace period: %d %s, want 409", code, body)
	}

	// The central back (same data, same port): the alarm clears, the
	// grace period resets, the queued audit arrives in order.
	cen = startChild(t, "--data", cdata, "--http", "127.0.0.1:0", "--https", "127.0.0.1:"+httpsPort, "--tftp", "")
	capi = &server{t: t, base: cen.base, token: testToken, log: cen.log}
	waitFor(t, 30*time.Second, func() (bool, string) {
		st = linkStatus{}
		sapi.must(200, "GET", "/api/v1/central", nil, &st)
		return st.State == "connected" && st.Alarm == "", fmt.Sprintf("%+v", st)
	}, "the site did not reconnect")
	var events struct {
		Items []struct {
			ID     uint   `json:"id"`
			MAC    string `json:"mac"`
			Event  string `json:"event"`
			Detail string `json:"detail"`
		} `json:"items"`
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		capi.must(200, "GET", "/api/v1/sites/"+created.ID+"/events", nil, &events)
		label, arrival := false, false
		for _, e := range events.Items {
			label = label || e.Event == "device.updated" && strings.Contains(e.Detail, "label")
			arrival = arrival || e.Event == "inbox.arrived" && e.MAC == "805ec0aabb02"
		}
		return label && arrival, fmt.Sprintf("%+v", events.Items)
	}, "the audit and the inbox arrival queued while the link was down never reached the central")
	alarm := false
	for i, e := range events.Items {
		alarm = alarm || e.Event == "central.alarm"
		if i > 0 && e.ID >= events.Items[i-1].ID {
			t.Fatalf("events out of order: %+v", events.Items)
		}
	}
	if !alarm {
		t.Fatalf("the alarm raised while down is not among the events: %+v", events.Items)
	}
	capi.must(200, "POST", proxy+"/api/v1/devices/805ec0aabb01/disclosure", nil, nil)

	// Revoked: the live link goes at once, the next one is refused, and
	// the site says so.
	capi.must(200, "DELETE", "/api/v1/sites/"+created.ID, nil, nil)
	waitFor(t, 30*time.Second, func() (bool, string) {
		st = linkStatus{}
		sapi.must(200, "GET", "/api/v1/central", nil, &st)
		return st.State != "connected" && st.Refused == "revoked", fmt.Sprintf("%+v", st)
	}, "the revoked site does not say so")
	var v siteView
	capi.must(200, "GET", "/api/v1/sites/"+created.ID, nil, &v)
	if v.State != "revoked" {
		t.Fatalf("revoked site: %+v", v)
	}
	if _, body, _ := capi.get("/metrics", ""); bytes.Contains(body, []byte(`autoprov_site_link_up{site="`+created.ID+`"}`)) {
		t.Fatalf("the revoked site keeps its link gauge on the central")
	}
	siteCert, err := tls.LoadX509KeyPair(filepath.Join(sdata, "central", "site-cert.pem"), filepath.Join(sdata, "central", "site-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if code, h := linkAttempt(t, caddr, serverCA, []tls.Certificate{siteCert}); code != 403 || h.Get("X-Autoprov-Refusal") != "revoked" {
		t.Fatalf("the revoked site's link: %d %v", code, h)
	}
	if code, _ := capi.api("GET", proxy+"/api/v1/devices", nil); code != 409 {
		t.Fatalf("proxy to a revoked site: %d, want 409", code)
	}
	site.stop(t)
	cen.stop(t)
}

// TestReadmeSites pastes README's "Sites" block into bash in a fresh
// directory, with this test binary for `go run ./cmd/autoprov` and free
// ports for the documented ones: the site enrols and connects, the phone
// adopted through the central gets its passwords from the site, the MAC
// search finds it, and the site says it is connected.
func TestReadmeSites(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, "%s not installed", tool)
		}
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script := readmeBlock(t, string(b), "## Sites")
	out, stderr := pasteReadme(t, "Sites", script, t.TempDir(), []struct{ old, new string }{
		{"127.0.0.1:28080", "127.0.0.1:" + looptest.FreePort(t, "tcp")},
		{"28443", looptest.FreePort(t, "tcp")},
		{"127.0.0.1:29080", "127.0.0.1:" + looptest.FreePort(t, "tcp")},
	})
	for _, want := range []string{`"state":"pending"`, `"enroll_token":"`, `"name":"Berlin office","state":"connected"`, `"last_heartbeat":"20`,
		`"mac":"805ec0aabb01"`, "account.1.password = ", `"total":1`, `"site_name":"Berlin office"`, `{"state":"connected"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the pasted Sites block printed no %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "central link up") || !strings.Contains(stderr, "site enrolled") {
		t.Errorf("no link in the logs:\n%s", stderr)
	}
	if strings.Contains(stderr, argvWarning) {
		t.Errorf("README's Sites block gives a secret on the command line:\n%s", stderr)
	}
}

// TestEnrollTokenNotInUsage: the enrolment token from the environment is
// used, and the usage a flag error or -h prints does not show it (it did
// as the flag's default).
func TestEnrollTokenNotInUsage(t *testing.T) {
	const secret = "enrol-token-0123456789abcdef"
	env := map[string]string{"AUTOPROV_ENROLL_TOKEN": secret, "AUTOPROV_CENTRAL": "https://central.example.com", "AUTOPROV_SITE_ID": "s-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, args := range [][]string{{"--no-such-flag"}, {"-h"}} {
		var out bytes.Buffer
		if _, err := parse(args, lookup, &out); err == nil {
			t.Fatalf("%v: no error", args)
		}
		if !strings.Contains(out.String(), "-enroll-token") || strings.Contains(out.String(), secret) {
			t.Fatalf("%v: the usage shows the enrolment token (or no usage):\n%s", args, out.String())
		}
	}
	c, err := parse(nil, lookup, io.Discard)
	if err != nil || c.central.enrollToken != secret {
		t.Fatalf("from the environment: %q %v", c.central.enrollToken, err)
	}
	if c, err = parse([]string{"--enroll-token", "from-the-flag"}, lookup, io.Discard); err != nil || c.central.enrollToken != "from-the-flag" {
		t.Fatalf("the flag: %q %v", c.central.enrollToken, err)
	}
}
