package vendors_test

import (
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
	}{
		{"sip.example.com", "sip.example.com", 0},
		{"sip.example.com:5060", "sip.example.com", 5060},
		{"192.0.2.1:5080", "192.0.2.1", 5080},
		{"  192.0.2.1:5080 ", "192.0.2.1", 5080},
		{"[2001:db8::1]:5061", "2001:db8::1", 5061},
		{"[2001:db8::1]", "2001:db8::1", 0},
		{"2001:db8::1", "2001:db8::1", 0}, // bare IPv6: the whole host, no port
		{"::1", "::1", 0},
		{"", "", 0},
		{"   ", "", 0},
		{"host:abc", "host", 0},
		{"host:", "host", 0},
		{"host:65535", "host", 65535},
		{"host:-1", "host", 0},
		{"[2001:db8::1]:x", "2001:db8::1", 0},
	}
	for _, tc := range tests {
		host, port := vendors.SplitHostPort(tc.in)
		if host != tc.host || port != tc.port {
			t.Errorf("SplitHostPort(%q) = %q, %d; want %q, %d", tc.in, host, port, tc.host, tc.port)
		}
	}
}

// TestSplitHostPortOutOfRange: a port beyond 65535 is not a port; like any
// other unusable port it must come back as 0 (absent).
func TestSplitHostPortOutOfRange(t *testing.T) {
	tests := []struct {
		in   string
		host string
	}{
		{"host:65536", "host"},
		{"host:99999", "host"},
		{"host:123456", "host"},
		{"[2001:db8::1]:70000", "2001:db8::1"},
	}
	for _, tc := range tests {
		host, port := vendors.SplitHostPort(tc.in)
		if host != tc.host || port != 0 {
			t.Errorf("SplitHostPort(%q) = %q, %d; want %q, 0", tc.in, host, port, tc.host)
		}
	}
}

func TestFileKindString(t *testing.T) {
	tests := []struct {
		k    vendors.FileKind
		want string
	}{
		{vendors.FileUnknown, "unknown"},
		{vendors.FileCommon, "common"},
		{vendors.FileDevice, "device"},
		{vendors.FileKind(42), "unknown"},
	}
	for _, tc := range tests {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("FileKind(%d).String() = %q, want %q", int(tc.k), got, tc.want)
		}
	}
}
