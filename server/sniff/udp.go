package sniff

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// UDPCapture receives, by capture, the UDP datagrams sent to one IPv4
// address and port (for SIP plug-and-play: 224.0.1.75:5060) on a set of
// interfaces, without binding that port: another process may hold it.
// It is a receive-only socket: ReadFrom returns each datagram's payload
// and its source address. OpenUDP makes one; it is Linux only.
type UDPCapture struct {
	// Interfaces are the interfaces captured on.
	Interfaces []string
	dst        *net.UDPAddr
	in         chan datagram
	done       chan struct{} // closed by Close
	failed     chan struct{} // closed on the first read error
	closers    []func() error
	closeOnce  sync.Once
	wg         sync.WaitGroup
	errOnce    sync.Once
	err        error // the first read error of a handle, returned by ReadFrom
}

// datagram is one captured UDP payload and its source.
type datagram struct {
	payload []byte
	src     *net.UDPAddr
}

// ErrClosed is returned by ReadFrom once the capture is closed.
var ErrClosed = errors.New("capture closed")

// LocalAddr is the destination address captured (not a bound socket).
func (c *UDPCapture) LocalAddr() net.Addr { return c.dst }

// ReadFrom blocks until a datagram to the captured address arrives, copies
// its payload into b (cut to len(b)) and returns its length and source. It
// returns ErrClosed after Close, or the read error of a capture socket.
func (c *UDPCapture) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d.payload), d.src, nil
	case <-c.done:
		return 0, nil, ErrClosed
	case <-c.failed:
		return 0, nil, c.err
	}
}

// Close closes the capture sockets, which ends reads in progress.
func (c *UDPCapture) Close() error {
	var errs []error
	c.closeOnce.Do(func() {
		c.errOnce.Do(func() {}) // a read error after Close is not one
		close(c.done)
		for _, f := range c.closers {
			errs = append(errs, f())
		}
	})
	c.wg.Wait()
	return errors.Join(errs...)
}

// pump reads frames from one capture socket until it fails or the capture
// is closed, and queues the datagrams to the captured address.
func (c *UDPCapture) pump(src source, iface string) {
	defer c.wg.Done()
	d := newUDPDecoder()
	for {
		frame, _, err := src.ReadPacketData()
		if err != nil {
			c.errOnce.Do(func() {
				c.err = fmt.Errorf("capture on %s: %w", iface, err)
				close(c.failed)
			})
			return
		}
		dg, ok := d.decode(frame, c.dst)
		if !ok {
			continue
		}
		select {
		case c.in <- dg:
		case <-c.done:
			return
		default: // the reader is behind: drop, as a full socket buffer would
		}
	}
}

// udpFilter is the classic BPF program for UDP to dst (IPv4): untagged
// IPv4, destination address dst.IP, UDP, not a fragment (no MF flag, no
// offset: a SUBSCRIBE fits one frame and fragments cannot be read alone),
// destination port dst.Port. It accepts the whole frame.
func udpFilter(dst *net.UDPAddr) ([]bpf.Instruction, error) {
	ip4 := dst.IP.To4()
	if ip4 == nil || dst.Port <= 0 || dst.Port > 65535 {
		return nil, fmt.Errorf("%s: not an IPv4 address and port", dst)
	}
	ip := uint32(ip4[0])<<24 | uint32(ip4[1])<<16 | uint32(ip4[2])<<8 | uint32(ip4[3])
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 10},
		/* 2 */ bpf.LoadAbsolute{Off: 30, Size: 4}, // IP destination
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: ip, SkipTrue: 8},
		/* 4 */ bpf.LoadAbsolute{Off: 23, Size: 1}, // IP protocol
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 6},
		/* 6 */ bpf.LoadAbsolute{Off: 20, Size: 2}, // flags and fragment offset
		/* 7 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x3fff, SkipTrue: 4}, // MF or an offset
		/* 8 */ bpf.LoadMemShift{Off: 14}, // X = IP header length
		/* 9 */ bpf.LoadIndirect{Off: 16, Size: 2}, // UDP destination port
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(dst.Port), SkipTrue: 1},
		/* 11 */ bpf.RetConstant{Val: 262144}, // accept
		/* 12 */ bpf.RetConstant{Val: 0}, // drop
	}, nil
}

// udpDecoder decodes Ethernet/IPv4/UDP frames; one per goroutine.
type udpDecoder struct {
	eth     layers.Ethernet
	ip4     layers.IPv4
	udp     layers.UDP
	payload gopacket.Payload
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newUDPDecoder() *udpDecoder {
	d := &udpDecoder{}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.ip4, &d.udp, &d.payload)
	d.parser.IgnoreUnsupported = true
	d.decoded = make([]gopacket.LayerType, 0, 4)
	return d
}

// decode returns the UDP payload and source of a frame addressed to dst.
// ok is false for anything else: not IPv4/UDP, another destination, a
// fragment, a frame shorter than its IP or UDP length says. The UDP
// checksum is not checked: a captured frame of a checksum-offloading
// sender (veth, many NICs) carries none yet. It never panics.
func (d *udpDecoder) decode(frame []byte, dst *net.UDPAddr) (dg datagram, ok bool) {
	defer func() {
		if recover() != nil {
			dg, ok = datagram{}, false
		}
	}()
	if err := d.parser.DecodeLayers(frame, &d.decoded); err != nil && len(d.decoded) < 3 {
		return datagram{}, false
	}
	var haveIP, haveUDP bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			haveIP = true
		case layers.LayerTypeUDP:
			haveUDP = true
		}
	}
	if !haveIP || !haveUDP || d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 ||
		!d.ip4.DstIP.Equal(dst.IP) || int(d.udp.DstPort) != dst.Port {
		return datagram{}, false
	}
	// The UDP length counts its 8-byte header; a shorter payload is a
	// truncated frame.
	n := int(d.udp.Length) - 8
	if n < 0 || n > len(d.udp.Payload) {
		return datagram{}, false
	}
	return datagram{
		payload: append([]byte(nil), d.udp.Payload[:n]...),
		src:     &net.UDPAddr{IP: append(net.IP(nil), d.ip4.SrcIP.To4()...), Port: int(d.udp.SrcPort)},
	}, true
}
