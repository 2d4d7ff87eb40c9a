package provision

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// InventoryStores are the stores the inventory side reads and writes.
type InventoryStores struct {
	Settings    SettingsStore
	Accounts    AccountStore
	Profiles    ProfileStore
	Devices     DeviceStore
	Disclosures DisclosureStore
	Audit       AuditStore
	Lists       Lister
	Bulk        BulkStore
	// Firmware keeps the firmware rollout; nil: its methods answer
	// ErrNotFound and files carry no firmware.
	Firmware FirmwareRollout
}

// mustHaveAll panics, naming the field, when a field of the stores struct
// st is nil, except the optional ones: a missing store would otherwise
// surface as a nil dereference in the first request that needs it.
func mustHaveAll(what string, st any, optional ...string) {
	v := reflect.ValueOf(st)
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Interface && f.IsNil() && !slices.Contains(optional, v.Type().Field(i).Name) {
			panic(fmt.Sprintf("provision: %s.%s is nil", what, v.Type().Field(i).Name))
		}
	}
}

// Inventory is the admin side of the core, behind the REST API, the web UI
// and the CLI: settings, accounts, devices, key profiles, disclosure
// windows, the audit log and previews of what phones get. It validates
// every change, audits it, and opens a device's secret window when its
// credentials change. It is safe for concurrent use.
type Inventory struct {
	renderer
	st       InventoryStores
	contacts *contacts // contact-me after changes (contactme.go)
}

// NewInventory returns the inventory side of the core.
func NewInventory(o Options, st InventoryStores) *Inventory {
	o = o.withDefaults()
	mustHaveAll("InventoryStores", st, "Firmware")
	return &Inventory{
		renderer: renderer{reg: o.Registry, log: o.Log.With("component", "inventory"), now: o.Now, opts: o,
			settings: st.Settings, accounts: st.Accounts, profiles: st.Profiles, targets: firmwareReader(st.Firmware)},
		st: st, contacts: newContacts(),
	}
}

// Lengths of generated secrets.
const (
	sipPasswordLen = 20
	webPasswordLen = 16
	menuPINLen     = 8
)

// Models lists every supported vendor and model with its capabilities.
func (s *Inventory) Models() []vendors.Model { return s.reg.Models() }

// ---- settings ----

