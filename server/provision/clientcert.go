package provision

import (
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// clientCertRefusal says why a request for a device's own file (its
// per-device file, or its dialogue; dev names its vendor and MAC, known to
// the inventory or not) must get nothing because the vendor requires
// mutual TLS (Options.ClientCertVendors), or
// returns "" when the request may have it. Such a file goes only over
// HTTPS, to a request whose verified client certificate chains to the
// vendor's CA and names this device's MAC; every other request, plain
// HTTP and TFTP included, gets the answer of a miss and changes nothing
// (no report is updated, no window claimed).
func (p *Phones) clientCertRefusal(req vendors.Request, dev autoprov.Device) string {
	if !p.needsClientCert(dev.Vendor) {
		return ""
	}
	if req.Transport != "https" {
		return "the " + dev.Vendor + " phones' per-device files need HTTPS with the phone's client certificate (--phone-ca); asked over " + req.Transport
	}
	vendorCert := false
	for _, c := range req.ClientCerts {
		if !strings.EqualFold(c.Vendor, dev.Vendor) {
			continue
		}
		if c.MAC == dev.MAC {
			return ""
		}
		vendorCert = true
	}
	if vendorCert {
		return "the client certificate names another MAC (" + certMACs(req.ClientCerts, dev.Vendor) + ")"
	}
	return "no client certificate chaining to the " + dev.Vendor + " CA of --phone-ca and naming a MAC"
}

// needsClientCert reports whether the vendor's per-device files need a
// client certificate.
func (p *Phones) needsClientCert(vendor string) bool {
	for _, v := range p.opts.ClientCertVendors {
		if strings.EqualFold(v, vendor) {
			return true
		}
	}
	return false
}

func certMACs(certs []vendors.ClientCert, vendor string) string {
	var macs []string
	for _, c := range certs {
		if strings.EqualFold(c.Vendor, vendor) {
			macs = append(macs, vendors.ColonMAC(c.MAC))
		}
	}
	return strings.Join(macs, ", ")
}
