package tftpd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pin/tftp/v3"

	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/internal/testlog"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// fakeProvider serves a fixed map of path -> body and records every
// request and every Finish call.
type fakeProvider struct {
	files map[string][]byte
	err   error // returned for every path missing from files, if set

	mu       sync.Mutex
	reqs     []vendors.Request
	paths    map[*provision.Result]string
	finishes []finishCall
	finished chan finishCall // every Finish call is also sent here
	hung     chan error      // how each hang.cfg request's context ended
}

type finishCall struct {
	Path      string
	Delivered bool
}

func newFake(files map[string][]byte) *fakeProvider {
	return &fakeProvider{
		files:    files,
		paths:    map[*provision.Result]string{},
		finished: make(chan finishCall, 1000),
		hung:     make(chan error, 10),
	}
}

func (f *fakeProvider) Provide(ctx context.Context, req vendors.Request) (*provision.Result, error) {
	if req.Path == "hang.cfg" { // a core waiting on a hung database
		<-ctx.Done()
		f.hung <- ctx.Err()
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if req.Path == "panic.cfg" {
		panic("fake provider panics")
	}
	body, ok := f.files[req.Path]
	if !ok {
		if f.err != nil {
			return nil, f.err
		}
		return nil, fmt.Errorf("no file %q: %w", req.Path, vendors.ErrNotFound)
	}
	res := &provision.Result{File: &vendors.File{Name: req.Path, Body: body}, ETag: `"x"`}
	f.paths[res] = req.Path
	return res, nil
}

// observe is installed as Server.finished: provision.Result has no
// exported way to hook Finish, so the fake sees Finish calls through it.
func (f *fakeProvider) observe(res *provision.Result, delivered bool) {
	f.mu.Lock()
	c := finishCall{Path: f.paths[res], Delivered: delivered}
	delete(f.paths, res) // a second Finish for the same Result would record Path ""
	f.finishes = append(f.finishes, c)
	f.mu.Unlock()
	f.finished <- c
}

func (f *fakeProvider) requests() []vendors.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vendors.Request(nil), f.reqs...)
}

func (f *fakeProvider) finishCalls() []finishCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]finishCall(nil), f.finishes...)
}

// waitFinish waits for the next Finish call.
func (f *fakeProvider) waitFinish(t *testing.T, within time.Duration) finishCall {
	t.Helper()
	select {
	case c := <-f.finished:
		return c
	case <-time.After(within):
		t.Fatalf("no Finish call within %v", within)
		return finishCall{}
	}
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer = testlog.Buffer

// testServer is a Server running on 127.0.0.1:0.
type testServer struct {
	addr   string // host:port
	port   string
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// fastOpts make an abandoned transfer end in about three seconds: short
// for a test, yet a client the loaded machine holds up for a second is
// not taken for one that went away.
var fastOpts = []Option{WithTimeout(time.Second), WithRetries(2)}

// waitLong bounds a wait for what must happen (a packet, a Finish, Serve
// returning): generous, since a loaded machine may be slow; it is only
// reached when the awaited thing never comes.
const waitLong = 30 * time.Second

func start(t *testing.T, f *fakeProvider, opts ...Option) *testServer {
	t.Helper()
	return startProvider(t, f, f.observe, opts...)
}

// startProvider runs a Server over any Provider; observe (may be nil)
// sees every end of a transfer.
func startProvider(t *testing.T, p Provider, observe func(*provision.Result, bool), opts ...Option) *testServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := New(p, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	srv.finished = observe
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{addr: conn.LocalAddr().String(), log: logs, cancel: cancel, done: make(chan error, 1)}
	_, ts.port, _ = net.SplitHostPort(ts.addr)
	go func() { ts.done <- srv.Serve(ctx, conn) }()
	ts.waitReady(t)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ts.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// waitReady returns once the server answers. pin/tftp turns on the
// socket's interface information only when its Serve starts; a request
// queued before that is served with 512-byte blocks, whatever it asked for.
// A WRQ is the probe: it is refused at once and never reaches the Provider.
func (ts *testServer) waitReady(t *testing.T) {
	t.Helper()
	c := looptest.DialTFTP(t, ts.addr)
	p := looptest.RRQ("ready", "octet")
	p[1] = 2 // WRQ
	c.Send(t, p)
	if op, _, err := c.TryRecv(waitLong); err != nil || op != looptest.OpERROR {
		t.Fatalf("server not ready: op %d, %v", op, err)
	}
}

func randomBody(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 42))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func pinClient(t *testing.T, addr string) *tftp.Client {
	t.Helper()
	c, err := tftp.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(time.Second)
	c.SetRetries(3)
	return c
}

// pinGet fetches name with the pin/tftp client.
func pinGet(c *tftp.Client, name string) ([]byte, fixedSize, error) {
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return nil, fixedSize{}, err
	}
	// WriteTo forgets the options the server acknowledged: read tsize first.
	size := fixedSize{}
	size.n, size.ok = wt.(tftp.IncomingTransfer).Size()
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, size, err
	}
	return buf.Bytes(), size, nil
}

