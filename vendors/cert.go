package vendors

import (
	"crypto/x509"
)

// ClientCert is a TLS client certificate an edge verified: it chains to
// the CA configured for Vendor (--phone-ca) and names MAC where that
// vendor's device certificates carry it. Only the HTTPS edge sets it,
// after the verification; the core decides what it opens.
type ClientCert struct {
	Vendor string // the vendor whose configured CA the certificate chains to
	MAC    string // canonical MAC the certificate names
}

// CertMACer is implemented by drivers that know where their phones'
// factory device certificates carry the phone's MAC (Cisco MPP: the
// subject's S= field; others the CN or a SAN). Drivers without it get
// AnyCertMAC.
type CertMACer interface {
	// CertMAC returns the canonical MAC a device certificate names, and
	// false when it names none (or several).
	CertMAC(cert *x509.Certificate) (mac string, ok bool)
}

// CertMAC returns the MAC the device certificate names, asking the
// driver where its phones' certificates carry it (CertMACer), else
// AnyCertMAC.
func CertMAC(v Vendor, cert *x509.Certificate) (string, bool) {
	if cm, ok := v.(CertMACer); ok {
		return cm.CertMAC(cert)
	}
	return AnyCertMAC(cert)
}

// AnyCertMAC is the tolerant reading of a device certificate for vendors
// whose certificate layout no reference confirms. It looks for a MAC in
// these places, in this order, and the first that names one decides: the
// subject's common name; the DNS, URI and e-mail subject alternative
// names; the subject's serial number; its state or province (Cisco's
// "S="). Locality and organisational units are not read (Cisco puts the
// phone's serial number, which can look like a MAC, in L=). A MAC counts
// when no letter or digit stands right before or after it
// ("SEP001565AABBCC" does not count; "Yealink 00:15:65:aa:bb:cc",
// "urn:dev:mac:001565aabbcc", "001565aabbcc.phones.example" do), written
// as 12 hex digits, in six pairs joined by ':' or '-', or in three groups
// of four joined by '.'. The deciding place must name exactly one MAC
// (the same one any number of times): two different ones name none.
func AnyCertMAC(cert *x509.Certificate) (string, bool) {
	if cert == nil {
		return "", false
	}
	s := cert.Subject
	sans := append(append([]string{}, cert.DNSNames...), cert.EmailAddresses...)
	for _, u := range cert.URIs {
		sans = append(sans, u.String())
	}
	for _, place := range [][]string{{s.CommonName}, sans, {s.SerialNumber}, s.Province} {
		switch mac, n := oneMAC(place...); {
		case n == 1:
			return mac, true
		case n > 1:
			return "", false
		}
	}
	return "", false
}

// oneMAC returns the MAC the fields name and how many different ones
// they name (0, 1, or 2 for "more than one").
func oneMAC(fields ...string) (string, int) {
	found := ""
	for _, f := range fields {
		if len(f) > 1024 { // no device certificate has such a field
			f = f[:1024]
		}
		for _, tok := range macTokens(f) {
			switch {
			case found == "":
				found = tok
			case tok != found:
				return "", 2
			}
		}
	}
	if found == "" {
		return "", 0
	}
	return found, 1
}

// macTokens returns every MAC standing alone in s: one MAC notation
// with no letter or digit right before or after it.
func macTokens(s string) []string {
	var out []string
	alnum := func(i int) bool {
		c := s[i]
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(s); i++ {
		if i > 0 && alnum(i-1) {
			continue
		}
		for _, n := range []int{17, 14, 12} {
			if end := i + n; end <= len(s) && (end == len(s) || !alnum(end)) {
				if mac, ok := macNotation(s[i:end]); ok {
					out = append(out, mac)
					i = end - 1
					break
				}
			}
		}
	}
	return out
}

// macNotation accepts 12 hex digits, six pairs joined by one of ':' or
// '-', or three groups of four joined by '.'; it returns the canonical MAC.
func macNotation(t string) (string, bool) {
	ok := false
	switch len(t) {
	case 12:
		ok = IsMAC(t)
	case 17:
		sep := t[2]
		ok = sep == ':' || sep == '-'
		for i := 0; ok && i < 17; i++ {
			if i%3 == 2 {
				ok = t[i] == sep
			} else {
				ok = isHex(t[i])
			}
		}
	case 14:
		ok = true
		for i := 0; ok && i < 14; i++ {
			if i%5 == 4 {
				ok = t[i] == '.'
			} else {
				ok = isHex(t[i])
			}
		}
	}
	if !ok {
		return "", false
	}
	mac, err := ParseMAC(t)
	return mac, err == nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
