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
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// Store is what the core needs from the database. server/store satisfies it.
type Store interface {
	Settings() (Settings, error)
	PutSettings(Settings) error

	CreateAccount(Account) (Account, error)
	Account(ext string) (Account, error)
	Accounts() ([]Account, error)
	AccountsByExtension(exts []string) (map[string]Account, error)
	UpdateAccount(Account) (Account, error)
	DeleteAccount(ext string) error
	DevicesUsingAccount(ext string) ([]string, error)

	CreateDevice(Device) error
	UpdateDevice(Device) error
	DeleteDevice(mac string) error
	Device(mac string) (Device, error)
	Devices(DeviceFilter) ([]Device, error)
	CountDevices(DeviceFilter) (int, error)
	Seen(Sighting) (created bool, err error)

	CreateKeyProfile(KeyProfile) (KeyProfile, error)
	UpdateKeyProfile(KeyProfile) (KeyProfile, error)
	KeyProfile(name string) (KeyProfile, error)
	KeyProfiles() ([]KeyProfile, error)
	DeleteKeyProfile(name string) error
	DevicesWithProfile(name string) ([]string, error)

	OpenDisclosure(mac string, now time.Time, window time.Duration, actor string) (Disclosure, error)
	Reserve(mac, token string, now time.Time, lease time.Duration) (bool, error)
	Commit(mac, token string, now time.Time, to Peer) (bool, error)
	Release(mac, token string) error
	ExpireDue(now time.Time) ([]string, error)

	Audit(mac string, limit int) ([]AuditEvent, error)
	AppendAudit(AuditEvent) error
}

// Config configures a Service.
type Config struct {
	Registry *vendors.Registry
	Store    Store
	Log      *slog.Logger
	// Now is the clock; time.Now when nil. Tests inject their own.
	Now func() time.Time
	// PublicURL is the base URL written into configs (e.g.
	// "https://prov.example.com/"); when empty it is derived from the
	// address the phone reached us on, else FallbackURL.
	PublicURL string
	// FallbackURL is the base URL for requests whose edge cannot tell one (TFTP).
	FallbackURL string
	// DisclosureWindow is the window length while the settings do not set one.
	DisclosureWindow time.Duration
	// ClaimLease bounds how long one transfer may hold the disclosure claim
	// (default 2 minutes); a crashed server's claim lapses after it.
	ClaimLease time.Duration
}

// Service is the provisioning core. It is safe for concurrent use.
type Service struct {
	reg   *vendors.Registry
	store Store
	log   *slog.Logger
	now   func() time.Time
	cfg   Config
	miss  *limiter
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DisclosureWindow <= 0 {
		cfg.DisclosureWindow = 10 * time.Minute
	}
	if cfg.ClaimLease <= 0 {
		cfg.ClaimLease = 2 * time.Minute
	}
	if cfg.PublicURL != "" && !strings.HasSuffix(cfg.PublicURL, "/") {
		cfg.PublicURL += "/"
	}
	if cfg.FallbackURL != "" && !strings.HasSuffix(cfg.FallbackURL, "/") {
		cfg.FallbackURL += "/"
	}
	return &Service{reg: cfg.Registry, store: cfg.Store, log: cfg.Log.With("component", "provision"),
		now: cfg.Now, cfg: cfg, miss: newLimiter(time.Minute)}
}

// Registry returns the vendor registry.
func (s *Service) Registry() *vendors.Registry { return s.reg }

// Ready checks the store answers.
func (s *Service) Ready() error {
	_, err := s.store.Settings()
	return err
}

// ---- phone side ----

// directoryPrefix is where company directories are served, per vendor.
const directoryPrefix = "directory/"