// fixedSize is the tsize a pin/tftp client learnt from the OACK.
type fixedSize struct {
	n  int64
	ok bool
}

func (s fixedSize) Size() (int64, bool) { return s.n, s.ok }

func TestFetchPinClient(t *testing.T) {
	big := randomBody(5000) // 10 blocks of 512, 4 of 1428
	even := randomBody(1024)
	f := newFake(map[string][]byte{"y000000000028.cfg": big, "even.cfg": even})
	ts := start(t, f)

	for _, tc := range []struct {
		name, path string
		body       []byte
		blksize    int
	}{
		{"y000000000028.cfg", "y000000000028.cfg", big, 0},
		{"/y000000000028.cfg", "y000000000028.cfg", big, 0},
		{"prov/y000000000028.cfg", "y000000000028.cfg", big, 1428},
		{"/prov/y000000000028.cfg", "y000000000028.cfg", big, 1428},
		{"even.cfg", "even.cfg", even, 0}, // an exact multiple: ends with an empty block
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pinClient(t, ts.addr)
			c.RequestTSize(true)
			if tc.blksize != 0 {
				c.SetBlockSize(tc.blksize)
			}
			got, it, err := pinGet(c, tc.name)
			if err != nil {
				t.Fatalf("get %q: %v", tc.name, err)
			}
			if !bytes.Equal(got, tc.body) {
				t.Fatalf("get %q: got %d bytes, want %d identical bytes", tc.name, len(got), len(tc.body))
			}
			if n, ok := it.Size(); !ok || n != int64(len(tc.body)) {
				t.Errorf("tsize = %d, %v; want %d", n, ok, len(tc.body))
			}
			if c := f.waitFinish(t, waitLong); c != (finishCall{tc.path, true}) {
				t.Errorf("Finish = %+v, want {%s true}", c, tc.path)
			}
			reqs := f.requests()
			want := vendors.Request{Path: tc.path, RemoteAddr: "127.0.0.1", Transport: "tftp", Method: vendors.MethodGet}
			if r := reqs[len(reqs)-1]; !reflect.DeepEqual(r, want) {
				t.Errorf("request = %+v, want %+v", r, want)
			}
		})
	}
	if !strings.Contains(ts.log.String(), "tftp transfer") || !strings.Contains(ts.log.String(), "bytes=5000") {
		t.Errorf("transfer not logged:\n%s", ts.log.String())
	}
}

// TestOptionsNegotiated checks the OACK on the wire: blksize 1428 and the
// tsize of the body, then takes the whole file in 1428-byte blocks.
func TestOptionsNegotiated(t *testing.T) {
	body := randomBody(5000)
	f := newFake(map[string][]byte{"a.cfg": body})
	ts := start(t, f)

	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("a.cfg", "octet", "blksize", "1428", "tsize", "0"))
	op, payload := c.Recv(t, waitLong)
	if op != looptest.OpOACK {
		t.Fatalf("opcode %d, want OACK; payload %q", op, payload)
	}
	opts := parseOptions(payload)
	if opts["blksize"] != "1428" || opts["tsize"] != strconv.Itoa(len(body)) {
		t.Fatalf("OACK options %v, want blksize=1428 tsize=%d", opts, len(body))
	}
	c.Send(t, looptest.ACK(0))
	var got []byte
	for block := uint16(1); ; block++ {
		op, payload := c.Recv(t, waitLong)
		if op != looptest.OpDATA || binary.BigEndian.Uint16(payload) != block {
			t.Fatalf("want DATA %d, got op %d %x", block, op, payload[:min(len(payload), 2)])
		}
		data := payload[2:]
		got = append(got, data...)
		c.Send(t, looptest.ACK(block))
		if len(data) < 1428 {
			break
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes, want %d identical", len(got), len(body))
	}
	if c := f.waitFinish(t, waitLong); c != (finishCall{"a.cfg", true}) {
		t.Errorf("Finish = %+v", c)
	}
}

