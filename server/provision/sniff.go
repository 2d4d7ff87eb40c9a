package provision

import (
	"context"
	"fmt"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// dhcpFile is the last_file a DHCP sighting records.
const dhcpFile = "dhcp"

// Sniffed records a phone the passive DHCP sniffer saw asking for a lease
// (see server/sniff). req is what the request said: the hardware address
// in MAC, options 60 and 12 in VendorClass and Hostname, the client's
// address in RemoteAddr ("" when it has none yet), the frame's Ethernet
// source in LinkSource and giaddr in RelayAgent, Transport "dhcp".
//
// The client is identified as a fetch is (Registry.Identify: the MAC's OUI
// and the vendor class, which may name the model). One no driver
// recognises (a laptop, a printer) is refused with an error wrapping
// autoprov.ErrNotFound before the store is asked anything. A MAC the inventory does
// not know lands in the inbox as an unassigned device, with last_file
// "dhcp", within the inbox's bounds (a new MAC is charged to LinkSource
// and RelayAgent: see inbox.go); a known one is left as it is, since a lease request says less
// than its fetches did and usually carries no IP address yet. created
// reports whether the device is new.
func (s *Phones) Sniffed(ctx context.Context, req vendors.Request) (created bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	mac, err := vendors.ParseMAC(req.MAC)
	if err != nil {
		return false, fmt.Errorf("sniffed phone: %w", err)
	}
	if err := s.checkMAC(mac, req, dhcpFile); err != nil {
		return false, fmt.Errorf("sniffed phone: %v: %w", err, autoprov.ErrNotFound)
	}
	id, _ := s.reg.Identify(req)
	if id.Score == 0 || id.Vendor == "" {
		return false, fmt.Errorf("sniffed %s: no vendor driver recognises it: %w", mac, autoprov.ErrNotFound)
	}
	// A known device is left as it is. created is false too when the
	// inbox's bounds refused a new one.
	_, f, err := s.lookup(ctx, sightingOf(mac, id, req, dhcpFile, s.now()), req, new(autoprov.Device))
	if err != nil {
		return false, fmt.Errorf("sniffed phone %s: %w", mac, err)
	}
	return f == foundNew, nil
}
