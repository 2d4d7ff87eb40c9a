// Package tftpd is the TFTP edge: it answers phones' read requests (RRQ)
// with files rendered by the core and refuses every write request (WRQ).
//
// It is the only package that imports github.com/pin/tftp. A request's file
// name is cleaned here (one leading "/" and one "prov/" prefix dropped; "..",
// backslashes, control characters and absolute paths refused) and turned into a transport-neutral
// vendors.Request; the core's answer is sent with blksize and tsize
// negotiation. The core is told through provision.Result.Sending when block
// 1 is about to go out (for a file with secrets that consumes the window;
// if it refuses, nothing is sent) and through Result.End whether the phone
// acknowledged the last block. Errors reach the phone only as one
// of three generic TFTP error texts; the detail goes to the log.
package tftpd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pin/tftp/v3"

	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// Provider is what the TFTP edge needs from the core.
type Provider interface {
	// Provide renders the file a phone asked for. Errors wrapping
	// vendors.ErrNotFound become "file not found" for the phone; every other
	// error becomes "not available". The edge calls Sending before block 1
	// and End exactly once on a non-nil Result.
	Provide(ctx context.Context, req vendors.Request) (*provision.Result, error)
}

// Firmware is what the edge needs from the firmware store
// (*firmware.Store): the file a "firmware/..." name points at.
type Firmware interface {
	Open(ctx context.Context, name string, who firmware.Requester) (*firmware.Download, error)
}

// WithFirmware serves the firmware store's files: a read request for
// "firmware/<hash prefix>/<name>" (or with "prov/" before it) is streamed
// from the file on disk, with tsize and blksize, and recorded per device.
func WithFirmware(f Firmware) Option {
	return func(s *Server) { s.firmware = f }
}

// Defaults of the options.
const (
	// DefaultTimeout is how long the server waits for a phone's ACK before
	// it sends a block again.
	DefaultTimeout = 3 * time.Second
	// DefaultRetries is how many times a block is sent again before the
	// transfer is given up: an unresponsive phone holds a transfer for at most
	// (DefaultRetries+1)*DefaultTimeout.
	DefaultRetries = 5
	// DefaultProvideTimeout bounds one call to Provider.Provide.
	DefaultProvideTimeout = 10 * time.Second
	// DefaultMaxTransfers bounds the read requests served at once, all
	// clients together; DefaultMaxPerClient those of one client address.
	// A read request past either gets ERROR "not available" at once.
	DefaultMaxTransfers = 4096
	DefaultMaxPerClient = 64
)

// The texts the phone sees. pin/tftp sends a handler's error text verbatim
// (always with TFTP error code 1), so these say nothing about the cause.
var (
	errNotFound    = errors.New("file not found")
	errAccess      = errors.New("access violation")
	errUnavailable = errors.New("not available")
	errNoWrite     = errors.New("access violation: write not supported")
)

// Option configures a Server.
type Option func(*Server)

// WithTimeout sets how long the server waits for an ACK before it sends a
// block again. Values <= 0 keep DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithRetries sets how many times an unacknowledged block is sent again
// before the transfer is abandoned. Values < 1 keep DefaultRetries.
func WithRetries(n int) Option {
	return func(s *Server) {
		if n >= 1 {
			s.retries = n
		}
	}
}

// WithMaxBlockSize caps the negotiated blksize (RFC 2348). pin/tftp already
// caps it to the receiving interface's MTU; use this when a path between
// server and phones has a smaller MTU. Values outside 513..65464 are ignored.
func WithMaxBlockSize(n int) Option {
	return func(s *Server) {
		if n > 512 && n < 65465 {
			s.maxBlockSize = n
		}
	}
}

// WithProvideTimeout bounds one call to Provider.Provide. Values <= 0 keep
// DefaultProvideTimeout.
func WithProvideTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.provideTimeout = d
		}
	}
}

// WithMaxTransfers bounds the read requests served at once: total for all
// clients together, perClient for one client address. pin/tftp opens a
// socket and starts a goroutine for every read request, and a client that
// never acknowledges holds them for (retries+1) x timeout; past a bound
// the request is answered ERROR "not available" right away (the phone
// retries later) and logged once a minute per client. Values < 1 keep
// DefaultMaxTransfers and DefaultMaxPerClient.
func WithMaxTransfers(total, perClient int) Option {
	return func(s *Server) {
		if total >= 1 {
			s.maxTransfers = total
		}
		if perClient >= 1 {
			s.maxPerClient = perClient
		}
	}
}

// WithNetworks restricts read requests to clients in l (--phone-networks):
// a request from elsewhere is answered "file not found", exactly as a
// miss, and logged once a minute per client. An empty l allows everyone.
func WithNetworks(l netlist.List) Option {
	return func(s *Server) { s.allow = l }
}

