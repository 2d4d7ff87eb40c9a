//go:build linux

package sniff

import (
	"fmt"
	"net"
)

// Supported reports whether capture works on this OS.
const Supported = true

// Open opens a capture socket (AF_PACKET, not promiscuous: the requests
// phones broadcast reach it anyway) with the DHCP filter on each of the
// comma-separated interfaces. It needs root or CAP_NET_RAW.
func Open(names string) (*Capture, error) {
	list, err := splitNames(names)
	if err != nil {
		return nil, err
	}
	c := &Capture{}
	for _, name := range list {
		if _, err := net.InterfaceByName(name); err != nil {
			c.Close()
			return nil, fmt.Errorf("interface %q: %w", name, err)
		}
		// A DHCP request is a few hundred bytes; jumbo frames fit.
		h, err := openFiltered(name, "dhcp", filter, 9216)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.closers = append(c.closers, h.Close)
		c.Interfaces = append(c.Interfaces, name)
		c.srcs = append(c.srcs, h)
	}
	return c, nil
}
