package sippnp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"

	"github.com/autoprov/autoprov/internal/testlog"
)

// crlf turns a reference listing (LF, as written in the docs) into wire
// bytes: CRLF line endings, the empty line after the headers.
func crlf(s string) []byte {
	s = strings.TrimLeft(s, "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// The SUBSCRIBE shapes of sip-pnp.md §2 (and snom.md §6), byte for byte.
var (
	// §2.1: a real Yealink W52P capture; from port 5059, no MAC in the UA.
	yealinkW52P = crlf(`
SUBSCRIBE sip:MAC001565f4f9e1@224.0.1.75 SIP/2.0
Via: SIP/2.0/UDP 10.1.3.239:5059;branch=z9hG4bK1536537630
From: <sip:MAC001565f4f9e1@224.0.1.75>;tag=1536537630
To: <sip:MAC001565f4f9e1@224.0.1.75>
Call-ID: 1536537630@10.1.3.239
CSeq: 1 SUBSCRIBE
Contact: <sip:MAC001565f4f9e1@10.1.3.239:5059>
Max-Forwards: 70
User-Agent: Yealink W52P 25.81.0.10
Expires: 0
Event: ua-profile;profile-type="device";vendor="yealink";model="W52P";version="25.81.0.10"
Accept: application/url
Content-Length: 0

`)
	// snom.md §6: Snom desk phone, MAC%3a<UPPER>, rport, no branch, no UA.
	snomDesk = crlf(`
SUBSCRIBE sip:MAC%3a000413A1B2C3@pbx.example.net SIP/2.0
Via: SIP/2.0/UDP 192.0.2.50:5060;rport
From: <sip:MAC%3a000413A1B2C3@pbx.example.net>;tag=310884211
To: <sip:MAC%3a000413A1B2C3@pbx.example.net>
Call-ID: 774210953@192.0.2.50
CSeq: 1 SUBSCRIBE
Event: ua-profile;profile-type="device";vendor="OEM";model="OEM";version="8.9.3.80"
Expires: 0
Accept: application/url
Contact: <sip:192.0.2.50:5060>
Content-Length: 0

`)
	// §2.3: Snom M700 DECT base; From is an internal number, not the MAC.
	snomM700 = crlf(`
SUBSCRIBE sip:MAC%3a000413B4C5D6@224.0.1.75 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.60:5060;branch=z9hG4bK-m700-1;rport
From: <sip:512@192.0.2.60>;tag=9911
To: <sip:MAC%3a000413B4C5D6@224.0.1.75>
Call-ID: 3dc1a0b2@192.0.2.60
CSeq: 1472 SUBSCRIBE
Max-Forwards: 70
Contact: <sip:512@192.0.2.60:5060>
User-Agent: snomM700/530 (MAC=000413B4C5D6; SER=1234; HW=3)
Event: ua-profile;profile-type="device";vendor="snom";model="snomM700";version="530"
Expires: 0
Accept: application/url
Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, SUBSCRIBE
Allow-Events: ua-profile
Supported: replaces
Content-Length: 0

`)
	// §2.4: Gigaset Maxwell request line (MAC%3A, host local); the other
	// headers are unverified, so compact forms and a UA are used here.
	gigasetMaxwell = crlf(`
SUBSCRIBE sip:MAC%3A7C2F8030D21E@local SIP/2.0
v: SIP/2.0/UDP 192.0.2.70:5060;branch=z9hG4bKmx3
f: <sip:MAC%3A7C2F8030D21E@local>;tag=mx
t: <sip:MAC%3A7C2F8030D21E@local>
i: mx-1@192.0.2.70
CSeq: 1 SUBSCRIBE
m: <sip:192.0.2.70:5060>
User-Agent: Gigaset Maxwell 3/2.11.6
o: ua-profile;profile-type="device"
Expires: 0
l: 0

`)
	// §2.4: Gigaset N870 (identified by its User-Agent).
	gigasetN870 = crlf(`
SUBSCRIBE sip:MAC%3a7C2F80E0D8E4@224.0.1.75 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.80:5060;branch=z9hG4bKn870
From: <sip:MAC%3a7C2F80E0D8E4@224.0.1.75>;tag=n870
To: <sip:MAC%3a7C2F80E0D8E4@224.0.1.75>
Call-ID: n870-1@192.0.2.80
CSeq: 1 SUBSCRIBE
Contact: <sip:192.0.2.80:5060>
User-Agent: Gigaset N870 IP PRO/83.V2.11.0+build.a546b6a;7C2F80E0D8E4
Event: ua-profile;profile-type="device";vendor="gigaset"
Expires: 0
Content-Length: 0

`)
	// §2.5: AudioCodes: no MAC anywhere. Ignored without an answer.
	audioCodes = crlf(`
SUBSCRIBE sip:224.0.1.75:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.90:5060;branch=z9hG4bKac
From: <sip:00000001@192.0.2.90:5060>;tag=ac1
To: <sip:224.0.1.75:5060>
Call-ID: ac-1@192.0.2.90
CSeq: 1 SUBSCRIBE
Contact: <sip:00000001@192.0.2.90:5060>
User-Agent: AUDC-IPPhone/2.2.8.61
Event: ua-profile;profile-type="application";model="420HD";version=2.2.8.61
Expires: 0
Content-Length: 0

`)
)

// fakeRecorder stands in for *provision.Phones. It records the request
// and answers as the core does for the reference's phones: "{mac}.xml"
// after the base URL for a Snom MAC (00:04:13), the base URL for the
// others, and an error wrapping vendors.ErrNotFound for a request without
// a MAC. It does not identify: which vendor and model each shape is, and
// the MAC a User-Agent carries, are server/provision's tests
// (TestDiscoveredIdentifies).
type fakeRecorder struct {
	mu   sync.Mutex
	seen []vendors.Request
	err  error
}

func (f *fakeRecorder) Discovered(ctx context.Context, req vendors.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	if req.MAC == "" {
		return "", fmt.Errorf("no MAC: %w", vendors.ErrNotFound)
	}
	f.seen = append(f.seen, req)
	if strings.HasPrefix(req.MAC, "000413") {
		return "http://prov.test/prov/{mac}.xml", nil
	}
	return "http://prov.test/prov/", nil
}

func (f *fakeRecorder) calls() []vendors.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vendors.Request(nil), f.seen...)
}