// Provide renders the file a phone asked for. The caller must call Finish
// on the result when the transfer ends. Errors wrap ErrNotFound for every
// miss (the reason is logged here, never sent to the phone).
func (s *Service) Provide(ctx context.Context, req vendors.Request) (*Result, error) {
	if strings.HasPrefix(req.Path, directoryPrefix) {
		return s.provideDirectory(req)
	}
	id, v := s.reg.Identify(req)
	if id.Score == 0 || v == nil || id.Kind == vendors.FileUnknown {
		return nil, s.missf(req, "", "no vendor serves this file name (user agent and path not recognised)")
	}
	mac := id.MAC
	if mac == "" {
		mac = req.MAC
	}
	var dev *Device
	if mac != "" {
		d, err := s.sighting(mac, id, req)
		if err != nil {
			return nil, err
		}
		dev = d
		if d.State == StateAssigned && d.Vendor != "" {
			// The inventory knows better than a guess from the path: let the
			// assigned vendor's driver decide what the path names.
			var err error
			id, v, err = s.reg.IdentifyWith(d.Vendor, d.Model, req)
			if err != nil {
				return nil, s.missf(req, mac, "device's model %s/%s has no driver: %v", d.Vendor, d.Model, err)
			}
			if id.Kind == vendors.FileUnknown {
				return nil, s.missf(req, mac, "file is not one a %s phone fetches", d.Vendor)
			}
		}
	}
	switch id.Kind {
	case vendors.FileDevice:
		if dev == nil {
			return nil, s.missf(req, "", "per-device file without a MAC in the path, user agent or query")
		}
		if dev.State != StateAssigned {
			return nil, s.missf(req, mac, "device is unassigned: adopt it to provision it")
		}
		return s.provideDevice(req, v, *dev)
	default:
		model := id.Model
		if dev != nil && dev.State == StateAssigned {
			model = dev.Model
		}
		st, err := s.Settings()
		if err != nil {
			return nil, err
		}
		zone, _ := vendors.ResolveZone(st.Timezone, s.now().Year())
		vd := &vendors.Device{MAC: mac, Vendor: v.Name(), Model: model, Settings: vendorSettings(st, Overrides{}),
			Zone: zone, ProvisionURL: s.baseURL(req)}
		f, err := v.Render(req.Path, vd)
		if err != nil {
			return nil, s.missf(req, mac, "render %s: %v", req.Path, err)
		}
		s.log.Debug("served", "file", req.Path, "mac", mac, "remote", req.RemoteAddr, "kind", "common")
		return newResult(f, false, nil), nil
	}
}

