package httpd

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// hijacked is what fasthttp's hijack hands over: reads through the reader
// that buffered the connection, the rest to the connection itself.
type hijacked struct {
	net.Conn
	r io.Reader
}

func (h hijacked) Read(p []byte) (int, error) { return h.r.Read(p) }

// loopbackPair is a TCP connection on loopback: the client's end and the
// server's (raw, with a 10 s deadline), both closed at the test's end.
func loopbackPair(t *testing.T) (client, raw net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	raw, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	return client, raw
}

// TestFlattenKeepsEveryByteAndNoReader: a connection hijacked again and
// again (secret after secret on one kept-alive connection) comes out of
// flatten as one laneConn on the connection itself, reading on exactly
// where the hijacked reader stood: what it had buffered, what the
// connection before it still held, then the connection.
func TestFlattenKeepsEveryByteAndNoReader(t *testing.T) {
	client, raw := loopbackPair(t)

	lc := &laneConn{Conn: raw, pre: []byte("pre:"), ip: "127.0.0.1"}
	var want []byte
	for round := range 50 {
		chunk := []byte("round-" + string(rune('a'+round%26)) + "-pipelined-bytes;")
		if _, err := client.Write(chunk); err != nil {
			t.Fatal(err)
		}
		want = append(want, chunk...)
		br := bufio.NewReaderSize(lc, 16) // fasthttp's reader over the connection
		head := make([]byte, 2)
		if round == 0 {
			want = append([]byte("pre:"), want...)
		}
		if _, err := io.ReadFull(br, head); err != nil { // the request it served
			t.Fatal(err)
		}
		if string(head) != string(want[:2]) {
			t.Fatalf("round %d: read %q, want %q", round, head, want[:2])
		}
		want = want[2:]
		// br holds some of the chunk, the socket perhaps the rest:
		// flatten takes what is ready, the rest comes from raw later.
		lc = flatten(hijacked{raw, br}, raw, lc)
		if lc.r != nil {
			t.Fatalf("round %d: the new connection reads through the hijack (stacked)", round)
		}
		if lc.ip != "127.0.0.1" {
			t.Fatalf("round %d: the client's address was not kept", round)
		}
	}
	if _, err := client.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "after"...)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(lc, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("read %q\nwant %q", got, want)
	}
}

// TestFlattenPastItsBoundLosesNothing: when the hijacked reader holds
// more than flattenMax (a flood of pipelined bytes behind a transfer),
// flatten does not copy it all; the new connection reads on through the
// hijacked one, every byte in order.
func TestFlattenPastItsBoundLosesNothing(t *testing.T) {
	client, raw := loopbackPair(t)
	flood := make([]byte, 3*flattenMax)
	for i := range flood {
		flood[i] = byte('a' + i%26)
	}
	if _, err := client.Write(flood); err != nil {
		t.Fatal(err)
	}
	lc := &laneConn{Conn: raw}
	br := bufio.NewReaderSize(lc, len(flood))
	if _, err := br.Peek(len(flood)); err != nil { // the whole flood buffered, as fasthttp might
		t.Fatal(err)
	}
	if _, err := io.ReadFull(br, make([]byte, 1)); err != nil { // the request it served
		t.Fatal(err)
	}
	next := flatten(hijacked{raw, br}, raw, lc)
	if next.r == nil {
		t.Fatalf("flatten read %d bytes, past its bound of %d, and left nothing to read through", len(next.pre), flattenMax)
	}
	got := make([]byte, len(flood)-1)
	if _, err := io.ReadFull(next, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(flood[1:]) {
		t.Fatal("bytes lost or reordered past flatten's bound")
	}
}

// TestDeadlineNext: a lane connection's deadline is moved only when the
// one asked falls outside what is set, never falls before the time asked
// and at most two slacks after it; no deadline clears one set.
func TestDeadlineNext(t *testing.T) {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const slack = time.Second
	var d time.Time // as set
	set := func(t0 time.Time) {
		if got, ok := nextDeadline(d, t0, slack); ok {
			d = got
		}
	}
	moves := 0
	for ms := range 10_000 { // asked 10 s ahead, every millisecond for 10 s
		asked := base.Add(time.Duration(ms)*time.Millisecond + 10*time.Second)
		got, ok := nextDeadline(d, asked, slack)
		if ok {
			moves++
			d = got
		}
		if d.Before(asked) || d.Sub(asked) > 2*slack {
			t.Fatalf("asked %v, set %v", asked, d)
		}
	}
	if moves > 11 {
		t.Fatalf("moved %d times in 10 s with a slack of 1 s", moves)
	}
	earlier := d.Add(-5 * time.Second) // a shorter timeout: moved at once
	if got, ok := nextDeadline(d, earlier, slack); !ok || got.Before(earlier) || got.Sub(earlier) > slack {
		t.Fatalf("asked %v earlier, got %v %v", earlier, got, ok)
	}
	set(earlier)
	if _, ok := nextDeadline(d, time.Time{}, slack); !ok {
		t.Fatal("clearing a deadline set was skipped")
	}
	set(time.Time{})
	if !d.IsZero() {
		t.Fatal("the deadline was not cleared")
	}
	if _, ok := nextDeadline(d, time.Time{}, slack); ok {
		t.Fatal("clearing a clear deadline again moved it")
	}
}

// deadlineConn records the write deadline set on it.
type deadlineConn struct {
	net.Conn
	write time.Time
}

func (d *deadlineConn) SetDeadline(t time.Time) error      { d.write = t; return nil }
func (d *deadlineConn) SetWriteDeadline(t time.Time) error { d.write = t; return nil }
func (d *deadlineConn) SetReadDeadline(time.Time) error    { return nil }

// TestLaneConnKnowsClearedDeadlines: fasthttp sets a write deadline before
// a hijack and then clears both (SetDeadline); the write deadline the
// hijack then asks for is set, not skipped as the one c set before.
func TestLaneConnKnowsClearedDeadlines(t *testing.T) {
	raw := &deadlineConn{}
	c := &laneConn{Conn: raw, lim: newLaneLimits(10*time.Second, time.Minute, time.Minute)}
	now := time.Now()
	if err := c.SetWriteDeadline(now.Add(time.Minute)); err != nil || raw.write.IsZero() {
		t.Fatalf("the first write deadline was not set: %v", err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil || !raw.write.IsZero() {
		t.Fatalf("the deadlines were not cleared: %v", err)
	}
	if err := c.SetWriteDeadline(now.Add(time.Minute + time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if raw.write.IsZero() {
		t.Fatal("the write deadline asked after the deadlines were cleared was skipped: the write has none")
	}
}