// Server is the TFTP edge. Create it with New and run it with Serve or
// ListenAndServe; a Server may serve several connections in turn.
type Server struct {
	provider       Provider
	log            *slog.Logger
	timeout        time.Duration
	retries        int
	maxBlockSize   int
	provideTimeout time.Duration
	allow          netlist.List // clients allowed to read (WithNetworks)
	firmware       Firmware     // firmware files (WithFirmware), or nil
	maxTransfers   int          // read requests served at once (WithMaxTransfers)
	maxPerClient   int          // of them from one client address

	now     func() time.Time // the clock of the log limiters (tests)
	quiet   *ratelimit.Keyed // repeated refusals, per client (logLimited)
	failLog *ratelimit.Keyed // failures of the core or the disk, for all clients (logFailure)

	// finished, when set, observes every Finish call (tests).
	finished func(res *provision.Result, delivered bool)
}

// New returns a Server that asks p for files and logs to log (nil: discard).
func New(p Provider, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		provider:       p,
		log:            log,
		timeout:        DefaultTimeout,
		retries:        DefaultRetries,
		provideTimeout: DefaultProvideTimeout,
		maxTransfers:   DefaultMaxTransfers,
		maxPerClient:   DefaultMaxPerClient,
		now:            time.Now,
	}
	s.quiet = ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: 4096,
		Now: func() time.Time { return s.now() }})
	// Keys: logFailure's lines (provide failed, firmware failed, handler
	// panic). A limiter of their own, so a flood of per-client refusals
	// from forged sources never pushes out a count.
	s.failLog = ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: 16,
		Now: func() time.Time { return s.now() }})
	for _, o := range opts {
		o(s)
	}
	return s
}

// ListenAndServe listens on the UDP address addr (e.g. ":69") and serves it
// until ctx is done. See Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("tftpd: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, conn)
}

// Serve answers TFTP requests arriving on conn until ctx is done. It then
// stops accepting requests, lets transfers in flight finish (or time out)
// and returns nil. Serve takes ownership of conn and closes it. It returns
// an error only when serving could not start or stopped on its own.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	r := &run{s: s, ctx: context.WithoutCancel(ctx), clients: map[string]int{}}
	ts := tftp.NewServer(r.read, r.write)
	ts.SetTimeout(s.timeout)
	ts.SetRetries(s.retries)
	// pin/tftp sleeps a random 0-1 s before each retransmission by default;
	// the timeout alone is the RFC 1350 behaviour and keeps the bound exact.
	ts.SetBackoff(func(int) time.Duration { return 0 })
	if s.maxBlockSize > 0 {
		ts.SetBlockSize(s.maxBlockSize)
	}

	errc := make(chan error, 1)
	go func() { errc <- ts.Serve(conn) }()

	var err error
	select {
	case err = <-errc:
		// Serve gave up on its own; stop the transfers it started.
		r.close()
		ts.Shutdown()
		conn.Close()
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		err = fmt.Errorf("tftpd: serve %s: %w", conn.LocalAddr(), err)
	case <-ctx.Done():
		s.log.Info("tftp shutting down", "addr", conn.LocalAddr().String())
		r.close()
		ts.Shutdown() // closes conn, waits for pin/tftp's transfers
		// Shutdown does not close conn if it ran before ts.Serve stored
		// it; closing again makes sure ts.Serve returns.
		conn.Close()
		<-errc
	}
	r.wait()
	return err
}

// run is the state of one Serve call.
type run struct {
	s   *Server
	ctx context.Context // Serve's ctx without its cancellation

	mu     sync.Mutex
	closed bool
	active sync.WaitGroup // handlers in flight; Add only under mu while !closed

	transfers int            // read requests being served (WithMaxTransfers)
	clients   map[string]int // of them, by client address
}

// take takes a transfer's place for the client at remote; it says which
// bound refused it ("" when it got one).
func (r *run) take(remote string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.clients[remote] >= r.s.maxPerClient:
		return fmt.Sprintf("the client has %d transfers in flight (the most per client)", r.clients[remote])
	case r.transfers >= r.s.maxTransfers:
		return fmt.Sprintf("%d transfers in flight (the most at once)", r.transfers)
	}
	r.transfers++
	r.clients[remote]++
	return ""
}

// give gives back the place take took.
func (r *run) give(remote string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transfers--
	if r.clients[remote]--; r.clients[remote] <= 0 {
		delete(r.clients, remote)
	}
}

// begin registers a handler; it reports false once Serve is shutting down.
func (r *run) begin() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.active.Add(1)
	return true
}

