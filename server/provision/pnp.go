package provision

import (
	"context"
	"fmt"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// pnpFile is the last_file a PnP sighting records.
const pnpFile = "sip-pnp"

// Discovered records a phone seen through SIP plug-and-play (see
// server/sippnp) and returns the provisioning URL to hand to it. req is
// what the SUBSCRIBE said: the MAC of its Request-URI (else To, From; ""
// when none), its User-Agent, the source address, Transport "sip".
//
// The phone is identified as a fetch is (Registry.Identify: User-Agent
// and OUI). Its MAC is req.MAC, else the one its User-Agent carries (Snom
// M700 "MAC=..."); without either the error wraps autoprov.ErrNotFound. The
// sighting is recorded as a fetch's (an unknown MAC lands in the inbox as
// an unassigned device, whatever its vendor). The URL is the provisioning
// base URL (--public-url, else the HTTP listener's address) + "prov/",
// plus the file name the phone's driver asks for (vendors.PnPFiler:
// "{mac}.xml" for Snom and Gigaset P-series); other phones append their
// own file names.
func (s *Phones) Discovered(ctx context.Context, req vendors.Request) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	id, _ := s.reg.Identify(req)
	mac := id.MAC
	if req.MAC != "" {
		m, err := vendors.ParseMAC(req.MAC)
		if err != nil {
			return "", fmt.Errorf("discovered phone: %w", err)
		}
		if mac != "" && mac != m {
			s.log.Warn("plug-and-play request names two MACs; using the Request-URI's", "mac", m, "user_agent_mac", mac,
				"remote", req.RemoteAddr)
		}
		mac = m
	}
	if mac == "" {
		return "", fmt.Errorf("discovered phone: no MAC in the request or its user agent: %w", autoprov.ErrNotFound)
	}
	if err := s.checkMAC(mac, req, pnpFile); err != nil {
		return "", fmt.Errorf("discovered phone: %v: %w", err, autoprov.ErrNotFound)
	}
	v0 := sightingOf(mac, id, req, pnpFile, s.now())
	dev, f, err := s.lookup(ctx, v0, req, new(autoprov.Device))
	if err != nil {
		return "", err
	}
	// A SUBSCRIBE is easily forged: it updates an unassigned phone's
	// report, never an adopted one's. A new phone the inbox's bounds
	// refuse still gets the URL: it will land there when it fetches.
	if f == foundKnown && dev.State != autoprov.StateAssigned {
		if err := s.touch(ctx, v0); err != nil {
			return "", err
		}
	}
	vendor, model := id.Vendor, id.Model
	if dev != nil && dev.Vendor != "" && !s.guarded(*dev) {
		// The inventory knows better than a guess from a SUBSCRIBE; but a
		// SUBSCRIBE proves nothing, so a device whose per-device files are
		// guarded gets the URL an unknown MAC would (the guess).
		vendor, model = dev.Vendor, dev.Model
	}
	base := s.baseURL("")
	if base == "prov/" { // neither a public nor a fallback URL: nothing a phone can reach
		return "", fmt.Errorf("discovered phone %s: no provisioning base URL configured", mac)
	}
	s.log.Debug("plug-and-play phone identified", "mac", mac, "vendor", id.Vendor, "model", id.Model,
		"firmware", id.Firmware, "remote", req.RemoteAddr)
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
