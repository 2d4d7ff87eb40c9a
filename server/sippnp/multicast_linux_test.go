package sippnp

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netnstest"
)

// childEnv marks the test binary re-executed inside the namespace.
const childEnv = "SIPPNP_NETNS_CHILD"

// TestMulticastNetns is a real multicast round trip on 224.0.1.75:5060 in
// a network namespace the test creates (only lo, with multicast on): the
// test binary re-executes itself there with `ip netns exec`, so nothing is
// ever sent outside the namespace. Needs root and iproute2; skipped
// without them, except when CI is set.
func TestMulticastNetns(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		multicastRoundTrip(t)
		return
	}
	netnstest.Require(t)
	ns := netnstest.New(t, "pnp")
	netnstest.IP(t, "-n", ns, "link", "set", "lo", "up")
	netnstest.IP(t, "-n", ns, "link", "set", "lo", "multicast", "on")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := netnstest.Child(ctx, ns, "TestMulticastNetns", childEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in namespace %s:\n%s", ns, out)
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestMulticastNetns")) {
		t.Fatalf("round trip in the namespace failed: %v", err)
	}
}

// multicastRoundTrip runs inside the namespace.
func multicastRoundTrip(t *testing.T) {
	// A "PBX" bound to the wildcard on 5060 without SO_REUSEADDR holds the
	// port: Listen fails instead of sharing it silently.
	pbx, err := net.ListenPacket("udp4", "0.0.0.0:5060")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Listen(Group, "lo"); err == nil {
		c.Close()
		t.Fatal("Listen shared 5060 with a socket that did not set SO_REUSEADDR")
	} else {
		t.Logf("with a PBX on 0.0.0.0:5060: %v", err)
	}
	pbx.Close()

	conns, err := Listen(Group, "lo")
	if err != nil {
		t.Fatal(err)
	}
	// The other way round (README: start order): while we hold the group's
	// port with SO_REUSEADDR, a SIP server binding 0.0.0.0:5060 without it
	// fails.
	if late, err := net.ListenPacket("udp4", "0.0.0.0:5060"); err == nil {
		late.Close()
		t.Fatal("a later bind of 0.0.0.0:5060 without SO_REUSEADDR succeeded beside shared mode")
	}
	if !conns.Multicast() || conns.Recv.LocalAddr().String() != Group || strings.Join(conns.Interfaces, ",") != "lo" {
		t.Fatalf("conns: recv %s, interfaces %v", conns.Recv.LocalAddr(), conns.Interfaces)
	}
	// The default (every multicast-capable interface) finds lo here too.
	if all, err := Listen(Group, ""); err != nil || strings.Join(all.Interfaces, ",") != "lo" {
		t.Fatalf("Listen with all interfaces: %v %v", all, err)
	} else {
		all.Close()
	}
	rec := &fakeRecorder{}
	logs := &syncBuf{}
	s := New(Config{Recorder: rec, Log: slogTo(logs)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, conns) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		t.Logf("server log:\n%s", logs.String())
	}()

	// The phone: a socket on 127.0.0.1 sending to the group through lo.
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	raw, err := phone.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInet4Addr(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, [4]byte{127, 0, 0, 1})
	}); err != nil || serr != nil {
		t.Fatalf("IP_MULTICAST_IF: %v %v", err, serr)
	}
	pa := phone.LocalAddr().(*net.UDPAddr)
	sub := bytes.ReplaceAll(yealinkW52P, []byte("10.1.3.239:5059"), []byte(pa.String()))
	sub = bytes.ReplaceAll(sub, []byte("@10.1.3.239"), []byte("@127.0.0.1"))

	// A unicast datagram to 127.0.0.1:5060 does not reach the group socket.
	if _, err := phone.WriteTo(sub, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}); err != nil {
		t.Fatal(err)
	}
	phone.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, maxMessage)
	if n, from, err := phone.ReadFrom(buf); err == nil {
		t.Fatalf("a unicast SUBSCRIBE to 5060 was answered by %s:\n%s", from, buf[:n])
	}

	group, _ := net.ResolveUDPAddr("udp4", Group)
	if _, err := phone.WriteTo(sub, group); err != nil {
		t.Fatal(err)
	}
	read := func() (*message, *net.UDPAddr) {
		t.Helper()
		phone.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, from, err := phone.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		m, err := parse(buf[:n])
		if err != nil {
			t.Fatalf("unparsable answer: %v", err)
		}
		return m, from
	}
	ok, okFrom := read()
	if !ok.isResponse || ok.status != 200 {
		t.Fatalf("first answer is not 200 OK: %+v", ok)
	}
	if okFrom.Port == 5060 || okFrom.Port != conns.Send.LocalAddr().(*net.UDPAddr).Port {
		t.Errorf("200 OK came from %s, want the reply socket %s", okFrom, conns.Send.LocalAddr())
	}
	n, nFrom := read()
	if n.method != "NOTIFY" || string(n.body) != "http://prov.test/prov/" {
		t.Fatalf("second answer: %s %s body %q", n.method, n.uri, n.body)
	}
	v, _ := topVia(n.get("via"))
	if v.host != "127.0.0.1" || v.port != nFrom.Port {
		t.Errorf("NOTIFY Via %q, sent from %s", n.get("via"), nFrom)
	}
	answer := "SIP/2.0 200 OK\r\nVia: " + n.get("via") + "\r\nFrom: " + n.get("from") + "\r\nTo: " + n.get("to") +
		"\r\nCall-ID: " + n.get("call-id") + "\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n"
	if _, err := phone.WriteTo([]byte(answer), &net.UDPAddr{IP: net.ParseIP(v.host), Port: v.port}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "phone accepted the provisioning URL") {
		if time.Now().After(deadline) {
			t.Fatal("the server did not see the 200 OK to its NOTIFY")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if calls := rec.calls(); len(calls) != 1 || calls[0].MAC != "001565f4f9e1" || calls[0].UserAgent != "Yealink W52P 25.81.0.10" ||
		calls[0].RemoteAddr != "127.0.0.1" || calls[0].Transport != "sip" {
		t.Errorf("recorded %+v", calls)
	}
}