func TestFetchTFTPHPA(t *testing.T) {
	bin := tftpHPA(t)
	body := randomBody(3000)
	f := newFake(map[string][]byte{"SEP001122334455.cnf.xml": body})
	ts := start(t, f)
	dir := t.TempDir()

	for i, name := range []string{"SEP001122334455.cnf.xml", "/prov/SEP001122334455.cnf.xml"} {
		local := filepath.Join(dir, strconv.Itoa(i))
		out, err := exec.Command(bin, "127.0.0.1", ts.port, "-m", "binary", "-c", "get", name, local).CombinedOutput()
		if err != nil {
			t.Fatalf("tftp get %s: %v\n%s", name, err, out)
		}
		got, err := os.ReadFile(local)
		if err != nil {
			t.Fatalf("tftp get %s: %v\n%s", name, err, out)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("tftp get %s: got %d bytes, want %d identical; output %s", name, len(got), len(body), out)
		}
		if c := f.waitFinish(t, waitLong); c != (finishCall{"SEP001122334455.cnf.xml", true}) {
			t.Errorf("Finish = %+v", c)
		}
	}

	// An unknown file: tftp-hpa prints the server's error text.
	local := filepath.Join(dir, "missing")
	out, _ := exec.Command(bin, "127.0.0.1", ts.port, "-m", "binary", "-c", "get", "nope.cfg", local).CombinedOutput()
	if !strings.Contains(string(out), "file not found") {
		t.Errorf("tftp get nope.cfg: output %q lacks %q", out, "file not found")
	}
}

// skipOrFail skips a test that lacks a tool, except in CI (CI set), where
// .ci/run must install it and the test fails instead.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("in CI: "+format+" (.ci/run must install it)", args...)
	}
	t.Skipf(format, args...)
}

func tftpHPA(t *testing.T) string {
	t.Helper()
	const bin = "/usr/bin/tftp"
	if _, err := os.Stat(bin); err != nil {
		skipOrFail(t, "tftp-hpa client not installed (%v): install the tftp-hpa package to run this test", err)
	}
	return bin
}

func TestRefusedNames(t *testing.T) {
	f := newFake(map[string][]byte{"etc/passwd": []byte("root:x:0:0")})
	ts := start(t, f)
	c := pinClient(t, ts.addr)
	for _, name := range []string{
		"../etc/passwd",
		"a/../../b",
		"/prov/../etc/passwd",
		"..",
		"//etc/passwd",
		"/prov//etc/passwd",
		"C:/Windows/win.ini",
		"c:passwd",
		`a\b.cfg`,
		`\etc\passwd`,
		"a\x01b.cfg",
		"a\x7fb.cfg",
		"a\nb.cfg",
		"a\u0085b.cfg", // C1 (NEL)
		"a\u2028b.cfg", // LINE SEPARATOR
		"a\ufffeb.cfg", // noncharacter
		"\xff.cfg",
		"/",
		"prov/",
		strings.Repeat("a", 256),
	} {
		_, _, err := pinGet(c, name)
		if err == nil || !strings.Contains(err.Error(), "access violation") {
			t.Errorf("get %q: err %v, want access violation", name, err)
		}
	}
	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("Provider called for refused names: %+v", reqs)
	}
	if !strings.Contains(ts.log.String(), "tftp refused") {
		t.Errorf("refusals not logged:\n%s", ts.log.String())
	}
}

