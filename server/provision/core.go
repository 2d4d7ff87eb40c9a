package provision

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// Options configure both services of the core.
type Options struct {
	Registry *vendors.Registry
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
	// NonceKey signs the Digest nonces of the provisioning credential
	// challenge; instances of one fleet need the same one (main derives it
	// from the secret keyring), else each takes a random key of its own.
	NonceKey []byte
	// ClaimLease bounds how long one transfer may hold the disclosure claim
	// (default 2 minutes); a crashed server's claim lapses after it.
	ClaimLease time.Duration
	// InboxPerMinute and InboxBurst bound how many new unassigned devices
	// one source address may add (DefaultInboxPerMinute, DefaultInboxBurst
	// when 0); see inbox.go.
	InboxPerMinute, InboxBurst int
	// InboxDHCPPerMinute and InboxDHCPBurst bound how many new unassigned
	// devices DHCP requests may add, all link sources together
	// (DefaultInboxDHCPPerMinute, DefaultInboxDHCPBurst when 0).
	InboxDHCPPerMinute, InboxDHCPBurst int
	// ClientCertVendors names the vendors whose per-device files (and
	// dialogues) are served only over HTTPS to a phone presenting a client
	// certificate that the edge verified against the vendor's CA and that
	// names the file's MAC (vendors.Request.ClientCerts; --phone-ca).
	// Other vendors and common files are unaffected.
	ClientCertVendors []string
	// Resync sends the SIP requests of Inventory.ResyncDevice and Resync
	// (server/resync); without it every resync fails, saying so.
	Resync SIPSender
	// Onboarding is the redirect part (redirect.Service): registration on
	// adoption, the redirect services' marker and the redirect rules on
	// the phone path (onboarding.go). Nil switches all of it off.
	Onboarding Onboarding
	// Unsupervised, when set and returning an error, refuses what hands out
	// new credentials: opening a secret window, creating or adopting a
	// device, changing an account's credential (server/central: a site
	// cut off from its central server past its grace period). Phones keep
	// getting their files without secrets.
	Unsupervised func() error
	// Dialogues is what the phone side and the inventory share of
	// dialogue phones (sessions, pending jobs; conversation.go). New
	// makes one for both when nil; NewPhones alone makes its own.
	Dialogues *Dialogues
	// Contact sends a driver's contact-me (vendors.Contacter) for a
	// resync; nil: a plain HTTP client with a 5 s timeout.
	Contact HTTPSender
	// DialogueAddr is the host and port phones call back on after a
	// contact-me (the --wpi listener as they reach it), or "".
	DialogueAddr string
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.DisclosureWindow <= 0 {
		o.DisclosureWindow = 10 * time.Minute
	}
	if o.ClaimLease <= 0 {
		o.ClaimLease = 2 * time.Minute
	}
	if o.PublicURL != "" && !strings.HasSuffix(o.PublicURL, "/") {
		o.PublicURL += "/"
	}
	if o.FallbackURL != "" && !strings.HasSuffix(o.FallbackURL, "/") {
		o.FallbackURL += "/"
	}
	return o
}

// New builds both services of the core on one backend (server/store).
// A backend that also keeps the firmware rollout (FirmwareRollout, as
// server/store does) gets it wired into both.
func New(o Options, b Backend) (*Phones, *Inventory) {
	if o.Dialogues == nil {
		o.Dialogues = NewDialogues(o.Now)
	}
	ps := PhoneStores{Settings: b, Accounts: b, Profiles: b, Devices: b, Sightings: b, Claims: b, Credentials: b, Counter: b}
	is := InventoryStores{Settings: b, Accounts: b, Profiles: b, Devices: b, Disclosures: b, Audit: b, Lists: b, Bulk: b}
	if fr, ok := b.(FirmwareRollout); ok {
		ps.Firmware, is.Firmware = fr, fr
	}
	return NewPhones(o, ps), NewInventory(o, is)
}

// renderer is what both services share: reading what a device's files
// are made of and asking its driver to render them. It writes nothing.
type renderer struct {
	reg      *vendors.Registry
	log      *slog.Logger
	now      func() time.Time
	opts     Options
	settings SettingsReader
	accounts AccountReader
	profiles ProfileReader
	// targets reads the firmware rollout's targets; nil: no firmware.
	targets FirmwareTargetReader
	// lastWindow is the firmware_window setting last parsed (windowOf).
	lastWindow *atomic.Pointer[windowMemo]
}

// directoryPrefix is where company directories are served, per vendor.
const directoryPrefix = "directory/"

// effectiveSettings returns the fleet-wide settings with the defaults of
// unset fields filled in.
func (r *renderer) effectiveSettings(ctx context.Context) (autoprov.Settings, error) {
	st, err := r.settings.Settings(ctx)
	if err != nil {
		return autoprov.Settings{}, err
	}
	return r.fill(st), nil
}

