package tftpd

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
)

// flooder sends read requests from one UDP socket and never acknowledges
// anything: each request is a transfer of its own on the server (pin/tftp
// starts one per request, whatever port it came from), held until the
// server gives up on it.
type flooder struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	held   []*net.UDPAddr // every transfer port that sent DATA
}

func newFlooder(t *testing.T, src, addr string) *flooder {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	if err != nil {
		t.Fatal(err)
	}
	f := &flooder{conn: c, server: a}
	// Before the server's cleanup (which waits for its transfers): end
	// the transfers still held, also when the test failed halfway.
	t.Cleanup(func() {
		for _, p := range f.held {
			c.WriteToUDP(errorPacket, p) //nolint:errcheck // best effort: the server gives up on its own too
		}
		c.Close()
	})
	return f
}

// errorPacket is a client's ERROR, which ends a transfer on the server.
var errorPacket = append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, looptest.OpERROR), 0), "gone\x00"...)

// request sends n read requests of name and returns the transfer ports
// that answered with DATA block 1 and the texts of the ERRORs, once each
// request has been answered.
func (f *flooder) request(t *testing.T, name string, n int) (data []*net.UDPAddr, errs []string) {
	t.Helper()
	for range n {
		if _, err := f.conn.WriteToUDP(looptest.RRQ(name, "octet"), f.server); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{} // a retransmitted block 1 is not a new answer
	buf := make([]byte, 65536)
	for len(data)+len(errs) < n {
		if err := f.conn.SetReadDeadline(time.Now().Add(waitLong)); err != nil {
			t.Fatal(err)
		}
		m, from, err := f.conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("%d of %d requests answered: %v", len(data)+len(errs), n, err)
		}
		switch op := binary.BigEndian.Uint16(buf); {
		case op == looptest.OpDATA && !seen[from.String()]:
			seen[from.String()] = true
			data = append(data, from)
			f.held = append(f.held, from)
		case op == looptest.OpERROR:
			errs = append(errs, strings.TrimRight(string(buf[4:m]), "\x00"))
		}
	}
	return data, errs
}

// abort ends the transfers at ports with an ERROR, as a phone that gives
// up does.
func (f *flooder) abort(t *testing.T, ports []*net.UDPAddr) {
	t.Helper()
	for _, a := range ports {
		if _, err := f.conn.WriteToUDP(errorPacket, a); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTransfersBounded: a client that sends read requests and never
// acknowledges holds a socket, a goroutine and buffers on the server per
// request for (retries+1) x timeout. Without a bound one host (or a few,
// or spoofed sources: UDP) could hold any number of them; a request past
// the bound per client, or past the bound for all clients, is answered
// "not available" at once, and a place that frees up serves the next.
func TestTransfersBounded(t *testing.T) {
	f := newFake(map[string][]byte{"big.cfg": randomBody(4000)})
	// The held transfers wait far longer than the test: only an abort ends them.
	ts := start(t, f, WithTimeout(waitLong), WithRetries(1), WithMaxTransfers(6, 4))

	a := newFlooder(t, "127.0.0.1", ts.addr)
	held, errs := a.request(t, "big.cfg", 10)
	if len(held) != 4 || len(errs) != 6 {
		t.Fatalf("one client, 10 requests: %d transfers, %d refused; want 4 and 6 (the bound per client)", len(held), len(errs))
	}
	for _, e := range errs {
		if e != "not available" {
			t.Errorf("refusal %q, want the generic \"not available\"", e)
		}
	}
	if !strings.Contains(ts.log.String(), "too many transfers") {
		t.Errorf("refusal not logged:\n%s", ts.log.String())
	}

	b := newFlooder(t, "127.0.0.2", ts.addr)
	heldB, errsB := b.request(t, "big.cfg", 4)
	if len(heldB) != 2 || len(errsB) != 2 {
		t.Fatalf("another client, 4 requests: %d transfers, %d refused; want 2 and 2 (the bound for all)", len(heldB), len(errsB))
	}

	// A place that frees up serves the next request.
	a.abort(t, held[:1])
	deadline := time.Now().Add(waitLong)
	for {
		if got, _ := b.request(t, "big.cfg", 1); len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no transfer served after one ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