// sent is one datagram the server wrote.
type sent struct {
	b  []byte
	to string
}

// fakeConn records what the server sends; its local address is fixed.
type fakeConn struct {
	local *net.UDPAddr
	out   chan sent
}

func newFakeConn() *fakeConn {
	return &fakeConn{local: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 10).To4(), Port: 5062}, out: make(chan sent, 64)}
}

func (c *fakeConn) WriteTo(b []byte, a net.Addr) (int, error) {
	select {
	case c.out <- sent{append([]byte(nil), b...), a.String()}:
	default:
	}
	return len(b), nil
}
func (c *fakeConn) LocalAddr() net.Addr { return c.local }

func (c *fakeConn) next(t *testing.T) sent {
	t.Helper()
	select {
	case s := <-c.out:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("nothing sent in 30 s")
	}
	return sent{}
}

func (c *fakeConn) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-c.out:
		t.Fatalf("unexpected datagram to %s:\n%s", s.to, s.b)
	case <-time.After(d):
	}
}

func newTestServer(t testing.TB, rec Recorder, log *slog.Logger) *Server {
	return New(Config{Recorder: rec, Log: log, T1: 50 * time.Millisecond, T2: 200 * time.Millisecond, Timeout: 2 * time.Second})
}

// mustParse parses a datagram the server sent.
func mustParse(t *testing.T, b []byte) *message {
	t.Helper()
	m, err := parse(b)
	if err != nil {
		t.Fatalf("server sent an unparsable message: %v\n%s", err, b)
	}
	if !bytes.Contains(b, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(b, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatalf("not CRLF-framed:\n%q", b)
	}
	return m
}

func TestShapes(t *testing.T) {
	cases := []struct {
		name          string
		msg           []byte
		from          string
		mac           string
		okTo          string // where the 200 OK goes
		viaStamp      string // expected top Via of the 200 OK
		notifyTo      string
		notifyURI     string
		url           string
		notifyToValue string // To of the NOTIFY (the SUBSCRIBE's From)
	}{
		{"yealink W52P", yealinkW52P, "10.1.3.239:5059", "001565f4f9e1",
			"10.1.3.239:5059", "SIP/2.0/UDP 10.1.3.239:5059;branch=z9hG4bK1536537630;received=10.1.3.239",
			"10.1.3.239:5059", "sip:MAC001565f4f9e1@10.1.3.239:5059", "http://prov.test/prov/",
			"<sip:MAC001565f4f9e1@224.0.1.75>;tag=1536537630"},
		{"snom desk, rport, no branch, no UA", snomDesk, "192.0.2.50:5060", "000413a1b2c3",
			"192.0.2.50:5060", "SIP/2.0/UDP 192.0.2.50:5060;rport=5060;received=192.0.2.50",
			"192.0.2.50:5060", "sip:192.0.2.50:5060", "http://prov.test/prov/{mac}.xml",
			"<sip:MAC%3a000413A1B2C3@pbx.example.net>;tag=310884211"},
		{"snom desk behind NAT: rport answers the source port", snomDesk, "192.0.2.50:40000", "000413a1b2c3",
			"192.0.2.50:40000", "SIP/2.0/UDP 192.0.2.50:5060;rport=40000;received=192.0.2.50",
			"192.0.2.50:5060", "sip:192.0.2.50:5060", "http://prov.test/prov/{mac}.xml",
			"<sip:MAC%3a000413A1B2C3@pbx.example.net>;tag=310884211"},
		{"snom M700, From not the MAC", snomM700, "192.0.2.60:5060", "000413b4c5d6",
			"192.0.2.60:5060", "SIP/2.0/UDP 192.0.2.60:5060;branch=z9hG4bK-m700-1;rport=5060;received=192.0.2.60",
			"192.0.2.60:5060", "sip:512@192.0.2.60:5060", "http://prov.test/prov/{mac}.xml",
			"<sip:512@192.0.2.60>;tag=9911"},
		{"gigaset maxwell, %3A, host local, compact headers", gigasetMaxwell, "192.0.2.70:5060", "7c2f8030d21e",
			"192.0.2.70:5060", "SIP/2.0/UDP 192.0.2.70:5060;branch=z9hG4bKmx3;received=192.0.2.70",
			"192.0.2.70:5060", "sip:192.0.2.70:5060", "http://prov.test/prov/",
			"<sip:MAC%3A7C2F8030D21E@local>;tag=mx"},
		{"gigaset N870 by UA", gigasetN870, "192.0.2.80:5060", "7c2f80e0d8e4",
			"192.0.2.80:5060", "SIP/2.0/UDP 192.0.2.80:5060;branch=z9hG4bKn870;received=192.0.2.80",
			"192.0.2.80:5060", "sip:192.0.2.80:5060", "http://prov.test/prov/",
			"<sip:MAC%3a7C2F80E0D8E4@224.0.1.75>;tag=n870"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			s := newTestServer(t, rec, nil)
			conn := newFakeConn()
			from, _ := net.ResolveUDPAddr("udp4", tc.from)
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { cancel(); s.wg.Wait() }()
			s.handle(ctx, tc.msg, from, conn)

			calls := rec.calls()
			if len(calls) != 1 {
				t.Fatalf("recorder called %d times, want 1", len(calls))
			}
			sub, _ := parse(tc.msg)
			want := vendors.Request{MAC: tc.mac, UserAgent: sub.get("user-agent"), RemoteAddr: from.IP.String(), Transport: "sip"}
			if !reflect.DeepEqual(calls[0], want) {
				t.Errorf("recorded %+v, want %+v", calls[0], want)
			}

			ok := conn.next(t)
			if ok.to != tc.okTo {
				t.Errorf("200 OK sent to %s, want %s", ok.to, tc.okTo)
			}
			r := mustParse(t, ok.b)
			if !r.isResponse || r.status != 200 {
				t.Fatalf("first datagram is not a 200 OK:\n%s", ok.b)
			}
			if got := r.get("via"); got != tc.viaStamp {
				t.Errorf("200 OK Via = %q, want %q", got, tc.viaStamp)
			}
			for _, h := range []string{"from", "call-id", "cseq"} {
				if r.get(h) != sub.get(h) {
					t.Errorf("200 OK %s = %q, want %q", h, r.get(h), sub.get(h))
				}
			}
			toTag, hasTag := param(strings.TrimPrefix(r.get("to"), sub.get("to")), "tag")
			if !strings.HasPrefix(r.get("to"), sub.get("to")) || !hasTag || toTag == "" {
				t.Errorf("200 OK To = %q: want the SUBSCRIBE's To plus a tag", r.get("to"))
			}
			if r.get("expires") != "0" || r.get("content-length") != "0" || len(r.body) != 0 {
				t.Errorf("200 OK: Expires %q, Content-Length %q, body %q", r.get("expires"), r.get("content-length"), r.body)
			}

			n := conn.next(t)
			if n.to != tc.notifyTo {
				t.Errorf("NOTIFY sent to %s, want %s", n.to, tc.notifyTo)
			}
			nm := mustParse(t, n.b)
			if nm.method != "NOTIFY" || nm.uri != tc.notifyURI {
				t.Errorf("NOTIFY request line: %s %s, want NOTIFY %s", nm.method, nm.uri, tc.notifyURI)
			}
			if string(nm.body) != tc.url || nm.get("content-length") != fmt.Sprint(len(tc.url)) {
				t.Errorf("NOTIFY body %q (Content-Length %s), want %q", nm.body, nm.get("content-length"), tc.url)
			}
			wantH := map[string]string{
				"call-id": sub.get("call-id"), "cseq": "1 NOTIFY", "event": sub.get("event"),
				"subscription-state": "terminated;reason=timeout", "content-type": "application/url",
				"to": tc.notifyToValue, "from": sub.get("to") + ";tag=" + toTag, "contact": "<sip:192.0.2.10:5062>",
				"max-forwards": "70",
			}
			for h, w := range wantH {
				if nm.get(h) != w {
					t.Errorf("NOTIFY %s = %q, want %q", h, nm.get(h), w)
				}
			}
			v, okv := topVia(nm.get("via"))
			if br, _ := param(v.params, "branch"); !okv || v.host != "192.0.2.10" || v.port != 5062 || !strings.HasPrefix(br, "z9hG4bK") {
				t.Errorf("NOTIFY Via = %q", nm.get("via"))
			}
			if !bytes.HasSuffix(n.b, []byte("\r\n\r\n"+tc.url)) {
				t.Errorf("NOTIFY does not end in the blank line and the URL:\n%q", n.b)
			}

			// No answer yet: the NOTIFY is retransmitted.
			if re := conn.next(t); !bytes.Equal(re.b, n.b) || re.to != n.to {
				t.Errorf("retransmission differs:\n%s", re.b)
			}
			// A retransmitted SUBSCRIBE gets the same 200 OK, no second transaction.
			s.handle(ctx, tc.msg, from, conn)
			if len(rec.calls()) != 1 {
				t.Error("a retransmitted SUBSCRIBE was recorded again")
			}
			// The phone's 200 OK stops the retransmissions.
			answer := "SIP/2.0 200 OK\r\nVia: " + nm.get("via") + "\r\nFrom: " + nm.get("from") + "\r\nTo: " + nm.get("to") +
				"\r\nCall-ID: " + nm.get("call-id") + "\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n"
			s.handle(ctx, []byte(answer), from, conn)
			drain := time.After(300 * time.Millisecond)
			var okAgain bool
			for done := false; !done; {
				select {
				case d := <-conn.out:
					if bytes.Equal(d.b, ok.b) {
						okAgain = true
					}
				case <-drain:
					done = true
				}
			}
			if !okAgain {
				t.Error("the retransmitted SUBSCRIBE did not get the 200 OK again")
			}
			conn.none(t, 500*time.Millisecond)
		})
	}
}

