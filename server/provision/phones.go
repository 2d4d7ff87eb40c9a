package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/vendors"
)

// PhoneStores are the stores the phone side reads and the few writes it
// makes: sightings and the disclosure claim.
type PhoneStores struct {
	Settings  SettingsReader
	Accounts  AccountReader
	Profiles  ProfileReader
	Devices   DeviceReader
	Sightings Sightings
	Claims    Claims
	// Credentials keeps the per-device credential.
	Credentials Credentials
	// Counter counts the inbox every few seconds (bounded discovery).
	Counter DeviceCounter
	// Reports records what known phones report about themselves; nil:
	// Sightings, synchronously. server/phonecache queues them.
	Reports Reporter
	// Files keeps files rendered without secrets; nil: every fetch renders.
	Files FileCache
	// Firmware reads the firmware rollout's targets; nil: no firmware.
	Firmware FirmwareTargetReader
}

// Phones is the phone side of the core: it answers phones' requests from
// every edge (HTTP, TFTP) and records what plug-and-play and DHCP
// discovery learn. It is safe for concurrent use.
type Phones struct {
	renderer
	devices   DeviceReader
	sightings Sightings
	reports   Reporter
	files     FileCache
	claims    Claims
	creds     Credentials
	auth      *httpauth.Server
	miss      *ratelimit.Keyed // one line per MAC, path and reason a minute
	missAll   *ratelimit.Keyed // and a budget for all of them together
	unlogged  atomic.Int64     // misses left out of the log by the budget
	misses    missRing         // the latest misses, for the dashboard
	inbox     *inbox
	ids       *idMemo // what the drivers made of recent requests
	dialogues *Dialogues
	// wallClock: Options.Now was not given, so a fetch's reading of the
	// clock for its metrics is its reading for everything (one, not two).
	wallClock bool
}

// NewPhones returns the phone side of the core.
func NewPhones(o Options, st PhoneStores) *Phones {
	wallClock := o.Now == nil
	o = o.withDefaults()
	if o.Dialogues == nil {
		o.Dialogues = NewDialogues(o.Now)
	}
	log := o.Log.With("component", "provision")
	reports := st.Reports
	if reports == nil {
		reports = seenNow{st.Sightings}
	}
	return &Phones{
		wallClock: wallClock,
		reports:   reports,
		ids:       newIDMemo(0),
		dialogues: o.Dialogues,
		files:     st.Files,
		creds:     st.Credentials,
		auth:      httpauth.NewServer(Realm, nonceTTL, o.Now, o.NonceKey),
		inbox:     newInbox(o, log, st.Settings, st.Counter),
		renderer:  renderer{reg: o.Registry, log: log, now: o.Now, opts: o, settings: st.Settings, accounts: st.Accounts, profiles: st.Profiles, targets: st.Firmware, lastWindow: new(atomic.Pointer[windowMemo])},
		devices:   st.Devices,
		sightings: st.Sightings,
		claims:    st.Claims,
		miss:      ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, Now: o.Now}),
		missAll:   ratelimit.New(ratelimit.Config{Every: missLogEvery, Burst: missLogBurst, MaxKeys: 1, Now: o.Now}),
	}
}

// Ready reports whether the phone side can serve: its store answers.
func (p *Phones) Ready(ctx context.Context) error {
	_, err := p.settings.Settings(ctx)
	return err
}

// Provide answers a phone's request: it renders the file a phone GETs,
// or the answer to a message it POSTs to a path a driver declares
// (vendors.Responder). The caller must call Sending on the result right
// before the first byte of the body leaves and Finish (or End) when the
// transfer ends (see Result). A request marked SecretFree never claims a
// disclosure window. Every miss is logged here with its reason (never
// sent to the phone) and returned wrapping autoprov.ErrNotFound; a POST no
// driver answers wraps autoprov.ErrRefused.
func (p *Phones) Provide(ctx context.Context, req vendors.Request) (*Result, error) {
	return p.provideOf(ctx, req, false)
}

// ProvideBorrowed is Provide for a request whose Path, UserAgent,
// Authorization and Target may be views of the edge's read buffer, valid
// only until it returns (its other strings are kept as given): the core
// makes them its own first, from its memo of request shapes where it
// holds them, so that a steady-state fetch copies nothing.
func (p *Phones) ProvideBorrowed(ctx context.Context, req vendors.Request) (*Result, error) {
	return p.provideOf(ctx, req, true)
}

