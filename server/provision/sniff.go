package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// dhcpFile is the last_file a DHCP sighting records.
const dhcpFile = "dhcp"

// Sniffed records a phone the passive DHCP sniffer saw asking for a lease
// (see server/sniff). req is what the request said: the hardware address
// in MAC, options 60 and 12 in VendorClass and Hostname, the client's
// address in RemoteAddr ("" when it has none yet), Transport "dhcp".
//
// The client is identified as a fetch is (Registry.Identify: the MAC's OUI
// and the vendor class, which may name the model). One no driver
// recognises (a laptop, a printer) is refused with an error wrapping
// autoprov.ErrNotFound before the store is asked anything. A MAC the inventory does
// not know lands in the inbox as an unassigned device, with last_file
// "dhcp"; a known one is left as it is, since a lease request says less
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
	id, _ := s.reg.Identify(req)
	if id.Score == 0 || id.Vendor == "" {
		return false, fmt.Errorf("sniffed %s: no vendor driver recognises it: %w", mac, autoprov.ErrNotFound)
	}
	if _, err := s.devices.Device(ctx, mac); err == nil {
		return false, nil
	} else if !errors.Is(err, autoprov.ErrNotFound) {
		return false, fmt.Errorf("sniffed phone %s: %w", mac, err)
	}
	return s.record(ctx, autoprov.Sighting{MAC: mac, Vendor: id.Vendor, Model: id.Model, Firmware: id.Firmware,
		RemoteIP: req.RemoteAddr, UserAgent: req.UserAgent, File: dhcpFile, At: s.now()})
}
