package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/httpauth"
)

// testCA is a CA the test generates, to sign device certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	path string // its PEM file
}

func nextSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		panic(err)
	}
	return n
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, path: path}
}

// device issues a device certificate with the subject and DNS names (the
// MAC goes where the test puts it).
func (ca *testCA) device(t *testing.T, subject pkix.Name, dns ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		DNSNames: dns}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// certGet fetches path over HTTPS presenting cert (none when nil), sent
// whatever CAs the server names, as a phone with one certificate does.
func certGet(t *testing.T, base string, pool *x509.CertPool, cert *tls.Certificate, method, path, ua string, cred ...string) (int, []byte) {
	t.Helper()
	cfg := &tls.Config{RootCAs: pool, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	var rt http.RoundTripper = tr
	if len(cred) == 2 { // user, password: answer a challenge with them
		rt = &httpauth.DigestTransport{Base: tr, User: cred[0], Password: cred[1]}
	}
	resp, err := (&http.Client{Transport: rt, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestPhoneCAMutualTLS is issue [5] item 7: with --phone-ca, a Yealink
// phone's per-device file goes only over HTTPS to a client certificate
// from the Yealink CA naming its MAC; everything else gets the miss answer
// and leaves the window open. Common files, other vendors, the admin API
// and clients without a certificate are unaffected.
func TestPhoneCAMutualTLS(t *testing.T) {
	dir := t.TempDir()
	yealinkCA := newTestCA(t, dir, "Yealink test CA")
	snomCA := newTestCA(t, dir, "Snom test CA")
	otherCA := newTestCA(t, dir, "Other test CA")
	s := start(t, "--https", "127.0.0.1:0", "--phone-ca", "yealink="+yealinkCA.path, "--phone-ca", "snom="+snomCA.path)
	base := httpsOf(t, s)
	pool := tlsPool(t, filepath.Join(s.data, "tls", "cert.pem"))
	setup(s, "80:5E:C0:AA:BB:01", "T54W")
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "7c:2f:80:aa:bb:04", "vendor": "gigaset", "model": "Maxwell 3", "accounts": []string{"201"}}, nil)

	const file = "/prov/805ec0aabb01.cfg"
	certA := yealinkCA.device(t, pkix.Name{CommonName: "805EC0AABB01", Organization: []string{"Yealink"}})
	certB := yealinkCA.device(t, pkix.Name{CommonName: "805EC0AABB02", Organization: []string{"Yealink"}})
	fromOther := otherCA.device(t, pkix.Name{CommonName: "805EC0AABB01"})
	fromSnom := snomCA.device(t, pkix.Name{CommonName: "805EC0AABB01"})

	missCode, miss := certGet(t, base, pool, nil, "GET", "/prov/805ec0ffff99.cfg", yealinkUA)
	if missCode != 404 {
		t.Fatalf("unknown MAC: %d %s", missCode, miss)
	}
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
	}{
		{"no certificate", nil},
		{"another MAC's certificate", &certB},
		{"a certificate from another CA", &fromOther},
		{"a certificate from another vendor's CA", &fromSnom},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			code, body := certGet(t, base, pool, tc.cert, method, file, yealinkUA)
			if code != missCode || (method == "GET" && !bytes.Equal(body, miss)) {
				t.Errorf("%s %s with %s: %d %q, want the miss answer %d %q", method, file, tc.name, code, body, missCode, miss)
			}
		}
	}
	if code, body, _ := s.get(file, yealinkUA); code != missCode || !bytes.Equal(body, miss) {
		t.Errorf("plain HTTP fetch of the per-device file: %d %q, want the miss answer", code, body)
	}
	var dev struct {
		Disclosure struct{ State string }
		UserAgent  string `json:"user_agent"`
	}
	s.must(200, "GET", "/api/v1/devices/805ec0aabb01", nil, &dev)
	if dev.Disclosure.State != "open" {
		t.Errorf("after refused fetches the window is %q, want open", dev.Disclosure.State)
	}
	if dev.UserAgent != "" {
		t.Errorf("a refused fetch updated the device's User-Agent to %q", dev.UserAgent)
	}

	// The phone's own certificate gets its file, with the secrets.
	code, body := certGet(t, base, pool, &certA, "GET", file, yealinkUA)
	if code != 200 || !bytes.Contains(body, []byte("account.1.password = "+sipPass)) || !bytes.Contains(body, []byte("account.1.user_name = 201")) {
		t.Fatalf("fetch with the phone's certificate: %d\n%s", code, body)
	}
	if !waitComplete(t, s, "805ec0aabb01") {
		t.Error("the fetch with the phone's certificate is recorded as incomplete")
	}
	// The sighting is written in the background, within a second.
	waitFor(t, 30*time.Second, func() (bool, string) {
		s.must(200, "GET", "/api/v1/devices/805ec0aabb01", nil, &dev)
		return dev.UserAgent == yealinkUA, dev.UserAgent
	}, "the fetch with the phone's certificate did not update the User-Agent")
	// From now on the phone presents the credential that transfer gave it
	// too (without it: the challenge, even with its certificate).
	cred := []string{"805ec0aabb01", credentialOf(t, body)}
	if code, again := certGet(t, base, pool, &certA, "GET", file, yealinkUA); code != 401 || bytes.Contains(again, []byte("account.")) {
		t.Errorf("second fetch with the phone's certificate, without its credential: %d\n%s", code, again)
	}
	if code, again := certGet(t, base, pool, &certA, "GET", file, yealinkUA, cred...); code != 200 || bytes.Contains(again, []byte(sipPass)) || !bytes.Contains(again, []byte("account.1.user_name = 201")) {
		t.Errorf("second fetch with the phone's certificate: %d\n%s", code, again)
	}
	// A certificate of the CA naming no MAC opens nothing; the MAC in a
	// SAN does (the tolerant reading).
	noMAC := yealinkCA.device(t, pkix.Name{CommonName: "Yealink generic certificate", SerialNumber: "SN123"})
	if code, _ := certGet(t, base, pool, &noMAC, "GET", file, yealinkUA); code != missCode {
		t.Errorf("a certificate naming no MAC: %d, want the miss answer", code)
	}
	inSAN := yealinkCA.device(t, pkix.Name{CommonName: "Yealink device"}, "805ec0aabb01.phones.example")
	if code, body := certGet(t, base, pool, &inSAN, "GET", file, yealinkUA, cred...); code != 200 || !bytes.Contains(body, []byte("account.1.user_name = 201")) {
		t.Errorf("a certificate with the MAC in a DNS name: %d\n%s", code, body)
	}

	// Common files need no certificate, over HTTPS and HTTP.
	if code, body := certGet(t, base, pool, nil, "GET", "/prov/y000000000096.cfg", yealinkUA); code != 200 || !bytes.Contains(body, []byte("static.auto_provision.server.url")) {
		t.Errorf("common file over HTTPS without a certificate: %d\n%s", code, body)
	}
	if code, body, _ := s.get("/prov/y000000000096.cfg", yealinkUA); code != 200 {
		t.Errorf("common file over HTTP: %d\n%s", code, body)
	}
	// A vendor without --phone-ca is unaffected, over HTTP and over HTTPS
	// with any certificate or none.
	if code, body, _ := s.get("/prov/7c2f80aabb04.xml", maxwellUA); code != 200 || !strings.Contains(xmlText(t, body), `"SIP.Account.0.AuthPassword" value="`+sipPass+`"`) {
		t.Errorf("Gigaset per-device file over HTTP: %d\n%s", code, body)
	}
	if code, body := certGet(t, base, pool, &fromOther, "GET", "/prov/7c2f80aabb04.xml", maxwellUA); code != 200 || !strings.Contains(string(body), "SIP.Account.0.Username") {
		t.Errorf("Gigaset per-device file over HTTPS with an unrelated certificate: %d\n%s", code, body)
	}
	// The admin API over HTTPS needs no client certificate.
	c := newTLSClient(t, base, pool)
	if code, body, _ := c.do("GET", "/api/v1/settings", "", testToken, nil); code != 200 {
		t.Errorf("admin API over HTTPS without a client certificate: %d %s", code, body)
	}
	if log := s.log.String(); !strings.Contains(log, "phone_ca=yealink,snom") {
		t.Errorf("start-up log does not name the phone CAs:\n%s", log)
	}
	s.leaks(sipPass)
}

