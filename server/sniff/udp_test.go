package sniff

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

var pnpGroup = &net.UDPAddr{IP: net.IPv4(224, 0, 1, 75), Port: 5060}

// udpFrame builds an Ethernet/IPv4/UDP frame from src to dst carrying
// payload, with IP options when opts.
func udpFrame(t testing.TB, src, dst *net.UDPAddr, payload []byte, opts bool) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0x80, 0x5e, 0xc0, 1, 2, 3}, DstMAC: net.HardwareAddr{0x01, 0x00, 0x5e, 0, 1, 0x4b},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolUDP, SrcIP: src.IP.To4(), DstIP: dst.IP.To4()}
	if opts {
		ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port), DstPort: layers.UDPPort(dst.Port)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var phoneAddr = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 50), Port: 5059}

// TestUDPFilter runs the kernel filter for 224.0.1.75:5060 in x/net/bpf's
// VM: it passes UDP to the group and port, with or without IP options,
// and nothing else.
func TestUDPFilter(t *testing.T) {
	ins, err := udpFilter(pnpGroup)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	accept := func(b []byte) bool {
		n, err := vm.Run(b)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	sub := []byte("SUBSCRIBE sip:MAC001565f4f9e1@224.0.1.75 SIP/2.0\r\n\r\n")
	f := udpFrame(t, phoneAddr, pnpGroup, sub, false)
	if !accept(f) || !accept(udpFrame(t, phoneAddr, pnpGroup, sub, true)) {
		t.Fatal("filter drops a datagram to the group")
	}
	otherPort := udpFrame(t, phoneAddr, &net.UDPAddr{IP: pnpGroup.IP, Port: 5061}, sub, false)
	otherGroup := udpFrame(t, phoneAddr, &net.UDPAddr{IP: net.IPv4(224, 0, 1, 76), Port: 5060}, sub, false)
	unicast := udpFrame(t, phoneAddr, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 5060}, sub, false)
	tcp := bytes.Clone(f)
	tcp[23] = 6
	frag := bytes.Clone(f)
	frag[21] = 8 // fragment offset 8
	more := bytes.Clone(f)
	more[20] |= 0x20 // more fragments
	arp := bytes.Clone(f)
	arp[12], arp[13] = 0x08, 0x06
	for name, b := range map[string][]byte{"other port": otherPort, "other group": otherGroup, "unicast": unicast,
		"tcp": tcp, "fragment": frag, "first fragment": more, "arp": arp, "short": f[:10]} {
		if accept(b) {
			t.Errorf("filter accepts %s", name)
		}
	}
	if _, err := udpFilter(&net.UDPAddr{IP: net.ParseIP("ff02::1"), Port: 5060}); err == nil {
		t.Error("an IPv6 address made a filter")
	}
}

// TestUDPDecode: the payload and source of a datagram to the group; other
// frames, truncated ones and garbage are dropped without a panic.
func TestUDPDecode(t *testing.T) {
	d := newUDPDecoder()
	sub := []byte("SUBSCRIBE sip:MAC001565f4f9e1@224.0.1.75 SIP/2.0\r\nContent-Length: 0\r\n\r\n")
	for _, opts := range []bool{false, true} {
		dg, ok := d.decode(udpFrame(t, phoneAddr, pnpGroup, sub, opts), pnpGroup)
		if !ok || !bytes.Equal(dg.payload, sub) || dg.src.String() != "192.0.2.50:5059" {
			t.Fatalf("options %v: %v %q %v", opts, ok, dg.payload, dg.src)
		}
	}
	// Ethernet padding after a short datagram is not payload.
	short := udpFrame(t, phoneAddr, pnpGroup, []byte("x"), false)
	if dg, ok := d.decode(append(short, make([]byte, 20)...), pnpGroup); !ok || string(dg.payload) != "x" {
		t.Fatalf("padded frame: %v %q", ok, dg.payload)
	}
	f := udpFrame(t, phoneAddr, pnpGroup, sub, false)
	other := udpFrame(t, phoneAddr, &net.UDPAddr{IP: pnpGroup.IP, Port: 5061}, sub, false)
	more := bytes.Clone(f)
	more[20] |= 0x20
	for name, b := range map[string][]byte{"other port": other, "first fragment": more, "truncated": f[:len(f)-5],
		"ethernet only": f[:14], "empty": nil, "garbage": bytes.Repeat([]byte{0xff}, 100)} {
		if _, ok := d.decode(b, pnpGroup); ok {
			t.Errorf("decoded %s", name)
		}
	}
	for i := range len(f) {
		d.decode(f[:i], pnpGroup) // no panic on any truncation
	}
}

// frames is a capture source that plays frames, then blocks until closed.
type frames struct {
	list   [][]byte
	closed chan struct{}
	fail   error
}

func (f *frames) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	if len(f.list) > 0 {
		b := f.list[0]
		f.list = f.list[1:]
		return b, gopacket.CaptureInfo{}, nil
	}
	if f.fail != nil {
		return nil, gopacket.CaptureInfo{}, f.fail
	}
	<-f.closed
	return nil, gopacket.CaptureInfo{}, io.EOF
}

// TestUDPCaptureReads: ReadFrom returns the datagrams to the group in
// order with their sources, skips the rest, returns ErrClosed after Close,
// and a capture socket's read error once it fails.
func TestUDPCaptureReads(t *testing.T) {
	sub := []byte("SUBSCRIBE sip:MAC%3a000413A1B2C3@224.0.1.75 SIP/2.0\r\n\r\n")
	src := &frames{closed: make(chan struct{}), list: [][]byte{
		udpFrame(t, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 1}, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 5060}, []byte("no"), false),
		udpFrame(t, phoneAddr, pnpGroup, sub, false),
	}}
	c := &UDPCapture{dst: pnpGroup, in: make(chan datagram, 4), done: make(chan struct{}), failed: make(chan struct{}),
		closers: []func() error{func() error { close(src.closed); return nil }}}
	c.wg.Add(1)
	go c.pump(src, "eth0")
	buf := make([]byte, 65535)
	n, from, err := c.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], sub) || from.String() != "192.0.2.50:5059" || c.LocalAddr().String() != "224.0.1.75:5060" {
		t.Fatalf("ReadFrom: %q %v %v", buf[:n], from, err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := c.ReadFrom(buf); done <- err }()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadFrom after Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end ReadFrom")
	}

	bad := &frames{closed: make(chan struct{}), fail: errors.New("boom")}
	c = &UDPCapture{dst: pnpGroup, in: make(chan datagram, 4), done: make(chan struct{}), failed: make(chan struct{})}
	c.wg.Add(1)
	go c.pump(bad, "eth1")
	if _, _, err := c.ReadFrom(buf); err == nil || err.Error() != "capture on eth1: boom" {
		t.Fatalf("ReadFrom after a read error: %v", err)
	}
	c.Close()
}
