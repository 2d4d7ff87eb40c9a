package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/vendors"
)

// phoneCAFlag is --phone-ca <vendor>=<pem file>: repeatable, each value
// comma-separated; AUTOPROV_PHONE_CA gives the default, which the first
// --phone-ca on the command line replaces.
type phoneCAFlag struct {
	specs   []phoneCASpec
	fromEnv bool
}

// phoneCASpec is one <vendor>=<pem file>.
type phoneCASpec struct{ vendor, path string }

func (f *phoneCAFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.specs))
	for i, s := range f.specs {
		parts[i] = s.vendor + "=" + s.path
	}
	return strings.Join(parts, ",")
}

// Set adds the comma-separated <vendor>=<pem file> pairs of one value.
func (f *phoneCAFlag) Set(v string) error {
	if f.fromEnv {
		f.specs, f.fromEnv = nil, false
	}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		vendor, path, ok := strings.Cut(part, "=")
		vendor, path = strings.ToLower(strings.TrimSpace(vendor)), strings.TrimSpace(path)
		if !ok || vendor == "" || path == "" {
			return fmt.Errorf("%q: want <vendor>=<PEM file of the vendor's device-certificate CA>", part)
		}
		f.specs = append(f.specs, phoneCASpec{vendor: vendor, path: path})
	}
	return nil
}

// loadPhoneCAs loads the CA files of --phone-ca for the edge (one pool
// per vendor, several files of one vendor merged) and returns every CA in
// one pool too, whose names the TLS listener sends as a hint when it asks
// for a client certificate. Every error names the flag.
func loadPhoneCAs(specs []phoneCASpec, reg *vendors.Registry) ([]httpd.PhoneCA, *x509.CertPool, error) {
	if len(specs) == 0 {
		return nil, nil, nil
	}
	all := x509.NewCertPool()
	byVendor := map[string]int{}
	var cas []httpd.PhoneCA
	for _, s := range specs {
		v, ok := reg.ByName(s.vendor)
		if !ok {
			return nil, nil, fmt.Errorf("--phone-ca %s=%s: unknown vendor %q (vendors: %s)", s.vendor, s.path, s.vendor, strings.Join(reg.VendorNames(), ", "))
		}
		b, err := os.ReadFile(s.path)
		if err != nil {
			return nil, nil, fmt.Errorf("--phone-ca %s=%s: %w", s.vendor, s.path, err)
		}
		certs, err := parseCertPEM(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--phone-ca %s=%s: %w (want the PEM certificates of the CA that signs the vendor's device certificates)", s.vendor, s.path, err)
		}
		i, seen := byVendor[v.Name()]
		if !seen {
			i = len(cas)
			byVendor[v.Name()] = i
			cas = append(cas, httpd.PhoneCA{Vendor: v.Name(), Roots: x509.NewCertPool(),
				MAC: func(c *x509.Certificate) (string, bool) { return vendors.CertMAC(v, c) }})
		}
		for _, c := range certs {
			cas[i].Roots.AddCert(c)
			all.AddCert(c)
		}
	}
	return cas, all, nil
}

// phoneCAVendors are the vendors of the loaded CAs, for the core and the log.
func phoneCAVendors(cas []httpd.PhoneCA) []string {
	names := make([]string, len(cas))
	for i, ca := range cas {
		names[i] = ca.Vendor
	}
	return names
}

var errPhoneCANeedsHTTPS = errors.New("--phone-ca needs --https: with a phone CA, that vendor's per-device files are served only over HTTPS to the phone's client certificate")
