package httpd

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// PhoneCA is the CA that one vendor's device certificates chain to
// (--phone-ca), with the driver's reading of the MAC they name.
type PhoneCA struct {
	// Vendor is the driver's vendor name, e.g. "yealink".
	Vendor string
	// Roots are the vendor's CA certificates.
	Roots *x509.CertPool
	// MAC returns the canonical MAC a device certificate names
	// (vendors.CertMAC with the vendor's driver).
	MAC func(*x509.Certificate) (string, bool)
}

// clientCerts verifies the client certificate of an HTTPS request against
// each vendor's CA separately, so a certificate from vendor A's CA never
// counts for vendor B, and returns what it opens: one entry per vendor
// whose CA it chains to, with the MAC it names. The TLS listener only
// requests client certificates (tls.RequestClientCert): this is where they
// are verified. A plain HTTP request, one without a certificate, and a
// certificate that chains to no configured CA or names no MAC give none.
func clientCerts(cs *tls.ConnectionState, cas []PhoneCA, now time.Time) []vendors.ClientCert {
	if cs == nil || len(cs.PeerCertificates) == 0 || len(cas) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	var out []vendors.ClientCert
	for _, ca := range cas {
		// Device certificates are made for TLS clients, servers or both
		// (Yealink's serves as either): any extended key usage is accepted.
		opts := x509.VerifyOptions{Roots: ca.Roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		if _, err := leaf.Verify(opts); err != nil {
			continue
		}
		if mac, ok := ca.MAC(leaf); ok {
			out = append(out, vendors.ClientCert{Vendor: ca.Vendor, MAC: mac})
		}
	}
	return out
}
