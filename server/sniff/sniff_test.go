package sniff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// client describes a DHCP client message to build.
type client struct {
	mac         string
	msgType     layers.DHCPMsgType // 0: no option 53 (BOOTP)
	op          layers.DHCPOp      // 0: BOOTREQUEST
	vendorClass string
	hostname    string
	ciaddr      string
	requestIP   string
	srcPort     uint16 // 0: 68
	dstPort     uint16 // 0: 67
	src         string // the frame's Ethernet source; "": mac
	giaddr      string // a relay agent's address; "": none
}

// frame builds the Ethernet frame a client broadcasts, with gopacket's
// serialisation (lengths and checksums computed).
func (c client) frame(t testing.TB) []byte {
	t.Helper()
	hw, err := net.ParseMAC(c.mac)
	if err != nil {
		t.Fatal(err)
	}
	srcHW := hw
	if c.src != "" {
		if srcHW, err = net.ParseMAC(c.src); err != nil {
			t.Fatal(err)
		}
	}
	eth := &layers.Ethernet{SrcMAC: srcHW, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeIPv4}
	src := net.IPv4zero
	if c.ciaddr != "" {
		src = net.ParseIP(c.ciaddr)
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: net.IPv4bcast}
	udp := &layers.UDP{SrcPort: 68, DstPort: 67}
	if c.srcPort != 0 {
		udp.SrcPort = layers.UDPPort(c.srcPort)
	}
	if c.dstPort != 0 {
		udp.DstPort = layers.UDPPort(c.dstPort)
	}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	op := c.op
	if op == 0 {
		op = layers.DHCPOpRequest
	}
	d := &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		Xid: 0x2a2a2a2a, Flags: 0x8000, ClientHWAddr: hw, ClientIP: net.IPv4zero,
		YourClientIP: net.IPv4zero, NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero}
	if c.ciaddr != "" {
		d.ClientIP = net.ParseIP(c.ciaddr)
	}
	if c.giaddr != "" {
		d.RelayAgentIP = net.ParseIP(c.giaddr)
	}
	opt := func(typ layers.DHCPOpt, data []byte) {
		d.Options = append(d.Options, layers.NewDHCPOption(typ, data))
	}
	if c.msgType != 0 {
		opt(layers.DHCPOptMessageType, []byte{byte(c.msgType)})
	}
	if c.vendorClass != "" {
		opt(layers.DHCPOptClassID, []byte(c.vendorClass))
	}
	if c.hostname != "" {
		opt(layers.DHCPOptHostname, []byte(c.hostname))
	}
	if c.requestIP != "" {
		opt(layers.DHCPOptRequestIP, net.ParseIP(c.requestIP).To4())
	}
	opt(layers.DHCPOptParamsRequest, []byte{1, 3, 6, 15, 42, 66, 67, 114, 120})
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, d); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The clients the tests use. The MACs lie in the vendors' OUIs
// (reference dhcp.md §3); the laptop's does not.
var (
	yealinkT54W  = client{mac: "80:5e:c0:aa:bb:01", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "yealink", hostname: "SIP-T54W"}
	snomD785     = client{mac: "00:04:13:12:34:56", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "snomD785"}
	gigasetN870  = client{mac: "7c:2f:80:01:02:03", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "Gigaset_N870_IP_PRO"}
	snomRequest  = client{mac: "00:04:13:12:34:57", msgType: layers.DHCPMsgTypeRequest, vendorClass: "snomD717", requestIP: "192.0.2.57"}
	yealinkRenew = client{mac: "80:5e:c0:aa:bb:02", msgType: layers.DHCPMsgTypeRequest, ciaddr: "192.0.2.12"}
	laptop       = client{mac: "3c:22:fb:11:22:33", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "MSFT 5.0", hostname: "alice-laptop"}
	// A DISCOVER a router relayed from subnet 10.1.0.0/24.
	yealinkRelayed = client{mac: "80:5e:c0:aa:bb:07", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "yealink",
		src: "00:00:0c:12:34:56", giaddr: "10.1.0.1", srcPort: 67}
)

func registry(t testing.TB) *vendors.Registry {
	t.Helper()
	r, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeRecorder stands in for *provision.Phones: like it, it identifies
// the client through the real drivers and refuses one no driver
// recognises with an error wrapping vendors.ErrNotFound; it records the
// rest as it was told.
type fakeRecorder struct {
	reg  *vendors.Registry
	mu   sync.Mutex
	got  []vendors.Request
	fail error
}

func newRecorder(t testing.TB) *fakeRecorder { return &fakeRecorder{reg: registry(t)} }

func (f *fakeRecorder) Sniffed(ctx context.Context, req vendors.Request) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return false, f.fail
	}
	if id, _ := f.reg.Identify(req); id.Score == 0 {
		return false, fmt.Errorf("%s: %w", req.MAC, vendors.ErrNotFound)
	}
	f.got = append(f.got, req)
	return true, nil
}

