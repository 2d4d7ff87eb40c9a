package sniff

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/netnstest"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
)

// TestSpoofedDHCPFloodNetns (issue 5, acceptance): 10,000 spoofed DHCP
// requests sent as raw frames from a packet socket in one network
// namespace, over a veth pair, to the real sniffer capturing (AF_PACKET,
// the kernel filter) in another, wired to the real core over a real
// SQLite store; the adopted phone fetches its file over HTTP from the
// real HTTP edge on 127.0.0.1 in the middle of the flood.
//
//   - after the first 1,000, all from one Ethernet source, a real phone's
//     DISCOVER from its own address is recorded (link sources do not
//     share a bucket);
//   - then half of the frames vary the Ethernet source too; the inbox
//     stays at most at inbox_cap (200 here) and the dropped counters rise;
//   - the fetch in the middle is answered 200 with its accounts;
//   - every frame sent reaches the sniffer: the sender keeps at most
//     window frames ahead of what the sniffer has handled, so no socket
//     buffer overflows and the count is exact.
//
// Everything runs in this process: netnstest.Do opens each socket inside
// its namespace. Needs root and iproute2; skipped without, except in CI.
func TestSpoofedDHCPFloodNetns(t *testing.T) {
	nsS, nsP := vethPair(t, "flood", "fl0", "fp0")

	const capN, total, naive, window = 200, 10000, 1000, 64
	phones, st := floodCore(t, capN, provision.Options{InboxDHCPBurst: total})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The HTTP edge, on loopback in the test's own namespace.
	srv, err := httpd.New(httpd.Config{Phones: phones, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	// The sniffer, capturing in nsS.
	var c *Capture
	netnstest.Do(t, nsS, func() (err error) { c, err = Open("fl0"); return err })
	s := New(Config{Recorder: phones, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sniffed := make(chan error, 1)
	go func() { sniffed <- s.Serve(ctx, c) }()

	// The sender, a raw packet socket in nsP, once the pair has a carrier.
	var snd *sender
	netnstest.Do(t, nsP, func() (err error) { snd, err = openSender("fp0"); return err })
	defer snd.Close()

	// handled waits until the sniffer has handled at least n frames.
	handled := func(n int64) {
		t.Helper()
		if !reached(&s.frames, n, 30*time.Second) {
			t.Fatalf("the sniffer handled %d frames, want %d", s.frames.Load(), n)
		}
	}
	sent := int64(0)
	send := func(frame []byte) {
		t.Helper()
		handled(sent - window)
		if err := snd.send(frame); err != nil {
			t.Fatalf("send frame %d: %v", sent, err)
		}
		sent++
	}

	rng := rand.New(rand.NewPCG(13, 21))
	frames := make([][]byte, total)
	for i := range frames {
		frames[i] = spoofed(t, rng, i, naive).frame(t)
	}
	type answer struct {
		code int
		body string
		err  error
	}
	fetched := make(chan answer, 1)
	start := time.Now()
	for i, f := range frames {
		send(f)
		switch i {
		case naive:
			real := client{mac: "80:5e:c0:aa:bb:55", msgType: layers.DHCPMsgTypeDiscover, vendorClass: "yealink"}
			send(real.frame(t))
			handled(sent)
			if _, err := st.Device(ctx, "805ec0aabb55"); err != nil {
				t.Errorf("a real phone's DISCOVER after %d from one Ethernet source was not recorded: %v", naive, err)
			}
		case total / 2: // the adopted phone fetches its file while the flood goes on
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/prov/"+adoptedMAC+".cfg", nil)
				req.Header.Set("User-Agent", adoptedUA)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					fetched <- answer{err: err}
					return
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				fetched <- answer{res.StatusCode, string(b), err}
			}()
		case total * 9 / 10: // the last thousand wait for the answer: it came in the middle
			select {
			case a := <-fetched:
				if a.err != nil || a.code != http.StatusOK || !strings.Contains(a.body, "account.1.user_name = 201") {
					t.Errorf("the adopted phone's fetch during the flood: %d %v\n%.300s", a.code, a.err, a.body)
				}
			case <-ctx.Done():
				t.Fatal("the adopted phone's fetch was not answered")
			}
		}
	}
	handled(total + 1)
	elapsed := time.Since(start)

	n, err := st.CountDevices(ctx, autoprov.DeviceFilter{State: autoprov.StateUnassigned})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := phones.InboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames handled in %v; %d unassigned; stats %+v; unknown vendors %d", s.frames.Load(), elapsed, n, stats, s.unknown.Load())
	if n > capN || n < capN/2 {
		t.Errorf("%d unassigned after %d spoofed DHCP requests, want at most the cap %d (and most of it)", n, total, capN)
	}
	if stats.DroppedFull == 0 || stats.DroppedRateLimited < naive-provision.DefaultInboxBurst {
		t.Errorf("stats %+v: want drops by the rate (the naive flooder's) and the cap", stats)
	}
	if s.unknown.Load() < total/20 {
		t.Errorf("%d requests of no vendor counted, want about a tenth of %d", s.unknown.Load(), total)
	}
	notRecorded(t, st)

	cancel()
	for _, ch := range []chan error{sniffed, served} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("a server did not stop")
		}
	}
}
