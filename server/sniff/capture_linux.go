//go:build linux

package sniff

import (
	"fmt"
	"net"

	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
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
	prog, err := bpf.Assemble(filter)
	if err != nil {
		return nil, fmt.Errorf("assemble the dhcp filter: %w", err)
	}
	c := &Capture{}
	for _, name := range list {
		if _, err := net.InterfaceByName(name); err != nil {
			c.Close()
			return nil, fmt.Errorf("interface %q: %w", name, err)
		}
		h, err := pcapgo.NewEthernetHandle(name)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("capture on %q: %v", name, err)
		}
		c.closers = append(c.closers, h.Close)
		if err := h.SetBPF(prog); err != nil {
			c.Close()
			return nil, fmt.Errorf("attach the dhcp filter on %q: %w", name, err)
		}
		if err := h.SetCaptureLength(9216); err != nil { // a DHCP request is a few hundred bytes; jumbo frames fit
			c.Close()
			return nil, err
		}
		c.Interfaces = append(c.Interfaces, name)
		c.srcs = append(c.srcs, h)
	}
	return c, nil
}