func TestErrorsLeakNothing(t *testing.T) {
	const secret = "sip_password=hunter2 db=/var/lib/autoprov"
	f := newFake(nil)
	ts := start(t, f)
	c := pinClient(t, ts.addr)

	f.mu.Lock()
	f.err = fmt.Errorf("device 001565aabbcc %s: %w", secret, vendors.ErrNotFound)
	f.mu.Unlock()
	_, _, err := pinGet(c, "001565aabbcc.cfg")
	if err == nil || !strings.Contains(err.Error(), "file not found") {
		t.Fatalf("err %v, want file not found", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "001565aabbcc ") {
		t.Errorf("client error leaks detail: %v", err)
	}

	f.mu.Lock()
	f.err = errors.New("store: " + secret)
	f.mu.Unlock()
	_, _, err = pinGet(c, "001565aabbcc.cfg")
	if err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("err %v, want not available", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "store") {
		t.Errorf("client error leaks detail: %v", err)
	}

	// The detail is in the log, with path and remote.
	logs := ts.log.String()
	for _, want := range []string{"hunter2", "path=001565aabbcc.cfg", "remote=127.0.0.1"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if calls := f.finishCalls(); len(calls) != 0 {
		t.Errorf("Finish called without a Result: %+v", calls)
	}
}

func TestWriteRefused(t *testing.T) {
	f := newFake(map[string][]byte{"a.cfg": []byte("x")})
	ts := start(t, f)

	c := pinClient(t, ts.addr)
	rf, err := c.Send("a.cfg", "octet")
	if err == nil {
		_, err = rf.ReadFrom(strings.NewReader("evil config"))
	}
	// Refused at once, with an error: a WRQ left unanswered would end in
	// the client's timeout instead.
	if err == nil || !strings.Contains(err.Error(), "access violation") {
		t.Errorf("pin/tftp Send: err %v, want access violation", err)
	}

	if bin := tftpHPAOptional(t); bin != "" {
		local := filepath.Join(t.TempDir(), "upload.cfg")
		if err := os.WriteFile(local, []byte("evil config"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "127.0.0.1", ts.port, "-m", "binary", "-c", "put", local, "a.cfg").CombinedOutput()
		if !strings.Contains(string(out), "access violation") {
			t.Errorf("tftp put: output %q, want an access violation error", out)
		}
	} else {
		t.Log("tftp-hpa client not installed: put not tested")
	}

	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("Provider called on a write: %+v", reqs)
	}
	// Nothing was written: the file still reads as before.
	got, _, err := pinGet(c, "a.cfg")
	if err != nil || string(got) != "x" {
		t.Errorf("after WRQ: get a.cfg = %q, %v", got, err)
	}
	if !strings.Contains(ts.log.String(), "tftp write refused") {
		t.Errorf("write not logged:\n%s", ts.log.String())
	}
}

// tftpHPAOptional returns the tftp-hpa client, or "" without it; in CI
// its absence fails the test.
func tftpHPAOptional(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/tftp"); err != nil {
		if os.Getenv("CI") != "" {
			t.Errorf("in CI: tftp-hpa client not installed (%v) (.ci/run must install it)", err)
		}
		return ""
	}
	return "/usr/bin/tftp"
}

// TestAbandonedTransfer: a phone that takes block 1 and never ACKs gets
// block 1 again, then the server gives up (after (retries+1)*timeout)
// with Finish(false).
func TestAbandonedTransfer(t *testing.T) {
	f := newFake(map[string][]byte{"big.cfg": randomBody(4000)})
	start := start(t, f, fastOpts...)

	c := looptest.DialTFTP(t, start.addr)
	c.Send(t, looptest.RRQ("big.cfg", "octet"))
	op, payload := c.Recv(t, waitLong)
	if op != looptest.OpDATA || binary.BigEndian.Uint16(payload) != 1 || len(payload) != 2+512 {
		t.Fatalf("want DATA 1 of 512 bytes, got op %d len %d", op, len(payload))
	}
	// Never ACK. The server sends block 1 again, then gives up.
	if op, again := c.Recv(t, waitLong); op != looptest.OpDATA || binary.BigEndian.Uint16(again) != 1 {
		t.Fatalf("want DATA 1 again (the retransmission), got op %d", op)
	}
	call := f.waitFinish(t, waitLong)
	if call != (finishCall{"big.cfg", false}) {
		t.Errorf("Finish = %+v, want {big.cfg false}", call)
	}
	if !strings.Contains(start.log.String(), "ok=false") {
		t.Errorf("failed transfer not logged:\n%s", start.log.String())
	}
}

func TestConcurrentFetches(t *testing.T) {
	files := map[string][]byte{}
	for i := range 50 {
		files[fmt.Sprintf("%012x.cfg", i)] = randomBody(1000 + 97*i)
	}
	f := newFake(files)
	ts := start(t, f)

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for name, body := range files {
		wg.Go(func() {
			c, err := tftp.NewClient(ts.addr)
			if err != nil {
				errs <- err
				return
			}
			c.SetTimeout(2 * time.Second)
			c.SetBlockSize(1428)
			got, _, err := pinGet(c, "/prov/"+name)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				return
			}
			if !bytes.Equal(got, body) {
				errs <- fmt.Errorf("%s: got %d bytes, want %d identical", name, len(got), len(body))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for range 50 {
		c := f.waitFinish(t, waitLong)
		if !c.Delivered {
			t.Errorf("Finish(false) for %s", c.Path)
		}
		seen[c.Path] = true
	}
	if len(seen) != 50 {
		t.Errorf("Finish for %d distinct files, want 50", len(seen))
	}
}

// TestShutdownLetsTransferFinish cancels Serve's context during a slow
// transfer: the transfer completes, then Serve returns.
func TestShutdownLetsTransferFinish(t *testing.T) {
	body := randomBody(512*8 + 100) // 9 blocks
	f := newFake(map[string][]byte{"slow.cfg": body})
	// A timeout no stall of the loaded machine reaches: a retransmitted
	// block would not be the next one.
	ts := start(t, f, WithTimeout(5*time.Second), WithRetries(2))

	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("slow.cfg", "octet"))
	var got []byte
	for block := uint16(1); ; block++ {
		op, payload := c.Recv(t, waitLong)
		if op != looptest.OpDATA || binary.BigEndian.Uint16(payload) != block {
			t.Fatalf("want DATA %d, got op %d", block, op)
		}
		got = append(got, payload[2:]...)
		if block == 2 {
			ts.cancel() // shut down mid-transfer
		}
		if block >= 2 {
			select {
			case err := <-ts.done:
				t.Fatalf("Serve returned (%v) during a transfer", err)
			case <-time.After(50 * time.Millisecond): // a slow phone
			}
		}
		c.Send(t, looptest.ACK(block))
		if len(payload)-2 < 512 {
			break
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes, want %d identical", len(got), len(body))
	}
	select {
	case err := <-ts.done:
		ts.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(waitLong):
		t.Fatal("Serve did not return after the transfer finished")
	}
	if calls := f.finishCalls(); len(calls) != 1 || calls[0] != (finishCall{"slow.cfg", true}) {
		t.Errorf("Finish calls %+v, want one {slow.cfg true} before Serve returned", calls)
	}

	// The port is closed: a new request gets no answer.
	c2 := looptest.DialTFTP(t, ts.addr)
	c2.Send(t, looptest.RRQ("slow.cfg", "octet"))
	if op, _, err := c2.TryRecv(300 * time.Millisecond); err == nil {
		t.Errorf("answer (op %d) after shutdown", op)
	}
}

// TestShutdownStalledTransfer: a phone that stops ACKing delays shutdown
// by at most the transfer timeout.
func TestShutdownStalledTransfer(t *testing.T) {
	f := newFake(map[string][]byte{"big.cfg": randomBody(4000)})
	ts := start(t, f, fastOpts...)
	c := looptest.DialTFTP(t, ts.addr)
	c.Send(t, looptest.RRQ("big.cfg", "octet"))
	if op, _ := c.Recv(t, waitLong); op != looptest.OpDATA {
		t.Fatalf("op %d, want DATA", op)
	}
	ts.cancel()
	select {
	case err := <-ts.done:
		ts.done <- err
	case <-time.After(waitLong):
		t.Fatal("Serve did not return")
	}
	if calls := f.finishCalls(); len(calls) != 1 || calls[0].Delivered {
		t.Errorf("Finish calls %+v, want one with delivered=false", calls)
	}
}

func TestListenAndServeTakenPort(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = New(newFake(nil), nil).ListenAndServe(context.Background(), conn.LocalAddr().String())
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("err %v, want a listen error", err)
	}
}

// The raw TFTP client (internal/looptest) does what the pin/tftp client
// cannot: stop ACKing, look at the OACK.

func parseOptions(p []byte) map[string]string {
	fields := strings.Split(strings.TrimSuffix(string(p), "\x00"), "\x00")
	m := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i]] = fields[i+1]
	}
	return m
}

