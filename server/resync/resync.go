// Package resync sends the SIP requests that tell a phone to fetch its
// configuration now (or to reboot): one non-INVITE client transaction
// over UDP, from an ephemeral port of our own (so it works beside a PBX
// that holds port 5060), to the phone's last known address. It waits for
// the phone's final answer at most Budget (2 s), retransmitting on RFC
// 3261's timer E (500 ms, doubling) meanwhile. Which request a phone
// understands is its driver's business (vendors.Resyncer); this package
// only speaks SIP.
package resync

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// Budget is the longest a Send waits for the phone's answer.
const Budget = 2 * time.Second

// T1 is RFC 3261's round-trip estimate: the first retransmission interval.
const T1 = 500 * time.Millisecond

// T2 caps the retransmission interval of a non-INVITE request.
const T2 = 4 * time.Second

// Answer is what came back for one request.
type Answer struct {
	// Code and Reason are the phone's final response ("200", "OK"); Code
	// is 0 when no final response came within the budget.
	Code   int
	Reason string
	// Sent is how many times the request went out (1 + retransmissions).
	Sent int
}

// Sender sends resync requests. The zero value is ready; it is safe for
// concurrent use (every Send has its own socket).
type Sender struct {
	// Budget overrides the 2 s wait when positive (tests).
	Budget time.Duration
	// UserAgent is the User-Agent header; "autoprov" when empty.
	UserAgent string
}

