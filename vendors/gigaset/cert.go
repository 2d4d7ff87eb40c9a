package gigaset

import (
	"crypto/x509"

	"github.com/autoprov/autoprov/vendors"
)

// CertMAC reads the MAC from a Gigaset device certificate. Whether the
// Nx70/Maxwell devices have client certificates at all is unverified
// (gigaset.md §9), so the reading is the tolerant one: the CN first, then
// the SANs, the serial number and the state (vendors.AnyCertMAC).
func (d *Driver) CertMAC(cert *x509.Certificate) (string, bool) { return vendors.AnyCertMAC(cert) }