func TestIgnored(t *testing.T) {
	other := bytes.Replace(yealinkW52P, []byte("Event: ua-profile;"), []byte("Event: message-summary;"), 1)
	invite := bytes.Replace(yealinkW52P, []byte("SUBSCRIBE sip:"), []byte("INVITE sip:"), 1)
	noCallID := bytes.Replace(yealinkW52P, []byte("Call-ID: 1536537630@10.1.3.239\r\n"), nil, 1)
	tcp := bytes.Replace(yealinkW52P, []byte("SIP/2.0/UDP"), []byte("SIP/2.0/TCP"), 1)
	noMAC := bytes.ReplaceAll(yealinkW52P, []byte("MAC001565f4f9e1"), []byte("2001"))
	for name, msg := range map[string][]byte{
		"audiocodes (no MAC)": audioCodes, "other event": other, "INVITE": invite, "no Call-ID": noCallID,
		"TCP Via": tcp, "no MAC prefix": noMAC, "empty": nil, "garbage": []byte("\x00\x01hello"),
		"truncated": yealinkW52P[:40], "stray response": []byte("SIP/2.0 200 OK\r\nCSeq: 1 NOTIFY\r\nCall-ID: x\r\n\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			rec := &fakeRecorder{}
			var logs bytes.Buffer
			s := newTestServer(t, rec, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			conn := newFakeConn()
			ctx, cancel := context.WithCancel(context.Background())
			defer func() { cancel(); s.wg.Wait() }()
			s.handle(ctx, msg, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 90), Port: 5060}, conn)
			conn.none(t, 100*time.Millisecond)
			if len(rec.calls()) != 0 {
				t.Errorf("recorded %+v", rec.calls())
			}
			if name == "audiocodes (no MAC)" && !strings.Contains(logs.String(), "without a MAC") {
				t.Errorf("the MAC-less SUBSCRIBE is not logged:\n%s", logs.String())
			}
		})
	}
}

