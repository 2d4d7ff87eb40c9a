package provision

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/vendors"
)

// Bounded discovery. Anyone on the network can claim to be a phone: a
// `?mac=` query, a forged User-Agent, a spoofed DHCP DISCOVER or SIP
// SUBSCRIBE. What such a claim may cost is bounded here, in memory,
// before anything is written:
//
//   - the MAC must be a phone's own address (vendors.DeviceMAC): unicast,
//     globally administered;
//   - what is stored of it is capped (MaxUserAgent, maxReported);
//   - a MAC the inventory does not know becomes a new unassigned device
//     only within a per-source rate (InboxPerMinute, InboxBurst) and
//     while the inbox holds fewer than the settings' inbox_cap devices.
//
// The source a new MAC is charged to (sourceOf) is what the edge knows of
// the sender rather than what the request claims. A fetch or a SUBSCRIBE
// is charged to its remote address, which a handshake (TCP) or an answer
// it waits for ties to the sender. A DHCP request is captured, not
// answered, and a first DISCOVER has no client address: it is charged to
// the frame's Ethernet source (vendors.Request.LinkSource), with the
// relay agent's giaddr when relayed. What each bound protects:
//
//   - the per-source rate keeps one flooder (one address, one link
//     source, one relayed subnet) from starving everyone else's
//     discovery: other sources keep their own buckets;
//   - a forger on the segment can vary the Ethernet source as freely as
//     chaddr, and each new source starts with a full bucket; so all link
//     sources together share one more rate (InboxDHCPPerMinute,
//     InboxDHCPBurst), which bounds the writes a DHCP flood causes and
//     how fast it fills the inbox; it is DHCP's own, so fetches and
//     SUBSCRIBEs still get in while a DHCP flood has used it up;
//   - inbox_cap bounds what any mix of sources can add in total: the
//     store, the inbox page and the admin's attention.
//
// Nothing here can tell a forger who varies every address from the real
// phones booting on the same segment at that moment: their DISCOVERs may
// be dropped with the forger's. They lose nothing but the early sighting:
// the sniffer hands each MAC over again a minute later, and a phone is
// admitted (by its own address) at its first fetch.
//
// A known device's sighting is never dropped. The count of unassigned
// devices is cached and refreshed from the store at most every
// inboxRefresh (one COUNT), and counted up as the inbox grows in between,
// so a flood costs one indexed read per sighting and no write.

// MaxUserAgent is the most of a User-Agent a sighting stores, in bytes
// (cut at a UTF-8 boundary).
const MaxUserAgent = 512

// maxReported caps the other strings a phone reports about itself
// (vendor, model, firmware, file name), in bytes.
const maxReported = 128

// inboxRefresh is how long the cached count of unassigned devices and the
// inbox cap are trusted before they are read from the store again.
const inboxRefresh = 10 * time.Second

// Defaults of the per-source rate of new unassigned devices.
const (
	DefaultInboxPerMinute = 10
	DefaultInboxBurst     = 20
)

// Defaults of the rate of new unassigned devices from DHCP, all link
// sources together.
const (
	DefaultInboxDHCPPerMinute = 300
	DefaultInboxDHCPBurst     = 100
)

// source is who the sighting of a new MAC is charged to.
type source struct {
	key  string // its bucket
	link bool   // a captured DHCP request: keyed on its link-layer sender, and in the DHCP total
}

// sourceOf is the source a request is charged to; see the comment at the
// top. A DHCP request without a LinkSource (no capture saw it) falls back
// to its address, then to one bucket for all such.
func sourceOf(req vendors.Request) source {
	if req.Transport == dhcpFile {
		key := req.LinkSource
		if key == "" {
			key = req.RemoteAddr
		}
		if req.RelayAgent != "" {
			key += " via " + req.RelayAgent
		}
		return source{key: key, link: true}
	}
	if req.RemoteAddr != "" {
		return source{key: req.RemoteAddr}
	}
	return source{key: req.Transport} // the edge cannot tell: one bucket per edge
}

// DeviceCounter counts devices; the phone side uses it to learn the size
// of the inbox every inboxRefresh.
type DeviceCounter interface {
	// CountDevices counts the devices matching f, ignoring Limit and Offset.
	CountDevices(ctx context.Context, f autoprov.DeviceFilter) (int, error)
}

