package yealink

import (
	"crypto/x509"

	"github.com/autoprov/autoprov/vendors"
)

// CertMAC reads the MAC from a Yealink factory device certificate. The
// references say each phone's certificate comes from the Yealink CA and is
// tied to its MAC, probably as CN=<MAC> (unverified, yealink.md §9), and
// that phones upgraded to firmware 72 from older firmware carry only a
// generic certificate, which names no MAC. So the CN is read first and,
// tolerantly, the SANs, serial number and state after it
// (vendors.AnyCertMAC).
func (d *Driver) CertMAC(cert *x509.Certificate) (string, bool) { return vendors.AnyCertMAC(cert) }
