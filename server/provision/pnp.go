package provision

import (
	"fmt"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Discovery is what a SIP plug-and-play SUBSCRIBE taught an edge about a
// phone before its first fetch (see server/sippnp).
type Discovery struct {
	MAC                     string // any common notation
	Vendor, Model, Firmware string // as the vendor registry identified them; may be empty
	RemoteIP, UserAgent     string
}

// pnpFile is the last_file a PnP sighting records.
const pnpFile = "sip-pnp"

// Discovered records a phone seen through SIP plug-and-play, as a fetch
// would (an unknown MAC lands in the inbox as an unassigned device), and
// returns the provisioning URL to hand to it: the provisioning base URL
// (--public-url, else the HTTP listener's address) + "prov/", with
// "{mac}.xml" appended for Snom and Gigaset P-series phones, which fetch
// exactly that URL after substituting their MAC. Yealink and Gigaset Nx70 /
// Maxwell get the directory and append their own file names.
func (s *Service) Discovered(d Discovery) (string, error) {
	mac, err := vendors.ParseMAC(d.MAC)
	if err != nil {
		return "", fmt.Errorf("discovered phone: %w", err)
	}
	created, err := s.store.Seen(Sighting{MAC: mac, Vendor: d.Vendor, Model: d.Model, Firmware: d.Firmware,
		RemoteIP: d.RemoteIP, UserAgent: d.UserAgent, File: pnpFile, At: s.now()})
	if err != nil {
		return "", fmt.Errorf("record sighting: %w", err)
	}
	if created {
		s.log.Info("new phone in the inbox", "mac", mac, "vendor", d.Vendor, "model", d.Model, "remote", d.RemoteIP, "via", pnpFile)
	}
	vendor, model := d.Vendor, d.Model
	if dev, err := s.store.Device(mac); err == nil && dev.Vendor != "" {
		// The inventory knows better than a guess from a SUBSCRIBE.
		vendor, model = dev.Vendor, dev.Model
	}
	base := s.baseURL(vendors.Request{})
	if base == "prov/" { // neither a public nor a fallback URL: nothing a phone can reach
		return "", fmt.Errorf("discovered phone %s: no provisioning base URL configured", mac)
	}
	if pnpWantsFile(vendor, model) {
		return base + "{mac}.xml", nil
	}
	return base, nil
}

// pnpWantsFile reports whether the phone takes a file URL with a {mac}
// placeholder: Snom, and Gigaset's Snom-built P-series (models P7xx/P8xx).
// Every other phone gets the directory URL.
func pnpWantsFile(vendor, model string) bool {
	switch strings.ToLower(vendor) {
	case "snom":
		return true
	case "gigaset":
		m := strings.TrimPrefix(strings.ToUpper(model), "GIGASET ")
		return len(m) >= 2 && m[0] == 'P' && m[1] >= '0' && m[1] <= '9'
	}
	return false
}