func (p *Phones) provideOf(ctx context.Context, req vendors.Request, borrowed bool) (*Result, error) {
	start := time.Now()
	var n fetchNote
	res, err := p.provide(ctx, req, borrowed, start, &n)
	metrics.Fetch(n.vendor, n.kind, req.Transport, fetchOutcome(res, err), time.Since(start))
	return res, err
}

func (p *Phones) provide(ctx context.Context, req vendors.Request, borrowed bool, start time.Time, n *fetchNote) (*Result, error) {
	if req.Method == vendors.MethodPost {
		if borrowed {
			p.own(&req)
		}
		n.kind = "post"
		return p.respond(ctx, req, n)
	}
	req, via := p.via(req) // a redirect service's marker (onboarding.go)
	var held *idEntry      // req's memo entry, when own found it
	if borrowed {
		held, via = p.own(&req), strings.Clone(via) // via: a piece of the path as given
	}
	if strings.HasPrefix(req.Path, directoryPrefix) {
		n.kind = "directory"
		if err := p.admitDirectory(ctx, req); err != nil {
			return nil, err
		}
		return p.provideDirectory(ctx, req)
	}
	var epoch uint64 // the file cache's, before anything a file is made of is read
	if p.files != nil {
		epoch = p.files.Epoch()
	}
	now := start // one reading for the whole fetch
	if !p.wallClock {
		now = p.now()
	}
	memo, id, v := p.identify(req, held)
	if res, ok, err := p.hotHit(ctx, memo, req, via, epoch, now, id, n); ok || err != nil {
		return res, err
	}
	if id.Score == 0 || v == nil || id.Kind == vendors.FileUnknown {
		return nil, p.missf(req, "", "no vendor serves this file name (user agent and path not recognised)")
	}
	n.note(v, id.Kind)
	mac := id.MAC
	if mac == "" {
		mac = req.MAC
	}
	if mac != "" {
		if err := p.checkMAC(mac, req, req.Path); err != nil {
			if id.Kind == vendors.FileDevice {
				return nil, p.missf(req, mac, "%v", err)
			}
			mac = "" // a common file needs no MAC: serve it, record nothing
		}
	}
	if res, ok, err := p.byRule(ctx, req, v, mac); ok || err != nil {
		return res, err // a redirect rule sends this phone elsewhere (onboarding.go)
	}
	var dev *autoprov.Device
	known := false  // dev is the inventory's device of mac, answered as such
	authed := false // the request proved dev's credential
	var ver verdict // the credential's check, made once (a Digest count counts once)
	hidden := ""    // why an assigned device is answered as an unknown MAC
	if mac != "" && id.Kind == vendors.FileDevice {
		// mTLS before anything is read or written: a refused request for
		// an unknown MAC lands nothing in the inbox.
		if why := p.clientCertRefusal(req, autoprov.Device{Vendor: v.Name(), MAC: mac}); why != "" {
			return nil, p.missf(req, mac, "%s", why)
		}
	}
	if mac != "" {
		v0 := sightingOf(mac, id, req, req.Path, now)
		var held autoprov.Device
		d, f, err := p.lookup(ctx, v0, req, &held)
		if err != nil {
			return nil, err
		}
		dev = d
		if d != nil {
			hidden = p.hidden(req, *d, &ver)
		}
		if hidden != "" {
			// Answered exactly as a MAC the inventory does not know: the
			// guessed driver and model, nothing written.
			dev, f = &autoprov.Device{MAC: mac, State: autoprov.StateUnassigned}, foundDropped
		} else if d != nil && d.State == autoprov.StateAssigned && d.Vendor != "" {
			// The inventory knows better than a guess from the path: let the
			// assigned vendor's driver decide what the path names.
			var err error
			id, v, err = p.identifyWith(d.Vendor, d.Model, req)
			if err != nil {
				return nil, p.missf(req, mac, "device's model %s/%s has no driver: %v", d.Vendor, d.Model, err)
			}
			n.note(v, id.Kind)
			if id.Kind == vendors.FileUnknown {
				return nil, p.missf(req, mac, "file is not one a %s phone fetches", d.Vendor)
			}
		}
		// mTLS first, for a known MAC and an unknown one alike, so that
		// neither the credential's challenge nor anything else tells them
		// apart without the phone's certificate.
		if id.Kind == vendors.FileDevice {
			if why := p.clientCertRefusal(req, autoprov.Device{Vendor: v.Name(), MAC: mac}); why != "" {
				return nil, p.missf(req, mac, "%s", why)
			}
		}
		if id.Kind == vendors.FileDevice {
			if authed, err = p.admit(ctx, req, v, mac, dev, ver, hidden); err != nil {
				return nil, err
			}
		}
		// An adopted phone's report (firmware, User-Agent, IP, last seen)
		// is updated only by the fetch of its own per-device file: a
		// common file names no phone, and anyone can forge the User-Agent
		// or ?mac= that would name one. Once its credential is required
		// (credentialRequired), only by a fetch that presents it.
		if f == foundKnown && (d.State != autoprov.StateAssigned ||
			id.Kind == vendors.FileDevice && (authed || !credentialRequired(*d))) {
			if err := p.touch(ctx, v0); err != nil {
				return nil, err
			}
			// This very request's report counts for what it gets (the
			// firmware decision compares it with the target).
			if fw := bounded(v0).Firmware; fw != "" && dev != nil {
				dev.Firmware = fw
			}
		}
		if f == foundKnown && hidden == "" {
			known = true
			p.redirected(mac, via)
		}
	}
	if id.Kind == vendors.FileDevice {
		if hidden != "" {
			return nil, p.missf(req, mac, "%s; answered as an unknown MAC", hidden)
		}
		if dev == nil && mac != "" {
			return nil, p.missf(req, mac, "new phone not admitted to the inbox (rate limit or inbox_cap)")
		}
		if dev == nil {
			return nil, p.missf(req, "", "per-device file without a MAC in the path, user agent or query")
		}
		if dev.State != autoprov.StateAssigned {
			return nil, p.missf(req, mac, "device is unassigned: adopt it to provision it")
		}
		res, err := p.provideDevice(ctx, req, v, *dev, epoch, now)
		if err == nil && memo != nil && via == "" && known {
			p.keepHot(ctx, memo, req, v, id, *dev, authed, epoch, now, res)
		}
		return res, err
	}
	model := id.Model
	if dev != nil && dev.State == autoprov.StateAssigned {
		model = dev.Model
	}
	// A common file is made of the settings and what its key names.
	key := p.fileKey(req, v, model, now)
	if res, ok := p.cached(mac, key); ok {
		return res, nil
	}
	vd, err := p.commonDevice(ctx, mac, v.Name(), model, req.BaseURL, now)
	if err != nil {
		return nil, err
	}
	f, err := v.Render(req.Path, vd)
	if err != nil {
		return nil, p.missf(req, mac, "render %s: %v", req.Path, err)
	}
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.Debug("served", "file", req.Path, "mac", mac, "remote", req.RemoteAddr, "kind", "common")
	}
	res := newResult(f, false, Hooks{})
	p.keep(mac, key, epoch, res)
	return res, nil
}

