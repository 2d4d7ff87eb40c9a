package sippnp

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// Group is the SIP multicast group phones send their PnP SUBSCRIBE to
// (224.0.1.75, "sip.mcast.net"), on port 5060.
const Group = "224.0.1.75:5060"

// Conns are a responder's sockets. Recv receives the SUBSCRIBEs: the
// joined multicast group, or a unicast address (tests, or a phone pointed
// at us directly). Send sends the replies and receives the phones' answers
// to our NOTIFYs; in unicast mode it is Recv itself.
type Conns struct {
	Recv, Send net.PacketConn
	// Interfaces are the interfaces the group was joined on (multicast
	// mode only).
	Interfaces []string
	// Skipped are the multicast-capable interfaces the group could not be
	// joined on, with the reason (only when none was named).
	Skipped []string
}

// Multicast reports whether Recv is a multicast group socket.
func (c *Conns) Multicast() bool { return c.Send != c.Recv }

// Close closes the sockets.
func (c *Conns) Close() error {
	err := c.Recv.Close()
	if c.Send != c.Recv {
		err = errors.Join(err, c.Send.Close())
	}
	return err
}

// Listen opens the sockets for addr. A multicast address (normally
// Group) is bound as the group address itself, with SO_REUSEADDR, and
// joined on the named interfaces (comma-separated; empty: every interface
// that is up and multicast-capable); replies then leave from a separate
// socket on an ephemeral port, so a PBX may keep unicast 5060. Any other
// address is an ordinary unicast UDP socket that also sends the replies.
// IPv4 only, as the group is.
func Listen(addr, interfaces string) (*Conns, error) {
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, err
	}
	if !ua.IP.IsMulticast() {
		pc, err := net.ListenPacket("udp4", ua.String())
		if err != nil {
			return nil, err
		}
		return &Conns{Recv: pc, Send: pc}, nil
	}
	ifis, err := multicastInterfaces(interfaces)
	if err != nil {
		return nil, err
	}
	recv, joined, skipped, err := listenGroup(ua, ifis, strings.TrimSpace(interfaces) != "")
	if err != nil {
		return nil, err
	}
	send, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		recv.Close()
		return nil, fmt.Errorf("reply socket: %w", err)
	}
	return &Conns{Recv: recv, Send: send, Interfaces: joined, Skipped: skipped}, nil
}

// multicastInterfaces resolves the interface list; empty means every
// interface that is up and multicast-capable.
func multicastInterfaces(names string) ([]net.Interface, error) {
	if strings.TrimSpace(names) == "" {
		all, err := net.Interfaces()
		if err != nil {
			return nil, err
		}
		var out []net.Interface
		for _, ifi := range all {
			if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 {
				out = append(out, ifi)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("no interface is up and multicast-capable")
		}
		return out, nil
	}
	var out []net.Interface
	for _, n := range strings.Split(names, ",") {
		ifi, err := net.InterfaceByName(strings.TrimSpace(n))
		if err != nil {
			return nil, fmt.Errorf("interface %q: %w", strings.TrimSpace(n), err)
		}
		out = append(out, *ifi)
	}
	return out, nil
}
