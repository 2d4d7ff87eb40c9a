package sippnp

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ipMulticastAll is IP_MULTICAST_ALL (ip(7)); package syscall lacks it.
const ipMulticastAll = 49

// listenGroup binds a socket to the group address itself (not the
// wildcard, so it gets no unicast traffic for the port and leaves unicast
// 5060 to a PBX), with SO_REUSEADDR so that it can share the port with
// another socket that set it too, and joins the group on each interface.
// IP_MULTICAST_ALL is off: only datagrams for groups this socket joined,
// on the interfaces it joined them on, arrive. A bind that another socket
// prevents fails with an error wrapping syscall.EADDRINUSE.
func listenGroup(group *net.UDPAddr, ifis []net.Interface, strict bool) (pc net.PacketConn, joined, skipped []string, err error) {
	ip4 := group.IP.To4()
	if ip4 == nil {
		return nil, nil, nil, fmt.Errorf("%s: not an IPv4 group", group)
	}
	sa := &syscall.SockaddrInet4{Port: group.Port}
	copy(sa.Addr[:], ip4)
	return groupSocket(sa, true, ip4, ifis, strict)
}

// joinSocket opens the reply socket of capture mode: bound to the wildcard
// on an ephemeral port, and a member of the group on each interface, so
// that the NIC's filter and the switch's IGMP snooping keep delivering the
// group to this host. It never receives the group's datagrams itself
// (another port, IP_MULTICAST_ALL off): the capture does.
func joinSocket(group *net.UDPAddr, ifis []net.Interface, strict bool) (pc net.PacketConn, joined, skipped []string, err error) {
	ip4 := group.IP.To4()
	if ip4 == nil {
		return nil, nil, nil, fmt.Errorf("%s: not an IPv4 group", group)
	}
	return groupSocket(&syscall.SockaddrInet4{}, false, ip4, ifis, strict)
}

// groupSocket makes a UDP socket bound to sa (with SO_REUSEADDR when
// reuse), IP_MULTICAST_ALL off, joined to group on each interface.
func groupSocket(sa *syscall.SockaddrInet4, reuse bool, group net.IP, ifis []net.Interface, strict bool) (pc net.PacketConn, joined, skipped []string, err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "sippnp-group")
	defer f.Close() // FilePacketConn holds its own duplicate
	if reuse {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			return nil, nil, nil, fmt.Errorf("SO_REUSEADDR: %w", err)
		}
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, ipMulticastAll, 0); err != nil {
		return nil, nil, nil, fmt.Errorf("IP_MULTICAST_ALL: %w", err)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return nil, nil, nil, fmt.Errorf("bind %s: %w", &net.UDPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}, err)
	}
	for _, ifi := range ifis {
		mreq := &syscall.IPMreqn{Ifindex: int32(ifi.Index)}
		copy(mreq.Multiaddr[:], group)
		if err := syscall.SetsockoptIPMreqn(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq); err != nil {
			if strict {
				return nil, nil, nil, fmt.Errorf("join %s on %s: %w", group, ifi.Name, err)
			}
			skipped = append(skipped, fmt.Sprintf("%s: %v", ifi.Name, err))
			continue
		}
		joined = append(joined, ifi.Name)
	}
	if len(joined) == 0 {
		return nil, nil, nil, fmt.Errorf("could not join %s on any interface: %v", group, skipped)
	}
	if pc, err = net.FilePacketConn(f); err != nil {
		return nil, nil, nil, err
	}
	return pc, joined, skipped, nil
}

// holders lists the local addresses of the other IPv4 UDP sockets on the
// group's port (from /proc/net/udp, this network namespace), for the
// start-up log: "0.0.0.0:5060" is a SIP server on the wildcard. The group
// address itself (ours, or another responder's) is left out.
func holders(group *net.UDPAddr) []string {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return nil
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		hexIP, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok || len(hexIP) != 8 {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(port) != group.Port {
			continue
		}
		raw, err := hex.DecodeString(hexIP)
		if err != nil {
			continue
		}
		// The kernel prints the address as a host-order number.
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], binary.NativeEndian.Uint32(raw))
		a := (&net.UDPAddr{IP: net.IP(ip[:]), Port: int(port)}).String()
		if net.IP(ip[:]).Equal(group.IP) || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	return out
}