// Settings returns the fleet-wide settings, defaults filled in.
func (s *Inventory) Settings(ctx context.Context) (autoprov.Settings, error) {
	return s.effectiveSettings(ctx)
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9._:\[\]-]+$`)

// PutSettings validates a change of the settings and saves it. Fields the
// patch leaves out keep their stored value, including "not set" (so a
// default such as --disclosure-window keeps applying to them). It returns
// the effective settings.
func (s *Inventory) PutSettings(ctx context.Context, in autoprov.SettingsPatch, actor string) (autoprov.Settings, error) {
	before, err := s.st.Settings.Settings(ctx)
	if err != nil {
		return autoprov.Settings{}, err
	}
	st := before
	set := func(dst *string, v *string, lower bool) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
			if lower {
				*dst = strings.ToLower(*dst)
			}
		}
	}
	set(&st.SIPServer, in.SIPServer, false)
	set(&st.SIPTransport, in.SIPTransport, true)
	set(&st.OutboundProxy, in.OutboundProxy, false)
	set(&st.NTPServer, in.NTPServer, false)
	set(&st.Timezone, in.Timezone, false)
	set(&st.Language, in.Language, false)
	set(&st.WebLanguage, in.WebLanguage, false)
	set(&st.ToneScheme, in.ToneScheme, false)
	set(&st.FirmwareWindow, in.FirmwareWindow, false)
	if in.SIPPort != nil {
		st.SIPPort = *in.SIPPort
	}
	if in.DisclosureWindowSeconds != nil {
		st.DisclosureWindowSeconds = *in.DisclosureWindowSeconds
	}
	if in.InboxCap != nil {
		st.InboxCap = *in.InboxCap
	}
	switch {
	case st.SIPServer != "" && !hostRE.MatchString(st.SIPServer):
		return autoprov.Settings{}, autoprov.Invalid("sip_server", "sip_server must be a host name or address")
	case st.SIPPort < 1 || st.SIPPort > 65535:
		return autoprov.Settings{}, autoprov.Invalid("sip_port", "sip_port must be between 1 and 65535")
	case st.SIPTransport != "udp" && st.SIPTransport != "tcp" && st.SIPTransport != "tls":
		return autoprov.Settings{}, autoprov.Invalid("sip_transport", "sip_transport must be udp, tcp or tls")
	case st.OutboundProxy != "" && (!hostRE.MatchString(st.OutboundProxy) || badPort(st.OutboundProxy)):
		return autoprov.Settings{}, autoprov.Invalid("outbound_proxy", "outbound_proxy must be host[:port] (port 1 to 65535) or empty")
	case st.NTPServer != "" && !hostRE.MatchString(st.NTPServer):
		return autoprov.Settings{}, autoprov.Invalid("ntp_server", "ntp_server must be a host name or address")
	case in.DisclosureWindowSeconds != nil && (st.DisclosureWindowSeconds < 1 || st.DisclosureWindowSeconds > 7*24*3600):
		return autoprov.Settings{}, autoprov.Invalid("disclosure_window_seconds", "disclosure_window_seconds must be between 1 and 604800")
	case in.InboxCap != nil && (st.InboxCap < 1 || st.InboxCap > autoprov.MaxInboxCap):
		return autoprov.Settings{}, autoprov.Invalid("inbox_cap", "inbox_cap must be between 1 and %d", autoprov.MaxInboxCap)
	}
	if _, err := parseWindow(st.FirmwareWindow); err != nil {
		return autoprov.Settings{}, autoprov.Invalid("firmware_window", "firmware_window %v", err)
	}
	if err := checkLocale(autoprov.Overrides{Timezone: st.Timezone, Language: st.Language, WebLanguage: st.WebLanguage, ToneScheme: st.ToneScheme}, true); err != nil {
		return autoprov.Settings{}, err
	}
	if err := s.st.Settings.PutSettings(ctx, st); err != nil {
		return autoprov.Settings{}, err
	}
	s.audit(ctx, "", autoprov.EventSettingsUpdated, actor, changedFields(before, st))
	s.changedVendors(ctx, actor) // dialogue phones are asked to call for it
	return s.fill(st), nil
}

// badPort reports a "host:port" whose port is not 1..65535.
func badPort(hostport string) bool {
	host, port := vendors.SplitHostPort(hostport)
	explicit := strings.HasPrefix(hostport, "[") && strings.Contains(hostport, "]:") ||
		!strings.HasPrefix(hostport, "[") && strings.Count(hostport, ":") == 1
	return host == "" || explicit && port == 0
}

// checkLocale validates locale names; required says an empty time zone or
// language is refused (an empty tone scheme or web language follows
// another setting).
func checkLocale(o autoprov.Overrides, required bool) error {
	if o.Timezone != "" || required {
		if _, err := vendors.ResolveZone(o.Timezone, 2026); err != nil {
			return autoprov.Invalid("timezone", "unknown time zone %q: use an IANA name such as Europe/Berlin", o.Timezone)
		}
	}
	if o.Language != "" || required {
		if _, ok := vendors.Languages[o.Language]; !ok {
			return autoprov.Invalid("language", "unknown language %q (supported: %s)", o.Language, strings.Join(sortedKeys(vendors.Languages), ", "))
		}
	}
	if o.WebLanguage != "" {
		if _, ok := vendors.Languages[o.WebLanguage]; !ok {
			return autoprov.Invalid("web_language", "unknown language %q (supported: %s)", o.WebLanguage, strings.Join(sortedKeys(vendors.Languages), ", "))
		}
	}
	if o.ToneScheme != "" {
		if _, ok := vendors.ToneSchemes[o.ToneScheme]; !ok {
			return autoprov.Invalid("tone_scheme", "unknown tone scheme %q (supported: %s)", o.ToneScheme, strings.Join(sortedKeys(vendors.ToneSchemes), ", "))
		}
	}
	if o.NTPServer != "" && !hostRE.MatchString(o.NTPServer) {
		return autoprov.Invalid("ntp_server", "ntp_server must be a host name or address")
	}
	return nil
}

// ---- accounts ----

var extensionRE = regexp.MustCompile(`^[A-Za-z0-9+*#._-]{1,32}$`)

func checkAccount(a autoprov.Account) error {
	switch {
	case !extensionRE.MatchString(a.Extension):
		return autoprov.Invalid("extension", "extension must be 1 to 32 letters, digits or + * # . _ -")
	case len(a.DisplayName) > 64 || !vendors.SafeText(a.DisplayName):
		return autoprov.Invalid("display_name", "display_name must be at most 64 characters without control characters")
	case !extensionRE.MatchString(a.AuthUser):
		return autoprov.Invalid("auth_user", "auth_user must be 1 to 32 letters, digits or + * # . _ -")
	case !goodPassword(a.Password):
		return autoprov.Invalid("password", "password must be 8 to 64 characters without control characters or < > & \" '")
	}
	return nil
}

// goodPassword is the rule for SIP and web passwords: 8 to 64 bytes of
// safe text without the characters XML formats would need to escape.
func goodPassword(p string) bool {
	return len(p) >= 8 && len(p) <= 64 && vendors.SafeText(p) && !strings.ContainsAny(p, "<>&\"'")
}

// CreateAccount creates an account, generating the password when absent.
func (s *Inventory) CreateAccount(ctx context.Context, in autoprov.AccountInput, actor string) (autoprov.Account, error) {
	a, err := newAccount(in)
	if err != nil {
		return autoprov.Account{}, err
	}
	a, err = s.st.Accounts.CreateAccount(ctx, a)
	if err == nil {
		s.audit(ctx, "", autoprov.EventAccountCreated, actor, "extension "+a.Extension)
	}
	return a, err
}

// newAccount validates the input of a new account: the auth user is the
// extension unless given, the password generated unless given.
func newAccount(in autoprov.AccountInput) (autoprov.Account, error) {
	a := autoprov.Account{}
	if in.Extension != nil {
		a.Extension = strings.TrimSpace(*in.Extension)
	}
	if in.DisplayName != nil {
		a.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	a.AuthUser = a.Extension
	if in.AuthUser != nil && strings.TrimSpace(*in.AuthUser) != "" {
		a.AuthUser = strings.TrimSpace(*in.AuthUser)
	}
	a.Password, a.PasswordGenerated = GeneratePassword(sipPasswordLen), true
	if in.Password != nil && *in.Password != "" {
		a.Password, a.PasswordGenerated = *in.Password, false
	}
	return a, checkAccount(a)
}

// Accounts lists the accounts.
func (s *Inventory) Accounts(ctx context.Context) ([]autoprov.Account, error) {
	return s.st.Accounts.Accounts(ctx)
}

// Account returns one account.
func (s *Inventory) Account(ctx context.Context, ext string) (autoprov.Account, error) {
	return s.st.Accounts.Account(ctx, ext)
}

// UpdateAccount changes an account. When a credential changes, every device
// carrying the account gets a new disclosure window so it can learn it.
func (s *Inventory) UpdateAccount(ctx context.Context, ext string, in autoprov.AccountInput, actor string) (autoprov.Account, error) {
	a, err := s.st.Accounts.Account(ctx, ext)
	if err != nil {
		return autoprov.Account{}, err
	}
	if in.Extension != nil && *in.Extension != ext {
		return autoprov.Account{}, autoprov.Invalid("extension", "the extension cannot be changed; create a new account")
	}
	old := a
	if a, err = patchAccount(a, in); err != nil {
		return autoprov.Account{}, err
	}
	if a.Password != old.Password || a.AuthUser != old.AuthUser {
		if err := s.supervised(); err != nil {
			return autoprov.Account{}, err
		}
	}
	a, err = s.st.Accounts.UpdateAccount(ctx, a)
	if err != nil {
		return autoprov.Account{}, err
	}
	s.audit(ctx, "", autoprov.EventAccountUpdated, actor, "extension "+ext+": "+changedFields(old, a))
	if a.Password != old.Password || a.AuthUser != old.AuthUser {
		macs, err := s.st.Devices.DevicesUsingAccount(ctx, ext)
		if err != nil {
			return a, err
		}
		for _, mac := range macs {
			if _, err := s.openWindowAfterChange(ctx, mac, actor); err != nil {
				return a, err
			}
		}
	}
	if a != old {
		s.changedAccount(ctx, ext, actor)
	}
	return a, nil
}

// patchAccount validates a change of account a: the fields in gives.
func patchAccount(a autoprov.Account, in autoprov.AccountInput) (autoprov.Account, error) {
	if in.DisplayName != nil {
		a.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if in.AuthUser != nil {
		a.AuthUser = strings.TrimSpace(*in.AuthUser)
	}
	if in.Password != nil && *in.Password != a.Password {
		a.Password, a.PasswordGenerated = *in.Password, false
	}
	return a, checkAccount(a)
}

// DeleteAccount deletes an account that no device carries.
func (s *Inventory) DeleteAccount(ctx context.Context, ext, actor string) error {
	if err := s.st.Accounts.DeleteAccount(ctx, ext); err != nil {
		return err
	}
	s.audit(ctx, "", autoprov.EventAccountDeleted, actor, "extension "+ext)
	return nil
}

// ---- devices ----

// CreateDevice adds a device, or adopts it when the server has already seen
// it (an unassigned device of that MAC). ErrConflict when it is assigned.
func (s *Inventory) CreateDevice(ctx context.Context, in autoprov.DeviceInput, actor string) (autoprov.Device, error) {
	if in.MAC == nil {
		return autoprov.Device{}, autoprov.Invalid("mac", "mac is required")
	}
	mac, err := autoprov.ParseMAC(*in.MAC)
	if err != nil {
		return autoprov.Device{}, err
	}
	existing, err := s.st.Devices.Device(ctx, mac)
	adopt := false
	switch {
	case err == nil && existing.State == autoprov.StateAssigned:
		return autoprov.Device{}, autoprov.Conflict("device %s exists", mac)
	case err == nil:
		adopt = true
	case !errors.Is(err, autoprov.ErrNotFound):
		return autoprov.Device{}, err
	}
	window, err := s.windowLength(ctx)
	if err != nil {
		return autoprov.Device{}, err
	}
	var seen *autoprov.Device
	if adopt {
		seen = &existing
	}
	w, err := s.createWrite(ctx, mac, seen, in, actor, window)
	if err != nil {
		return autoprov.Device{}, err
	}
	// The device, its accounts, its audit row and its window: one
	// transaction, so a crash never leaves a device whose window a retry
	// (409) could not open.
	if err := s.st.Devices.WriteDevice(ctx, w); err != nil {
		return autoprov.Device{}, err
	}
	s.adopted(ctx, w.Device, actor)
	d, err := s.Device(ctx, mac)
	if err == nil {
		s.changed(ctx, d, actor) // a dialogue phone is asked to call for it
	}
	return d, err
}

// createWrite validates the creation of device mac, or the adoption of
// seen (an unassigned device), and returns the write that makes it: the
// window (of length window) opens when the device has accounts.
func (s *Inventory) createWrite(ctx context.Context, mac string, seen *autoprov.Device, in autoprov.DeviceInput, actor string, window time.Duration) (autoprov.DeviceWrite, error) {
	d := autoprov.Device{MAC: mac, State: autoprov.StateAssigned, Accounts: []string{}, Keys: []autoprov.KeySpec{}}
	adopt := seen != nil
	if !adopt {
		// A MAC no phone ships with (multicast, locally administered, all
		// zeros): the edges refuse its fetches, so it could never be served.
		if err := vendors.DeviceMAC(mac); err != nil {
			return autoprov.DeviceWrite{}, autoprov.Invalid("mac", "%v", err)
		}
	} else {
		d = *seen
		in = adopting(in, d)
		d.State = autoprov.StateAssigned
	}
	if err := s.apply(ctx, &d, in); err != nil {
		return autoprov.DeviceWrite{}, err
	}
	s.fillSecrets(&d)
	event := autoprov.EventDeviceCreated
	if adopt {
		event = autoprov.EventDeviceAdopted
	}
	w := autoprov.DeviceWrite{Device: d, Create: !adopt, Adopt: adopt, At: s.now(), Actor: actor,
		Audit: []autoprov.AuditEvent{{At: s.now(), MAC: mac, Event: event, Actor: actor,
			Detail: d.Vendor + " " + d.Model + ", accounts " + strings.Join(d.Accounts, ",")}}}
	if len(d.Accounts) > 0 {
		w.Window = window
	}
	if adopt || w.Window > 0 {
		if err := s.supervised(); err != nil {
			return autoprov.DeviceWrite{}, err
		}
	}
	return w, nil
}

// UpdateDevice changes a device. Changing its accounts or passwords opens
// a new disclosure window.
func (s *Inventory) UpdateDevice(ctx context.Context, mac string, in autoprov.DeviceInput, actor string) (autoprov.Device, error) {
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return autoprov.Device{}, err
	}
	if in.MAC != nil {
		if m, err := vendors.ParseMAC(*in.MAC); err != nil || m != mac {
			return autoprov.Device{}, autoprov.Invalid("mac", "the MAC cannot be changed; create a new device")
		}
	}
	window, err := s.windowLength(ctx)
	if err != nil {
		return autoprov.Device{}, err
	}
	w, err := s.updateWrite(ctx, d, in, actor, window)
	if err != nil {
		return autoprov.Device{}, err
	}
	if err := s.st.Devices.WriteDevice(ctx, w); err != nil {
		return autoprov.Device{}, err
	}
	if w.Adopt {
		s.adopted(ctx, w.Device, actor)
	}
	s.changed(ctx, w.Device, actor)
	return s.Device(ctx, mac)
}

// updateWrite validates a change of the stored device d and returns the
// write that makes it: the window (of length window) opens when its
// accounts or passwords change and it has accounts.
func (s *Inventory) updateWrite(ctx context.Context, d autoprov.Device, in autoprov.DeviceInput, actor string, window time.Duration) (autoprov.DeviceWrite, error) {
	before := d
	if d.State != autoprov.StateAssigned {
		in = adopting(in, d)
		d.State = autoprov.StateAssigned
	}
	if err := s.apply(ctx, &d, in); err != nil {
		return autoprov.DeviceWrite{}, err
	}
	s.fillSecrets(&d)
	w := autoprov.DeviceWrite{Device: d, Adopt: before.State != autoprov.StateAssigned, At: s.now(), Actor: actor,
		Audit: []autoprov.AuditEvent{{At: s.now(), MAC: d.MAC, Event: autoprov.EventDeviceUpdated, Actor: actor, Detail: changedFields(before, d)}}}
	changed := strings.Join(before.Accounts, ",") != strings.Join(d.Accounts, ",") ||
		before.MenuPassword != d.MenuPassword || before.WebPassword != d.WebPassword
	if changed && len(d.Accounts) > 0 {
		w.Window = window
	}
	if w.Adopt || w.Window > 0 {
		if err := s.supervised(); err != nil {
			return autoprov.DeviceWrite{}, err
		}
	}
	return w, nil
}

// adopting fills the vendor and model an admin left out when adopting an
// unassigned device with what the phone reported about itself.
func adopting(in autoprov.DeviceInput, seen autoprov.Device) autoprov.DeviceInput {
	if in.Model == nil && seen.Model != "" {
		in.Model = &seen.Model
	}
	if in.Vendor == nil && seen.Vendor != "" {
		in.Vendor = &seen.Vendor
	}
	return in
}

// apply validates in and writes it onto d. Nothing is stored here.
func (s *Inventory) apply(ctx context.Context, d *autoprov.Device, in autoprov.DeviceInput) error {
	vendor, model := d.Vendor, d.Model
	if in.Vendor != nil {
		vendor = strings.ToLower(strings.TrimSpace(*in.Vendor))
	}
	if in.Model != nil {
		model = strings.TrimSpace(*in.Model)
	}
	if model == "" {
		return autoprov.Invalid("model", "model is required (supported: %s)", strings.Join(s.reg.ModelNames(vendor), ", "))
	}
	if vendor == "" {
		// Let the MAC's OUI settle a model name two vendors share.
		if id, _ := s.reg.Identify(vendors.Request{MAC: d.MAC}); id.Vendor != "" {
			if _, _, err := s.reg.Lookup(id.Vendor, model); err == nil {
				vendor = id.Vendor
			}
		}
	}
	drv, m, err := s.reg.Lookup(vendor, model)
	if err != nil {
		field := "model"
		if vendor != "" && !s.reg.HasVendor(vendor) {
			field = "vendor"
		}
		if te := (*vendors.TextError)(nil); errors.As(err, &te) && te.Error() == err.Error() {
			return autoprov.Invalid(field, "%v", te.Text) // "unknown vendor ...", without ": not found"
		}
		return autoprov.Invalid(field, "%s", strings.TrimSuffix(err.Error(), ": "+vendors.ErrNotFound.Error()))
	}
	d.Vendor, d.Model = m.Vendor, m.Name
	if in.Label != nil {
		if len(*in.Label) > 64 || !vendors.SafeText(*in.Label) {
			return autoprov.Invalid("label", "label must be at most 64 characters without control characters")
		}
		d.Label = strings.TrimSpace(*in.Label)
	}
	if in.Accounts != nil {
		d.Accounts = *in.Accounts
	}
	if len(d.Accounts) > m.Lines {
		return autoprov.Invalid("accounts", "the %s takes at most %d accounts, got %d", m.Name, m.Lines, len(d.Accounts))
	}
	seen := map[string]bool{}
	for _, ext := range d.Accounts {
		if seen[ext] {
			return autoprov.Invalid("accounts", "account %s is listed twice", ext)
		}
		seen[ext] = true
	}
	found, err := s.st.Accounts.AccountsByExtension(ctx, d.Accounts)
	if err != nil {
		return err
	}
	for _, ext := range d.Accounts {
		if _, ok := found[ext]; !ok {
			return autoprov.Invalid("accounts", "account %s does not exist", ext)
		}
	}
	if in.KeyProfile != nil {
		d.KeyProfile = strings.TrimSpace(*in.KeyProfile)
	}
	if d.KeyProfile != "" {
		if _, err := s.st.Profiles.KeyProfile(ctx, d.KeyProfile); errors.Is(err, autoprov.ErrNotFound) {
			return autoprov.Invalid("key_profile", "key profile %q does not exist", d.KeyProfile)
		} else if err != nil {
			return err
		}
	}
	if in.Keys != nil {
		d.Keys = *in.Keys
	}
	if d.Keys == nil {
		d.Keys = []autoprov.KeySpec{}
	}
	if in.Overrides != nil {
		if err := checkLocale(*in.Overrides, false); err != nil {
			return err
		}
		d.Overrides = *in.Overrides
	}
	if in.Params != nil {
		d.Params = *in.Params
	}
	if len(d.Params) > 0 {
		if err := checkParams(s.reg, drv, m.Vendor, m.Name, d.Params, "params"); err != nil {
			return err
		}
	}
	if in.MenuPassword != nil {
		d.MenuPassword = *in.MenuPassword
	}
	if p := d.MenuPassword; p != "" {
		digits := strings.Trim(p, "0123456789") == ""
		switch {
		case m.MenuPINDigits > 0 && (!digits || len(p) != m.MenuPINDigits):
			if in.MenuPassword != nil {
				return autoprov.Invalid("menu_password", "the %s takes a menu PIN of exactly %d digits", m.Name, m.MenuPINDigits)
			}
			d.MenuPassword = "" // generated anew for the new model
		case !digits || len(p) < 4 || len(p) > 32:
			return autoprov.Invalid("menu_password", "menu_password must be 4 to 32 digits")
		}
	}
	if in.TFTPAllowed != nil {
		d.TFTPAllowed = *in.TFTPAllowed
	}
	if in.WebPassword != nil {
		if p := *in.WebPassword; p != "" && !goodPassword(p) {
			return autoprov.Invalid("web_password", "web_password must be 8 to 64 characters without control characters or < > & \" '")
		}
		d.WebPassword = *in.WebPassword
	}
	field := "keys"
	if len(d.Keys) == 0 {
		field = "key_profile"
	}
	return s.checkLayout(ctx, *d, m, nil, field)
}

// fillSecrets generates the phone-menu PIN and web password a device lacks,
// the PIN as long as its model takes.
func (s *Inventory) fillSecrets(d *autoprov.Device) {
	if d.MenuPassword == "" {
		n := menuPINLen
		if _, m, err := s.reg.Lookup(d.Vendor, d.Model); err == nil && m.MenuPINDigits > 0 {
			n = m.MenuPINDigits
		}
		d.MenuPassword = GeneratePIN(n)
	}
	if d.WebPassword == "" {
		d.WebPassword = GeneratePassword(webPasswordLen)
	}
}

// checkLayout validates a device's whole key layout (its profile's keys,
// or profile when not nil, and its own) against its model, returning one
// InvalidError for field that lists every bad key.
func (s *Inventory) checkLayout(ctx context.Context, d autoprov.Device, m vendors.Model, profile *[]autoprov.KeySpec, field string) error {
	l, err := s.layout(ctx, d, m, profile)
	if err != nil {
		return err
	}
	details := l.problems()
	if len(details) == 0 {
		return nil
	}
	t := autoprov.T("%d invalid key(s) for the %s: %s", len(details), m.Name, joinTexts(details))
	return &autoprov.InvalidError{Field: field, Message: t.String(), Details: vendors.Strings(details), Text: t, DetailTexts: details}
}

// SetKeys replaces a device's own keys after validating the whole layout.
func (s *Inventory) SetKeys(ctx context.Context, mac string, keys []autoprov.KeySpec, actor string) (autoprov.Device, error) {
	if keys == nil {
		keys = []autoprov.KeySpec{}
	}
	return s.UpdateDevice(ctx, mac, autoprov.DeviceInput{Keys: &keys}, actor)
}

// Layout returns the effective key layout of an assigned device: what its
// next fetch renders, with labels resolved, ordered by module and position.
func (s *Inventory) Layout(ctx context.Context, mac string) ([]autoprov.LayoutKey, error) {
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return nil, err
	}
	_, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, autoprov.Invalid("mac", "device %s has no supported model", mac)
	}
	l, err := s.layout(ctx, d, m, nil)
	if err != nil {
		return nil, err
	}
	return l.view(), nil
}

