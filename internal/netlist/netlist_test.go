package netlist

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestParseAndAllows(t *testing.T) {
	for i, tc := range []struct {
		list  string
		allow []string
		deny  []string
	}{
		0: {"", []string{"192.0.2.1", "::1", "", "junk"}, nil},
		1: {" , ", []string{"192.0.2.1"}, nil},
		2: {"127.0.0.2/32", []string{"127.0.0.2", "::ffff:127.0.0.2"}, []string{"127.0.0.1", "::1", "", "junk"}},
		3: {"192.0.2.0/24, 2001:db8::/32", []string{"192.0.2.0", "192.0.2.255", "2001:db8::1", "2001:db8:ffff::1", "2001:db8::7"},
			[]string{"192.0.3.1", "2001:db9::1", "198.51.100.1"}},
		4: {"192.0.2.7", []string{"192.0.2.7"}, []string{"192.0.2.8"}},              // a bare address is one host
		5: {"10.1.2.3/8", []string{"10.200.0.1"}, []string{"11.0.0.1"}},             // host bits are dropped
		6: {"::ffff:192.0.2.0/120", []string{"192.0.2.9", "::ffff:192.0.2.9"}, nil}, // mapped counts as IPv4
		7: {"fe80::/10", []string{"fe80::1%eth0"}, []string{"fe00::1"}},             // zones are ignored
		8: {"0.0.0.0/0", []string{"203.0.113.1"}, []string{"2001:db8::1"}},          // IPv4 only
		9: {"::/0", []string{"2001:db8::1"}, []string{"203.0.113.1"}},               // IPv6 only
	} {
		l, err := Parse(tc.list)
		if err != nil {
			t.Fatalf("%d: Parse(%q): %v", i, tc.list, err)
		}
		for _, a := range tc.allow {
			if !l.AllowsString(a) {
				t.Errorf("%d: %q refuses %q", i, tc.list, a)
			}
		}
		for _, a := range tc.deny {
			if l.AllowsString(a) {
				t.Errorf("%d: %q allows %q", i, tc.list, a)
			}
		}
	}
}

func TestAllowsIP(t *testing.T) {
	l, _ := Parse("127.0.0.2/32,::1/128")
	for ip, want := range map[string]bool{"127.0.0.2": true, "127.0.0.1": false, "::1": true} {
		if got := l.AllowsIP(net.ParseIP(ip)); got != want { // ParseIP gives 16-byte IPv4 too
			t.Errorf("AllowsIP(%s) = %v, want %v", ip, got, want)
		}
	}
	if l.AllowsIP(nil) {
		t.Error("a nil IP passes a non-empty list")
	}
	var empty List
	if !empty.AllowsIP(nil) || !empty.Empty() {
		t.Error("the zero List is not empty")
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"192.0.2.0/33", "192.0.2", "10.0.0.0/8,nope", "fe80::1%eth0/64", "2001:db8::/129", "/24"} {
		_, err := Parse(bad)
		if err == nil {
			t.Errorf("Parse(%q) accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "CIDR") {
			t.Errorf("Parse(%q): %v does not say what is expected", bad, err)
		}
	}
}

func TestString(t *testing.T) {
	l, err := Parse("10.1.2.3/8, 2001:db8::1/32 ,192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.String(), "10.0.0.0/8,2001:db8::/32,192.0.2.1/32"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2::1":         "2001:db8:1:2::",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::",
		"fe80::1%eth0":            "fe80::",
	} {
		if got := Host(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("Host(%s) = %s, want %s", in, got, want)
		}
	}
}
