package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/autoprov/autoprov/server/central"
)

// certValidity is how long a generated certificate lasts: phones and admins
// pin or import it, so it should outlive the hardware.
const certValidity = 10 * 365 * 24 * time.Hour

// serverCert is the certificate the HTTPS listener presents.
type serverCert struct {
	cert      tls.Certificate
	leaf      *x509.Certificate
	path      string // the PEM file it came from
	generated bool   // created by this start
}

// tlsConfig is the server side of --https: TLS 1.2 or newer with the one
// certificate. With phone CAs (--phone-ca) or the central's site CA it
// asks every client for a certificate, naming those CAs, but neither
// requires nor verifies one: browsers and phones without one connect as
// before (a phone that answers any request with its factory certificate
// too: verifying at this layer would fail its handshake), and the HTTP
// edge verifies what arrives against each vendor's CA, the site link
// against the site CA, on its own.
func (sc *serverCert) tlsConfig(phoneCAs *x509.CertPool, hub *central.Hub) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{sc.cert}}
	var pool *x509.CertPool
	switch {
	case phoneCAs != nil && hub != nil:
		pool = phoneCAs.Clone()
		pool.AddCert(hub.CACert())
	case phoneCAs != nil:
		pool = phoneCAs
	case hub != nil:
		pool = hub.ClientCAs()
	}
	if pool != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequestClientCert, pool
	}
	return cfg
}

// fingerprint is the SHA-256 of the certificate in the colon-separated
// form openssl and phone web UIs show.
func (sc *serverCert) fingerprint() string { return fingerprint(sc.leaf.Raw) }

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// loadServerCert returns the certificate for --https: the files of
// --tls-cert and --tls-key when given, else the self-signed one in
// <data>/tls, generated at first start.
func loadServerCert(c config, now time.Time) (*serverCert, error) {
	if c.tlsCert != "" {
		return loadCertFiles(c.tlsCert, c.tlsKey)
	}
	dir := filepath.Join(c.data, "tls")
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certPath); err == nil {
		sc, err := loadPair(certPath, keyPath)
		if err != nil {
			return nil, fmt.Errorf("generated TLS certificate: %w (delete %s to generate a new one, or give --tls-cert and --tls-key)", err, dir)
		}
		return sc, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("generated TLS certificate: %w", err)
	}
	certPEM, keyPEM, err := selfSigned(certHosts(c.publicURL), now)
	if err != nil {
		return nil, fmt.Errorf("generate TLS certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("generate TLS certificate: %w", err)
	}
	// The key first: a certificate on disk always has its key.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("generate TLS certificate: %w", err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o600); err != nil {
		return nil, fmt.Errorf("generate TLS certificate: %w", err)
	}
	sc, err := loadPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("generated TLS certificate: %w", err)
	}
	sc.generated = true
	return sc, nil
}

// loadCertFiles loads --tls-cert and --tls-key; every error names the flag
// to fix.
func loadCertFiles(certPath, keyPath string) (*serverCert, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	if _, err := parseCertPEM(certPEM); err != nil {
		return nil, fmt.Errorf("--tls-cert %s: %w", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	sc, err := pair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-key %s: %w (a PEM private key matching --tls-cert)", keyPath, err)
	}
	sc.path = certPath
	return sc, nil
}

// loadPair loads a certificate and key from PEM files.
func loadPair(certPath, keyPath string) (*serverCert, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	if _, err := parseCertPEM(certPEM); err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	sc, err := pair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	sc.path = certPath
	return sc, nil
}

func pair(certPEM, keyPEM []byte) (*serverCert, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	cert.Leaf = leaf
	return &serverCert{cert: cert, leaf: leaf}, nil
}

// parseCertPEM parses every certificate in a PEM file; there must be one.
func parseCertPEM(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return certs, nil
}

// certHosts are the names a generated certificate is valid for: this
// machine's non-loopback addresses, 127.0.0.1, ::1, localhost, the host name
// and the host of --public-url.
func certHosts(publicURL string) []string {
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() && !n.IP.IsUnspecified() {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	if h, err := os.Hostname(); err == nil && dnsName(h) {
		hosts = append(hosts, h)
	}
	if publicURL != "" {
		if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
			hosts = append(hosts, u.Hostname())
		}
	}
	return hosts
}

// dnsName reports whether h can go into a certificate as a DNS name.
func dnsName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// selfSigned creates a self-signed ECDSA P-256 server certificate for the
// hosts (IP addresses and DNS names), valid from an hour before now for
// certValidity.
func selfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	name := "autoprov"
	if h, err := os.Hostname(); err == nil && dnsName(h) {
		name = "autoprov " + h
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"autoprov"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if dnsName(h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFileAtomic writes b to path with the mode through a temporary file
// in the same directory, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// coversHost reports whether the certificate is valid for host (a name or
// an IP address).
func (sc *serverCert) coversHost(host string) bool { return sc.leaf.VerifyHostname(host) == nil }

// logCert logs which certificate HTTPS presents and its fingerprint, which
// phones and admins pin or import, and warns when it does not cover the
// host of --public-url (a generated one is kept, so pins stay valid).
func logCert(log *slog.Logger, sc *serverCert, publicURL string) {
	msg := "HTTPS certificate"
	if sc.generated {
		msg = "HTTPS certificate generated"
	}
	log.Info(msg, "cert", sc.path, "sha256", sc.fingerprint(), "subject", sc.leaf.Subject.CommonName,
		"dns", sc.leaf.DNSNames, "ip", sc.leaf.IPAddresses, "not_after", sc.leaf.NotAfter.UTC().Format(time.RFC3339))
	if time.Now().After(sc.leaf.NotAfter) {
		log.Warn("the HTTPS certificate has expired", "cert", sc.path, "not_after", sc.leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if u, err := url.Parse(publicURL); publicURL != "" && err == nil && u.Hostname() != "" && !sc.coversHost(u.Hostname()) {
		log.Warn("the HTTPS certificate does not cover the host of --public-url; phones verifying it will refuse it", "host", u.Hostname(), "cert", sc.path)
	}
}
