package httpd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// seenPhones records the requests the edge hands the core.
type seenPhones struct {
	mu   sync.Mutex
	reqs []vendors.Request
}

func (s *seenPhones) Provide(_ context.Context, req vendors.Request) (*provision.Result, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	return nil, autoprov.ErrNotFound
}

// ProvideBorrowed keeps copies: the request's strings are the lane's
// buffer, valid during the call only.
func (s *seenPhones) ProvideBorrowed(ctx context.Context, req vendors.Request) (*provision.Result, error) {
	req.Path, req.UserAgent = strings.Clone(req.Path), strings.Clone(req.UserAgent)
	req.Authorization, req.Target = strings.Clone(req.Authorization), strings.Clone(req.Target)
	return s.Provide(ctx, req)
}

func (s *seenPhones) last() vendors.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[len(s.reqs)-1]
}

type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(t *testing.T, name string) certAuthority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return certAuthority{cert, key}
}

func (ca certAuthority) issue(t *testing.T, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func (ca certAuthority) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// TestClientCertsVerifiedPerVendor: the edge verifies a phone's client
// certificate against each vendor's CA on its own and passes the core
// what it verified; a certificate from vendor A's CA is nothing to B, an
// expired one or one from an unknown CA is nothing at all, and plain HTTP
// carries none.
func TestClientCertsVerifiedPerVendor(t *testing.T) {
	yealink, snom, other := newAuthority(t, "yealink CA"), newAuthority(t, "snom CA"), newAuthority(t, "other CA")
	macOf := func(c *x509.Certificate) (string, bool) { return vendors.AnyCertMAC(c) }
	phones := &seenPhones{}
	srv, err := httpd.New(httpd.Config{Phones: phones, Log: slog.New(slog.DiscardHandler), PhoneCAs: []httpd.PhoneCA{
		{Vendor: "yealink", Roots: yealink.pool(), MAC: macOf},
		{Vendor: "snom", Roots: snom.pool(), MAC: macOf},
	}})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	get := func(tlsOn bool, chain ...*x509.Certificate) []vendors.ClientCert {
		r := httptest.NewRequest(http.MethodGet, "/prov/805ec0aabb01.cfg", nil)
		if tlsOn {
			r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: chain}
		}
		srv.Handler().ServeHTTP(httptest.NewRecorder(), r)
		return phones.last().ClientCerts
	}
	for _, tc := range []struct {
		name  string
		tls   bool
		chain []*x509.Certificate
		want  []vendors.ClientCert
	}{
		{"yealink certificate", true, []*x509.Certificate{yealink.issue(t, "805EC0AABB01", later)}, []vendors.ClientCert{{Vendor: "yealink", MAC: "805ec0aabb01"}}},
		{"snom certificate", true, []*x509.Certificate{snom.issue(t, "000413AABB02", later)}, []vendors.ClientCert{{Vendor: "snom", MAC: "000413aabb02"}}},
		{"unknown CA", true, []*x509.Certificate{other.issue(t, "805EC0AABB01", later)}, nil},
		{"expired", true, []*x509.Certificate{yealink.issue(t, "805EC0AABB01", time.Now().Add(-time.Hour))}, nil},
		{"no MAC", true, []*x509.Certificate{yealink.issue(t, "generic", later)}, nil},
		{"no certificate", true, nil, nil},
		{"plain HTTP", false, nil, nil},
	} {
		if got := get(tc.tls, tc.chain...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