func (f *fakeRecorder) calls() []vendors.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vendors.Request(nil), f.got...)
}

// lease is the request the sniffer hands over for a client.
// Its link source is the client's own MAC (frames the clients send
// themselves).
func lease(mac, class, host, ip string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: class, Hostname: host, RemoteAddr: ip, LinkSource: mac, Transport: "dhcp"}
}

// The requests the sniffer hands over for the clients above.
var (
	yealinkT54WLease = lease("805ec0aabb01", "yealink", "SIP-T54W", "")
	snomD785Lease    = lease("000413123456", "snomD785", "", "")
	gigasetN870Lease = lease("7c2f80010203", "Gigaset_N870_IP_PRO", "", "")
	snomRequestLease = lease("000413123457", "snomD717", "", "192.0.2.57")
)

func TestDecode(t *testing.T) {
	d := newDecoder()
	for i, tc := range []struct {
		c    client
		want Request
	}{
		{yealinkT54W, Request{MAC: "80:5e:c0:aa:bb:01", Type: "discover", VendorClass: "yealink", Hostname: "SIP-T54W", Source: "80:5e:c0:aa:bb:01"}},
		{snomD785, Request{MAC: "00:04:13:12:34:56", Type: "discover", VendorClass: "snomD785", Source: "00:04:13:12:34:56"}},
		{gigasetN870, Request{MAC: "7c:2f:80:01:02:03", Type: "discover", VendorClass: "Gigaset_N870_IP_PRO", Source: "7c:2f:80:01:02:03"}},
		{snomRequest, Request{MAC: "00:04:13:12:34:57", Type: "request", VendorClass: "snomD717", IP: "192.0.2.57", Source: "00:04:13:12:34:57"}},
		{yealinkRenew, Request{MAC: "80:5e:c0:aa:bb:02", Type: "request", IP: "192.0.2.12", Source: "80:5e:c0:aa:bb:02"}},
		{laptop, Request{MAC: "3c:22:fb:11:22:33", Type: "discover", VendorClass: "MSFT 5.0", Hostname: "alice-laptop", Source: "3c:22:fb:11:22:33"}},
		{client{mac: "80:5e:c0:aa:bb:03"}, Request{MAC: "80:5e:c0:aa:bb:03", Type: "bootp", Source: "80:5e:c0:aa:bb:03"}},
		{client{mac: "80:5e:c0:aa:bb:04", msgType: layers.DHCPMsgTypeInform, ciaddr: "192.0.2.4"}, Request{MAC: "80:5e:c0:aa:bb:04", Type: "inform", IP: "192.0.2.4", Source: "80:5e:c0:aa:bb:04"}},
		// Option text is cut and made printable: it ends up in logs.
		{client{mac: "80:5e:c0:aa:bb:05", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "a\nb\x00\x00"},
			Request{MAC: "80:5e:c0:aa:bb:05", Type: "discover", VendorClass: "a?b", Source: "80:5e:c0:aa:bb:05"}},
		// A frame whose Ethernet source is not its chaddr (a spoofer, or a
		// bridge), and one a relay agent forwarded (port 67 to 67, giaddr).
		{client{mac: "80:5e:c0:aa:bb:06", msgType: layers.DHCPMsgTypeDiscover, src: "00:16:3e:00:00:01"},
			Request{MAC: "80:5e:c0:aa:bb:06", Type: "discover", Source: "00:16:3e:00:00:01"}},
		{yealinkRelayed, Request{MAC: "80:5e:c0:aa:bb:07", Type: "discover", VendorClass: "yealink", Source: "00:00:0c:12:34:56", Relay: "10.1.0.1"}},
	} {
		got, ok := d.decode(tc.c.frame(t))
		if !ok || got != tc.want {
			t.Errorf("%d: decode = %+v, %v; want %+v", i, got, ok, tc.want)
		}
	}
}