// InboxStats are the inbox's bounds and what they refused since start.
type InboxStats struct {
	// Unassigned is the cached count of unassigned devices (at most
	// inboxRefresh old, plus the ones recorded or being recorded since;
	// one recorded while it was read may count twice until the next read).
	Unassigned int
	// Cap is the inbox_cap in force.
	Cap int
	// DroppedRateLimited counts new phones not recorded because their
	// source (address, or a DHCP request's link source) sent too many new
	// MACs, or DHCP requests together brought too many.
	DroppedRateLimited uint64
	// DroppedFull counts new phones not recorded because the inbox was full.
	DroppedFull uint64
	// RefusedMAC counts sightings refused for a MAC that cannot be a
	// phone's (multicast, locally administered, all zeros).
	RefusedMAC uint64
}

// inbox holds the bounds of discovery; see the comment at the top.
type inbox struct {
	log       *slog.Logger
	now       func() time.Time
	settings  SettingsReader
	counter   DeviceCounter
	perSource *ratelimit.Keyed // by remote address
	perLink   *ratelimit.Keyed // by link source (and relay)
	dhcpTotal *ratelimit.Keyed // one key: every link source
	perMinute int
	dhcpRate  int
	logLimit  *ratelimit.Keyed

	refreshMu   sync.Mutex
	refreshedAt atomic.Int64 // unix nanoseconds of the last refresh; 0: never

	// mu guards the count of places taken and the admissions in flight
	// (admitted, their store write not yet done). A refresh cannot tell
	// whether the COUNT it read saw the writes in flight meanwhile, so it
	// counts each of them as taken; done gives back what was not created.
	mu       sync.Mutex
	count    int64 // unassigned devices stored, and admissions in flight
	capacity int64
	inflight int64  // admissions whose store write is not done
	admitted uint64 // admissions since start (to learn those a refresh overlapped)
	released uint64 // admissions since start that created nothing

	droppedRate, droppedFull, refusedMAC atomic.Uint64
}

func newInbox(o Options, log *slog.Logger, settings SettingsReader, counter DeviceCounter) *inbox {
	perMinute, burst := o.InboxPerMinute, o.InboxBurst
	if perMinute <= 0 {
		perMinute = DefaultInboxPerMinute
	}
	if burst <= 0 {
		burst = DefaultInboxBurst
	}
	dhcpRate, dhcpBurst := o.InboxDHCPPerMinute, o.InboxDHCPBurst
	if dhcpRate <= 0 {
		dhcpRate = DefaultInboxDHCPPerMinute
	}
	if dhcpBurst <= 0 {
		dhcpBurst = DefaultInboxDHCPBurst
	}
	every := time.Minute / time.Duration(perMinute)
	return &inbox{log: log, now: o.Now, settings: settings, counter: counter, perMinute: perMinute, dhcpRate: dhcpRate,
		perSource: ratelimit.New(ratelimit.Config{Every: every, Burst: burst, Now: o.Now}),
		perLink:   ratelimit.New(ratelimit.Config{Every: every, Burst: burst, Now: o.Now}),
		dhcpTotal: ratelimit.New(ratelimit.Config{Every: time.Minute / time.Duration(dhcpRate), Burst: dhcpBurst, MaxKeys: 1, Now: o.Now}),
		logLimit:  ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, Now: o.Now}),
	}
}

// refresh reads the count of unassigned devices and the cap when the
// cached ones are older than inboxRefresh. One caller reads; the others
// go on with the cached values (or wait for the very first read).
func (b *inbox) refresh(ctx context.Context) error {
	now := b.now()
	last := b.refreshedAt.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < inboxRefresh {
		return nil
	}
	if last != 0 {
		if !b.refreshMu.TryLock() {
			return nil
		}
	} else {
		b.refreshMu.Lock()
	}
	defer b.refreshMu.Unlock()
	if l := b.refreshedAt.Load(); l != last && l != 0 { // someone else just did
		return nil
	}
	st, err := b.settings.Settings(ctx)
	if err != nil {
		return fmt.Errorf("inbox cap: %w", err)
	}
	// The COUNT may or may not see the admissions in flight while it
	// runs (those in flight before it, and those admitted during it): each
	// counts as a place taken, so the cap holds whichever way the store
	// ordered them; those that created nothing meanwhile are given back
	// (a device counted twice is given back at the next refresh).
	b.mu.Lock()
	inflight, admitted, released := b.inflight, b.admitted, b.released
	b.mu.Unlock()
	n, err := b.counter.CountDevices(ctx, autoprov.DeviceFilter{State: autoprov.StateUnassigned})
	if err != nil {
		return fmt.Errorf("inbox size: %w", err)
	}
	c := st.InboxCap
	if c <= 0 {
		c = autoprov.DefaultInboxCap
	}
	b.mu.Lock()
	b.capacity = int64(c)
	b.count = int64(n) + inflight + int64(b.admitted-admitted) - int64(b.released-released)
	b.mu.Unlock()
	b.refreshedAt.Store(max(now.UnixNano(), 1))
	return nil
}