// fileKey is the FileKey of a common file: what it is rendered from
// besides the stored inventory.
func (p *Phones) fileKey(req vendors.Request, v vendors.Vendor, model string, now time.Time) FileKey {
	return FileKey{Path: req.Path, Vendor: v.Name(), Model: model, BaseURL: p.baseURL(req.BaseURL), Year: now.Year()}
}

// cached returns the cached file of mac under key.
func (p *Phones) cached(mac string, key FileKey) (*Result, bool) {
	if p.files == nil {
		return nil, false
	}
	cf, ok := p.files.File(mac, key)
	if !ok {
		return nil, false
	}
	return &Result{File: cf.File, ETag: cf.ETag}, true
}

// keep caches a result without secrets (and its hot answer keeps what is
// kept here), its body in a slice of its own length, not the render
// buffer (a 2,971-byte Yealink file sat in 4,096). Not bytes.Clone: its
// append rounds the copy's capacity up to the allocator's next size
// class (8,273 bytes kept in 9,472).
func (p *Phones) keep(mac string, key FileKey, epoch uint64, res *Result) {
	if p.files != nil && !res.Secret {
		body := make([]byte, len(res.File.Body))
		copy(body, res.File.Body)
		res.File.Body = body
		p.files.PutFile(mac, key, epoch, CachedFile{File: res.File, ETag: res.ETag})
	}
}

// seenNow reports through Sightings, synchronously.
type seenNow struct{ s Sightings }

