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
// (see server/sniff). A MAC the inventory does not know lands in the inbox
// as an unassigned device, with last_file "dhcp"; a known one is left as it
// is, since a lease request says less than its fetches did and usually
// carries no IP address yet. created reports whether the device is new.
func (s *Phones) Sniffed(ctx context.Context, d Discovery) (created bool, err error) {
	mac, err := vendors.ParseMAC(d.MAC)
	if err != nil {
		return false, fmt.Errorf("sniffed phone: %w", err)
	}
	if _, err := s.devices.Device(ctx, mac); err == nil {
		return false, nil
	} else if !errors.Is(err, autoprov.ErrNotFound) {
		return false, fmt.Errorf("sniffed phone %s: %w", mac, err)
	}
	return s.record(ctx, autoprov.Sighting{MAC: mac, Vendor: d.Vendor, Model: d.Model, Firmware: d.Firmware,
		RemoteIP: d.RemoteIP, UserAgent: d.UserAgent, File: dhcpFile, At: s.now()})
}