func TestPhoneCABadConfigurationStopsStartup(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "Yealink test CA")
	text := filepath.Join(dir, "text.pem")
	if err := os.WriteFile(text, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	https := []string{"--data", t.TempDir(), "--https", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", append(https, "--phone-ca", "yealink="+filepath.Join(dir, "nope.pem")), []string{"--phone-ca", "nope.pem"}},
		{"not a certificate", append(https, "--phone-ca", "yealink="+text), []string{"--phone-ca", "text.pem"}},
		{"unknown vendor", append(https, "--phone-ca", "acme="+ca.path), []string{"--phone-ca", `unknown vendor "acme"`}},
		{"no file", append(https, "--phone-ca", "yealink"), []string{"phone-ca", "<vendor>=<PEM file"}},
		{"bad second of a list", append(https, "--phone-ca", "yealink="+ca.path+",snom="+text), []string{"--phone-ca", "snom="}},
		{"without https", []string{"--data", t.TempDir(), "--phone-ca", "yealink=" + ca.path}, []string{"--phone-ca", "--https"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := runFails(t, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestPhoneCAFlagAndEnvironment(t *testing.T) {
	env := map[string]string{"AUTOPROV_HTTPS": ":8443", "AUTOPROV_PHONE_CA": "yealink=/a.pem, snom=/b.pem"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := parse(nil, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []phoneCASpec{{"yealink", "/a.pem"}, {"snom", "/b.pem"}}; !equalSpecs(c.phoneCAs, want) {
		t.Errorf("from the environment: %v, want %v", c.phoneCAs, want)
	}
	// The flag replaces the environment; it repeats and takes lists.
	c, err = parse([]string{"--phone-ca", "Gigaset=/c.pem", "--phone-ca", "yealink=/d.pem,snom=/e.pem"}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []phoneCASpec{{"gigaset", "/c.pem"}, {"yealink", "/d.pem"}, {"snom", "/e.pem"}}; !equalSpecs(c.phoneCAs, want) {
		t.Errorf("from the flags: %v, want %v", c.phoneCAs, want)
	}
	env["AUTOPROV_PHONE_CA"] = "yealink"
	if _, err := parse(nil, lookup, io.Discard); err == nil || !strings.Contains(err.Error(), "AUTOPROV_PHONE_CA") {
		t.Errorf("a bad AUTOPROV_PHONE_CA: %v", err)
	}
}

func equalSpecs(a, b []phoneCASpec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