func (n seenNow) Report(ctx context.Context, v autoprov.Sighting) error {
	_, err := n.s.Seen(ctx, v)
	return err
}

// sightingOf is what a request taught us about the phone of mac.
func sightingOf(mac string, id vendors.Identity, req vendors.Request, file string, at time.Time) autoprov.Sighting {
	// The model is kept as the phone said it, supported or not: the inbox
	// shows what is out there.
	return autoprov.Sighting{MAC: mac, Vendor: id.Vendor, Model: id.Model, Firmware: id.Firmware,
		RemoteIP: req.RemoteAddr, UserAgent: req.UserAgent, File: file, At: at}
}

// found is what lookup found.
type found int

const (
	foundKnown   found = iota // in the inventory; nothing written yet
	foundNew                  // recorded now as a new unassigned device
	foundDropped              // new, and refused by the inbox's bounds
)

// lookup returns the device of the sighting's MAC when the inventory
// knows it (writing nothing), or records a new one in the inbox when the
// bounds admit it (nil when they do not). Every sighting of a MAC the
// inventory does not know, from every edge, goes through here.
//
// A known device is read into held (the caller's, so that the steady
// state's hit allocates no copy of it) and held is returned.
func (p *Phones) lookup(ctx context.Context, v autoprov.Sighting, req vendors.Request, held *autoprov.Device) (*autoprov.Device, found, error) {
	d, err := p.devices.Device(ctx, v.MAC)
	switch {
	case err == nil:
		*held = d
		return held, foundKnown, nil
	case !errors.Is(err, autoprov.ErrNotFound):
		return nil, foundKnown, err
	}
	ok, err := p.inbox.admit(ctx, v, sourceOf(req))
	if err != nil || !ok {
		return nil, foundDropped, err
	}
	v = bounded(v)
	created, err := p.sightings.Seen(ctx, v)
	p.inbox.done(created)
	if err != nil {
		return nil, foundNew, fmt.Errorf("record sighting: %w", err)
	}
	if !created { // another request recorded it first (and this one updated it)
		d, err := p.devices.Device(ctx, v.MAC)
		if err != nil {
			return nil, foundNew, err
		}
		*held = d
		return held, foundNew, nil
	}
	p.log.Info("new phone in the inbox", "mac", v.MAC, "vendor", v.Vendor, "model", v.Model, "remote", v.RemoteIP, "via", v.File)
	at := v.At // not &v.At: v would live on the heap for every fetch
	return &autoprov.Device{MAC: v.MAC, Vendor: v.Vendor, Model: v.Model, State: autoprov.StateUnassigned,
		Accounts: []string{}, Keys: []autoprov.KeySpec{}, LastSeen: &at, RemoteIP: v.RemoteIP, UserAgent: v.UserAgent,
		Firmware: v.Firmware, LastFile: v.File, Disclosure: autoprov.Disclosure{State: autoprov.DisclosureNone}}, foundNew, nil
}

// touch updates what a known phone reported about itself.
func (p *Phones) touch(ctx context.Context, v autoprov.Sighting) error {
	if err := p.reports.Report(ctx, bounded(v)); err != nil {
		return fmt.Errorf("record sighting: %w", err)
	}
	return nil
}

// claim reserves the device's disclosure window for this transfer when it
// is open; it returns the claim's token, or "" when no secret may go out.
func (p *Phones) claim(ctx context.Context, req vendors.Request, dev autoprov.Device) (string, error) {
	now := p.now()
	if req.SecretFree || !dev.Disclosure.OpenAt(now) {
		return "", nil
	}
	t := randomToken()
	won, err := p.claims.Reserve(ctx, dev.MAC, t, now, p.opts.ClaimLease)
	if err != nil || !won {
		return "", err
	}
	return t, nil
}