// recorderFunc is a Recorder made of a function.
type recorderFunc func(context.Context, vendors.Request) (string, error)

func (f recorderFunc) Discovered(ctx context.Context, req vendors.Request) (string, error) {
	return f(ctx, req)
}

// TestMACOnlyInUserAgent: a SUBSCRIBE whose headers name no MAC still goes
// to the core, which may find one in the User-Agent (the M700's "MAC=");
// when it does, the phone is answered.
func TestMACOnlyInUserAgent(t *testing.T) {
	var got []vendors.Request
	rec := recorderFunc(func(_ context.Context, req vendors.Request) (string, error) {
		got = append(got, req) // handle calls the recorder on its own goroutine
		return "http://prov.test/prov/{mac}.xml", nil
	})
	s := newTestServer(t, rec, nil)
	conn := newFakeConn()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.wg.Wait() }()
	msg := bytes.ReplaceAll(snomM700, []byte("MAC%3a000413B4C5D6"), []byte("pnp"))
	s.handle(ctx, msg, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 60), Port: 5060}, conn)
	want := vendors.Request{UserAgent: "snomM700/530 (MAC=000413B4C5D6; SER=1234; HW=3)", RemoteAddr: "192.0.2.60", Transport: "sip"}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	if ok := mustParse(t, conn.next(t).b); !ok.isResponse || ok.status != 200 {
		t.Fatalf("no 200 OK: %+v", ok)
	}
	if n := mustParse(t, conn.next(t).b); n.method != "NOTIFY" || string(n.body) != "http://prov.test/prov/{mac}.xml" {
		t.Fatalf("no NOTIFY with the URL: %+v", n)
	}
}

