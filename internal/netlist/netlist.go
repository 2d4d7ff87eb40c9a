// Package netlist is the one place where autoprov decides whether a client
// address is on an allow-list (--phone-networks, --admin-networks). It is
// stdlib only (net/netip) and used by every edge: HTTP and HTTPS, TFTP, SIP
// plug-and-play and the DHCP sniffer.
package netlist

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// List is a set of IPv4 and IPv6 networks. The zero List is empty and
// allows every address: an allow-list that was not configured restricts
// nothing. A List is immutable and safe for concurrent use.
type List struct {
	prefixes []netip.Prefix
}

// Parse reads a comma-separated list of CIDR prefixes ("192.0.2.0/24,
// 2001:db8::/32"); a bare address counts as a single host (/32 or /128).
// Blanks around entries are ignored; an empty string gives the empty List.
// The error names the entry that is not a network.
func Parse(s string) (List, error) {
	var l List
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(f, "/") {
			p, err = netip.ParsePrefix(f)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(f); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil || p.Addr().Zone() != "" {
			return List{}, fmt.Errorf("%q is not a network in CIDR notation (such as 192.0.2.0/24 or 2001:db8::/64)", f)
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// ::ffff:192.0.2.0/120 is 192.0.2.0/24: match it as IPv4.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		l.prefixes = append(l.prefixes, p)
	}
	return l, nil
}

// Empty reports whether the list has no network, that is, allows everyone.
func (l List) Empty() bool { return len(l.prefixes) == 0 }

// String returns the networks, comma-separated ("" when empty).
func (l List) String() string {
	s := make([]string, len(l.prefixes))
	for i, p := range l.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Allows reports whether a may pass: the list is empty, or one of its
// networks contains a. An IPv4-mapped IPv6 address (::ffff:192.0.2.1)
// counts as its IPv4 address and a zone is ignored. An invalid address
// passes only an empty list.
func (l List) Allows(a netip.Addr) bool {
	if len(l.prefixes) == 0 {
		return true
	}
	a = a.Unmap().WithZone("")
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// AllowsIP is Allows for a net.IP (a UDP or TCP peer's address).
func (l List) AllowsIP(ip net.IP) bool {
	a, _ := netip.AddrFromSlice(ip)
	return l.Allows(a)
}

// AllowsString is Allows for an address in text ("192.0.2.1", "::1",
// "fe80::1%eth0"); text that is not an address passes only an empty list.
func (l List) AllowsString(s string) bool {
	a, _ := netip.ParseAddr(s)
	return l.Allows(a)
}

// Host is what one host holds of the address space around a: an IPv4
// address (also written IPv4-mapped) is itself, an IPv6 address the /64
// it is in (its first address), without zone. A host usually gets a whole
// /64 and picks any address in it at will, so limits on what one client
// may do (guesses, connections) count per Host, not per address.
func Host(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}