func (p *Phones) provideDevice(ctx context.Context, req vendors.Request, v vendors.Vendor, dev autoprov.Device, epoch uint64, now time.Time) (*Result, error) {
	_, model, err := p.lookupModel(dev.Vendor, dev.Model)
	if err != nil {
		return nil, p.missf(req, dev.MAC, "model: %v", err)
	}
	// While the window is open every fetch takes the exact path (claim,
	// render); otherwise the file without secrets may come from the cache.
	cacheable := !dev.Disclosure.OpenAt(now)
	key := p.fileKey(req, v, model.Name, now)
	key.Device = true
	key.Firmware, key.Window = p.firmwareKey(ctx, dev, now)
	if cacheable {
		if res, ok := p.cached(dev.MAC, key); ok {
			return res, nil
		}
	}
	token, err := p.claim(ctx, req, dev)
	if err != nil {
		return nil, err
	}
	cred := ""
	if token != "" && len(authSchemes(v)) > 0 {
		cred = GeneratePassword(credentialLen) // issued with the secrets (credential.go)
	}
	f, err := p.renderDevice(ctx, req, v, model, dev, token != "", cred, now)
	if err != nil {
		p.release(dev.MAC, token)
		return nil, p.missf(req, dev.MAC, "render %s: %v", req.Path, err)
	}
	if token != "" {
		p.log.Info("served", "file", req.Path, "mac", dev.MAC, "remote", req.RemoteAddr, "kind", "device", "secrets", true, "credential", cred != "")
	} else if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.Debug("served", "file", req.Path, "mac", dev.MAC, "remote", req.RemoteAddr, "kind", "device", "secrets", false)
	}
	res := newResult(f, token != "", p.disclose(dev.MAC, token, cred, req))
	if cacheable {
		p.keep(dev.MAC, key, epoch, res)
	}
	return res, nil
}