func TestRecorderErrorMeansSilence(t *testing.T) {
	rec := &fakeRecorder{err: errors.New("database down")}
	s := newTestServer(t, rec, nil)
	conn := newFakeConn()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.wg.Wait() }()
	s.handle(ctx, yealinkW52P, &net.UDPAddr{IP: net.IPv4(10, 1, 3, 239), Port: 5059}, conn)
	conn.none(t, 100*time.Millisecond)
}

func TestRateLimits(t *testing.T) {
	rec := &fakeRecorder{}
	s := New(Config{Recorder: rec, MACInterval: time.Hour, PerSource: 3})
	conn := newFakeConn()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.wg.Wait() }()
	from := &net.UDPAddr{IP: net.IPv4(10, 1, 3, 239), Port: 5059}
	// Same MAC, new Call-IDs (a reboot loop): one answer per MACInterval.
	for i := range 3 {
		msg := bytes.ReplaceAll(yealinkW52P, []byte("1536537630@"), fmt.Appendf(nil, "%d@", i))
		s.handle(ctx, msg, from, conn)
	}
	if n := len(rec.calls()); n != 1 {
		t.Errorf("one MAC, three Call-IDs: %d answered, want 1", n)
	}
	// Other MACs from the same source: PerSource per minute (3, one spent).
	for i := range 4 {
		msg := bytes.ReplaceAll(yealinkW52P, []byte("MAC001565f4f9e1"), fmt.Appendf(nil, "MAC0015650000%02d", i))
		msg = bytes.ReplaceAll(msg, []byte("1536537630@"), fmt.Appendf(nil, "m%d@", i))
		s.handle(ctx, msg, from, conn)
	}
	if n := len(rec.calls()); n != 3 {
		t.Errorf("per-source limit: %d answered in all, want 3", n)
	}
}