// Send sends req to the phone at to and waits for its final answer, at
// most the budget (or until ctx ends). An error means the request could
// not be sent at all; no answer within the budget is not an error
// (Answer.Code 0).
func (s *Sender) Send(ctx context.Context, to netip.AddrPort, req vendors.SIPRequest) (Answer, error) {
	budget := s.Budget
	if budget <= 0 {
		budget = Budget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if !to.IsValid() || to.Port() == 0 {
		return Answer{}, fmt.Errorf("resync: invalid address %v", to)
	}
	if req.Method == "" || !token(req.Method) {
		return Answer{}, fmt.Errorf("resync: invalid method %q", req.Method)
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	local, err := localAddr(to)
	if err != nil {
		return Answer{}, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
	if err != nil {
		return Answer{}, fmt.Errorf("resync: open a socket: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	m := newMessage(req, to, conn.LocalAddr().(*net.UDPAddr).AddrPort(), s.UserAgent)
	dst := net.UDPAddrFromAddrPort(to)
	var a Answer
	send := func() error {
		if _, err := conn.WriteToUDP(m.bytes, dst); err != nil {
			return fmt.Errorf("resync: send to %s: %w", to, err)
		}
		a.Sent++
		return nil
	}
	if err := send(); err != nil {
		return a, err
	}
	// Timer E: retransmit at T1, then doubling up to T2, until a
	// response; after a provisional one, every T2 (RFC 3261 17.1.2.2).
	interval := T1
	next := time.Now().Add(interval)
	provisional := false
	buf := make([]byte, 65535)
	end, _ := ctx.Deadline()
	for {
		if err := conn.SetReadDeadline(earliest(next, end)); err != nil {
			return a, err
		}
		if ctx.Err() != nil {
			return a, nil
		}
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return a, nil
			}
			// The budget's end, not a retransmission: the read deadline
			// can pass before the context's own timer has fired.
			if ctx.Err() != nil || !end.IsZero() && !time.Now().Before(end) {
				return a, nil
			}
			if provisional {
				interval = T2
			} else {
				interval = min(2*interval, T2)
			}
			if err := send(); err != nil {
				// ICMP port unreachable surfaces here on some systems:
				// the phone is not listening; nothing more will come.
				return a, err
			}
			next = time.Now().Add(interval)
			continue
		}
		code, reason, ok := m.match(buf[:n])
		if !ok {
			continue
		}
		if code < 200 {
			if !provisional {
				provisional = true
				next = time.Now().Add(T2)
			}
			continue
		}
		a.Code, a.Reason = code, reason
		return a, nil
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// localAddr is the source address the kernel picks toward to (a
// connected UDP socket sends nothing).
func localAddr(to netip.AddrPort) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resync: no route to %s: %w", to, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// message is one request as sent, and what identifies its responses.
type message struct {
	bytes  []byte
	branch string
	callID string
	method string
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hostport formats an address for a SIP URI or Via (IPv6 in brackets).
func hostport(ap netip.AddrPort) string {
	return net.JoinHostPort(ap.Addr().String(), strconv.Itoa(int(ap.Port())))
}

func newMessage(req vendors.SIPRequest, to, from netip.AddrPort, ua string) *message {
	if ua == "" {
		ua = "autoprov"
	}
	m := &message{branch: "z9hG4bK" + randHex(12), method: req.Method}
	m.callID = randHex(16) + "@" + from.Addr().String()
	uri := "sip:" + hostport(to)
	if req.User != "" && userPart(req.User) {
		uri = "sip:" + req.User + "@" + hostport(to)
	}
	host := from.Addr().String()
	if from.Addr().Is6() {
		host = "[" + host + "]"
	}
	var b bytes.Buffer
	line := func(s ...string) {
		for _, p := range s {
			b.WriteString(p)
		}
		b.WriteString("\r\n")
	}
	line(req.Method, " ", uri, " SIP/2.0")
	line("Via: SIP/2.0/UDP ", hostport(from), ";branch=", m.branch, ";rport")
	line("Max-Forwards: 70")
	line("From: <sip:autoprov@", host, ">;tag=", randHex(8))
	line("To: <", uri, ">")
	line("Call-ID: ", m.callID)
	line("CSeq: 1 ", req.Method)
	line("Contact: <sip:autoprov@", hostport(from), ">")
	if req.Event != "" && printable(req.Event) {
		line("Event: ", req.Event)
	}
	line("User-Agent: ", ua)
	if len(req.Body) > 0 && req.ContentType != "" && printable(req.ContentType) {
		line("Content-Type: ", req.ContentType)
	}
	body := req.Body
	if req.ContentType == "" {
		body = nil
	}
	line("Content-Length: ", strconv.Itoa(len(body)))
	b.WriteString("\r\n")
	b.Write(body)
	m.bytes = b.Bytes()
	return m
}

// match parses a datagram as a response to m: its status, when the
// top Via's branch, the Call-ID and the CSeq method are m's.
func (m *message) match(b []byte) (code int, reason string, ok bool) {
	head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "SIP/2.0 ") {
		return 0, "", false
	}
	status := strings.TrimPrefix(lines[0], "SIP/2.0 ")
	c, r, _ := strings.Cut(status, " ")
	code, err := strconv.Atoi(c)
	if err != nil || len(c) != 3 || code < 100 || code > 699 {
		return 0, "", false
	}
	var via, callID, cseq string
	for _, l := range lines[1:] {
		name, value, found := strings.Cut(l, ":")
		if !found {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			if via == "" {
				via = value
			}
		case "call-id", "i":
			callID = value
		case "cseq":
			cseq = value
		}
	}
	if callID != m.callID || !strings.HasSuffix(strings.ToUpper(cseq), " "+m.method) {
		return 0, "", false
	}
	if !strings.Contains(";"+strings.ReplaceAll(via, " ", "")+";", ";branch="+m.branch+";") {
		return 0, "", false
	}
	if len(r) > 128 || !printable(r) {
		r = ""
	}
	return code, r, true
}

// token reports whether s is a SIP token made of letters only (a method).
func token(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return s != ""
}

// userPart reports whether s may stand as the user part of a SIP URI
// without escaping (what the core's extensions are made of).
func userPart(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("+*._-", c): // '#' would need escaping
		default:
			return false
		}
	}
	return s != ""
}

// printable reports whether s is printable ASCII (a header value).
func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// SendSIP is Send as the core's provision.SIPSender wants it: the final
// answer's code and reason (0 and "" when none came within the budget).
func (s *Sender) SendSIP(ctx context.Context, to netip.AddrPort, req vendors.SIPRequest) (int, string, error) {
	a, err := s.Send(ctx, to, req)
	return a.Code, a.Reason, err
}