func TestDecodeIgnores(t *testing.T) {
	d := newDecoder()
	for name, c := range map[string]client{
		"offer (BOOTREPLY)":   {mac: "80:5e:c0:aa:bb:01", op: layers.DHCPOpReply, msgType: layers.DHCPMsgTypeOffer, srcPort: 67, dstPort: 68},
		"to the client port":  {mac: "80:5e:c0:aa:bb:01", msgType: layers.DHCPMsgTypeDiscover, srcPort: 67, dstPort: 68},
		"67 to 67, no giaddr": {mac: "80:5e:c0:aa:bb:01", msgType: layers.DHCPMsgTypeDiscover, srcPort: 67, dstPort: 67},
		"release":             {mac: "80:5e:c0:aa:bb:01", msgType: layers.DHCPMsgTypeRelease},
		"decline":             {mac: "80:5e:c0:aa:bb:01", msgType: layers.DHCPMsgTypeDecline},
		"broadcast chaddr":    {mac: "ff:ff:ff:ff:ff:ff", msgType: layers.DHCPMsgTypeDiscover},
		"multicast chaddr":    {mac: "01:00:5e:00:00:01", msgType: layers.DHCPMsgTypeDiscover},
		"zero chaddr":         {mac: "00:00:00:00:00:00", msgType: layers.DHCPMsgTypeDiscover},
	} {
		if r, ok := d.decode(c.frame(t)); ok {
			t.Errorf("%s: decoded %v", name, r)
		}
	}
	// Every truncation of a valid frame, and garbage, is ignored quietly.
	f := snomD785.frame(t)
	for n := range len(f) {
		if r, ok := d.decode(f[:n]); ok {
			t.Errorf("truncated to %d bytes: decoded %v", n, r)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		g := make([]byte, rng.IntN(600))
		for i := range g {
			g[i] = byte(rng.Uint32())
		}
		d.decode(g)
		// Garbage after valid headers too: flip bytes of the DHCP part.
		h := bytes.Clone(f)
		for range 8 {
			h[42+rng.IntN(len(h)-42)] = byte(rng.Uint32())
		}
		d.decode(h)
	}
	// A hardware length past chaddr, a bad magic cookie, option lengths
	// running off the end.
	for name, mut := range map[string]func([]byte){
		"hlen 200":     func(b []byte) { b[42+2] = 200 },
		"hlen 16":      func(b []byte) { b[42+2] = 16 },
		"magic cookie": func(b []byte) { b[42+236] = 0 },
		"option len":   func(b []byte) { b[42+241] = 255 },
	} {
		b := bytes.Clone(f)
		mut(b)
		if r, ok := d.decode(b); ok {
			t.Errorf("%s: decoded %v", name, r)
		}
	}
}

// TestVendorRequest: what the core gets for a decoded request. Which
// phone it is, the core decides (the option-60 cases of the former
// sniff.Identify are driver samples now: vendors/snom, vendors/gigaset,
// vendors/yealink, and server/provision's TestSniffedIdentifies).
func TestVendorRequest(t *testing.T) {
	d := newDecoder()
	for i, tc := range []struct {
		c    client
		want vendors.Request
	}{
		{yealinkT54W, yealinkT54WLease},
		{snomD785, snomD785Lease},
		{gigasetN870, gigasetN870Lease},
		{snomRequest, snomRequestLease},
		{yealinkRenew, lease("805ec0aabb02", "", "", "192.0.2.12")},
		{laptop, lease("3c22fb112233", "MSFT 5.0", "alice-laptop", "")},
		{yealinkRelayed, vendors.Request{MAC: "805ec0aabb07", VendorClass: "yealink", LinkSource: "00000c123456", RelayAgent: "10.1.0.1", Transport: "dhcp"}},
	} {
		r, ok := d.decode(tc.c.frame(t))
		if !ok {
			t.Fatalf("%d: not decoded", i)
		}
		if got, ok := r.vendorRequest(); !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d: vendorRequest = %+v, %v; want %+v", i, got, ok, tc.want)
		}
	}
	if _, ok := (Request{MAC: "not a mac"}).vendorRequest(); ok {
		t.Error("a bad MAC made a request")
	}
}

