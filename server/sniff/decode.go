package sniff

import (
	"fmt"
	"net"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/autoprov/autoprov/vendors"
)

// Request is what one DHCP client message (BOOTREQUEST) says about the
// client that sent it.
type Request struct {
	MAC         string // chaddr, as "aa:bb:cc:dd:ee:ff"
	Type        string // DHCP message type: "discover", "request", "inform", "bootp" (no option 53)
	VendorClass string // option 60, or ""
	Hostname    string // option 12, or ""
	IP          string // ciaddr, else the requested address (option 50), else ""
	Source      string // the frame's Ethernet source: the client's, or the relay's
	Relay       string // giaddr when relayed, else ""
}

// maxText bounds the option strings kept (they end up in logs).
const maxText = 64

// decoder decodes Ethernet frames through a DecodingLayerParser, which
// reuses its layers: one decoder per goroutine.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	udp     layers.UDP
	dhcp    layers.DHCPv4
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.dot1q, &d.ip4, &d.udp, &d.dhcp)
	d.parser.IgnoreUnsupported = true
	d.decoded = make([]gopacket.LayerType, 0, 5)
	return d
}

// decode returns the client request an Ethernet frame carries. ok is false
// for anything else: not IPv4/UDP to port 67 from port 68 (a client) or
// from port 67 with a giaddr (a relay agent), shorter than its IP or UDP
// length says, not a
// BOOTREQUEST, a message type a client sends when it leaves (release,
// decline), a hardware address that is not a unicast Ethernet one, or a
// frame that does not decode. It never panics: gopacket's DHCPv4 decoder
// has panicked on crafted packets before, so a panic is recovered and the
// frame ignored.
func (d *decoder) decode(frame []byte) (r Request, ok bool) {
	defer func() {
		if recover() != nil {
			r, ok = Request{}, false
		}
	}()
	d.parser.Truncated = false
	if err := d.parser.DecodeLayers(frame, &d.decoded); err != nil || d.parser.Truncated {
		return Request{}, false // a cut frame may still decode up to an option boundary
	}
	var haveUDP, haveDHCP bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeUDP:
			haveUDP = true
		case layers.LayerTypeDHCPv4:
			haveDHCP = true
		}
	}
	if !haveUDP || !haveDHCP || d.udp.DstPort != 67 || (d.udp.SrcPort != 68 && d.udp.SrcPort != 67) {
		return Request{}, false
	}
	m := &d.dhcp
	if m.Operation != layers.DHCPOpRequest || m.HardwareType != layers.LinkTypeEthernet ||
		m.HardwareLen != 6 || len(m.ClientHWAddr) != 6 {
		return Request{}, false
	}
	var relay string
	if gi := m.RelayAgentIP.To4(); gi != nil && !gi.IsUnspecified() {
		relay = gi.String()
	}
	if d.udp.SrcPort == 67 && relay == "" {
		return Request{}, false // server to server, or a relay that forgot giaddr
	}
	hw := m.ClientHWAddr
	if hw[0]&1 != 0 || (hw[0]|hw[1]|hw[2]|hw[3]|hw[4]|hw[5]) == 0 {
		return Request{}, false // multicast, broadcast or zero: no device has it
	}
	r = Request{MAC: net.HardwareAddr(hw).String(), Type: "bootp", Source: d.eth.SrcMAC.String(), Relay: relay}
	var requested net.IP
	for _, o := range m.Options {
		switch o.Type {
		case layers.DHCPOptMessageType:
			if len(o.Data) != 1 {
				return Request{}, false
			}
			switch layers.DHCPMsgType(o.Data[0]) {
			case layers.DHCPMsgTypeDiscover:
				r.Type = "discover"
			case layers.DHCPMsgTypeRequest:
				r.Type = "request"
			case layers.DHCPMsgTypeInform:
				r.Type = "inform"
			default: // release, decline, or a server's type in a request
				return Request{}, false
			}
		case layers.DHCPOptClassID:
			r.VendorClass = text(o.Data)
		case layers.DHCPOptHostname:
			r.Hostname = text(o.Data)
		case layers.DHCPOptRequestIP:
			if len(o.Data) == 4 {
				requested = net.IP(o.Data)
			}
		}
	}
	switch ci := m.ClientIP.To4(); {
	case ci != nil && !ci.IsUnspecified():
		r.IP = ci.String()
	case requested != nil && !requested.IsUnspecified():
		r.IP = requested.String()
	}
	return r, true
}

// text turns an option's bytes into a printable string: at most maxText
// bytes, trailing NULs dropped (some clients send them), anything outside
// printable ASCII replaced, so an option cannot forge log lines.
func text(b []byte) string {
	b = []byte(strings.TrimRight(string(b), "\x00"))
	if len(b) > maxText {
		b = b[:maxText]
	}
	var sb strings.Builder
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// vendorRequest is the request as the core takes it: the MAC and the
// link source canonical, the options as decoded (already bounded and
// printable), Transport "dhcp". ok is false for a MAC ParseMAC refuses
// (decode lets none through); a source it refuses is left out.
func (r Request) vendorRequest() (vendors.Request, bool) {
	mac, err := vendors.ParseMAC(r.MAC)
	if err != nil {
		return vendors.Request{}, false
	}
	src, _ := vendors.ParseMAC(r.Source)
	return vendors.Request{MAC: mac, VendorClass: r.VendorClass, Hostname: r.Hostname, RemoteAddr: r.IP,
		LinkSource: src, RelayAgent: r.Relay, Transport: "dhcp"}, true
}

// String is a short description for logs and test failures.
func (r Request) String() string {
	return fmt.Sprintf("%s from %s (vendor class %q, host name %q, ip %q, frame from %s, relay %q)",
		r.Type, r.MAC, r.VendorClass, r.Hostname, r.IP, r.Source, r.Relay)
}
