// Package gigaset exports what Gigaset's redirect portal
// (prov.gigaset.net, "Redirect portal") takes for each device: its MAC-ID,
// the provisioning URL with the %MACD placeholder, and a provider name.
// The portal has no documented machine API; see README.md.
package gigaset

import (
	"encoding/csv"
	"io"
	"strings"
)

// Entry is one device: its MAC (canonical) and, when known, the
// four-character check value printed on its label after the MAC (the
// portal's MAC-ID is XXXXXXXXXXXX-XXXX).
type Entry struct {
	MAC  string
	Code string
}

// MACID is the portal's MAC-ID: upper-case MAC, "-", the check value
// (left empty when unknown: the admin fills it in from the label).
func MACID(e Entry) string { return strings.ToUpper(e.MAC) + "-" + strings.ToUpper(e.Code) }

// URL is the provisioning URL to register: base (ending in "/") and
// Gigaset's placeholder for the device's MAC, %MACD.xml.
func URL(base string) string { return base + "%MACD.xml" }

// Export writes a CSV file, one device a line, with the three fields the
// portal asks for when registering a device: mac_id, url, provider.
func Export(w io.Writer, entries []Entry, base, provider string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"mac_id", "url", "provider"}); err != nil {
		return err
	}
	for _, e := range entries {
		if err := cw.Write([]string{MACID(e), URL(base), provider}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