func TestHandle(t *testing.T) {
	rec := newRecorder(t)
	var logs bytes.Buffer
	s := New(Config{Recorder: rec, Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	d := newDecoder()
	step := func(c client, want outcome) {
		t.Helper()
		if got := s.handle(context.Background(), d, c.frame(t), "test0"); got != want {
			t.Errorf("%s: outcome %d, want %d", c.mac, got, want)
		}
	}
	step(yealinkT54W, recorded)
	step(yealinkT54W, limited) // a retransmission
	step(snomD785, recorded)
	step(gigasetN870, recorded)
	step(snomRequest, recorded)
	step(laptop, unknown)
	step(laptop, limited)
	step(client{mac: "80:5e:c0:aa:bb:01", op: layers.DHCPOpReply, msgType: layers.DHCPMsgTypeOffer, srcPort: 67, dstPort: 68}, ignored)
	now = now.Add(59 * time.Second)
	step(yealinkT54W, limited)
	now = now.Add(time.Second)
	step(yealinkT54W, recorded) // one record per MAC per minute

	want := []vendors.Request{yealinkT54WLease, snomD785Lease, gigasetN870Lease, snomRequestLease, yealinkT54WLease}
	got := rec.calls()
	if len(got) != len(want) {
		t.Fatalf("recorded %+v", got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s.unknown.Load() != 1 || !bytes.Contains(logs.Bytes(), []byte("unknown vendor ignored")) ||
		!bytes.Contains(logs.Bytes(), []byte("vendor_class=\"MSFT 5.0\"")) {
		t.Errorf("unknown vendors: count %d, log:\n%s", s.unknown.Load(), logs.String())
	}

	rec.fail = errors.New("database down")
	now = now.Add(time.Hour)
	step(snomD785, failed)
	if !bytes.Contains(logs.Bytes(), []byte("database down")) {
		t.Errorf("a failed record is not logged:\n%s", logs.String())
	}
}

// TestLimiterBounded: a flood of MACs (random or spoofed chaddrs) keeps
// the limiter's memory bounded, and each new MAC is still recorded.
func TestLimiterBounded(t *testing.T) {
	s := New(Config{})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	for i := range maxKeys + 10 {
		if !s.macs.Allow(fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)) {
			t.Fatal("a new key was refused")
		}
	}
	if n := s.macs.Len(); n > maxKeys {
		t.Errorf("limiter holds %d keys", n)
	}
}

// TestFilter runs the kernel filter in x/net/bpf's VM.
func TestFilter(t *testing.T) {
	vm, err := bpf.NewVM(filter)
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
	for _, c := range []client{yealinkT54W, snomRequest, laptop, yealinkRelayed, {mac: "80:5e:c0:aa:bb:01", op: layers.DHCPOpReply, srcPort: 67, dstPort: 68}} {
		if !accept(c.frame(t)) {
			t.Errorf("filter drops %+v", c)
		}
	}
	for name, c := range map[string]client{
		"dns":      {mac: "80:5e:c0:aa:bb:01", srcPort: 5353, dstPort: 53},
		"sip":      {mac: "80:5e:c0:aa:bb:01", srcPort: 5060, dstPort: 5060},
		"ports 69": {mac: "80:5e:c0:aa:bb:01", srcPort: 69, dstPort: 69},
	} {
		if accept(c.frame(t)) {
			t.Errorf("filter accepts %s", name)
		}
	}
	f := yealinkT54W.frame(t)
	tcp := bytes.Clone(f)
	tcp[23] = 6
	frag := bytes.Clone(f)
	frag[21] = 8 // fragment offset 8
	arp := bytes.Clone(f)
	arp[12], arp[13] = 0x08, 0x06
	v6 := bytes.Clone(f)
	v6[12], v6[13] = 0x86, 0xdd
	for name, b := range map[string][]byte{"tcp": tcp, "fragment": frag, "arp": arp, "ipv6": v6, "short": f[:10]} {
		if accept(b) {
			t.Errorf("filter accepts %s", name)
		}
	}
	// IP options move the UDP header: the filter follows the header length.
	opts := append(bytes.Clone(f[:34]), 1, 1, 1, 1) // four NOP options
	opts = append(opts, f[34:]...)
	opts[14] = 0x46
	binary.BigEndian.PutUint16(opts[16:], binary.BigEndian.Uint16(opts[16:])+4)
	if !accept(opts) {
		t.Error("filter drops a request with IP options")
	}
	if r, ok := newDecoder().decode(opts); !ok || r.MAC != yealinkT54W.mac {
		t.Errorf("a request with IP options decodes as %v %v", r, ok)
	}
	if _, err := bpf.Assemble(filter); err != nil {
		t.Fatal(err)
	}
}

func TestServeStops(t *testing.T) {
	// Serve returns when its context ends and closes the capture.
	closed := make(chan struct{})
	src := &blockingSource{closed: closed}
	c := &Capture{Interfaces: []string{"x"}, srcs: []source{src}, closers: []func() error{func() error { close(closed); return nil }}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(Config{Recorder: newRecorder(t)}).Serve(ctx, c) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// blockingSource blocks in ReadPacketData until closed.
type blockingSource struct{ closed chan struct{} }

func (b *blockingSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	<-b.closed
	return nil, gopacket.CaptureInfo{}, errors.New("closed")
}

func FuzzDecode(f *testing.F) {
	for _, c := range []client{yealinkT54W, snomD785, gigasetN870, snomRequest, yealinkRenew, laptop} {
		f.Add(c.frame(f))
	}
	f.Add([]byte{})
	reg := registry(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := newDecoder().decode(b)
		if !ok {
			return
		}
		if _, err := vendors.ParseMAC(r.MAC); err != nil {
			t.Fatalf("decoded a bad MAC %q", r.MAC)
		}
		for _, s := range []string{r.VendorClass, r.Hostname} {
			if len(s) > maxText {
				t.Fatalf("option text of %d bytes", len(s))
			}
			for _, c := range []byte(s) {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("unprintable option text %q", s)
				}
			}
		}
		req, ok := r.vendorRequest()
		if !ok {
			t.Fatalf("decoded %v, which makes no request", r)
		}
		reg.Identify(req) // what the core does with it must not panic either
	})
}
