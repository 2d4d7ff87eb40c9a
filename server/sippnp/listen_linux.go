package sippnp

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// ipMulticastAll is IP_MULTICAST_ALL (ip(7)); package syscall lacks it.
const ipMulticastAll = 49

// listenGroup binds a socket to the group address itself (not the
// wildcard, so it gets no unicast traffic for the port and leaves unicast
// 5060 to a PBX), with SO_REUSEADDR so that it can share the port with
// another socket that set it too, and joins the group on each interface.
// IP_MULTICAST_ALL is off: only datagrams for groups this socket joined,
// on the interfaces it joined them on, arrive.
func listenGroup(group *net.UDPAddr, ifis []net.Interface, strict bool) (pc net.PacketConn, joined, skipped []string, err error) {
	ip4 := group.IP.To4()
	if ip4 == nil {
		return nil, nil, nil, fmt.Errorf("%s: not an IPv4 group", group)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "sippnp-group")
	defer f.Close() // FilePacketConn holds its own duplicate
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return nil, nil, nil, fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, ipMulticastAll, 0); err != nil {
		return nil, nil, nil, fmt.Errorf("IP_MULTICAST_ALL: %w", err)
	}
	sa := &syscall.SockaddrInet4{Port: group.Port}
	copy(sa.Addr[:], ip4)
	if err := syscall.Bind(fd, sa); err != nil {
		return nil, nil, nil, fmt.Errorf("bind %s: %w", group, err)
	}
	for _, ifi := range ifis {
		mreq := &syscall.IPMreqn{Ifindex: int32(ifi.Index)}
		copy(mreq.Multiaddr[:], ip4)
		if err := syscall.SetsockoptIPMreqn(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq); err != nil {
			if strict {
				return nil, nil, nil, fmt.Errorf("join %s on %s: %w", group.IP, ifi.Name, err)
			}
			skipped = append(skipped, fmt.Sprintf("%s: %v", ifi.Name, err))
			continue
		}
		joined = append(joined, ifi.Name)
	}
	if len(joined) == 0 {
		return nil, nil, nil, fmt.Errorf("could not join %s on any interface: %v", group.IP, skipped)
	}
	if pc, err = net.FilePacketConn(f); err != nil {
		return nil, nil, nil, err
	}
	return pc, joined, skipped, nil
}