// full tells whether every place in the inbox is taken.
func (b *inbox) full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count >= b.capacity
}

// take takes a place in the inbox for an admission, if one is left.
func (b *inbox) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count >= b.capacity {
		return false
	}
	b.count++
	b.inflight++
	b.admitted++
	return true
}

// admit decides, in memory, whether a MAC the inventory does not know may
// become a new unassigned device; a refusal is counted and logged (once a
// minute per reason). An admitted sighting holds a place in the count:
// the caller says when its store write is done (done), which gives the
// place back when the store created nothing.
func (b *inbox) admit(ctx context.Context, v autoprov.Sighting, src source) (bool, error) {
	if err := b.refresh(ctx); err != nil {
		return false, err
	}
	if !b.full() {
		// The source's own bucket first: a flood from one source is
		// stopped there and takes nothing from the DHCP total.
		perSource := b.perSource
		if src.link {
			perSource = b.perLink
		}
		if !perSource.Allow(src.key) {
			n := b.droppedRate.Add(1)
			b.dropped("rate", v, src, n, "per_minute_per_source", int64(b.perMinute))
			return false, nil
		}
		if src.link && !b.dhcpTotal.Allow(dhcpFile) {
			n := b.droppedRate.Add(1)
			b.dropped("dhcp", v, src, n, "dhcp_per_minute", int64(b.dhcpRate))
			return false, nil
		}
		if b.take() {
			return true, nil
		}
	}
	n := b.droppedFull.Add(1)
	b.dropped("full", v, src, n, "inbox_cap", int64(b.stats().Cap))
	return false, nil
}

// done ends an admission once its store write is over: the place it took
// stays taken when the write created the device, and is given back when
// it did not (another request created it first, or the write failed).
func (b *inbox) done(created bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
	if !created {
		b.count--
		b.released++
	}
}

func (b *inbox) dropped(reason string, v autoprov.Sighting, src source, total uint64, limit string, value int64) {
	if !b.logLimit.Allow("dropped|" + reason) {
		return
	}
	msg := "new phone not recorded: the inbox is full"
	switch reason {
	case "rate":
		msg = "new phone not recorded: its source sent too many new MACs"
	case "dhcp":
		msg = "new phone not recorded: DHCP requests brought too many new MACs"
	}
	b.log.Warn(msg, "mac", v.MAC, "remote", v.RemoteIP, "source", src.key, "via", v.File, limit, value, "dropped_so_far", total)
}

// badMAC counts and logs (once a minute) a sighting refused for its MAC.
func (b *inbox) badMAC(mac, remote, via string, err error) {
	n := b.refusedMAC.Add(1)
	if b.logLimit.Allow("badmac") {
		b.log.Warn("sighting refused", "mac", mac, "remote", remote, "via", via, "reason", err.Error(), "refused_so_far", n)
	}
}

func (b *inbox) stats() InboxStats {
	b.mu.Lock()
	count, capacity := b.count, b.capacity
	b.mu.Unlock()
	return InboxStats{Unassigned: int(count), Cap: int(capacity),
		DroppedRateLimited: b.droppedRate.Load(), DroppedFull: b.droppedFull.Load(), RefusedMAC: b.refusedMAC.Load()}
}

// InboxStats returns the inbox's size and cap and the counts of what its
// bounds refused since start (for the API and the log).
func (p *Phones) InboxStats(ctx context.Context) (InboxStats, error) {
	if err := p.inbox.refresh(ctx); err != nil {
		return InboxStats{}, err
	}
	return p.inbox.stats(), nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence
// (invalid bytes count as one rune each and may be cut anywhere).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n // s[cut] is the first byte left out
	for cut > 0 && n-cut < utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if r, size := utf8.DecodeRuneInString(s[cut:]); !(r == utf8.RuneError && size <= 1) && cut+size > n {
		return s[:cut] // a valid rune straddles the limit: leave it out whole
	}
	return s[:n]
}

// bounded returns the sighting with what it stores capped.
func bounded(v autoprov.Sighting) autoprov.Sighting {
	v.UserAgent = truncate(v.UserAgent, MaxUserAgent)
	v.Vendor, v.Model = truncate(v.Vendor, maxReported), truncate(v.Model, maxReported)
	v.Firmware, v.File = truncate(v.Firmware, maxReported), truncate(v.File, maxReported)
	return v
}

// checkMAC applies vendors.DeviceMAC to a sighting's MAC, counting a refusal.
func (p *Phones) checkMAC(mac string, req vendors.Request, via string) error {
	if err := vendors.DeviceMAC(mac); err != nil {
		p.inbox.badMAC(mac, req.RemoteAddr, via, err)
		return err
	}
	return nil
}