func (r *run) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// wait returns when every handler has returned. Call after close.
func (r *run) wait() { r.active.Wait() }

// write refuses every write request. pin/tftp would refuse them with a nil
// handler too, but saying so here keeps the text under our control and
// logs the attempt.
func (r *run) write(filename string, wt io.WriterTo) error {
	remote := ""
	if it, ok := wt.(tftp.IncomingTransfer); ok {
		a := it.RemoteAddr()
		remote = a.IP.String()
	}
	r.s.logLimited(slog.LevelWarn, "tftp write refused", truncate(filename), remote, "uploads are refused")
	return errNoWrite
}

// read answers one RRQ. It returns an error (whose text pin/tftp sends to
// the phone) or calls ReadFrom.
func (r *run) read(filename string, rf io.ReaderFrom) (err error) {
	s := r.s
	var sent int64
	complete := false
	defer func() { metrics.TFTPTransfer(transferOutcome(err, complete), sent) }()
	remote := ""
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		a := ot.RemoteAddr()
		remote = a.IP.String()
	}
	if !r.begin() {
		s.log.Info("tftp refused: shutting down", "path", truncate(filename), "remote", remote)
		return errUnavailable
	}
	defer r.active.Done()

	if !s.allow.AllowsString(remote) {
		if s.quiet.Allow("outside\x00" + remote) {
			s.log.Info("tftp refused: client outside the phone networks", "path", truncate(filename), "remote", remote)
		}
		return errNotFound
	}

	p, err := provision.CleanPath(filename)
	if err != nil {
		s.logLimited(slog.LevelWarn, "tftp refused", truncate(filename), remote, err.Error())
		return errAccess
	}
	if why := r.take(remote); why != "" {
		if s.quiet.Allow("busy\x00" + remote) {
			s.log.Warn("tftp refused: too many transfers", "path", p, "remote", remote, "reason", why)
		}
		return errUnavailable
	}
	defer r.give(remote)

	if s.firmware != nil && strings.HasPrefix(p, "firmware/") {
		return r.readFirmware(p, remote, rf, &sent, &complete)
	}

	var res *provision.Result
	var end error = provision.ErrNotDelivered
	defer func() {
		if v := recover(); v != nil {
			s.logFailure("tftp handler panic", p, remote, fmt.Sprint(v))
			err = errUnavailable
		}
		if res != nil {
			s.finish(res, end)
		}
	}()

	ctx, cancel := context.WithTimeout(r.ctx, s.provideTimeout)
	res, err = s.provider.Provide(ctx, vendors.Request{Path: p, RemoteAddr: remote, Transport: "tftp", Method: vendors.MethodGet})
	cancel()
	switch {
	case err != nil && errors.Is(err, vendors.ErrNotFound):
		// The core has logged this miss with its reason (rate-limited per
		// MAC and file); a second line here would only repeat it.
		return errNotFound
	case err != nil:
		s.logFailure("tftp provide failed", p, remote, err.Error())
		return errUnavailable
	case res == nil || res.File == nil:
		s.logFailure("tftp provide failed", p, remote, "empty result")
		return errUnavailable
	}

	body := &sendingReader{res: res, r: bytes.NewReader(res.File.Body)}
	if res.Secret {
		// The OACK's tsize (below) tells the length of the file with the
		// secrets, which differs from the file without: it is the first
		// thing of that file to leave, so the disclosure is committed
		// before it, as before a first block (a client that asked for no
		// option gets block 1 right away anyway).
		body.started = true
		if err := res.Sending(); err != nil {
			s.log.Info("tftp transfer", "path", p, "remote", remote, "bytes", 0, "ok", false, "secret", true,
				"refused", "the core withdrew the file before the first packet")
			return errUnavailable
		}
	}
	// tsize is the body's length, told up front: the body reader is no
	// io.Seeker, so pin/tftp cannot learn it itself.
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ot.SetSize(int64(len(res.File.Body)))
	}
	n, xerr := rf.ReadFrom(body)
	delivered := xerr == nil // nil: the last block was acknowledged
	sent, complete = n, delivered
	if !delivered {
		end = fmt.Errorf("TFTP transfer broke off after %d of %d bytes: %w", n, len(res.File.Body), xerr)
	} else {
		end = nil
	}
	attrs := []any{"path", p, "remote", remote, "bytes", n, "ok", delivered, "secret", res.Secret}
	if xerr != nil {
		attrs = append(attrs, "reason", xerr.Error())
	}
	if body.refused {
		attrs = append(attrs, "refused", "the core withdrew the file before block 1")
	}
	s.log.Info("tftp transfer", attrs...)
	// ReadFrom has already sent an error to the phone if it failed.
	return nil
}

