package sniff

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/autoprov/autoprov/vendors"
)

var update = flag.Bool("update", false, "rewrite testdata/dhcp.pcap")

const fixture = "testdata/dhcp.pcap"

// fixtureFrames are the frames of testdata/dhcp.pcap, in order: what a
// busy segment shows in a few seconds.
func fixtureFrames(t testing.TB) [][]byte {
	offer := client{mac: "80:5e:c0:aa:bb:01", op: layers.DHCPOpReply, msgType: layers.DHCPMsgTypeOffer, srcPort: 67, dstPort: 68}
	f := [][]byte{
		yealinkT54W.frame(t),
		laptop.frame(t),
		offer.frame(t),
		yealinkT54W.frame(t), // a retransmission
		snomD785.frame(t),
		gigasetN870.frame(t),
		snomD785.frame(t)[:200], // cut short
		snomRequest.frame(t),
		{0xde, 0xad, 0xbe, 0xef},
	}
	return f
}

// TestWriteFixture regenerates testdata/dhcp.pcap with -update, and
// otherwise checks that the file matches what it would write.
func TestWriteFixture(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for i, f := range fixtureFrames(t) {
		ci := gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(i) * 250 * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(fixture), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixture, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatalf("%v (run go test -run TestWriteFixture -update)", err)
	}
	if !bytes.Equal(old, buf.Bytes()) {
		t.Errorf("%s is stale: run go test -run TestWriteFixture -update", fixture)
	}
}

// TestPcapFixture reads the capture back with pcapgo and serves it as a
// live interface would be.
func TestPcapFixture(t *testing.T) {
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	rec := newRecorder(t)
	s := New(Config{Recorder: rec})
	c := &Capture{Interfaces: []string{"pcap"}, srcs: []source{r}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Serve(ctx, c); err != nil {
		t.Fatal(err)
	}
	want := []vendors.Request{yealinkT54WLease, snomD785Lease, gigasetN870Lease, snomRequestLease}
	got := rec.calls()
	if len(got) != len(want) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s.unknown.Load() != 1 {
		t.Errorf("unknown vendors counted: %d, want 1 (the laptop)", s.unknown.Load())
	}
}
