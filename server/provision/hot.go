package provision

import (
	"context"
	"time"
	"unsafe"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/vendors"
)

// hotAnswer is what the fetch of a per-device file got from the file
// cache, kept on its request shape's memo entry (idEntry: path,
// User-Agent, ?mac=, vendor class), so that the next fetch of that shape
// is answered with no device read, no gate and no key built: identify,
// this check, the phone's report, the answer.
//
// Only for what every gate lets through unchanged while nothing was
// dropped: an assigned device of the inventory, answered as such, whose
// files need no client certificate, its window closed, asked without a
// client certificate, not through a redirect service's marker, and either
// without credentials while its files need none (guarded is false) or
// with the very Basic header that proved its credential (verifying it
// again against the same stored credential gives the same answer; a
// Digest answer never: each one counts once). What the answer was made
// of is followed by the file cache's epoch (any change of the device, its
// accounts, profiles, settings, firmware targets, a window opened, a
// credential issued or applied drops it and bumps the epoch); what it
// reads of the clock is the year (the time zone rules), and the minute
// when a firmware target offers the device an image inside a maintenance
// window, so a hot answer holds until the year's end, or the minute's;
// what it reads of the request besides its shape (transport, base URL,
// the preconditions' header, the Authorization header) must be the same.
type hotAnswer struct {
	epoch      uint64
	from, to   time.Time // it holds from its making until (not at) to
	transport  string
	baseURL    string
	secretFree bool
	auth       string // the Basic header that proved the credential; "" without
	mac        string // on macBuf: read with the answer, not from elsewhere (the report's key)
	macBuf     [12]byte
	v          vendors.Vendor   // the driver that answered (the assigned one)
	kind       vendors.FileKind // what it made of the path
	// res is every hit's answer (shared), file its file and etagBuf its
	// ETag's bytes: copies in the answer's own memory, so that a hit reads
	// them with it rather than from four places elsewhere.
	res     Result
	file    vendors.File // its Body is the cached one
	etagBuf [48]byte
}

// hotHit answers req from its memo entry's hot answer when that holds;
// ok is false otherwise (the fetch takes the whole path).
func (p *Phones) hotHit(ctx context.Context, memo *idEntry, req vendors.Request, via string, epoch uint64, now time.Time, id vendors.Identity, n *fetchNote) (*Result, bool, error) {
	if memo == nil || via != "" || p.files == nil {
		return nil, false, nil
	}
	h := memo.hot.Load()
	if h == nil || h.epoch != epoch || now.Before(h.from) || !now.Before(h.to) || len(req.ClientCerts) > 0 ||
		req.Transport != h.transport || req.BaseURL != h.baseURL || req.SecretFree != h.secretFree || !sameSecret(req.Authorization, h.auth) {
		return nil, false, nil
	}
	n.note(h.v, h.kind)
	// The report, as the whole path makes it for such a device.
	if err := p.touch(ctx, sightingOf(h.mac, id, req, req.Path, now)); err != nil {
		return nil, true, err
	}
	return &h.res, true, nil
}

// keepHot keeps res, the answer the whole path gave to req for dev's
// per-device file, as its shape's hot answer when it may be (see
// hotAnswer); authed: req proved dev's credential; epoch is the file
// cache's before anything was read.
func (p *Phones) keepHot(ctx context.Context, memo *idEntry, req vendors.Request, v vendors.Vendor, id vendors.Identity, dev autoprov.Device, authed bool, epoch uint64, now time.Time, res *Result) {
	if p.files == nil || res.Secret || id.Kind != vendors.FileDevice || dev.State != autoprov.StateAssigned ||
		p.needsClientCert(dev.Vendor) || dev.Disclosure.OpenAt(now) ||
		len(req.ClientCerts) > 0 || p.files.Epoch() != epoch {
		return
	}
	basic := authed && req.Authorization != "" && httpauth.Parse(req.Authorization).Scheme == httpauth.Basic
	if req.Authorization != "" && !basic || p.guarded(dev) && !basic {
		return
	}
	t, err := p.offered(ctx, dev, v)
	if err != nil {
		return
	}
	to := hotUntil(now, t != nil && !t.Now)
	h := &hotAnswer{epoch: epoch, from: now, to: to, transport: req.Transport, baseURL: req.BaseURL,
		secretFree: req.SecretFree, auth: req.Authorization, mac: dev.MAC, v: v, kind: id.Kind, file: *res.File}
	h.res = Result{File: &h.file, ETag: res.ETag, shared: true}
	// The buffers are never written again once the answer is stored.
	if n := copy(h.macBuf[:], dev.MAC); n == len(dev.MAC) && n > 0 {
		h.mac = unsafe.String(&h.macBuf[0], n)
	}
	if n := copy(h.etagBuf[:], res.ETag); n == len(res.ETag) && n > 0 {
		h.res.ETag = unsafe.String(&h.etagBuf[0], n)
	}
	memo.hot.Store(h)
}

// hotUntil is when a hot answer made at now stops holding: at the next
// year (its time zone rules), or at the next minute when the firmware
// offer waits for the maintenance window (windowed), which it reads by
// the minute.
func hotUntil(now time.Time, windowed bool) time.Time {
	if windowed {
		return now.Truncate(time.Minute).Add(time.Minute)
	}
	return time.Date(now.Year()+1, 1, 1, 0, 0, 0, 0, now.Location())
}

// sameSecret compares a presented header with the one kept in a time
// that depends on their length only.
func sameSecret(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range len(a) {
		d |= a[i] ^ b[i]
	}
	return d == 0
}
