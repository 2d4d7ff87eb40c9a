package snom

import (
	"crypto/x509"

	"github.com/autoprov/autoprov/vendors"
)

// CertMAC reads the MAC from a Snom device certificate (every model but
// the old 3xx series has one, presented when a server asks for a client
// certificate). Neither its issuing CA nor its CN format is documented
// (snom.md §9), so the reading is tolerant: the CN first, then the SANs,
// the serial number and the state (vendors.AnyCertMAC).
func (d *Driver) CertMAC(cert *x509.Certificate) (string, bool) { return vendors.AnyCertMAC(cert) }
