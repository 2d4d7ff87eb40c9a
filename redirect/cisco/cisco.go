// Package cisco exports the MAC list Cisco's Device Activation (CDA)
// portal takes to assign phones to a redirection profile, so that EDOS
// (activate.cisco.com) hands factory-fresh MPP phones our provisioning
// URL. There is no documented machine API; see README.md.
package cisco

import (
	"encoding/csv"
	"io"
	"strings"
)

// Export writes a CSV file with a "MAC Address" header and one MAC a line,
// 12 upper-case hex digits without separators (the form on Cisco's labels).
func Export(w io.Writer, macs []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"MAC Address"}); err != nil {
		return err
	}
	for _, m := range macs {
		if err := cw.Write([]string{strings.ToUpper(m)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ProfileRule is the provisioning URL to put into the CDA redirection
// profile: base (ending in "/") and Cisco's $MA macro (the MAC), so each
// phone asks for its own file.
func ProfileRule(base string) string { return base + "$MA.cfg" }
