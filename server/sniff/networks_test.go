package sniff

import (
	"context"
	"testing"

	"github.com/autoprov/autoprov/internal/netlist"
)

// TestPhoneNetworks: with Networks set, a request whose client address is
// known and outside is ignored; one inside, or without an address (a
// first DISCOVER), is recorded.
func TestPhoneNetworks(t *testing.T) {
	allow, _ := netlist.Parse("192.0.2.0/26")
	rec := newRecorder(t)
	s := New(Config{Recorder: rec, Networks: allow})
	d := newDecoder()
	for _, c := range []struct {
		client
		want outcome
	}{
		{snomRequest, recorded},  // option 50 192.0.2.57: inside
		{yealinkRenew, recorded}, // ciaddr 192.0.2.12: inside
		{client{mac: "80:5e:c0:aa:bb:03", msgType: 3, ciaddr: "192.0.2.200"}, outside},
		{client{mac: "00:04:13:12:34:58", msgType: 3, vendorClass: "snomD717", requestIP: "198.51.100.7"}, outside},
		{yealinkT54W, recorded}, // no address yet
	} {
		if got := s.handle(context.Background(), d, c.frame(t), "test0"); got != c.want {
			t.Errorf("%s: outcome %d, want %d", c.mac, got, c.want)
		}
	}
	for _, r := range rec.calls() {
		if r.RemoteAddr == "192.0.2.200" || r.RemoteAddr == "198.51.100.7" {
			t.Errorf("recorded %+v from outside the phone networks", r)
		}
	}
}