// TestRateLimitsRefill: the limits run on the server's clock; a MAC is
// answered again after MACInterval, a source gets one more transaction
// each minute/PerSource.
func TestRateLimitsRefill(t *testing.T) {
	rec := &fakeRecorder{}
	s := New(Config{Recorder: rec, MACInterval: 5 * time.Second, PerSource: 3})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	conn := newFakeConn()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.wg.Wait() }()
	from := &net.UDPAddr{IP: net.IPv4(10, 1, 3, 239), Port: 5059}
	call := 0
	send := func(mac string) {
		call++
		msg := bytes.ReplaceAll(yealinkW52P, []byte("MAC001565f4f9e1"), []byte("MAC"+mac))
		msg = bytes.ReplaceAll(msg, []byte("1536537630@"), fmt.Appendf(nil, "r%d@", call))
		s.handle(ctx, msg, from, conn)
	}
	for i, tc := range []struct {
		at   time.Duration
		mac  string
		want int // answered so far
	}{
		{0, "001565000001", 1},
		{4 * time.Second, "001565000001", 1},  // within MACInterval
		{5 * time.Second, "001565000001", 2},  // MACInterval later
		{5 * time.Second, "001565000002", 3},  // the source's third
		{6 * time.Second, "001565000003", 3},  // the source's bucket is empty
		{20 * time.Second, "001565000003", 4}, // one back after minute/PerSource
		{21 * time.Second, "001565000004", 4},
	} {
		now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(tc.at)
		send(tc.mac)
		if n := len(rec.calls()); n != tc.want {
			t.Fatalf("step %d (%s at +%v): %d answered, want %d", i, tc.mac, tc.at, n, tc.want)
		}
	}
}