// DeleteDevice removes a device.
func (s *Inventory) DeleteDevice(ctx context.Context, mac, actor string) error {
	if err := s.st.Devices.DeleteDevice(ctx, mac); err != nil {
		return err
	}
	s.audit(ctx, mac, autoprov.EventDeviceDeleted, actor, "")
	return nil
}

// Device returns a device with its disclosure state as of now.
func (s *Inventory) Device(ctx context.Context, mac string) (autoprov.Device, error) {
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return autoprov.Device{}, err
	}
	s.effective(&d)
	if d.State == autoprov.StateAssigned {
		w, err := s.warnings(ctx, d)
		if err != nil {
			return autoprov.Device{}, err
		}
		d.Warnings = w
	}
	return d, nil
}

// warnings asks the device's driver where its files depart from what was
// asked (vendors.Warner), for the device's effective settings.
func (s *Inventory) warnings(ctx context.Context, d autoprov.Device) ([]vendors.Text, error) {
	v, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, nil // no supported model: nothing renders
	}
	st, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	vs := vendorSettings(st, d.Overrides)
	zone, err := vendors.ResolveZone(vs.Timezone, s.now().Year())
	if err != nil {
		zone, _ = vendors.ResolveZone("UTC", s.now().Year())
	}
	params, pw, err := s.params(ctx, d, v, m)
	if err != nil {
		return nil, err
	}
	w := vendors.Warnings(v, &vendors.Device{MAC: d.MAC, Vendor: d.Vendor, Model: m.Name, Label: d.Label, Settings: vs, Zone: zone, Params: params})
	return append(w, pw...), nil
}

