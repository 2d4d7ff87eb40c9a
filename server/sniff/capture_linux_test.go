package sniff

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netnstest"
	"github.com/autoprov/autoprov/vendors"
)

// roleEnv marks the test binary re-executed inside a namespace: "sniff"
// or "phone"; ifaceEnv names the interface it uses there.
const (
	roleEnv  = "SNIFF_NETNS_ROLE"
	ifaceEnv = "SNIFF_NETNS_IFACE"
	readyMsg = "SNIFF-READY"
)

// TestLiveNetns captures real DHCPDISCOVER broadcasts on a veth pair
// between two network namespaces the test creates: the sniffer runs on
// one end (the test binary re-executed with `ip netns exec`), a "phone"
// on the other end sends the frames through a raw AF_PACKET socket.
// Nothing leaves the two namespaces. Needs root and iproute2; skipped
// without them, except when CI is set.
func TestLiveNetns(t *testing.T) {
	switch os.Getenv(roleEnv) {
	case "sniff":
		liveSniffer(t, os.Getenv(ifaceEnv))
		return
	case "phone":
		livePhone(t, os.Getenv(ifaceEnv))
		return
	}
	netnstest.Require(t)
	nsS := netnstest.New(t, "sniff-s")
	nsP := netnstest.New(t, "sniff-p")
	// The pair is created inside the namespaces: the host's never sees it.
	netnstest.IP(t, "-n", nsS, "link", "add", "sn0", "type", "veth", "peer", "name", "ph0", "netns", nsP)
	netnstest.IP(t, "-n", nsP, "link", "set", "ph0", "address", yealinkT54W.mac)
	netnstest.IP(t, "-n", nsS, "link", "set", "sn0", "up")
	netnstest.IP(t, "-n", nsP, "link", "set", "ph0", "up")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	child := func(ns, role, iface string) *exec.Cmd {
		return netnstest.Child(ctx, ns, "TestLiveNetns", roleEnv+"="+role, ifaceEnv+"="+iface)
	}
	sniffer := child(nsS, "sniff", "sn0")
	var sniffOut bytes.Buffer
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	sniffer.Stdout, sniffer.Stderr = pw, pw
	if err := sniffer.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ready := make(chan bool, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			sniffOut.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), readyMsg) {
				signalled = true
				ready <- true
			}
		}
		if !signalled {
			ready <- false
		}
	}()
	if !<-ready {
		sniffer.Wait()
		<-copied
		t.Fatalf("the sniffer did not start:\n%s", sniffOut.String())
	}
	out, err := child(nsP, "phone", "ph0").CombinedOutput()
	t.Logf("phone in %s:\n%s", nsP, out)
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestLiveNetns")) {
		t.Errorf("the phone failed: %v", err)
	}
	err = sniffer.Wait()
	<-copied
	t.Logf("sniffer in %s:\n%s", nsS, sniffOut.String())
	if err != nil || !strings.Contains(sniffOut.String(), "--- PASS: TestLiveNetns") {
		t.Fatalf("the sniffer failed: %v", err)
	}
}

// liveSniffer runs in the sniffer's namespace: it captures on iface until
// the phones it expects are recorded, then stops through its context.
func liveSniffer(t *testing.T, iface string) {
	c, err := Open(iface)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t)
	s := New(Config{Recorder: rec})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, c) }()
	fmt.Println(readyMsg)

	// The phone's last frame is a second laptop's: one goroutine handles
	// the frames in order, so once it is counted every frame before it
	// has been handled, and what was recorded is all that will be.
	if !reached(&s.unknown, 2, 60*time.Second) {
		t.Errorf("the end marker was not handled within 60 s (%d unknown vendors counted)", s.unknown.Load())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended: Close did not interrupt the read")
	}
	want := []vendors.Request{yealinkT54WLease, snomD785Lease, gigasetN870Lease}
	got := rec.calls()
	if len(got) != len(want) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := s.unknown.Load(); n != 2 {
		t.Errorf("unknown vendors counted: %d, want 2 (the laptop and the end marker)", n)
	}
}

// livePhone runs in the phone's namespace: it broadcasts DHCP requests
// (and a SIP datagram the kernel filter drops) out of iface, back to back,
// and last a second laptop's request, which tells the sniffer that every
// frame before it has been handled.
func livePhone(t *testing.T, iface string) {
	snd, err := openSender(iface)
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	sip := client{mac: "80:5e:c0:aa:bb:09", srcPort: 5060, dstPort: 5060}
	end := laptop
	end.mac = "3c:22:fb:11:22:34"
	for i, c := range []client{yealinkT54W, sip, laptop, yealinkT54W, snomD785, yealinkT54W, gigasetN870, end} {
		if err := snd.send(c.frame(t)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("autoprov-no-such-if0"); err == nil || !strings.Contains(err.Error(), "autoprov-no-such-if0") {
		t.Errorf("Open of a missing interface: %v", err)
	}
	if _, err := Open(" , "); err == nil {
		t.Error("Open of an empty list succeeded")
	}
}
