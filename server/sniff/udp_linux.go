//go:build linux

package sniff

import (
	"fmt"
	"net"

	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
)

// OpenUDP opens a capture (AF_PACKET, not promiscuous: multicast to a
// group the host joined reaches it anyway) of the UDP datagrams to dst on
// each of the named interfaces, with a kernel filter that passes only
// those. It binds no port and joins no group: the caller keeps the group
// joined from a socket of its own. It needs root or CAP_NET_RAW.
func OpenUDP(names []string, dst *net.UDPAddr) (*UDPCapture, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no interface to capture %s on", dst)
	}
	ins, err := udpFilter(dst)
	if err != nil {
		return nil, err
	}
	prog, err := bpf.Assemble(ins)
	if err != nil {
		return nil, fmt.Errorf("assemble the udp filter: %w", err)
	}
	c := &UDPCapture{dst: dst, in: make(chan datagram, 256), done: make(chan struct{}), failed: make(chan struct{})}
	var srcs []source
	for _, name := range names {
		h, err := pcapgo.NewEthernetHandle(name)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("capture on %q: %v", name, err)
		}
		c.closers = append(c.closers, h.Close)
		if err := h.SetBPF(prog); err != nil {
			c.Close()
			return nil, fmt.Errorf("attach the udp filter on %q: %w", name, err)
		}
		if err := h.SetCaptureLength(65536); err != nil {
			c.Close()
			return nil, err
		}
		c.Interfaces = append(c.Interfaces, name)
		srcs = append(srcs, h)
	}
	for i, src := range srcs {
		c.wg.Add(1)
		go c.pump(src, c.Interfaces[i])
	}
	return c, nil
}