// TestRepeatedFailuresLoggedOnce: the edge's own refusals are logged once
// a minute per path and remote; a miss (ErrNotFound) is not logged here at
// all, because the core logs every miss with its reason (cmd/autoprov's
// TestMissLoggedOnce checks that one miss is one line with the real core).
func TestRepeatedFailuresLoggedOnce(t *testing.T) {
	f := newFake(nil)
	ts := start(t, f)
	c := pinClient(t, ts.addr)
	for range 3 {
		if _, _, err := pinGet(c, "missing.cfg"); err == nil || !strings.Contains(err.Error(), "file not found") {
			t.Fatalf("missing.cfg: err %v, want file not found", err)
		}
		if _, _, err := pinGet(c, "../x"); err == nil {
			t.Fatal("../x served")
		}
	}
	logs := ts.log.String()
	if strings.Contains(logs, "missing.cfg") {
		t.Errorf("the edge logs a miss the core has logged already:\n%s", logs)
	}
	if n := strings.Count(logs, `msg="tftp refused"`); n != 1 {
		t.Errorf("refusal logged %d times, want 1:\n%s", n, logs)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("Provider called %d times, want 3", n)
	}
}

// A phone (or anyone) repeating a write request is logged once a minute.
func TestWriteRefusedLoggedOnce(t *testing.T) {
	ts := start(t, newFake(nil))
	c := pinClient(t, ts.addr)
	for range 3 {
		rf, err := c.Send("a.cfg", "octet")
		if err == nil {
			_, err = rf.ReadFrom(strings.NewReader("evil config"))
		}
		if err == nil || !strings.Contains(err.Error(), "access violation") {
			t.Fatalf("pin/tftp Send: err %v, want access violation", err)
		}
	}
	if n := strings.Count(ts.log.String(), `msg="tftp write refused" path=a.cfg`); n != 1 {
		t.Errorf("write refusal logged %d times, want 1:\n%s", n, ts.log.String())
	}
}

