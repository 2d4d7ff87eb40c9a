package sniff

import (
	"bytes"
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
	// No IPv6 on the pair: then nothing but the test's frames reaches the
	// socket, and the count below tells when both are queued.
	nsS, nsP := vethPair(t, "filt", "fi0", "fj0")

	var h *pcapgo.EthernetHandle
	netnstest.Do(t, nsS, func() (err error) { h, err = pcapgo.NewEthernetHandle("fi0"); return err })
	defer h.Close()

	sip := client{mac: "80:5e:c0:aa:bb:09", srcPort: 5060, dstPort: 5060}.frame(t)
	dhcp := yealinkT54W.frame(t)
	netnstest.Do(t, nsP, func() error {
		snd, err := openSender("fj0")
		if err != nil {
			return err
		}
		defer snd.Close()
		for _, f := range [][]byte{sip, dhcp} {
			if err := snd.send(f); err != nil {
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