// transferOutcome is the TFTP transfer metric's outcome of a read
// request that returned err: miss (not found, refused, outside the phone
// networks), failed (an error of ours, or the transfer broke off) or
// complete.
func transferOutcome(err error, complete bool) string {
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, errAccess):
		return "miss"
	case err != nil, !complete:
		return "failed"
	}
	return "complete"
}

// readFirmware streams a firmware file from disk. pin/tftp reads it block
// by block (blksize as negotiated); tsize is its size.
func (r *run) readFirmware(p, remote string, rf io.ReaderFrom, sent *int64, complete *bool) error {
	s := r.s
	ctx, cancel := context.WithTimeout(r.ctx, s.provideTimeout)
	dl, err := s.firmware.Open(ctx, p, firmware.Requester{RemoteIP: remote, Transport: "tftp"})
	cancel()
	switch {
	case err != nil && errors.Is(err, vendors.ErrNotFound):
		s.logLimited(slog.LevelInfo, "tftp firmware not found", p, remote, err.Error())
		return errNotFound
	case err != nil:
		s.logFailure("tftp firmware failed", p, remote, err.Error())
		return errUnavailable
	}
	size := dl.Firmware.Size
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ot.SetSize(size)
	}
	body := &firmwareReader{dl: dl, ctx: r.ctx, size: size, r: bufio.NewReaderSize(dl.File, 256<<10)}
	n, xerr := rf.ReadFrom(body)
	if xerr == nil && n < size {
		xerr = fmt.Errorf("only %d of %d bytes read", n, size)
	}
	*sent, *complete = n, xerr == nil
	if !body.begun {
		// The client went away before block 1 (say, after the OACK).
		dl.Begin(r.ctx, size)
	}
	dl.End(n, xerr)
	return nil
}

// firmwareReader is a firmware file as pin/tftp reads it (through a
// buffer: one read of the disk per 256 KiB, not per block): the first
// read (block 1 about to go out) begins the download's record.
type firmwareReader struct {
	r     io.Reader
	dl    *firmware.Download
	ctx   context.Context
	size  int64
	begun bool
}

func (b *firmwareReader) Read(p []byte) (int, error) {
	if !b.begun {
		b.begun = true
		b.dl.Begin(b.ctx, b.size)
	}
	return b.r.Read(p)
}

// sendingReader is the body as pin/tftp reads it. pin/tftp reads the data
// of block 1 right before it sends it (after the phone acknowledged the
// OACK, if any), so the first Read is when the first byte is about to
// leave: it calls Result.Sending, and when the core refuses (the claim was
// lost) it fails, so pin/tftp sends the phone a generic ERROR instead of
// any byte of the file.
type sendingReader struct {
	res     *provision.Result
	r       io.Reader
	started bool
	refused bool
}

func (b *sendingReader) Read(p []byte) (int, error) {
	if !b.started {
		b.started = true
		if err := b.res.Sending(); err != nil {
			b.refused = true
		}
	}
	if b.refused {
		return 0, errUnavailable
	}
	return b.r.Read(p)
}

// logLimited logs a refusal (or a firmware miss) with its detail, at most
// once a minute per message, path and remote: what one client does wrong
// (a bad name, a write, a firmware image nobody uploaded) is worth a line
// per client and file, since it names the phone an admin must look at.
func (s *Server) logLimited(level slog.Level, msg, path, remote, reason string) {
	if s.quiet.Allow(msg + "\x00" + path + "\x00" + remote) {
		s.log.Log(context.Background(), level, msg, "path", path, "remote", remote, "reason", reason)
	}
}

// logFailure logs a failure of the core or the firmware store, or a
// handler's panic (msg), at most once a minute per msg whatever the client
// or path: when the database is down every phone's request fails the same
// way, a bug that panics does so for every phone that asks, and thousands
// of phones retrying each minute would otherwise give a line each. The
// line names one request (the first of its minute) and how many were left
// out since the last one (suppressed); the metric
// autoprov_tftp_transfers_total counts every request.
func (s *Server) logFailure(msg, path, remote, reason string) {
	ok, suppressed := s.failLog.AllowCounted(msg)
	if !ok {
		return
	}
	s.log.Error(msg, "path", path, "remote", remote, "reason", reason, "suppressed", suppressed)
}

// finish reports the end of a transfer to the core: end is nil when the
// last block was acknowledged, else why the transfer broke off.
func (s *Server) finish(res *provision.Result, end error) {
	res.End(end)
	if s.finished != nil {
		s.finished(res, end == nil)
	}
}

// truncate shortens a raw, untrusted file name for the log.
func truncate(name string) string {
	const limit = 256
	if len(name) > limit {
		return name[:limit] + "..."
	}
	return name
}
