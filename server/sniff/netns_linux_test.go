package sniff

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netnstest"
)

// vethPair creates two network namespaces (named after prefix) joined by
// a veth pair, a in the first and b in the second, with IPv6 off on both
// ends (nothing but a test's own frames crosses it) and both up.
func vethPair(t *testing.T, prefix, a, b string) (nsA, nsB string) {
	t.Helper()
	netnstest.Require(t)
	nsA, nsB = netnstest.New(t, prefix+"-a"), netnstest.New(t, prefix+"-b")
	netnstest.IP(t, "-n", nsA, "link", "add", a, "type", "veth", "peer", "name", b, "netns", nsB)
	for ns, ifname := range map[string]string{nsA: a, nsB: b} {
		netnstest.Do(t, ns, func() error {
			return os.WriteFile("/proc/sys/net/ipv6/conf/"+ifname+"/disable_ipv6", []byte("1"), 0)
		})
		netnstest.IP(t, "-n", ns, "link", "set", ifname, "up")
	}
	return nsA, nsB
}

// sender is a raw packet socket that broadcasts Ethernet frames out of
// one interface (protocol 0: it receives nothing).
type sender struct {
	fd int
	to *syscall.SockaddrLinklayer
}

// openSender waits (at most 30 s) until iface has a carrier, then opens
// a sender on it. It runs in iface's namespace (netnstest.Do, or a child
// started there) and calls no t.Fatal.
func openSender(iface string) (*sender, error) {
	for deadline := time.Now().Add(30 * time.Second); ; {
		ifi, err := net.InterfaceByName(iface)
		if err == nil && ifi.Flags&net.FlagRunning != 0 {
			fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
			if err != nil {
				return nil, err
			}
			return &sender{fd: fd, to: &syscall.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6,
				Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s has no carrier: %v %v", iface, ifi, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *sender) send(frame []byte) error { return syscall.Sendto(s.fd, frame, 0, s.to) }

func (s *sender) Close() error { return syscall.Close(s.fd) }

// reached waits until c counts at least n, for at most d, and reports
// whether it did (the sniffer's frame and unknown-vendor counters).
func reached(c *atomic.Int64, n int64, d time.Duration) bool {
	for deadline := time.Now().Add(d); c.Load() < n; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