// TestNotifyGivesUp: the NOTIFY is sent again with T1 doubling up to T2
// until Timeout, then the server gives up and says so: once a minute for
// all phones, the next line saying how many it left out. Timers fire
// late, never early, so the schedule bounds the count from above; the
// timeout is long enough (25 retransmissions due) for at least three on
// a loaded machine.
func TestNotifyGivesUp(t *testing.T) {
	var logs syncBuf
	const t1, t2, timeout = 20 * time.Millisecond, 40 * time.Millisecond, time.Second
	s := New(Config{Recorder: &fakeRecorder{}, T1: t1, T2: t2,
		Timeout: timeout, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	conn := newFakeConn()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.handle(ctx, yealinkW52P, &net.UDPAddr{IP: net.IPv4(10, 1, 3, 239), Port: 5059}, conn)
	s.wg.Wait()
	notifies := 0
	for len(conn.out) > 0 {
		if bytes.HasPrefix((<-conn.out).b, []byte("NOTIFY")) {
			notifies++
		}
	}
	// Sent at 0, 20, 60, 100, ... 980 ms: at most 26 before 1 s.
	most := 2 + int((timeout-t1)/t2)
	if notifies < 4 || notifies > most {
		t.Errorf("%d NOTIFYs in %v with T1 %v, T2 %v, want 4 to %d", notifies, timeout, t1, t2, most)
	}
	if !strings.Contains(logs.String(), "no answer to the NOTIFY") {
		t.Errorf("giving up is not logged:\n%s", logs.String())
	}

	// Many phones (or forged sources) that never answer: one line a
	// minute, the next saying how many it left out.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	s.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	before := strings.Count(logs.String(), "no answer to the NOTIFY")
	for round := range 2 {
		for i := range 21 {
			msg := bytes.ReplaceAll(yealinkW52P, []byte("MAC001565f4f9e1"), fmt.Appendf(nil, "MAC0015651%d%04d", round, i))
			msg = bytes.ReplaceAll(msg, []byte("1536537630@"), fmt.Appendf(nil, "g%d-%d@", round, i))
			s.handle(ctx, msg, &net.UDPAddr{IP: net.IPv4(10, 1, byte(round), byte(i+1)), Port: 5059}, conn)
		}
		s.wg.Wait()
		if n := strings.Count(logs.String(), "no answer to the NOTIFY") - before; n != round+1 {
			t.Fatalf("round %d: %d lines for 21 unanswered NOTIFYs a round, want %d:\n%s", round, n, round+1, logs.String())
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
	}
	if !strings.Contains(logs.String(), "suppressed=20") {
		t.Errorf("the second line does not say how many it left out:\n%s", logs.String())
	}
}

// syncBuf collects log output written from several goroutines.
type syncBuf = testlog.Buffer

func TestMACFromUser(t *testing.T) {
	for user, want := range map[string]string{
		"MAC001565f4f9e1": "001565f4f9e1", "MAC%3a000413A1B2C3": "000413a1b2c3", "MAC%3A7C2F8030D21E": "7c2f8030d21e",
		"mac=00-04-13-a1-b2-c3": "000413a1b2c3", "MAC:000413a1b2c3": "000413a1b2c3", "001565f4f9e1": "",
		"MAC": "", "MAC%zz": "", "512": "", "MAC000000000000": "", "MAC001565f4f9e1x": "",
	} {
		if got := macFromUser(user); got != want {
			t.Errorf("macFromUser(%q) = %q, want %q", user, got, want)
		}
	}
}

func TestParseTolerance(t *testing.T) {
	// LF only, lower-case names, folded header, leading CRLF keep-alive.
	msg := "\r\nsubscribe sip:MAC001565f4f9e1@x SIP/2.0\nvia: SIP/2.0/UDP 10.0.0.1\n ;branch=z9hG4bK1\nCALL-ID: a\ncseq: 7 subscribe\n\n"
	m, err := parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if m.method != "SUBSCRIBE" || m.get("via") != "SIP/2.0/UDP 10.0.0.1 ;branch=z9hG4bK1" || m.get("call-id") != "a" {
		t.Errorf("%+v", m)
	}
	if n, meth, ok := m.cseq(); n != 7 || meth != "SUBSCRIBE" || !ok {
		t.Errorf("cseq %d %s %v", n, meth, ok)
	}
	if v, ok := topVia(m.get("via")); !ok || v.host != "10.0.0.1" || v.port != 0 {
		t.Errorf("via %+v %v", v, ok)
	}
	for _, bad := range []string{"", "SUBSCRIBE\r\n\r\n", "SUBSCRIBE sip:x SIP/3.0\r\n\r\n", "SIP/2.0 99 x\r\n\r\n",
		"SUBSCRIBE sip:x SIP/2.0\r\nno colon\r\n\r\n", "SUBSCRIBE sip:x SIP/2.0\r\nA: b\rInjected: x\r\n\r\n",
		"SUBSCRIBE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n"} {
		if _, err := parse([]byte(bad)); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, m := range [][]byte{yealinkW52P, snomDesk, snomM700, gigasetMaxwell, gigasetN870, audioCodes} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parse(b)
		if err != nil {
			return
		}
		m.cseq()
		for _, h := range m.headers {
			if strings.ContainsAny(h.value, "\r\n") || strings.ContainsAny(h.name, "\r\n") {
				t.Fatalf("header with a line break: %q", h)
			}
			uri, params, _ := nameAddr(h.value)
			parseURI(uri)
			param(params, "tag")
			stripTag(h.value)
			topVia(h.value)
			stampVia(h.value, &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1})
			if u, ok := parseURI(uri); ok {
				macFromUser(u.user)
			}
		}
		if u, ok := parseURI(m.uri); ok {
			macFromUser(u.user)
		}
	})
}

// FuzzHandle runs the whole handler on arbitrary datagrams: it must not
// panic, and whatever it sends must parse back and carry no stray line.
func FuzzHandle(f *testing.F) {
	for _, m := range [][]byte{yealinkW52P, snomDesk, snomM700, gigasetMaxwell, gigasetN870, audioCodes} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(Config{Recorder: &fakeRecorder{}})
		conn := newFakeConn()
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // retransmission goroutines stop after their first send
		s.handle(ctx, b, &net.UDPAddr{IP: net.IPv4(10, 1, 3, 239), Port: 5059}, conn)
		s.wg.Wait()
		for len(conn.out) > 0 {
			d := <-conn.out
			m, err := parse(d.b)
			if err != nil {
				t.Fatalf("sent an unparsable message: %v\n%q", err, d.b)
			}
			if m.isResponse && m.status != 200 || !m.isResponse && m.method != "NOTIFY" {
				t.Fatalf("sent something else than 200 OK or NOTIFY:\n%q", d.b)
			}
			if !strings.HasPrefix(d.to, "10.1.3.239:") {
				t.Fatalf("sent to %s, not to the phone", d.to)
			}
		}
	})
}