// renderDevice renders a per-device file, refusing one rendered without
// secrets that still holds one (see leaked).
func (p *Phones) renderDevice(ctx context.Context, req vendors.Request, v vendors.Vendor, model vendors.Model, dev autoprov.Device, withSecrets bool, cred string, now time.Time) (*vendors.File, error) {
	vd, err := p.vendorDevice(ctx, dev, v, model, req.BaseURL, withSecrets, now)
	if err != nil {
		return nil, err
	}
	if withSecrets && cred != "" {
		vd.ProvisionUser, vd.ProvisionPassword = dev.MAC, cred
	}
	f, err := v.Render(req.Path, vd)
	if err != nil {
		return nil, err
	}
	if !withSecrets {
		if err := leaked(f.Body, vd); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// release gives up a claim that sent nothing. It runs on a
// context of its own: the request's may be what ended the transfer.
func (p *Phones) release(mac, token string) {
	if token == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := p.claims.Release(ctx, mac, token); err != nil {
		p.log.Error("release disclosure claim", "mac", mac, "err", err)
	}
}

// settleTimeout bounds the database write that commits a claim at the
// first byte or settles it after the transfer ended (the request's
// context may be gone by then; TFTP has none).
const settleTimeout = 10 * time.Second

// errClaimLost is what Result.Sending returns when the disclosure claim
// was lost before the first byte: the edge sends nothing.
var errClaimLost = errors.New("the disclosure claim was lost (window re-armed, expired or taken by another transfer)")

// disclose returns the hooks of a per-device transfer that holds the
// claim token: commit the disclosure when the first byte is about to
// leave, then record whether the transfer completed; release the claim
// when it ended before anything was sent.
func (p *Phones) disclose(mac, token, cred string, req vendors.Request) Hooks {
	if token == "" {
		return Hooks{}
	}
	to := autoprov.Peer{IP: req.RemoteAddr, UserAgent: req.UserAgent}
	log := p.log.With("mac", mac, "remote", to.IP, "transport", req.Transport, "file", req.Path)
	return Hooks{
		Sending: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
			defer cancel()
			var won bool
			var err error
			if cred != "" {
				// The credential in the body is stored (issued) with the
				// commit, before any byte of it leaves, while this transfer
				// holds the claim.
				won, err = p.claims.CommitIssuing(ctx, mac, token, cred, p.now(), to)
			} else {
				won, err = p.claims.Commit(ctx, mac, token, p.now(), to)
			}
			switch {
			case err != nil:
				log.Error("commit disclosure; secrets not sent", "err", err)
				return err
			case !won:
				log.Warn("secrets not sent: " + errClaimLost.Error())
				return errClaimLost
			}
			log.Info("secrets sent; disclosure window consumed")
			metrics.Disclosure("consumed", req.Transport)
			return nil
		},
		End: func(sent bool, end error) {
			if !sent {
				p.release(mac, token)
				log.Info("transfer ended before any secret left; disclosure window unchanged")
				return
			}
			reason := ""
			if end != nil {
				reason = end.Error()
			}
			ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
			defer cancel()
			won, err := p.claims.Complete(ctx, mac, token, p.now(), end == nil, reason)
			switch {
			case err != nil:
				log.Error("record the end of the disclosure", "complete", end == nil, "err", err)
			case !won:
				log.Warn("secrets transfer ended after the window was re-armed; its end is not recorded", "complete", end == nil)
			case end == nil:
				log.Info("secrets transfer complete", "complete", true)
				metrics.Disclosure("complete", req.Transport)
			default:
				metrics.Disclosure("incomplete", req.Transport)
				log.Warn("secrets sent, transfer did not complete; window consumed: re-open it for this phone", "complete", false, "reason", reason)
			}
		},
	}
}

// leaked is the safety net under the drivers and admins' template
// overrides: a file rendered without secrets must not hold one. Only the
// long secrets are checked (a 4-digit PIN can occur by chance).
func leaked(body []byte, vd *vendors.Device) error {
	secrets := []string{vd.WebPassword, vd.MenuPassword, vd.ProvisionPassword}
	for _, l := range vd.Lines {
		secrets = append(secrets, l.Password)
	}
	for _, sec := range secrets {
		if len(sec) >= 8 && bytes.Contains(body, []byte(sec)) {
			return errors.New("the file rendered without secrets holds one: check template overrides for a missing WithSecrets guard")
		}
	}
	return nil
}

func newResult(f *vendors.File, secret bool, h Hooks) *Result {
	sum := sha256.Sum256(f.Body)
	return &Result{File: f, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Secret: secret, hooks: h}
}

// provideDirectory serves directory/<vendor>/<model>.xml: the company
// directory in the format of the driver that serves that model (one vendor
// name can have several drivers with different formats).
func (p *Phones) provideDirectory(ctx context.Context, req vendors.Request) (*Result, error) {
	rest := strings.TrimPrefix(req.Path, directoryPrefix)
	vendor, file, ok := strings.Cut(rest, "/")
	model, isXML := strings.CutSuffix(file, ".xml")
	if !ok || !isXML {
		return nil, p.missf(req, "", "no such directory")
	}
	v, _, err := p.reg.Lookup(vendor, model)
	if err != nil {
		return nil, p.missf(req, "", "directory: %v", err)
	}
	dr, ok := v.(vendors.DirectoryRenderer)
	if !ok {
		return nil, p.missf(req, "", "the %s %s has no directory format", vendor, model)
	}
	accts, err := p.accounts.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	entries := make([]vendors.DirectoryEntry, 0, len(accts))
	for _, a := range accts {
		entries = append(entries, vendors.DirectoryEntry{Name: pick(a.DisplayName, a.Extension), Extension: a.Extension})
	}
	f, err := dr.RenderDirectory(entries)
	if err != nil {
		return nil, p.missf(req, "", "render directory: %v", err)
	}
	return newResult(f, false, Hooks{}), nil
}

// missf logs why a request failed (rate-limited per MAC and path, since
// phones retry forever) and returns an error wrapping ErrNotFound that
// carries no detail meant for the phone.
func (p *Phones) missf(req vendors.Request, mac, format string, a ...any) error {
	return p.refusef(autoprov.ErrNotFound, req, mac, format, a...)
}

func (p *Phones) refusef(kind error, req vendors.Request, mac, format string, a ...any) error {
	reason := fmt.Sprintf(format, a...)
	metrics.Miss(missReason(kind, reason), req.Transport)
	if p.miss.Allow(mac + "|" + req.Path + "|" + reason) {
		p.misses.add(autoprov.Miss{At: p.now(), MAC: mac, Path: req.Path, RemoteAddr: req.RemoteAddr,
			UserAgent: req.UserAgent, Transport: req.Transport, Reason: reason})
		// A client forging a new path for every request passes the
		// per-key limit each time: the budget bounds the log all the same,
		// and says how much it left out.
		if !p.missAll.Allow("") {
			p.unlogged.Add(1)
		} else {
			if n := p.unlogged.Swap(0); n > 0 {
				p.log.Warn("misses not logged: too many at once", "count", n)
			}
			p.log.Warn("miss", "file", req.Path, "mac", mac, "remote", req.RemoteAddr, "user_agent", req.UserAgent,
				"transport", req.Transport, "method", req.Method, "reason", reason)
		}
	}
	return fmt.Errorf("%s: %w", req.Path, kind)
}

// The miss log's budget across all keys: a burst of 50 lines, then one a
// second.
const (
	missLogBurst = 50
	missLogEvery = time.Second
)

func randomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