// Devices lists a page of the devices matching f and the number of all
// that match (a page of autoprov.DefaultPageLimit unless f.Limit says
// otherwise, at most autoprov.MaxPageLimit).
func (s *Inventory) Devices(ctx context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, int, error) {
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return nil, 0, err
	}
	if !f.SeenBefore.IsZero() && !f.SeenAfter.IsZero() && !f.SeenAfter.Before(f.SeenBefore) {
		return nil, 0, autoprov.Invalid("seen_after", "seen_after must be before seen_before")
	}
	if f.Sort != "" && !slices.Contains(autoprov.DeviceSorts, strings.TrimPrefix(f.Sort, "-")) {
		return nil, 0, autoprov.Invalid("sort", "sort must be one of %s, with an optional leading -", strings.Join(autoprov.DeviceSorts, ", "))
	}
	total, err := s.st.Devices.CountDevices(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	ds, err := s.st.Devices.Devices(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for i := range ds {
		s.effective(&ds[i])
	}
	return ds, total, nil
}

// effective shows an open window past its end as expired even before the
// sweeper has recorded it.
func (s *Inventory) effective(d *autoprov.Device) {
	if d.Disclosure.State == autoprov.DisclosureOpen && d.Disclosure.ExpiresAt != nil && !s.now().Before(*d.Disclosure.ExpiresAt) {
		d.Disclosure.State = autoprov.DisclosureExpired
	}
	if d.State == autoprov.StateAssigned && !CredentialSupported(s.reg, d.Vendor, d.Model) {
		d.Credential = autoprov.Credential{State: autoprov.CredentialUnsupported}
	}
}

// OpenDisclosure re-arms a device's disclosure window.
func (s *Inventory) OpenDisclosure(ctx context.Context, mac, actor string) (autoprov.Disclosure, error) {
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return autoprov.Disclosure{}, err
	}
	if d.State != autoprov.StateAssigned {
		return autoprov.Disclosure{}, autoprov.Invalid("mac", "device %s is unassigned: assign it first", mac)
	}
	return s.openWindow(ctx, mac, actor)
}

