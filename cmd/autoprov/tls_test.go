package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// httpsOf is the HTTPS base URL of a server started with --https, read
// from its start-up log (the ready callback only knows HTTP and TFTP).
func httpsOf(t *testing.T, s *server) string {
	t.Helper()
	m := regexp.MustCompile(`msg="autoprov started".* https=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no https address in the start-up log:\n%s", s.log.String())
	}
	return "https://" + m[1]
}

// tlsPool is a certificate pool with the PEM certificates in path.
func tlsPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s: no certificate", path)
	}
	return pool
}

// tlsClient talks HTTPS to the server, verifying its certificate against
// the pool.
type tlsClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newTLSClient(t *testing.T, base string, pool *x509.CertPool) *tlsClient {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &tlsClient{t: t, base: base, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// phoneGet GETs a phone file with the Authorization header auth.
func (c *tlsClient) phoneGet(path, ua, auth string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Authorization", auth)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// do sends a request and returns the status, body and connection state.
func (c *tlsClient) do(method, path, ua, token string, body any) (int, []byte, *tls.ConnectionState) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.TLS
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sha256Colons(der []byte) string {
	sum := sha256.Sum256(der)
	var parts []string
	for _, b := range sum {
		parts = append(parts, fmt.Sprintf("%02X", b))
	}
	return strings.Join(parts, ":")
}

func TestHTTPSGeneratedCertificate(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data, "--https", "127.0.0.1:0", "--public-url", "https://prov.example.test:8443/")
	dir := filepath.Join(data, "tls")
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")

	for path, want := range map[string]os.FileMode{dir: 0o700, keyPath: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}

	cert := readCert(t, certPath)
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %v, want digital signature only", cert.KeyUsage)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("extended key usage %v, want server auth", cert.ExtKeyUsage)
	}
	if !cert.BasicConstraintsValid || cert.IsCA {
		t.Errorf("basic constraints: valid %v, CA %v; want a non-CA certificate", cert.BasicConstraintsValid, cert.IsCA)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil || !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		t.Errorf("not self-signed: %v", err)
	}
	if min := time.Now().AddDate(9, 6, 0); cert.NotAfter.Before(min) || cert.NotBefore.After(time.Now()) {
		t.Errorf("valid %v to %v, want from now for about 10 years", cert.NotBefore, cert.NotAfter)
	}
	// The names phones and admins reach the server by.
	wantHosts := []string{"127.0.0.1", "::1", "prov.example.test"}
	if h, err := os.Hostname(); err == nil && h != "" {
		wantHosts = append(wantHosts, h)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			wantHosts = append(wantHosts, n.IP.String())
		}
	}
	for _, h := range wantHosts {
		if err := cert.VerifyHostname(h); err != nil {
			t.Errorf("certificate does not cover %q: %v (dns %v, ip %v)", h, err, cert.DNSNames, cert.IPAddresses)
		}
	}
	if err := cert.VerifyHostname("other.example.test"); err == nil {
		t.Error("certificate covers an unrelated name")
	}

	// The key on disk belongs to the certificate.
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		t.Errorf("key and certificate do not match: %v", err)
	}

	// The server presents it, and logs its path and fingerprint.
	fp := sha256Colons(cert.Raw)
	if log := s.log.String(); !strings.Contains(log, "sha256="+fp) || !strings.Contains(log, "cert="+certPath) {
		t.Errorf("log lacks the certificate path and fingerprint %s:\n%s", fp, log)
	}
	c := newTLSClient(t, httpsOf(t, s), tlsPool(t, certPath))
	code, body, cs := c.do("GET", "/healthz", "", "", nil)
	if code != 200 || !bytes.Contains(body, []byte("ok")) {
		t.Fatalf("healthz over HTTPS: %d %s", code, body)
	}
	if !bytes.Equal(cs.PeerCertificates[0].Raw, cert.Raw) {
		t.Error("the server presents another certificate than the one in <data>/tls")
	}

	// A restart reuses it: same files, same fingerprint.
	certPEM, _ := os.ReadFile(certPath)
	keyPEM, _ := os.ReadFile(keyPath)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s2 := startWith(t, data, "--https", "127.0.0.1:0", "--public-url", "https://prov.example.test:8443/")
	certPEM2, _ := os.ReadFile(certPath)
	keyPEM2, _ := os.ReadFile(keyPath)
	if !bytes.Equal(certPEM, certPEM2) || !bytes.Equal(keyPEM, keyPEM2) {
		t.Error("restart replaced the generated certificate or key")
	}
	if log := s2.log.String(); !strings.Contains(log, "sha256="+fp) || strings.Contains(log, "certificate generated") {
		t.Errorf("restart: log lacks the same fingerprint or says generated:\n%s", log)
	}
	c2 := newTLSClient(t, httpsOf(t, s2), tlsPool(t, certPath))
	if _, _, cs := c2.do("GET", "/healthz", "", "", nil); !bytes.Equal(cs.PeerCertificates[0].Raw, cert.Raw) {
		t.Error("after restart the server presents another certificate")
	}
}

func TestHTTPSPhoneFetchGetsHTTPSURLsAndSecretOnce(t *testing.T) {
	s := start(t, "--https", "127.0.0.1:0")
	base := httpsOf(t, s)
	c := newTLSClient(t, base, tlsPool(t, filepath.Join(s.data, "tls", "cert.pem")))
	setup(s, "80:5E:C0:AA:BB:01", "T54W")
	provURL := "static.auto_provision.server.url = " + base + "/prov/"
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base %q", base)
	}

	code, first, cs := c.do("GET", "/prov/805ec0aabb01.cfg", yealinkUA, "", nil)
	if code != 200 {
		t.Fatalf("first fetch over HTTPS: %d %s", code, first)
	}
	if cs == nil || cs.Version < tls.VersionTLS12 {
		t.Fatalf("connection state %+v", cs)
	}
	for _, want := range []string{provURL, "account.1.password = " + sipPass, "static.security.user_password = admin:"} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("first fetch over HTTPS lacks %q:\n%s", want, first)
		}
	}
	if bytes.Contains(first, []byte("http://")) {
		t.Errorf("a file fetched over HTTPS points at http:\n%s", first)
	}

	// The first HTTPS fetch consumed the window before its body went out
	// and records its completion after: wait for that. From then on the
	// phone presents the credential it carried (here Basic, over HTTPS).
	if !waitComplete(t, s, "805ec0aabb01") {
		t.Error("the first fetch over HTTPS is recorded as incomplete")
	}
	pass := credentialOf(t, first)
	code, second := c.phoneGet("/prov/805ec0aabb01.cfg", yealinkUA, "Basic "+base64.StdEncoding.EncodeToString([]byte("805ec0aabb01:"+pass)))
	if code != 200 || !bytes.Contains(second, []byte(provURL)) {
		t.Fatalf("second fetch over HTTPS: %d\n%s", code, second)
	}
	if bytes.Contains(second, []byte("account.1.password")) || bytes.Contains(second, []byte("user_password")) || bytes.Contains(second, []byte(sipPass)) {
		t.Errorf("second fetch over HTTPS carries secrets:\n%s", second)
	}
	// Nor does HTTP get them now; its file points at http.
	code, plain, _ := s.getAs("/prov/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", pass)
	if code != 200 || bytes.Contains(plain, []byte(sipPass)) || !bytes.Contains(plain, []byte("static.auto_provision.server.url = "+s.base+"/prov/")) {
		t.Errorf("fetch over HTTP after the HTTPS one: %d\n%s", code, plain)
	}

	// A re-opened window goes to the first HTTPS fetch again.
	s.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, nil)
	if _, again, _ := c.do("GET", "/prov/805ec0aabb01.cfg", yealinkUA, "", nil); !bytes.Contains(again, []byte("account.1.password = "+sipPass)) {
		t.Errorf("fetch over HTTPS after re-opening lacks the password:\n%s", again)
	}
	// A common file over HTTPS points at https as well.
	if code, common, _ := c.do("GET", "/prov/y000000000096.cfg", yealinkUA, "", nil); code != 200 || !bytes.Contains(common, []byte(provURL)) {
		t.Errorf("common file over HTTPS: %d\n%s", code, common)
	}
	s.leaks(sipPass)
}

func TestHTTPSAdminAPI(t *testing.T) {
	s := start(t, "--https", "127.0.0.1:0")
	c := newTLSClient(t, httpsOf(t, s), tlsPool(t, filepath.Join(s.data, "tls", "cert.pem")))
	if code, body, _ := c.do("GET", "/api/v1/settings", "", "", nil); code != 401 {
		t.Errorf("API over HTTPS without a token: %d %s", code, body)
	}
	if code, body, _ := c.do("GET", "/api/v1/settings", "", "wrong-token", nil); code != 401 {
		t.Errorf("API over HTTPS with a wrong token: %d %s", code, body)
	}
	if code, body, _ := c.do("PUT", "/api/v1/settings", "", testToken, settings); code != 200 {
		t.Fatalf("PUT settings over HTTPS: %d %s", code, body)
	}
	if code, body, _ := c.do("POST", "/api/v1/accounts", "", testToken, map[string]any{"extension": "301", "display_name": "Bob Example"}); code != 201 {
		t.Fatalf("POST account over HTTPS: %d %s", code, body)
	}
	code, body, _ := c.do("GET", "/api/v1/accounts/301", "", testToken, nil)
	if code != 200 || !bytes.Contains(body, []byte("Bob Example")) {
		t.Errorf("GET account over HTTPS: %d %s", code, body)
	}
	// The same data is behind HTTP: one handler, two listeners.
	s.must(200, "GET", "/api/v1/accounts/301", nil, nil)
}

// writeTestCA writes a CA and a server certificate it signed for
// 127.0.0.1 into dir; it returns the CA's pool and the server certificate.
func writeTestCA(t *testing.T, dir string) (pool *x509.CertPool, leaf *x509.Certificate, certPath, keyPath string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "given.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"given.example.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	if err := os.WriteFile(certPath, chain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return pool, leaf, certPath, keyPath
}

func TestHTTPSGivenCertificate(t *testing.T) {
	pool, leaf, certPath, keyPath := writeTestCA(t, t.TempDir())
	s := start(t, "--https", "127.0.0.1:0", "--tls-cert", certPath, "--tls-key", keyPath)
	c := newTLSClient(t, httpsOf(t, s), pool)
	code, _, cs := c.do("GET", "/healthz", "", "", nil)
	if code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if !bytes.Equal(cs.PeerCertificates[0].Raw, leaf.Raw) {
		t.Errorf("server presents %q, want the given certificate", cs.PeerCertificates[0].Subject)
	}
	if len(cs.PeerCertificates) != 2 {
		t.Errorf("server sends %d certificates, want the chain of 2 in --tls-cert", len(cs.PeerCertificates))
	}
	if _, err := os.Stat(filepath.Join(s.data, "tls")); !os.IsNotExist(err) {
		t.Errorf("a certificate was generated although --tls-cert was given (%v)", err)
	}
	if log := s.log.String(); !strings.Contains(log, "sha256="+sha256Colons(leaf.Raw)) || !strings.Contains(log, "cert="+certPath) {
		t.Errorf("log lacks the given certificate's path and fingerprint:\n%s", log)
	}

	// The environment variables set the same, and a flag wins.
	env := map[string]string{"AUTOPROV_HTTPS": ":8443", "AUTOPROV_TLS_CERT": certPath, "AUTOPROV_TLS_KEY": keyPath}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parse([]string{"serve", "--https", "127.0.0.1:9443"}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.https != "127.0.0.1:9443" || cfg.tlsCert != certPath || cfg.tlsKey != keyPath {
		t.Errorf("parse: https %q cert %q key %q", cfg.https, cfg.tlsCert, cfg.tlsKey)
	}
	if cfg, err := parse(nil, func(string) (string, bool) { return "", false }, io.Discard); err != nil || cfg.https != "" {
		t.Errorf("default: https %q (%v), want off", cfg.https, err)
	}
}

// runFails runs the server with args and returns its start-up error; it
// fails the test if the server starts.
func runFails(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	started := false
	args = append([]string{"serve", "--http", "127.0.0.1:0", "--tftp", ""}, args...)
	var log syncBuffer
	err := run(ctx, args, func(string) (string, bool) { return "", false }, &log, func(net.Addr, net.Addr) {
		started = true
		cancel()
	})
	if started || err == nil {
		t.Fatalf("%v: server started (err %v)", args, err)
	}
	return err.Error()
}

func TestHTTPSBadConfigurationStopsStartup(t *testing.T) {
	dir := t.TempDir()
	_, _, certPath, keyPath := writeTestCA(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.pem")
	if err := os.WriteFile(text, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherKey := filepath.Join(dir, "other.key")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	kDER, _ := x509.MarshalPKCS8PrivateKey(k)
	if err := os.WriteFile(otherKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	https := []string{"--data", t.TempDir(), "--https", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing cert", slices.Concat(https, []string{"--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", keyPath}), "--tls-cert"},
		{"garbage cert", slices.Concat(https, []string{"--tls-cert", garbage, "--tls-key", keyPath}), "--tls-cert"},
		{"text as cert", slices.Concat(https, []string{"--tls-cert", text, "--tls-key", keyPath}), "--tls-cert"},
		{"missing key", slices.Concat(https, []string{"--tls-cert", certPath, "--tls-key", filepath.Join(dir, "nope.key")}), "--tls-key"},
		{"garbage key", slices.Concat(https, []string{"--tls-cert", certPath, "--tls-key", text}), "--tls-key"},
		{"key of another cert", slices.Concat(https, []string{"--tls-cert", certPath, "--tls-key", otherKey}), "--tls-key"},
		{"cert without key", slices.Concat(https, []string{"--tls-cert", certPath}), "--tls-key"},
		{"cert without https", []string{"--data", t.TempDir(), "--tls-cert", certPath, "--tls-key", keyPath}, "--https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := runFails(t, tc.args...); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name %s", msg, tc.want)
			}
		})
	}

	t.Run("broken generated cert", func(t *testing.T) {
		data := t.TempDir()
		if err := os.MkdirAll(filepath.Join(data, "tls"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "tls", "cert.pem"), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
		if msg := runFails(t, "--data", data, "--https", "127.0.0.1:0"); !strings.Contains(msg, filepath.Join(data, "tls")) {
			t.Errorf("error %q does not name the tls directory", msg)
		}
	})

	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		data := t.TempDir()
		if msg := runFails(t, "--data", data, "--https", ln.Addr().String()); !strings.Contains(msg, "--https") {
			t.Errorf("error %q does not name --https", msg)
		}
		if _, err := os.Stat(filepath.Join(data, "tls")); !os.IsNotExist(err) {
			t.Errorf("a certificate was generated before the port was bound (%v)", err)
		}
	})
}

func TestHTTPSRefusesOldTLS(t *testing.T) {
	s := start(t, "--https", "127.0.0.1:0")
	addr := strings.TrimPrefix(httpsOf(t, s), "https://")
	pool := tlsPool(t, filepath.Join(s.data, "tls", "cert.pem"))
	dial := func(min, max uint16) (uint16, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: pool, MinVersion: min, MaxVersion: max})
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		return conn.ConnectionState().Version, nil
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if got, err := dial(tls.VersionTLS10, v); err == nil {
			t.Errorf("a client capped at %s connected with %s", tls.VersionName(v), tls.VersionName(got))
		}
	}
	if got, err := dial(tls.VersionTLS12, tls.VersionTLS12); err != nil || got != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 client: %s, %v", tls.VersionName(got), err)
	}
	if got, err := dial(tls.VersionTLS12, 0); err != nil || got != tls.VersionTLS13 {
		t.Errorf("default client: %s, %v", tls.VersionName(got), err)
	}
}