func slogTo(w *syncBuf) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// serveLoopback runs a server with cfg on a real unicast socket on
// 127.0.0.1 until the test ends, and returns its sockets.
func serveLoopback(t *testing.T, cfg Config) *Conns {
	t.Helper()
	conns, err := Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, conns) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return conns
}

// TestFloodDropsOldest: at the bound on open transactions a new
// SUBSCRIBE is still answered (its 200 OK and NOTIFY go out); the oldest
// transaction is dropped instead, its NOTIFY retransmissions stopped, and
// the table stays at the bound.
func TestFloodDropsOldest(t *testing.T) {
	var logs syncBuf
	s := New(Config{Recorder: &fakeRecorder{}, T1: time.Minute, T2: time.Minute, Timeout: time.Hour,
		PerSource: 100, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	s.maxTx = 3
	conn := newFakeConn()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.wg.Wait() }()
	from := &net.UDPAddr{IP: net.IPv4(10, 1, 3, 239), Port: 5059}
	var first *tx
	for i := range 5 {
		msg := bytes.ReplaceAll(yealinkW52P, []byte("MAC001565f4f9e1"), fmt.Appendf(nil, "MAC0015650000%02d", i))
		msg = bytes.ReplaceAll(msg, []byte("1536537630@"), fmt.Appendf(nil, "f%d@", i))
		s.handle(ctx, msg, from, conn)
		if i == 0 {
			s.mu.Lock()
			first = s.txs["f0@10.1.3.239"]
			s.mu.Unlock()
		}
	}
	oks, notifies := 0, 0
	for oks < 5 || notifies < 5 {
		m := conn.next(t)
		switch {
		case bytes.HasPrefix(m.b, []byte("SIP/2.0 200 OK")):
			oks++
		case bytes.HasPrefix(m.b, []byte("NOTIFY")):
			notifies++
		}
	}
	select {
	case <-first.answered:
	case <-time.After(10 * time.Second):
		t.Fatal("the dropped transaction's retransmissions did not stop")
	}
	s.mu.Lock()
	n, order := len(s.txs), s.order.Len()
	_, kept := s.txs["f4@10.1.3.239"]
	_, gone := s.txs["f1@10.1.3.239"]
	s.mu.Unlock()
	if n != 3 || order != 3 || !kept || gone {
		t.Fatalf("%d transactions (%d in order), newest kept %v, second dropped %v; want the 3 newest", n, order, kept, !gone)
	}
	if !strings.Contains(logs.String(), "too many open transactions") {
		t.Errorf("the drop is not logged:\n%s", logs.String())
	}
}
