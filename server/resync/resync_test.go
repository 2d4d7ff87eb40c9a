package resync

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// phone is a UDP socket on loopback that records what it receives and
// answers with answer(n, request) (nothing when it returns "").
type phone struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
}

func newPhone(t *testing.T, answer func(n int, req []byte) []string) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{conn: c}
	done := make(chan struct{})
	t.Cleanup(func() { c.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:n]...)
			p.mu.Lock()
			p.got = append(p.got, req)
			k := len(p.got)
			p.mu.Unlock()
			for _, a := range answer(k, req) {
				_, _ = c.WriteToUDP([]byte(a), from)
			}
		}
	}()
	return p
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *phone) received() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.got...)
}

// header returns the value of the first header called name.
func header(msg []byte, name string) string {
	for _, l := range strings.Split(string(msg), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// response builds a response to req the way a phone does: Via, From,
// To, Call-ID and CSeq copied.
func response(req []byte, status string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 " + status + "\r\n")
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		b.WriteString(h + ": " + header(req, h) + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

var checkSync = vendors.SIPRequest{Method: "NOTIFY", User: "201", Event: "check-sync;reboot=false"}

// TestSendAnswered: the NOTIFY is well formed and the phone's 200 OK ends
// the transaction.
func TestSendAnswered(t *testing.T) {
	p := newPhone(t, func(_ int, req []byte) []string { return []string{response(req, "200 OK")} })
	a, err := (&Sender{}).Send(context.Background(), p.addr(), checkSync)
	if err != nil || a.Code != 200 || a.Reason != "OK" || a.Sent != 1 {
		t.Fatalf("Send = %+v, %v", a, err)
	}
	req := p.received()[0]
	to := p.addr().String()
	if !bytes.HasPrefix(req, []byte("NOTIFY sip:201@"+to+" SIP/2.0\r\n")) {
		t.Errorf("request line:\n%s", req)
	}
	via := header(req, "Via")
	if !strings.HasPrefix(via, "SIP/2.0/UDP 127.0.0.1:") || !strings.Contains(via, ";branch=z9hG4bK") || !strings.HasSuffix(via, ";rport") {
		t.Errorf("Via %q", via)
	}
	for h, want := range map[string]string{"To": "<sip:201@" + to + ">", "CSeq": "1 NOTIFY", "Max-Forwards": "70",
		"Event": "check-sync;reboot=false", "Content-Length": "0", "User-Agent": "autoprov"} {
		if got := header(req, h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(header(req, "From"), ";tag=") || header(req, "Call-ID") == "" || !strings.HasPrefix(header(req, "Contact"), "<sip:autoprov@127.0.0.1:") {
		t.Errorf("From/Call-ID/Contact:\n%s", req)
	}
	if !bytes.HasSuffix(req, []byte("\r\n\r\n")) {
		t.Errorf("no empty body:\n%q", req)
	}
}

// TestSendRetransmits: a lost request is retransmitted (timer E); a
// provisional answer is not the end; responses to another transaction
// are ignored; the final answer carries the phone's status.
func TestSendRetransmits(t *testing.T) {
	p := newPhone(t, func(n int, req []byte) []string {
		if n == 1 {
			return nil // lost
		}
		other := strings.Replace(response(req, "200 OK"), header(req, "Call-ID"), "someone-else", 1)
		return []string{other, response(req, "100 Trying"), response(req, "489 Bad Event")}
	})
	a, err := (&Sender{}).Send(context.Background(), p.addr(), checkSync)
	if err != nil || a.Code != 489 || a.Reason != "Bad Event" || a.Sent != 2 {
		t.Fatalf("Send = %+v, %v", a, err)
	}
	got := p.received()
	if len(got) != 2 || !bytes.Equal(got[0], got[1]) {
		t.Fatalf("the retransmission differs from the request (%d received)", len(got))
	}
}

// TestSendNoAnswer: nobody answers: the request went out three times in
// the 2 s budget (0, 500 ms, 1.5 s) and the answer is empty, not an error.
func TestSendNoAnswer(t *testing.T) {
	p := newPhone(t, func(int, []byte) []string { return nil })
	a, err := (&Sender{}).Send(context.Background(), p.addr(), checkSync)
	// Timer E sends at 0, 0.5 and 1.5 s inside the 2 s budget: 3 copies on
	// an idle machine; a loaded one may get the last one out too late, but
	// never fewer than 2 (the first retransmission is due 1.5 s early).
	if err != nil || a.Code != 0 || a.Sent < 2 || a.Sent > 3 {
		t.Fatalf("Send = %+v, %v", a, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(p.received()) < a.Sent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(p.received()); n != a.Sent {
		t.Errorf("phone received %d copies, the sender says it sent %d", n, a.Sent)
	}
}

// TestSendRefusesBadInput: no address, no method.
func TestSendRefusesBadInput(t *testing.T) {
	s := &Sender{}
	if _, err := s.Send(context.Background(), netip.AddrPort{}, checkSync); err == nil {
		t.Error("sent to no address")
	}
	if _, err := s.Send(context.Background(), netip.MustParseAddrPort("127.0.0.1:5060"), vendors.SIPRequest{Method: "NO TIFY"}); err == nil {
		t.Error("sent a bad method")
	}
}

// FuzzMatch: the response parser never panics on any datagram.
func FuzzMatch(f *testing.F) {
	m := newMessage(checkSync, netip.MustParseAddrPort("192.0.2.5:5060"), netip.MustParseAddrPort("192.0.2.1:40000"), "")
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=" + m.branch + "\r\nCall-ID: " + m.callID + "\r\nCSeq: 1 NOTIFY\r\n\r\n"))
	f.Add([]byte("SIP/2.0 99 x"))
	f.Fuzz(func(t *testing.T, b []byte) { m.match(b) })
}
