// Package sniff is passive zero-touch discovery: it watches interfaces for
// the DHCP requests (DISCOVER, REQUEST) a phone broadcasts at boot and
// hands what each says (hardware address, vendor class, host name, IP) to
// a Recorder, which identifies the phone and puts it in the inbox as an
// unassigned device before its first fetch. The sniffer identifies
// nothing itself. It only listens: it never sends a packet. Capture is
// Linux only (AF_PACKET, which needs root or CAP_NET_RAW). See README.md
// in this directory.
package sniff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/vendors"
)

// Recorder identifies and records a DHCP client. *provision.Phones
// satisfies it. req carries MAC (canonical), VendorClass (option 60),
// Hostname (option 12), RemoteAddr (the client's address, "" when it has
// none yet) and Transport "dhcp". created reports whether the phone is new
// to the inventory. An error wrapping vendors.ErrNotFound means no vendor
// driver recognises the client (a laptop): the sniffer counts it.
type Recorder interface {
	Sniffed(ctx context.Context, req vendors.Request) (created bool, err error)
}

// Config configures a Sniffer. A zero Interval takes the default.
type Config struct {
	Recorder Recorder
	Log      *slog.Logger
	// Interval is the least time between two records of one MAC (default
	// one minute): a client retransmits its DISCOVER every few seconds.
	Interval time.Duration
	// Networks, when not empty, is where phones may be (--phone-networks):
	// a request whose client address is known (ciaddr or option 50) and
	// outside it is ignored. One without an address (a first DISCOVER) is
	// still recorded: the sniffer only hears the segments it watches.
	Networks netlist.List
}

// Sniffer turns captured DHCP requests into inbox entries. Serve runs it.
type Sniffer struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	macs *ratelimit.Keyed // one record per MAC per Interval

	unknown atomic.Int64 // requests the Recorder found no vendor driver for
	frames  atomic.Int64 // frames read and handled, of every kind
}

// New returns a Sniffer.
func New(cfg Config) *Sniffer {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	s := &Sniffer{cfg: cfg, log: cfg.Log.With("component", "sniff"), now: time.Now}
	// The limiter reads s.now when it is asked, so a test's clock rules it.
	s.macs = ratelimit.New(ratelimit.Config{Every: cfg.Interval, Burst: 1, MaxKeys: maxKeys,
		Now: func() time.Time { return s.now() }})
	return s
}

// maxKeys bounds the MACs the limiter remembers.
const maxKeys = 16384

// source is a capture handle: pcapgo.EthernetHandle, or a pcap file reader
// in tests.
type source interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Capture is the set of open capture sockets, one per interface. Open
// makes one; Close interrupts every read.
type Capture struct {
	Interfaces []string
	srcs       []source
	closers    []func() error
	closeOnce  sync.Once
}

// Close closes every capture socket, which ends reads in progress.
func (c *Capture) Close() error {
	var errs []error
	c.closeOnce.Do(func() {
		for _, f := range c.closers {
			errs = append(errs, f())
		}
	})
	return errors.Join(errs...)
}

// splitNames parses a comma-separated interface list.
func splitNames(names string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no interface in %q", names)
	}
	return out, nil
}

// Serve reads every interface of c until ctx is done (or every source has
// ended, as a file does), then closes c and returns nil. A read error on
// one interface ends Serve with that error.
func (s *Sniffer) Serve(ctx context.Context, c *Capture) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(c.srcs))
	for i, src := range c.srcs {
		go func() { errc <- s.read(ctx, src, c.Interfaces[i]) }()
	}
	var err error
	running := len(c.srcs)
wait:
	for running > 0 {
		select {
		case <-ctx.Done():
			break wait
		case err = <-errc:
			running--
			if err != nil {
				break wait
			}
		}
	}
	cancel()
	c.Close() // ends the other reads
	for ; running > 0; running-- {
		if e := <-errc; err == nil {
			err = e
		}
	}
	s.log.Debug("dhcp sniffer stopped", "frames", s.frames.Load(), "unknown_vendor_requests", s.unknown.Load())
	return err
}

func (s *Sniffer) read(ctx context.Context, src source, iface string) error {
	d := newDecoder()
	for {
		frame, _, err := src.ReadPacketData()
		if err != nil {
			if ctx.Err() != nil || isEOF(err) {
				return nil
			}
			return fmt.Errorf("dhcp sniffer: read on %s: %w", iface, err)
		}
		s.handle(ctx, d, frame, iface)
		s.frames.Add(1)
	}
}

// outcome is what handle did with a frame (for tests).
type outcome int

const (
	ignored  outcome = iota // not a client's DHCP request
	limited                 // the MAC was seen less than Interval ago
	unknown                 // the Recorder found no vendor driver for it
	recorded                // handed to the Recorder, which took it
	failed                  // the Recorder failed
	outside                 // the client's address is outside Config.Networks
)

func (s *Sniffer) handle(ctx context.Context, d *decoder, frame []byte, iface string) outcome {
	r, ok := d.decode(frame)
	if !ok {
		return ignored
	}
	req, ok := r.vendorRequest()
	if !ok {
		return ignored
	}
	if r.IP != "" && !s.cfg.Networks.AllowsString(r.IP) {
		return outside
	}
	if !s.macs.Allow(r.MAC) {
		return limited
	}
	created, err := s.cfg.Recorder.Sniffed(ctx, req)
	switch {
	case errors.Is(err, vendors.ErrNotFound):
		n := s.unknown.Add(1)
		s.log.Debug("dhcp request from an unknown vendor ignored", "mac", r.MAC, "type", r.Type,
			"vendor_class", r.VendorClass, "hostname", r.Hostname, "interface", iface, "unknown_so_far", n)
		return unknown
	case err != nil:
		s.log.Error("dhcp sniffer: cannot record the phone", "mac", r.MAC, "err", err)
		return failed
	}
	s.log.Debug("phone asked for a dhcp lease", "mac", r.MAC, "type", r.Type, "vendor_class", r.VendorClass,
		"hostname", r.Hostname, "ip", r.IP, "interface", iface, "new", created)
	return recorded
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
