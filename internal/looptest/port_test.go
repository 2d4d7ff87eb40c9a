package looptest

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePort: the ports are below the ephemeral range, distinct, and
// free on the networks asked for; a port held on either network is not
// free.
func TestFreePort(t *testing.T) {
	lo, hi := portRange()
	seen := map[string]bool{}
	for i := range 300 {
		nets := [][]string{{"tcp", "udp"}, {"tcp"}, {"udp"}}[i%3]
		s := FreePort(t, nets...)
		p, err := strconv.Atoi(s)
		if err != nil || p < lo || p >= hi {
			t.Fatalf("FreePort = %q, want a port in %d..%d", s, lo, hi-1)
		}
		if seen[s] {
			t.Fatalf("FreePort handed out %s twice", s)
		}
		seen[s] = true
		if !portFree(p, nets) {
			t.Fatalf("port %s is not free on %v after FreePort", s, nets)
		}
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:"+FreePort(t, "tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:"+FreePort(t, "udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	if portFree(tcp.Addr().(*net.TCPAddr).Port, []string{"udp", "tcp"}) || portFree(udp.LocalAddr().(*net.UDPAddr).Port, []string{"tcp", "udp"}) {
		t.Fatal("a held port counts as free")
	}
}