// afterChange is the context of what follows a change already stored (its
// window, its audit): the caller hanging up must not leave the change
// half done, so it runs on regardless, bounded like a settle.
func afterChange(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// openWindowAfterChange opens the window a stored change calls for.
func (s *Inventory) openWindowAfterChange(ctx context.Context, mac, actor string) (autoprov.Disclosure, error) {
	ctx, cancel := afterChange(ctx)
	defer cancel()
	return s.openWindow(ctx, mac, actor)
}

func (s *Inventory) openWindow(ctx context.Context, mac, actor string) (autoprov.Disclosure, error) {
	if err := s.supervised(); err != nil {
		return autoprov.Disclosure{}, err
	}
	window, err := s.windowLength(ctx)
	if err != nil {
		return autoprov.Disclosure{}, err
	}
	return s.st.Disclosures.OpenDisclosure(ctx, mac, s.now(), window, actor)
}

// supervised is nil unless Options.Unsupervised refuses new credentials:
// a site cut off from its central server past its grace period opens no
// secret window and adopts no phone (server/central).
func (s *Inventory) supervised() error {
	if s.opts.Unsupervised == nil {
		return nil
	}
	return s.opts.Unsupervised()
}

// windowLength is the length of a disclosure window the settings give.
func (s *Inventory) windowLength(ctx context.Context) (time.Duration, error) {
	st, err := s.effectiveSettings(ctx)
	if err != nil {
		return 0, err
	}
	return time.Duration(st.DisclosureWindowSeconds) * time.Second, nil
}

// ExpireDisclosures records the end of every window that ran out.
func (s *Inventory) ExpireDisclosures(ctx context.Context) error {
	macs, err := s.st.Disclosures.ExpireDue(ctx, s.now())
	for _, mac := range macs {
		s.log.Info("disclosure window expired before any fetch took the secrets", "mac", mac)
	}
	return err
}

// Preview renders a device's file as the phone would get it with secrets
// in it, but every secret value replaced by a mask. base is the
// provisioning base URL as the admin reached the server.
func (s *Inventory) Preview(ctx context.Context, mac, name, base string) (*vendors.File, error) {
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return nil, err
	}
	if d.State != autoprov.StateAssigned {
		return nil, autoprov.Invalid("mac", "device %s is unassigned: nothing to preview", mac)
	}
	if name == "" {
		return nil, autoprov.Invalid("name", "file name required")
	}
	v, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, err
	}
	const mask = "********"
	d.MenuPassword, d.WebPassword = mask, mask
	vd, err := s.vendorDevice(ctx, d, v, m, base, true, s.now())
	if err != nil {
		return nil, err
	}
	for i := range vd.Lines {
		vd.Lines[i].Password = mask
	}
	if len(authSchemes(v)) > 0 {
		vd.ProvisionUser, vd.ProvisionPassword = d.MAC, mask
	}
	f, err := v.Render(name, vd)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", name, err)
	}
	return f, nil
}

