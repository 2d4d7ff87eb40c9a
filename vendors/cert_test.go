package vendors_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

func TestAnyCertMAC(t *testing.T) {
	uri := func(s string) []*url.URL { u, _ := url.Parse(s); return []*url.URL{u} }
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		want string // "" for none
	}{
		{"CN bare", &x509.Certificate{Subject: pkix.Name{CommonName: "805EC0AABB01"}}, "805ec0aabb01"},
		{"CN with colons in text", &x509.Certificate{Subject: pkix.Name{CommonName: "Yealink T54W 80:5e:c0:aa:bb:01"}}, "805ec0aabb01"},
		{"CN with dashes", &x509.Certificate{Subject: pkix.Name{CommonName: "80-5E-C0-AA-BB-01"}}, "805ec0aabb01"},
		{"CN with dots", &x509.Certificate{Subject: pkix.Name{CommonName: "805e.c0aa.bb01"}}, "805ec0aabb01"},
		{"DNS SAN label", &x509.Certificate{Subject: pkix.Name{CommonName: "device"}, DNSNames: []string{"805ec0aabb01.phones.example"}}, "805ec0aabb01"},
		{"URI SAN", &x509.Certificate{URIs: uri("urn:dev:mac:805ec0aabb01")}, "805ec0aabb01"},
		{"serial number", &x509.Certificate{Subject: pkix.Name{SerialNumber: "805EC0AABB01"}}, "805ec0aabb01"},
		{"Cisco S= (state)", &x509.Certificate{Subject: pkix.Name{OrganizationalUnit: []string{"CP-8841-3PCC"}, Locality: []string{"88012BA01234"}, Province: []string{"000e08abcdef"}}}, "000e08abcdef"},
		{"CN wins over serial", &x509.Certificate{Subject: pkix.Name{CommonName: "805EC0AABB01", SerialNumber: "0123456789ab"}}, "805ec0aabb01"},
		{"the same MAC twice", &x509.Certificate{Subject: pkix.Name{CommonName: "805EC0AABB01 / 80:5e:c0:aa:bb:01"}}, "805ec0aabb01"},
		{"two MACs in the CN", &x509.Certificate{Subject: pkix.Name{CommonName: "805EC0AABB01 805EC0AABB02"}}, ""},
		{"two MACs in the SANs", &x509.Certificate{DNSNames: []string{"805ec0aabb01.example", "805ec0aabb02.example"}}, ""},
		{"glued to letters", &x509.Certificate{Subject: pkix.Name{CommonName: "SEP805EC0AABB01"}}, ""},
		{"13 hex digits", &x509.Certificate{Subject: pkix.Name{CommonName: "805EC0AABB01F"}}, ""},
		{"a date is no MAC", &x509.Certificate{Subject: pkix.Name{CommonName: "2024-01-01-1234"}}, ""},
		{"mixed separators", &x509.Certificate{Subject: pkix.Name{CommonName: "80:5e-c0:aa:bb:01"}}, ""},
		{"generic certificate", &x509.Certificate{Subject: pkix.Name{CommonName: "Yealink generic", Organization: []string{"Yealink"}}}, ""},
		{"broadcast", &x509.Certificate{Subject: pkix.Name{CommonName: "ffffffffffff"}}, ""},
		{"nil", nil, ""},
	} {
		got, ok := vendors.AnyCertMAC(tc.cert)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

type plainDriver struct{ vendors.Vendor }

type certDriver struct{ vendors.Vendor }

func (certDriver) CertMAC(*x509.Certificate) (string, bool) { return "0004f2000001", true }

func TestCertMACAsksTheDriver(t *testing.T) {
	c := &x509.Certificate{Subject: pkix.Name{CommonName: "805EC0AABB01"}}
	if mac, ok := vendors.CertMAC(certDriver{}, c); !ok || mac != "0004f2000001" {
		t.Errorf("a driver with CertMAC: %q, %v", mac, ok)
	}
	if mac, ok := vendors.CertMAC(plainDriver{}, c); !ok || mac != "805ec0aabb01" {
		t.Errorf("a driver without CertMAC: %q, %v; want the tolerant reading", mac, ok)
	}
}
