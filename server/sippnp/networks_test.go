package sippnp

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netlist"
)

// TestPhoneNetworks: on a real loopback socket with Networks 127.0.0.2/32,
// a SUBSCRIBE from 127.0.0.1 is ignored (no answer, nothing recorded,
// one log line) and the same from 127.0.0.2 is answered.
func TestPhoneNetworks(t *testing.T) {
	allow, _ := netlist.Parse("127.0.0.2/32")
	rec := &fakeRecorder{}
	logs := &syncBuf{}
	conns := serveLoopback(t, Config{Recorder: rec, Log: slogTo(logs), Networks: allow, T1: 50 * time.Millisecond, T2: 200 * time.Millisecond, Timeout: time.Second})

	// The server reads its socket in order and answers a SUBSCRIBE before
	// it reads the next datagram: once the one from 127.0.0.2 (sent last)
	// is answered, an answer to those sent before it would be there too.
	subscribe := func(src string) *net.UDPConn {
		pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(src)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		me := src + ":" + strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		msg := bytes.ReplaceAll(yealinkW52P, []byte("10.1.3.239:5059"), []byte(me))
		msg = bytes.Replace(msg, []byte("branch="), []byte("rport;branch="), 1)
		msg = bytes.ReplaceAll(msg, []byte("1536537630@10.1.3.239"), []byte("pnp-"+src))
		if _, err := pc.WriteTo(msg, conns.Recv.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		return pc
	}
	answered := func(pc *net.UDPConn, d time.Duration) bool {
		buf := make([]byte, 4096)
		pc.SetReadDeadline(time.Now().Add(d))
		n, _, err := pc.ReadFrom(buf)
		return err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200 OK"))
	}
	outside := []*net.UDPConn{subscribe("127.0.0.1"), subscribe("127.0.0.1")}
	if !answered(subscribe("127.0.0.2"), 30*time.Second) {
		t.Fatalf("a SUBSCRIBE from the phone network was not answered:\n%s", logs.String())
	}
	for _, pc := range outside {
		if answered(pc, 100*time.Millisecond) {
			t.Error("a SUBSCRIBE from outside the phone networks was answered")
		}
	}
	if calls := rec.calls(); len(calls) != 1 || calls[0].RemoteAddr != "127.0.0.2" {
		t.Errorf("recorded %+v, want one from 127.0.0.2", calls)
	}
	if n := strings.Count(logs.String(), "outside the phone networks"); n != 1 {
		t.Errorf("%d log lines for two ignored SUBSCRIBEs, want 1:\n%s", n, logs.String())
	}
}