// PreviewFiles lists the files a device fetches.
func (s *Inventory) PreviewFiles(ctx context.Context, mac string) ([]string, error) {
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return nil, err
	}
	v, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, autoprov.Invalid("mac", "device %s has no supported model yet", mac)
	}
	return v.Files(&vendors.Device{MAC: d.MAC, Vendor: d.Vendor, Model: m.Name}), nil
}

// ---- key profiles ----

var profileRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// SaveKeyProfile creates (create=true) or replaces a key profile. A change
// is validated against every device that uses the profile; nothing is
// saved when one of them would get an invalid layout.
func (s *Inventory) SaveKeyProfile(ctx context.Context, p autoprov.KeyProfile, create bool, actor string) (autoprov.KeyProfile, error) {
	if !profileRE.MatchString(p.Name) {
		return autoprov.KeyProfile{}, autoprov.Invalid("name", "name must be 1 to 64 letters, digits, . _ or -")
	}
	if len(p.Description) > 256 || !vendors.SafeText(p.Description) {
		return autoprov.KeyProfile{}, autoprov.Invalid("description", "description must be at most 256 characters without control characters")
	}
	if p.Keys == nil {
		p.Keys = []autoprov.KeySpec{}
	}
	var details []autoprov.Text
	for i, k := range p.Keys {
		if k.Account != "" {
			details = append(details, autoprov.T("key %d: profiles name lines by number (line), not by account", i+1))
		}
	}
	if len(details) > 0 {
		t := joinTexts(details)
		return autoprov.KeyProfile{}, &autoprov.InvalidError{Field: "keys", Message: t.String(), Details: vendors.Strings(details), Text: t, DetailTexts: details}
	}
	if p.Params == nil {
		p.Params = []autoprov.Param{}
	}
	for i := range p.Params {
		p.Params[i].Vendor = strings.ToLower(strings.TrimSpace(p.Params[i].Vendor))
	}
	if err := checkParams(s.reg, nil, "", "", p.Params, "params"); err != nil {
		return autoprov.KeyProfile{}, err
	}
	if create {
		if _, err := s.st.Profiles.KeyProfile(ctx, p.Name); err == nil {
			return autoprov.KeyProfile{}, autoprov.Conflict("key profile %s exists", p.Name)
		}
		p, err := s.st.Profiles.CreateKeyProfile(ctx, p)
		if err == nil {
			s.audit(ctx, "", autoprov.EventKeyProfileCreated, actor, fmt.Sprintf("%s: %d keys", p.Name, len(p.Keys)))
		}
		return p, err
	}
	macs, err := s.st.Devices.DevicesWithProfile(ctx, p.Name)
	if err != nil {
		return autoprov.KeyProfile{}, err
	}
	for _, mac := range macs {
		d, err := s.st.Devices.Device(ctx, mac)
		if err != nil {
			return autoprov.KeyProfile{}, err
		}
		if _, m, err := s.reg.Lookup(d.Vendor, d.Model); err == nil {
			if err := s.checkLayout(ctx, d, m, &p.Keys, "keys"); err != nil {
				var ie *autoprov.InvalidError
				if errors.As(err, &ie) {
					why := ie.Text
					if why.Format == "" {
						why = autoprov.T("%s", ie.Message)
					}
					ie.Text = autoprov.T("device %s: %s", mac, why)
					ie.Message = ie.Text.String()
				}
				return autoprov.KeyProfile{}, err
			}
		}
	}
	p, err = s.st.Profiles.UpdateKeyProfile(ctx, p)
	if err == nil {
		s.audit(ctx, "", autoprov.EventKeyProfileUpdated, actor, fmt.Sprintf("%s: %d keys, used by %d devices", p.Name, len(p.Keys), len(macs)))
		s.changedMACs(ctx, macs, actor) // dialogue phones are asked to call for it
	}
	return p, err
}

// KeyProfiles lists the key profiles.
func (s *Inventory) KeyProfiles(ctx context.Context) ([]autoprov.KeyProfile, error) {
	return s.st.Profiles.KeyProfiles(ctx)
}

// KeyProfile returns one key profile.
func (s *Inventory) KeyProfile(ctx context.Context, name string) (autoprov.KeyProfile, error) {
	return s.st.Profiles.KeyProfile(ctx, name)
}

// DeleteKeyProfile deletes a key profile no device uses.
func (s *Inventory) DeleteKeyProfile(ctx context.Context, name, actor string) error {
	if err := s.st.Profiles.DeleteKeyProfile(ctx, name); err != nil {
		return err
	}
	s.audit(ctx, "", autoprov.EventKeyProfileDeleted, actor, name)
	return nil
}

// Audit lists audit events, newest first.
func (s *Inventory) Audit(ctx context.Context, mac string, limit int) ([]autoprov.AuditEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.st.Audit.Audit(ctx, mac, limit)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Registry returns the vendor registry (read-only): the models the UI
// offers and the capabilities it shows.
func (s *Inventory) Registry() *vendors.Registry { return s.reg }
