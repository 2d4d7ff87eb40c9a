package tftpd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// The one-time disclosure as the TFTP edge drives it, over a fake core
// with one disclosure window: the first request in the open window gets
// the body with the secret and a claim that lapses after lease (as the
// core's does); Sending consumes the window if the claim still holds; End
// releases a claim that sent nothing.

const secretMark = "password=Tftp-Secret-4711"

// windowProvider is a fake core serving one file with one window.
type windowProvider struct {
	secret, plain []byte
	lease         time.Duration
	lose          bool // Sending reports the claim lost

	mu     sync.Mutex
	open   bool
	holder int // the claiming transfer, 0: none
	until  time.Time
	next   int
	sent   int // transfers whose Sending succeeded: they carried the secret
	ends   chan windowEnd
}

type windowEnd struct {
	sent bool
	err  error
}

func newWindow(blocks int) *windowProvider {
	plain := randomBody(blocks*512 - 100)
	secret := append([]byte(secretMark+"\n"), plain...)
	return &windowProvider{secret: secret, plain: plain, lease: time.Minute, open: true, ends: make(chan windowEnd, 10)}
}

func (w *windowProvider) Provide(_ context.Context, req vendors.Request) (*provision.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if !w.open || (w.holder != 0 && now.Before(w.until)) {
		return provision.NewResult(&vendors.File{Name: req.Path, Body: w.plain}, false, nil), nil
	}
	w.next++
	tok := w.next
	w.holder, w.until = tok, now.Add(w.lease)
	return provision.NewResultWith(&vendors.File{Name: req.Path, Body: w.secret}, true, provision.Hooks{
		Sending: func() error {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.lose || !w.open || w.holder != tok {
				return errors.New("claim lost")
			}
			w.open = false
			w.sent++
			return nil
		},
		End: func(sent bool, err error) {
			w.mu.Lock()
			if !sent && w.open && w.holder == tok {
				w.holder = 0
			}
			w.mu.Unlock()
			w.ends <- windowEnd{sent, err}
		},
	}), nil
}

func (w *windowProvider) state() (open bool, sent int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.open, w.sent
}

func (w *windowProvider) waitEnd(t *testing.T, within time.Duration) windowEnd {
	t.Helper()
	select {
	case e := <-w.ends:
		return e
	case <-time.After(within):
		t.Fatalf("no End within %v", within)
		return windowEnd{}
	}
}

// TestNoAckGetsTheSecretOnce: a client that takes block 1 (which carries
// the secret) and never acknowledges it consumes the window: the end is
// recorded as incomplete and the next fetch gets no secret.
func TestNoAckGetsTheSecretOnce(t *testing.T) {
	w := newWindow(8)
	ts := startProvider(t, w, nil, fastOpts...)

	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("sec.cfg", "octet"))
	op, payload := c.Recv(t, waitLong)
	if op != looptest.OpDATA || binary.BigEndian.Uint16(payload) != 1 || !bytes.HasPrefix(payload[2:], []byte(secretMark)) {
		t.Fatalf("want DATA 1 with the secret, got op %d", op)
	}
	end := w.waitEnd(t, waitLong)
	if !end.sent || end.err == nil {
		t.Fatalf("End(sent=%v, %v), want sent and an error", end.sent, end.err)
	}
	if open, sent := w.state(); open || sent != 1 {
		t.Fatalf("after the unacknowledged transfer: open=%v sent=%d, want consumed once", open, sent)
	}
	got, _, err := pinGet(pinClient(t, ts.addr), "sec.cfg")
	if err != nil || bytes.Contains(got, []byte(secretMark)) || !bytes.Equal(got, w.plain) {
		t.Fatalf("second fetch: %v, secret %v", err, bytes.Contains(got, []byte(secretMark)))
	}
	if _, sent := w.state(); sent != 1 {
		t.Fatalf("secret sent %d times", sent)
	}
}

// TestDropAfterFirstBlock: a client that acknowledges block 1 and then
// goes away has consumed the window just the same.
func TestDropAfterFirstBlock(t *testing.T) {
	w := newWindow(8)
	ts := startProvider(t, w, nil, fastOpts...)

	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("sec.cfg", "octet", "blksize", "512", "tsize", "0"))
	if op, payload := c.Recv(t, waitLong); op != looptest.OpOACK || parseOptions(payload)["tsize"] != strconv.Itoa(len(w.secret)) {
		t.Fatalf("want OACK with tsize %d, got op %d %q", len(w.secret), op, payload)
	}
	c.Send(t, looptest.ACK(0))
	op, payload := c.Recv(t, waitLong)
	if op != looptest.OpDATA || !bytes.HasPrefix(payload[2:], []byte(secretMark)) {
		t.Fatalf("want DATA 1 with the secret, got op %d", op)
	}
	c.Send(t, looptest.ACK(1))
	if op, payload := c.Recv(t, waitLong); op != looptest.OpDATA || binary.BigEndian.Uint16(payload) != 2 {
		t.Fatalf("want DATA 2, got op %d", op)
	}
	// Gone.
	end := w.waitEnd(t, waitLong)
	if !end.sent || end.err == nil {
		t.Fatalf("End(sent=%v, %v), want sent and an error", end.sent, end.err)
	}
	if open, sent := w.state(); open || sent != 1 {
		t.Fatalf("open=%v sent=%d, want consumed once", open, sent)
	}
	if got, _, _ := pinGet(pinClient(t, ts.addr), "sec.cfg"); bytes.Contains(got, []byte(secretMark)) {
		t.Fatal("the second fetch carries the secret")
	}
}

