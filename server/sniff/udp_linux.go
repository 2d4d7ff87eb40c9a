//go:build linux

package sniff

import (
	"fmt"
	"net"
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
	c := &UDPCapture{dst: dst, in: make(chan datagram, 256), done: make(chan struct{}), failed: make(chan struct{})}
	var srcs []source
	for _, name := range names {
		h, err := openFiltered(name, "udp", ins, 65536)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.closers = append(c.closers, h.Close)
		c.Interfaces = append(c.Interfaces, name)
		srcs = append(srcs, h)
	}
	for i, src := range srcs {
		c.wg.Add(1)
		go c.pump(src, c.Interfaces[i])
	}
	return c, nil
}