func (r *renderer) fill(st autoprov.Settings) autoprov.Settings {
	if st.DisclosureWindowSeconds == 0 {
		st.DisclosureWindowSeconds = int(r.opts.DisclosureWindow / time.Second)
	}
	if st.ToneScheme == "" {
		st.ToneScheme = vendors.ToneSchemeForZone(st.Timezone)
	}
	if st.InboxCap == 0 {
		st.InboxCap = autoprov.DefaultInboxCap
	}
	return st
}

// baseURL is the provisioning base URL a phone's files point at.
func (r *renderer) baseURL(reqBase string) string {
	switch {
	case r.opts.PublicURL != "":
		return r.opts.PublicURL + "prov/"
	case reqBase != "":
		return reqBase
	}
	return r.opts.FallbackURL + "prov/"
}

// vendorDevice builds the driver's view of an assigned device.
func (r *renderer) vendorDevice(ctx context.Context, dev autoprov.Device, v vendors.Vendor, model vendors.Model, reqBase string, withSecrets bool, now time.Time) (*vendors.Device, error) {
	st, err := r.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	l, err := r.layout(ctx, dev, model, nil)
	if err != nil {
		return nil, err
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	lines := make([]vendors.Line, 0, len(dev.Accounts))
	for _, ext := range dev.Accounts {
		a, ok := l.accounts[ext]
		if !ok {
			return nil, fmt.Errorf("account %s of device %s: %w", ext, dev.MAC, autoprov.ErrNotFound)
		}
		lines = append(lines, vendors.Line{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, Password: a.Password})
	}
	vs := vendorSettings(st, dev.Overrides)
	zone, err := vendors.ResolveZone(vs.Timezone, now.Year())
	if err != nil {
		zone, _ = vendors.ResolveZone("UTC", now.Year())
	}
	params, _, err := r.params(ctx, dev, v, model)
	if err != nil {
		return nil, err
	}
	base := r.baseURL(reqBase)
	vd := &vendors.Device{
		Params: params,
		MAC:    dev.MAC, Vendor: dev.Vendor, Model: model.Name, Label: dev.Label,
		Lines: lines, Keys: l.sorted(), Settings: vs, Zone: zone, ProvisionURL: base,
		WithSecrets: withSecrets, MenuPassword: dev.MenuPassword, WebPassword: dev.WebPassword,
		PnPOff: pnpOff(dev),
	}
	fw, err := r.firmwareFor(ctx, dev, v, now)
	if err != nil {
		return nil, err
	}
	if fw != nil {
		vd.FirmwareURL, vd.FirmwareVersion = base+fw.Path, fw.Version
	}
	if _, ok := v.(vendors.DirectoryRenderer); ok {
		vd.DirectoryURL = base + directoryPrefix + url.PathEscape(dev.Vendor) + "/" + url.PathEscape(model.Name) + ".xml"
	}
	return vd, nil
}

// pnpOff says whether a device's per-device file switches plug-and-play
// off (vendors.Device.PnPOff): for every assigned device, so from the
// transfer that carries its secrets on. It deliberately does not follow
// the window's state (open, consumed, expired): the file without secrets
// must look the same whether the secrets were taken or not (a HEAD or a
// conditional GET reveals nothing about the window). Unassigned phones
// never get a per-device file, and common files never get PnPOff: the
// factory default (on) stays for them.
func pnpOff(dev autoprov.Device) bool { return dev.State == autoprov.StateAssigned }

// commonDevice is the driver's view for a file every phone of a model
// shares: settings and where to fetch from, no lines, keys or secrets.
func (r *renderer) commonDevice(ctx context.Context, mac, vendor, model, reqBase string, now time.Time) (*vendors.Device, error) {
	st, err := r.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	vs := vendorSettings(st, autoprov.Overrides{})
	zone, _ := vendors.ResolveZone(vs.Timezone, now.Year())
	return &vendors.Device{MAC: mac, Vendor: vendor, Model: model, Settings: vs, Zone: zone, ProvisionURL: r.baseURL(reqBase)}, nil
}

// vendorSettings merges stored fleet settings and a device's overrides
// into what drivers render; a tone scheme nobody set follows the
// effective time zone's country.
func vendorSettings(st autoprov.Settings, o autoprov.Overrides) vendors.Settings {
	tz := pick(o.Timezone, st.Timezone)
	return vendors.Settings{
		SIPServer: st.SIPServer, SIPPort: st.SIPPort, SIPTransport: st.SIPTransport, OutboundProxy: st.OutboundProxy,
		NTPServer: pick(o.NTPServer, st.NTPServer), Timezone: tz,
		Language: pick(o.Language, st.Language), WebLanguage: pick(o.WebLanguage, pick(st.WebLanguage, st.Language)),
		ToneScheme: pick(o.ToneScheme, pick(st.ToneScheme, vendors.ToneSchemeForZone(tz))),
	}
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
