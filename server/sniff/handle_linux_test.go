package sniff

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/autoprov/autoprov/internal/netnstest"
)

// TestFilteredDropsFramesQueuedBeforeTheFilter: a packet socket queues
// every frame of its interface from the moment it is bound until its
// filter is attached. Here a SIP datagram and then a DHCP request reach
// the socket in that window; once the filter is attached, the first frame
// read is the DHCP request. (CI once saw an IPv6 frame of a veth coming up
// land in that window and miscount a flood.) Needs root and iproute2.
func TestFilteredDropsFramesQueuedBeforeTheFilter(t *testing.T) {
	netnstest.Require(t)
	nsS := netnstest.New(t, "filt-s")
	nsP := netnstest.New(t, "filt-p")
	netnstest.IP(t, "-n", nsS, "link", "add", "fi0", "type", "veth", "peer", "name", "fj0", "netns", nsP)
	// No IPv6 on the pair: then nothing but the test's frames reaches the
	// socket, and the count below tells when both are queued.
	for ns, ifname := range map[string]string{nsS: "fi0", nsP: "fj0"} {
		netnstest.Do(t, ns, func() error {
			return os.WriteFile("/proc/sys/net/ipv6/conf/"+ifname+"/disable_ipv6", []byte("1"), 0)
		})
		netnstest.IP(t, "-n", ns, "link", "set", ifname, "up")
	}

	var h *pcapgo.EthernetHandle
	netnstest.Do(t, nsS, func() (err error) { h, err = pcapgo.NewEthernetHandle("fi0"); return err })
	defer h.Close()

	sip := client{mac: "80:5e:c0:aa:bb:09", srcPort: 5060, dstPort: 5060}.frame(t)
	dhcp := yealinkT54W.frame(t)
	netnstest.Do(t, nsP, func() error {
		var ifi *net.Interface
		for deadline := time.Now().Add(30 * time.Second); ; {
			var err error
			if ifi, err = net.InterfaceByName("fj0"); err == nil && ifi.Flags&net.FlagRunning != 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("fj0 has no carrier: %v %v", ifi, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		to := &syscall.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
		for _, f := range [][]byte{sip, dhcp} {
			if err := syscall.Sendto(fd, f, 0, to); err != nil {
				return err
			}
		}
		return nil
	})
	// Wait until both frames are queued on the unfiltered socket, without
	// reading them: the kernel counts the frames it queued.
	for queued, deadline := uint32(0), time.Now().Add(30*time.Second); queued < 2; {
		st, err := h.Stats()
		if err != nil {
			t.Fatal(err)
		}
		queued += st.Packets // reading the counts resets them
		if time.Now().After(deadline) {
			t.Fatalf("%d frames queued, want 2", queued)
		}
		time.Sleep(time.Millisecond)
	}
	f, err := withFilter(h, "dhcp", filter)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte, 1)
	go func() {
		frame, _, err := f.ReadPacketData()
		if err != nil {
			t.Error(err)
		}
		done <- frame
	}()
	select {
	case frame := <-done:
		if !bytes.Equal(frame, dhcp) {
			t.Errorf("first frame read is not the DHCP request: % x", frame[:min(len(frame), 42)])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no frame read")
	}
}
