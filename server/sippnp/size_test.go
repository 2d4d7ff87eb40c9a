package sippnp

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOversizedSubscribeIgnored: what a SUBSCRIBE says is echoed in the
// 200 OK and in each NOTIFY retransmission to its source, which nothing
// verified (UDP): a forged 60 KB SUBSCRIBE drew about 665 KB toward that
// source. On a real loopback socket, a SUBSCRIBE over maxMessage is
// ignored (no answer, nothing recorded, one log line) and one of exactly
// maxMessage bytes is answered, as a phone's (a few hundred bytes) is.
func TestOversizedSubscribeIgnored(t *testing.T) {
	rec := &fakeRecorder{}
	logs := &syncBuf{}
	conns := serveLoopback(t, Config{Recorder: rec, Log: slogTo(logs), T1: 50 * time.Millisecond, T2: 200 * time.Millisecond, Timeout: time.Second})

	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	me := "127.0.0.1:" + strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	// subscribe is the Yealink SUBSCRIBE from this socket, of mac and
	// callID, its Event padded to size bytes (0: as it is).
	subscribe := func(mac, callID string, size int) []byte {
		msg := bytes.ReplaceAll(yealinkW52P, []byte("10.1.3.239:5059"), []byte(me))
		msg = bytes.Replace(msg, []byte("branch="), []byte("rport;branch="), 1)
		msg = bytes.ReplaceAll(msg, []byte("MAC001565f4f9e1"), []byte("MAC"+mac))
		msg = bytes.ReplaceAll(msg, []byte("1536537630@10.1.3.239"), []byte(callID))
		if size > 0 {
			pad := `;x="` + strings.Repeat("x", size-len(msg)-len(`;x=""`)) + `"`
			msg = bytes.Replace(msg, []byte(`version="25.81.0.10"`), []byte(`version="25.81.0.10"`+pad), 1)
			if len(msg) != size {
				t.Fatalf("padded to %d bytes, want %d", len(msg), size)
			}
		}
		if _, err := pc.WriteTo(msg, conns.Recv.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		return msg
	}
	// next is the Call-ID of the next 200 OK to a SUBSCRIBE this socket gets.
	buf := make([]byte, 70000)
	next := func() string {
		for {
			pc.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no answer: %v\n%s", err, logs.String())
			}
			if m, err := parse(buf[:n]); err == nil && m.isResponse {
				return m.get("call-id")
			}
		}
	}

	// The server reads its socket in order: the forged one is handled
	// before the phone's, so an answer to it would come first.
	subscribe("001565000001", "forged", 60000)
	subscribe("001565000002", "phone", 0)
	if got := next(); got != "phone" {
		t.Fatalf("first answer to Call-ID %q, want the phone's (a 60000-byte SUBSCRIBE is answered)", got)
	}
	subscribe("001565000003", "largest", maxMessage)
	if got := next(); got != "largest" {
		t.Fatalf("answer to Call-ID %q, want the one of exactly %d bytes", got, maxMessage)
	}
	for _, c := range rec.calls() {
		if c.MAC == "001565000001" {
			t.Error("the oversized SUBSCRIBE was recorded")
		}
	}
	if n := strings.Count(logs.String(), "larger than a plug-and-play SUBSCRIBE"); n != 1 {
		t.Errorf("%d log lines for the oversized SUBSCRIBE, want 1:\n%s", n, logs.String())
	}
}
