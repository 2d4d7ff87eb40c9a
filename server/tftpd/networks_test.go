package tftpd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/internal/netlist"
)

// TestPhoneNetworks: with WithNetworks(127.0.0.2/32) a read from 127.0.0.1
// gets the very error packet a miss gets, the core is never asked, and
// the refusal is logged once; 127.0.0.2 gets the file.
func TestPhoneNetworks(t *testing.T) {
	allow, _ := netlist.Parse("127.0.0.2/32")
	f := newFake(map[string][]byte{"y000000000000.cfg": []byte("common file\n")})
	ts := start(t, f, WithNetworks(allow))

	answer := func(src, name string) (uint16, []byte) {
		c := looptest.DialTFTPFrom(t, src, ts.addr)
		c.Send(t, looptest.RRQ(name, "octet"))
		op, payload, err := c.TryRecv(30 * time.Second)
		if err != nil {
			t.Fatalf("%s %s: %v", src, name, err)
		}
		if op == looptest.OpDATA {
			c.Send(t, looptest.ACK(1))
		}
		return op, payload
	}
	missOp, miss := answer("127.0.0.2", "nothing.cfg")
	if missOp != looptest.OpERROR {
		t.Fatalf("a miss from the phone network: op %d", missOp)
	}
	before := len(f.requests())
	for range 3 {
		op, payload := answer("127.0.0.1", "y000000000000.cfg")
		if op != missOp || !bytes.Equal(payload, miss) {
			t.Errorf("outside: op %d %q, want the miss: op %d %q", op, payload, missOp, miss)
		}
	}
	if n := len(f.requests()) - before; n != 0 {
		t.Errorf("the core was asked %d times for clients outside the phone networks", n)
	}
	if op, payload := answer("127.0.0.2", "y000000000000.cfg"); op != looptest.OpDATA || !bytes.Contains(payload, []byte("common file")) {
		t.Errorf("inside: op %d %q, want the file", op, payload)
	}
	if n := strings.Count(ts.log.String(), "outside the phone networks"); n != 1 {
		t.Errorf("%d refusal lines for three refused reads, want 1:\n%s", n, ts.log.String())
	}
}
