package provision

import (
	"context"

	"fmt"
	"github.com/autoprov/autoprov"

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
// (--public-url, else the HTTP listener's address) + "prov/", plus the file
// name the phone's driver asks for (vendors.PnPFiler: "{mac}.xml" for Snom
// and Gigaset P-series); other phones append their own file names.
func (s *Phones) Discovered(ctx context.Context, d Discovery) (string, error) {
	mac, err := vendors.ParseMAC(d.MAC)
	if err != nil {
		return "", fmt.Errorf("discovered phone: %w", err)
	}
	if _, err := s.record(ctx, autoprov.Sighting{MAC: mac, Vendor: d.Vendor, Model: d.Model, Firmware: d.Firmware,
		RemoteIP: d.RemoteIP, UserAgent: d.UserAgent, File: pnpFile, At: s.now()}); err != nil {
		return "", err
	}
	vendor, model := d.Vendor, d.Model
	if dev, err := s.devices.Device(ctx, mac); err == nil && dev.Vendor != "" {
		// The inventory knows better than a guess from a SUBSCRIBE.
		vendor, model = dev.Vendor, dev.Model
	}
	base := s.baseURL("")
	if base == "prov/" { // neither a public nor a fallback URL: nothing a phone can reach
		return "", fmt.Errorf("discovered phone %s: no provisioning base URL configured", mac)
	}
	// The driver of the model (else the vendor's first) says what to append.
	v, _, err := s.reg.Lookup(vendor, model)
	if err != nil {
		v, _ = s.reg.ByName(vendor)
	}
	if f, ok := v.(vendors.PnPFiler); ok {
		return base + f.PnPFile(), nil
	}
	return base, nil
}
