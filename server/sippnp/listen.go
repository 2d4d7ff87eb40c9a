package sippnp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// Group is the SIP multicast group phones send their PnP SUBSCRIBE to
// (224.0.1.75, "sip.mcast.net"), on port 5060.
const Group = "224.0.1.75:5060"

// The ways a responder can receive SUBSCRIBEs (Conns.Mode and
// ListenConfig.Mode).
const (
	// ModeAuto (ListenConfig only): shared where the kernel lets us bind
	// the group's port, else capture.
	ModeAuto = "auto"
	// ModeShared: a socket bound to the group address itself with
	// SO_REUSEADDR, which shares the port with a SIP server that set
	// SO_REUSEADDR too.
	ModeShared = "shared"
	// ModeCapture: port 5060 is never bound; the SUBSCRIBEs are captured
	// (AF_PACKET with a kernel filter, ListenConfig.Capture) and the group
	// is kept joined from the reply socket.
	ModeCapture = "capture"
	// ModeUnicast (Conns only): an ordinary UDP socket on a unicast
	// address.
	ModeUnicast = "unicast"
)

// Receiver receives datagrams: a net.PacketConn, or a capture
// (server/sniff's UDPCapture) that returns the payload and the source of
// each datagram to the group.
type Receiver interface {
	ReadFrom(b []byte) (n int, addr net.Addr, err error)
	LocalAddr() net.Addr
	Close() error
}

// CaptureFunc opens a receive-only capture of the UDP datagrams to dst on
// the named interfaces (server/sniff.OpenUDP, wrapped by the caller).
type CaptureFunc func(interfaces []string, dst *net.UDPAddr) (Receiver, error)

// Conns are a responder's sockets. Recv receives the SUBSCRIBEs: the
// joined multicast group, a capture of it, or a unicast address (tests, or
// a phone pointed at us directly). Send sends the replies and receives the
// phones' answers to our NOTIFYs; in unicast mode it is Recv itself.
type Conns struct {
	Recv Receiver
	Send net.PacketConn
	// Mode is ModeShared, ModeCapture or ModeUnicast.
	Mode string
	// Why says why this mode runs, for the start-up log.
	Why string
	// Interfaces are the interfaces the group was joined on (multicast
	// modes only), and captured on in capture mode.
	Interfaces []string
	// Skipped are the multicast-capable interfaces the group could not be
	// joined on, with the reason (only when none was named).
	Skipped []string
}

// Multicast reports whether Recv receives the multicast group (shared or
// capture mode).
func (c *Conns) Multicast() bool { return c.Mode != ModeUnicast }

// Close closes the sockets.
func (c *Conns) Close() error {
	err := c.Recv.Close()
	if pc, ok := c.Recv.(net.PacketConn); !ok || pc != c.Send {
		err = errors.Join(err, c.Send.Close())
	}
	return err
}

// ListenConfig chooses how Listen receives the multicast group.
type ListenConfig struct {
	// Mode is ModeAuto (also when empty), ModeShared or ModeCapture.
	Mode string
	// Capture opens the capture for capture mode; without it capture mode
	// is unavailable (ModeAuto then fails where the bind fails).
	Capture CaptureFunc
}

// Listen opens the sockets for addr in shared mode only: see
// ListenConfig.Listen.
func Listen(addr, interfaces string) (*Conns, error) {
	return ListenConfig{Mode: ModeShared}.Listen(addr, interfaces)
}

// Listen opens the sockets for addr. A multicast address (normally
// Group) is, in shared mode, bound as the group address itself with
// SO_REUSEADDR and joined on the named interfaces (comma-separated; empty:
// every interface that is up and multicast-capable); in capture mode it is
// captured on those interfaces and joined from the reply socket; auto mode
// tries shared and falls back to capture when the bind fails with
// EADDRINUSE (another socket holds the port without SO_REUSEADDR). Replies
// always leave from a separate socket on an ephemeral port, so a PBX may
// keep 5060. Any other address is an ordinary unicast UDP socket that also
// sends the replies. IPv4 only, as the group is.
func (lc ListenConfig) Listen(addr, interfaces string) (*Conns, error) {
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, err
	}
	if !ua.IP.IsMulticast() {
		pc, err := net.ListenPacket("udp4", ua.String())
		if err != nil {
			return nil, err
		}
		return &Conns{Recv: pc, Send: pc, Mode: ModeUnicast, Why: "--pnp is a unicast address"}, nil
	}
	mode := lc.Mode
	if mode == "" {
		mode = ModeAuto
	}
	switch mode {
	case ModeAuto, ModeShared, ModeCapture:
	default:
		return nil, fmt.Errorf("unknown plug-and-play mode %q (auto, shared or capture)", lc.Mode)
	}
	if mode == ModeCapture && lc.Capture == nil {
		return nil, errors.New("capture mode is not available here")
	}
	ifis, err := multicastInterfaces(interfaces)
	if err != nil {
		return nil, err
	}
	strict := strings.TrimSpace(interfaces) != ""
	if mode == ModeCapture {
		return lc.listenCapture(ua, ifis, strict, "capture mode was asked for (--pnp-mode capture)")
	}
	recv, joined, skipped, err := listenGroup(ua, ifis, strict)
	if err != nil {
		if mode == ModeAuto && lc.Capture != nil && errors.Is(err, syscall.EADDRINUSE) {
			why := fmt.Sprintf("%s cannot be bound: %s holds port %d without SO_REUSEADDR (%v)",
				ua, holdersText(ua), ua.Port, err)
			return lc.listenCapture(ua, ifis, strict, why)
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w: %s holds port %d without SO_REUSEADDR", err, holdersText(ua), ua.Port)
		}
		return nil, err
	}
	send, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		recv.Close()
		return nil, fmt.Errorf("reply socket: %w", err)
	}
	why := fmt.Sprintf("bound %s with SO_REUSEADDR", ua)
	if h := holders(ua); len(h) > 0 {
		why += fmt.Sprintf("; it shares port %d with another socket (%s), which also receives each SUBSCRIBE "+
			"and may answer it (a SIP server answers 403 or 489): our NOTIFY still goes out", ua.Port, strings.Join(h, ", "))
	}
	return &Conns{Recv: recv, Send: send, Mode: ModeShared, Why: why, Interfaces: joined, Skipped: skipped}, nil
}

// listenCapture opens capture mode: the reply socket joins the group (so
// that the switch and the NIC keep delivering it) and the capture receives.
func (lc ListenConfig) listenCapture(group *net.UDPAddr, ifis []net.Interface, strict bool, why string) (*Conns, error) {
	send, joined, skipped, err := joinSocket(group, ifis, strict)
	if err != nil {
		return nil, err
	}
	recv, err := lc.Capture(joined, group)
	if err != nil {
		send.Close()
		return nil, fmt.Errorf("%s; capturing instead failed: %w (capture needs root or CAP_NET_RAW)", why, err)
	}
	why = fmt.Sprintf("%s; receiving SUBSCRIBEs by capture on %s", why, strings.Join(joined, ","))
	return &Conns{Recv: recv, Send: send, Mode: ModeCapture, Why: why, Interfaces: joined, Skipped: skipped}, nil
}

// holdersText names the other sockets on the group's port for a message.
func holdersText(group *net.UDPAddr) string {
	if h := holders(group); len(h) > 0 {
		return "another socket (" + strings.Join(h, ", ") + ")"
	}
	return "another socket"
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
