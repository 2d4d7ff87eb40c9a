// Package looptest holds the clients tests use to talk to a server on
// loopback as a phone or an attacker would: an HTTP client whose
// connections leave from a chosen 127.0.0.0/8 address (all of it is
// loopback on Linux), and a raw TFTP client that acknowledges only when
// the test says so; and FreePort, for a port a test must name before its
// server binds it. Tests only; no third-party code.
package looptest

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// HTTPClient returns an HTTP client whose connections come from the
// loopback address src. It follows no redirect (a test reads the 303
// itself). keepAlive keeps idle connections for the next request; turn it
// off for a client used once among thousands.
func HTTPClient(src string, keepAlive bool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TFTP opcodes (RFC 1350, RFC 2347).
const (
	OpRRQ   = 1
	OpWRQ   = 2
	OpDATA  = 3
	OpACK   = 4
	OpERROR = 5
	OpOACK  = 6
)

// TFTP is a raw TFTP client: it sends the packets the test builds and
// reads the server's answers, following the server's transfer port.
type TFTP struct {
	conn   *net.UDPConn
	server *net.UDPAddr // the listening port until the server's TID is known
}

// DialTFTP returns a client on 127.0.0.1 talking to the server at addr.
func DialTFTP(t testing.TB, addr string) *TFTP {
	t.Helper()
	return DialTFTPFrom(t, "127.0.0.1", addr)
}

// DialTFTPFrom returns a client whose packets leave from the loopback
// address src.
func DialTFTPFrom(t testing.TB, src, addr string) *TFTP {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &TFTP{conn: conn, server: a}
}

// Send sends one packet to the server (its transfer port once known).
func (c *TFTP) Send(t testing.TB, p []byte) {
	t.Helper()
	if _, err := c.conn.WriteToUDP(p, c.server); err != nil {
		t.Fatal(err)
	}
}

// TryRecv waits at most d for a packet and returns its opcode and the
// rest; later packets go to the port it came from (the transfer's TID).
func (c *TFTP) TryRecv(d time.Duration) (uint16, []byte, error) {
	buf := make([]byte, 65536)
	if err := c.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, nil, err
	}
	n, from, err := c.conn.ReadFromUDP(buf)
	if err != nil {
		return 0, nil, err
	}
	if n < 2 {
		return 0, nil, io.ErrUnexpectedEOF
	}
	c.server = from
	return binary.BigEndian.Uint16(buf), buf[2:n], nil
}

// Recv is TryRecv that fails the test on a timeout or a TFTP ERROR.
func (c *TFTP) Recv(t testing.TB, d time.Duration) (uint16, []byte) {
	t.Helper()
	op, payload, err := c.TryRecv(d)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if op == OpERROR {
		t.Fatalf("TFTP error %q", payload)
	}
	return op, payload
}

// Data waits (up to 30 s) for DATA block and returns its payload. A copy
// of the block before it is skipped, as a phone skips it: the server sends
// a block again when the ACK is later than its timeout (3 s by default),
// which a test that does something slow between two blocks, on a loaded
// machine, may be; the copy then arrives before the block asked for.
func (c *TFTP) Data(t testing.TB, block uint16) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		op, p := c.Recv(t, time.Until(deadline))
		if op == OpDATA && len(p) >= 2 && binary.BigEndian.Uint16(p) == block-1 {
			continue // a retransmission of the block already acknowledged
		}
		if op != OpDATA || len(p) < 2 || binary.BigEndian.Uint16(p) != block {
			t.Fatalf("want DATA %d, got opcode %d %q", block, op, p[:min(len(p), 64)])
		}
		return append([]byte(nil), p[2:]...)
	}
}

// RRQ builds a read request with options as name/value pairs.
func RRQ(name, mode string, opts ...string) []byte {
	p := binary.BigEndian.AppendUint16(nil, OpRRQ)
	for _, s := range append([]string{name, mode}, opts...) {
		p = append(append(p, s...), 0)
	}
	return p
}

// ACK builds the acknowledgement of block.
func ACK(block uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, OpACK), block)
}