// TestOACKNeverAcknowledged: the OACK's tsize tells the length of the
// file with the secret, which differs from the file without (an outsider
// would learn whether the window is open, as HEAD once told). So an OACK
// for a file with a secret counts as its first byte: the window is
// consumed (incomplete) even if the OACK is never acknowledged, and the
// next fetch gets no secret.
func TestOACKNeverAcknowledged(t *testing.T) {
	w := newWindow(4)
	ts := startProvider(t, w, nil, fastOpts...)
	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("sec.cfg", "octet", "tsize", "0"))
	op, payload := c.Recv(t, waitLong)
	if op != looptest.OpOACK {
		t.Fatalf("op %d, want OACK", op)
	}
	if got := parseOptions(payload)["tsize"]; got != strconv.Itoa(len(w.secret)) {
		t.Fatalf("tsize %q, want %d", got, len(w.secret))
	}
	end := w.waitEnd(t, waitLong)
	if !end.sent || end.err == nil {
		t.Fatalf("End(sent=%v, %v); want sent and incomplete: the OACK told the secret file's size", end.sent, end.err)
	}
	if open, sent := w.state(); open || sent != 1 {
		t.Fatalf("open=%v sent=%d, want the window consumed once", open, sent)
	}
	got, _, err := pinGet(pinClient(t, ts.addr), "sec.cfg")
	if err != nil || !bytes.Equal(got, w.plain) {
		t.Fatalf("the next fetch: %v, %d bytes; want the file without the secret", err, len(got))
	}
}

// TestOACKWithdrawnSendsNothing: when the claim is lost before the OACK
// that would tell the secret file's size, the client gets a bare error
// and no OACK.
func TestOACKWithdrawnSendsNothing(t *testing.T) {
	w := newWindow(4)
	w.lose = true
	ts := startProvider(t, w, nil, fastOpts...)
	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("sec.cfg", "octet", "tsize", "0"))
	op, payload, err := c.TryRecv(waitLong)
	if err != nil || op != looptest.OpERROR || bytes.Contains(payload, []byte("claim")) {
		t.Fatalf("op %d %q %v; want a bare ERROR", op, payload, err)
	}
	if end := w.waitEnd(t, waitLong); end.sent {
		t.Error("End says bytes were sent")
	}
}

// TestClaimLostSendsNoBlock: when the core withdraws the file at the last
// moment (Sending fails), the phone gets a generic error and no DATA.
func TestClaimLostSendsNoBlock(t *testing.T) {
	w := newWindow(4)
	w.lose = true
	ts := startProvider(t, w, nil, fastOpts...)
	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("sec.cfg", "octet"))
	op, payload, err := c.TryRecv(waitLong)
	if err != nil || op != looptest.OpERROR || !strings.Contains(string(payload), "not available") || bytes.Contains(payload, []byte("claim")) {
		t.Fatalf("op %d %q %v; want a bare ERROR not available", op, payload, err)
	}
	if end := w.waitEnd(t, waitLong); end.sent {
		t.Error("End says bytes were sent")
	}
	if !strings.Contains(ts.log.String(), "refused=") {
		t.Errorf("the withdrawn file is not logged:\n%s", ts.log.String())
	}
}

// TestSlowTransferOutlivesTheLease: a 200-block transfer that lasts far
// longer than the claim's lease, and a fetch in the middle of it after
// the lease lapsed: exactly one of them carries the secret.
func TestSlowTransferOutlivesTheLease(t *testing.T) {
	w := newWindow(200)
	w.lease = 100 * time.Millisecond
	ts := startProvider(t, w, nil, WithTimeout(5*time.Second), WithRetries(3)) // no retransmission on a loaded machine

	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("sec.cfg", "octet"))
	var got []byte
	begin := time.Now()
	for block := uint16(1); ; block++ {
		op, payload := c.Recv(t, waitLong)
		if op != looptest.OpDATA || binary.BigEndian.Uint16(payload) != block {
			t.Fatalf("want DATA %d, got op %d", block, op)
		}
		got = append(got, payload[2:]...)
		if block == 100 {
			// Halfway, long after the lease lapsed, another fetch.
			if d := time.Since(begin); d < 2*w.lease {
				time.Sleep(2*w.lease - d)
			}
			other, _, err := pinGet(pinClient(t, ts.addr), "sec.cfg")
			if err != nil || bytes.Contains(other, []byte(secretMark)) {
				t.Fatalf("the parallel fetch: %v, carries the secret: %v", err, bytes.Contains(other, []byte(secretMark)))
			}
		}
		time.Sleep(time.Millisecond) // a slow phone
		c.Send(t, looptest.ACK(block))
		if len(payload)-2 < 512 {
			break
		}
	}
	if !bytes.Equal(got, w.secret) {
		t.Fatalf("the slow transfer got %d bytes, want the %d with the secret", len(got), len(w.secret))
	}
	if d := time.Since(begin); d < 2*w.lease {
		t.Fatalf("the transfer took %v, not longer than the lease %v", d, w.lease)
	}
	if end := w.waitEnd(t, waitLong); !end.sent || end.err != nil {
		t.Errorf("End(sent=%v, %v), want a complete transfer", end.sent, end.err)
	}
	if _, sent := w.state(); sent != 1 {
		t.Fatalf("the secret went out %d times", sent)
	}
}
