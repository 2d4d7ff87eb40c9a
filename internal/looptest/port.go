package looptest

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// portsGiven holds the ports FreePort handed out in this process, so
// that two tests of one package never get the same one.
var portsGiven = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// FreePort returns a loopback port (as a string, for flags and URLs) on
// which nothing listens, for a test that must name a port before its
// server binds it (a README example, a child's flag, a port to find
// closed). networks are "tcp" and/or "udp" (both when none is given): the
// port was free on each a moment ago.
//
// A port the kernel just gave a listener on :0 is a bad choice: once
// closed it is back in the ephemeral range, where the kernel may pick it
// as the source port of any outgoing connection (the test's own clients
// included) before the server binds it. So FreePort picks at random below
// the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), where the
// kernel hands out no port by itself, and never twice on one machine while
// the process that got it runs: go test runs several test binaries at once
// (claimPort).
// Where the server can bind :0 and report its address, use that instead.
func FreePort(t testing.TB, networks ...string) string {
	t.Helper()
	if len(networks) == 0 {
		networks = []string{"tcp", "udp"}
	}
	lo, hi := portRange()
	if hi-lo < 100 {
		t.Fatalf("the ephemeral port range starts at %d: no room below it for test ports", hi)
	}
	p, ok := pickPort(lo, hi, networks)
	if !ok {
		t.Fatalf("no free loopback port in %d..%d", lo, hi-1)
	}
	return strconv.Itoa(p)
}

// pickPort picks a port in [lo, hi) at random that this process has not
// handed out, no other process has claimed (claimPort) and is free on
// networks.
func pickPort(lo, hi int, networks []string) (int, bool) {
	for range 1000 {
		p := lo + rand.IntN(hi-lo)
		portsGiven.Lock()
		taken := portsGiven.m[p]
		portsGiven.m[p] = true
		portsGiven.Unlock()
		if !taken && claimPort(p) && portFree(p, networks) {
			return p, true
		}
	}
	return 0, false
}

// portRange returns the ports [lo, hi) FreePort picks from: 20000 up to
// the ephemeral range's start (1024 up, if that starts below 21000).
func portRange() (lo, hi int) {
	lo, hi = 20000, 32768 // Linux's default ephemeral start
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				hi = n
			}
		}
	}
	if hi-lo < 1000 {
		lo = 1024
	}
	return lo, hi
}

// portFree binds the port on 127.0.0.1 for each network and lets it go.
func portFree(p int, networks []string) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	for _, n := range networks {
		switch n {
		case "tcp":
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			l.Close()
		case "udp":
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				return false
			}
			c.Close()
		default:
			panic("looptest.FreePort: network " + n)
		}
	}
	return true
}