// sighting records what the request taught us and returns the device.
func (s *Service) sighting(mac string, id vendors.Identity, req vendors.Request) (*Device, error) {
	// The model is kept as the phone said it, supported or not: the inbox
	// shows what is out there.
	if _, err := s.record(Sighting{MAC: mac, Vendor: id.Vendor, Model: id.Model, Firmware: id.Firmware,
		RemoteIP: req.RemoteAddr, UserAgent: req.UserAgent, File: req.Path, At: s.now()}); err != nil {
		return nil, err
	}
	d, err := s.store.Device(mac)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// record stores a sighting from any edge (a fetch, a plug-and-play
// SUBSCRIBE, a DHCP request); a MAC seen for the first time lands in the
// inbox, which is logged.
func (s *Service) record(v Sighting) (created bool, err error) {
	created, err = s.store.Seen(v)
	if err != nil {
		return false, fmt.Errorf("record sighting: %w", err)
	}
	if created {
		s.log.Info("new phone in the inbox", "mac", v.MAC, "vendor", v.Vendor, "model", v.Model, "remote", v.RemoteIP, "via", v.File)
	}
	return created, nil
}

func (s *Service) provideDevice(req vendors.Request, v vendors.Vendor, dev Device) (*Result, error) {
	_, model, err := s.reg.Lookup(dev.Vendor, dev.Model)
	if err != nil {
		return nil, s.missf(req, dev.MAC, "model: %v", err)
	}
	now := s.now()
	token := ""
	if dev.Disclosure.State == DisclosureOpen && dev.Disclosure.ExpiresAt != nil && now.Before(*dev.Disclosure.ExpiresAt) {
		t := randomToken()
		won, err := s.store.Reserve(dev.MAC, t, now, s.cfg.ClaimLease)
		if err != nil {
			return nil, err
		}
		if won {
			token = t
		}
	}
	vd, err := s.vendorDevice(dev, v, model, req, token != "")
	if err == nil {
		var f *vendors.File
		f, err = v.Render(req.Path, vd)
		if err == nil && token == "" {
			err = leaked(f.Body, vd)
		}
		if err == nil {
			s.log.Info("served", "file", req.Path, "mac", dev.MAC, "remote", req.RemoteAddr, "kind", "device", "secrets", token != "")
			return newResult(f, token != "", s.settle(dev.MAC, token, Peer{IP: req.RemoteAddr, UserAgent: req.UserAgent})), nil
		}
	}
	if token != "" {
		if rerr := s.store.Release(dev.MAC, token); rerr != nil {
			s.log.Error("release disclosure claim", "mac", dev.MAC, "err", rerr)
		}
	}
	return nil, s.missf(req, dev.MAC, "render %s: %v", req.Path, err)
}

// settle returns the Finish hook of a per-device transfer: commit the
// disclosure when the secrets were delivered, release the claim otherwise.
func (s *Service) settle(mac, token string, to Peer) func(bool) {
	if token == "" {
		return nil
	}
	return func(delivered bool) {
		if !delivered {
			if err := s.store.Release(mac, token); err != nil {
				s.log.Error("release disclosure claim", "mac", mac, "err", err)
				return
			}
			s.log.Info("transfer with secrets did not complete; disclosure window stays open", "mac", mac, "remote", to.IP)
			return
		}
		won, err := s.store.Commit(mac, token, s.now(), to)
		switch {
		case err != nil:
			s.log.Error("commit disclosure", "mac", mac, "err", err)
		case !won:
			s.log.Warn("secrets delivered but the window was re-armed meanwhile; it stays open", "mac", mac, "remote", to.IP)
		default:
			s.log.Info("secrets disclosed; window closed", "mac", mac, "remote", to.IP)
		}
	}
}

// leaked is the safety net under the drivers and admins' template
// overrides: a file rendered without secrets must not hold one. Only the
// long secrets are checked (a 4-digit PIN can occur by chance).
func leaked(body []byte, vd *vendors.Device) error {
	secrets := []string{vd.WebPassword, vd.MenuPassword}
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

func newResult(f *vendors.File, secret bool, finish func(bool)) *Result {
	sum := sha256.Sum256(f.Body)
	return &Result{File: f, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Secret: secret, finish: finish}
}

// provideDirectory serves directory/<vendor>/<model>.xml: the company
// directory in the format of the driver that serves that model (one vendor
// name can have several drivers with different formats).
func (s *Service) provideDirectory(req vendors.Request) (*Result, error) {
	rest := strings.TrimPrefix(req.Path, directoryPrefix)
	vendor, file, ok := strings.Cut(rest, "/")
	model, isXML := strings.CutSuffix(file, ".xml")
	if !ok || !isXML {
		return nil, s.missf(req, "", "no such directory")
	}
	v, _, err := s.reg.Lookup(vendor, model)
	if err != nil {
		return nil, s.missf(req, "", "directory: %v", err)
	}
	dr, ok := v.(vendors.DirectoryRenderer)
	if !ok {
		return nil, s.missf(req, "", "the %s %s has no directory format", vendor, model)
	}
	accts, err := s.store.Accounts()
	if err != nil {
		return nil, err
	}
	entries := make([]vendors.DirectoryEntry, 0, len(accts))
	for _, a := range accts {
		name := a.DisplayName
		if name == "" {
			name = a.Extension
		}
		entries = append(entries, vendors.DirectoryEntry{Name: name, Extension: a.Extension})
	}
	f, err := dr.RenderDirectory(entries)
	if err != nil {
		return nil, s.missf(req, "", "render directory: %v", err)
	}
	return newResult(f, false, nil), nil
}

// missf logs why a request failed (rate-limited per MAC and path, since
// phones retry forever) and returns an error wrapping ErrNotFound that
// carries no detail meant for the phone.
func (s *Service) missf(req vendors.Request, mac, format string, a ...any) error {
	reason := fmt.Sprintf(format, a...)
	if s.miss.allow(mac + "|" + req.Path + "|" + reason) {
		s.log.Warn("miss", "file", req.Path, "mac", mac, "remote", req.RemoteAddr, "user_agent", req.UserAgent,
			"transport", req.Transport, "reason", reason)
	}
	return fmt.Errorf("%s: %w", req.Path, ErrNotFound)
}

func (s *Service) baseURL(req vendors.Request) string {
	switch {
	case s.cfg.PublicURL != "":
		return s.cfg.PublicURL + "prov/"
	case req.BaseURL != "":
		return req.BaseURL
	}
	return s.cfg.FallbackURL + "prov/"
}

// vendorDevice builds the driver's view of a device.
func (s *Service) vendorDevice(dev Device, v vendors.Vendor, model vendors.Model, req vendors.Request, withSecrets bool) (*vendors.Device, error) {
	st, err := s.Settings()
	if err != nil {
		return nil, err
	}
	keys, lines, err := s.resolve(dev, model)
	if err != nil {
		return nil, err
	}
	vs := vendorSettings(st, dev.Overrides)
	zone, err := vendors.ResolveZone(vs.Timezone, s.now().Year())
	if err != nil {
		zone, _ = vendors.ResolveZone("UTC", s.now().Year())
	}
	base := s.baseURL(req)
	vd := &vendors.Device{
		MAC: dev.MAC, Vendor: dev.Vendor, Model: model.Name, Label: dev.Label,
		Lines: lines, Keys: keys, Settings: vs, Zone: zone, ProvisionURL: base,
		WithSecrets: withSecrets, MenuPassword: dev.MenuPassword, WebPassword: dev.WebPassword,
	}
	if _, ok := v.(vendors.DirectoryRenderer); ok {
		vd.DirectoryURL = base + directoryPrefix + url.PathEscape(dev.Vendor) + "/" + url.PathEscape(model.Name) + ".xml"
	}
	return vd, nil
}

func vendorSettings(st Settings, o Overrides) vendors.Settings {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	return vendors.Settings{
		SIPServer: st.SIPServer, SIPPort: st.SIPPort, SIPTransport: st.SIPTransport, OutboundProxy: st.OutboundProxy,
		NTPServer: pick(o.NTPServer, st.NTPServer), Timezone: pick(o.Timezone, st.Timezone),
		Language: pick(o.Language, st.Language), WebLanguage: pick(o.WebLanguage, pick(st.WebLanguage, st.Language)),
		ToneScheme: pick(o.ToneScheme, st.ToneScheme),
	}
}

// resolve builds a device's lines and its effective key layout for the
// driver: the model's defaults, then the key profile, then the device's own
// keys (a later layer wins per position), with accounts mapped to line
// numbers and BLF labels filled from the monitored account's display name.
func (s *Service) resolve(dev Device, model vendors.Model) ([]vendors.Key, []vendors.Line, error) {
	profile, err := s.profileKeys(dev)
	if err != nil {
		return nil, nil, err
	}
	specs, names, _ := layout(s.layers(dev, model, profile)...)
	accts, err := s.store.AccountsByExtension(append(append([]string{}, dev.Accounts...), values(specs)...))
	if err != nil {
		return nil, nil, err
	}
	lines := make([]vendors.Line, 0, len(dev.Accounts))
	for _, ext := range dev.Accounts {
		a, ok := accts[ext]
		if !ok {
			return nil, nil, fmt.Errorf("account %s of device %s: %w", ext, dev.MAC, ErrNotFound)
		}
		lines = append(lines, vendors.Line{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, Password: a.Password})
	}
	keys, kerrs := toVendorKeys(specs, names, dev.Accounts, accts)
	if len(kerrs) > 0 {
		return nil, nil, errors.New(strings.Join(kerrs, "; "))
	}
	sortKeys(keys)
	return keys, lines, nil
}

// ---- helpers ----

func randomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// GeneratePassword returns a random password of n characters from an
// alphabet without look-alike characters.
func GeneratePassword(n int) string {
	return randomFrom(passwordAlphabet, n)
}

// GeneratePIN returns a random numeric PIN of n digits.
func GeneratePIN(n int) string {
	return randomFrom("0123456789", n)
}

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// limiter lets one key through per interval; phones retry forever, so
// repeated misses would otherwise flood the log.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	last  map[string]time.Time
}

func newLimiter(every time.Duration) *limiter {
	return &limiter{every: every, last: map[string]time.Time{}}
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) > 10000 {
		for k, t := range l.last {
			if now.Sub(t) >= l.every {
				delete(l.last, k)
			}
		}
	}
	l.last[key] = now
	return true
}
