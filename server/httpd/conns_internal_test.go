package httpd

import (
	"net"
	"net/netip"
	"testing"
)

// TestSourceOf: the source a connection counts for under the bound's
// fairness is its IPv4 address (an IPv4-mapped IPv6 address too) or its
// IPv6 /64 (a host may use its whole /64), without a zone; anything but
// a TCP address counts for none.
func TestSourceOf(t *testing.T) {
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{tcp("192.0.2.7:5060"), "192.0.2.7"},
		{tcp("[::ffff:192.0.2.7]:80"), "192.0.2.7"},
		{tcp("[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:80"), "2001:db8:1:2::"},
		{tcp("[2001:db8:1:2::1]:80"), "2001:db8:1:2::"},
		{tcp("[2001:db8:1:3::1]:80"), "2001:db8:1:3::"},
		{tcp("[fe80::1%eth0]:80"), "fe80::"},
	} {
		if got := sourceOf(c.addr); got.String() != c.want {
			t.Errorf("%v: %v, want %s", c.addr, got, c.want)
		}
	}
	if got := sourceOf(&net.UnixAddr{Name: "/tmp/x", Net: "unix"}); got.IsValid() {
		t.Errorf("a Unix address counts for %v, want none", got)
	}
}