// TestLogLimited: one line per message, path and remote per minute, on the
// Server's clock.
func TestLogLimited(t *testing.T) {
	var logs syncBuffer
	s := New(newFake(nil), slog.New(slog.NewTextHandler(&logs, nil)))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	t0 := now
	lines := 0
	for i, tc := range []struct {
		msg, path string
		at        time.Duration
		want      bool
	}{
		{"tftp refused", "a", 0, true},
		{"tftp refused", "a", time.Second, false},
		{"tftp refused", "b", time.Second, true},        // another path
		{"tftp provide failed", "a", time.Second, true}, // another message
		{"tftp refused", "a", time.Minute - time.Millisecond, false},
		{"tftp refused", "a", time.Minute, true}, // a minute after the first line
		{"tftp refused", "b", 61 * time.Second, true},
		{"tftp refused", "b", 62 * time.Second, false},
	} {
		now = t0.Add(tc.at)
		s.logLimited(slog.LevelWarn, tc.msg, tc.path, "192.0.2.1", "why")
		if tc.want {
			lines++
		}
		if got := strings.Count(logs.String(), "\n"); got != lines {
			t.Fatalf("step %d (%s %s at +%v): %d lines logged, want %d:\n%s", i, tc.msg, tc.path, tc.at, got, lines, logs.String())
		}
	}
}

func TestProviderPanic(t *testing.T) {
	f := newFake(map[string][]byte{"a.cfg": []byte("ok")})
	ts := start(t, f)
	c := pinClient(t, ts.addr)
	_, _, err := pinGet(c, "panic.cfg")
	if err == nil || !strings.Contains(err.Error(), "not available") || strings.Contains(err.Error(), "fake") {
		t.Fatalf("err %v, want a bare not available", err)
	}
	// The server lives on.
	if got, _, err := pinGet(c, "a.cfg"); err != nil || string(got) != "ok" {
		t.Fatalf("after panic: %q, %v", got, err)
	}
	if !strings.Contains(ts.log.String(), "tftp handler panic") {
		t.Errorf("panic not logged:\n%s", ts.log.String())
	}
	// A bug that panics does so for every phone that asks: the line goes
	// out once a minute, not once a request.
	for range 5 {
		if _, _, err := pinGet(c, "panic.cfg"); err == nil {
			t.Fatal("a panic answered a file")
		}
	}
	if n := strings.Count(ts.log.String(), "tftp handler panic"); n != 1 {
		t.Errorf("6 panics in a minute logged %d lines, want 1:\n%s", n, ts.log.String())
	}
}

func TestServeCancelledBeforeStart(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- New(newFake(nil), nil).Serve(ctx, conn) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(waitLong):
		t.Fatal("Serve did not return")
	}
}

// The provide timeout bounds the core's work for one request: a core
// waiting on a hung database has its context cancelled, and the phone
// gets a generic error instead of silence.
func TestProvideTimeoutBoundsAHungCore(t *testing.T) {
	f := newFake(nil)
	ts := start(t, f, WithProvideTimeout(100*time.Millisecond))
	c := pinClient(t, ts.addr)
	if _, _, err := pinGet(c, "hang.cfg"); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("get hang.cfg: %v, want a generic error", err)
	}
	select {
	case err := <-f.hung:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the core's context ended with %v, want its deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the core's context was never cancelled")
	}
}
