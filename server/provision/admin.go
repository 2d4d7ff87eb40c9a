package provision

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/autoprov/autoprov/vendors"
)

// Lengths of generated secrets.
const (
	sipPasswordLen = 20
	webPasswordLen = 16
	menuPINLen     = 8
)

// ---- settings ----

// Settings returns the fleet-wide settings, defaults filled in.
func (s *Service) Settings() (Settings, error) {
	st, err := s.store.Settings()
	if err != nil {
		return Settings{}, err
	}
	if st.DisclosureWindowSeconds == 0 {
		st.DisclosureWindowSeconds = int(s.cfg.DisclosureWindow / time.Second)
	}
	return st, nil
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9._:\[\]-]+$`)

// PutSettings validates and saves the settings.
func (s *Service) PutSettings(st Settings, actor string) (Settings, error) {
	before, _ := s.store.Settings()
	st.SIPServer = strings.TrimSpace(st.SIPServer)
	st.OutboundProxy = strings.TrimSpace(st.OutboundProxy)
	st.NTPServer = strings.TrimSpace(st.NTPServer)
	st.SIPTransport = strings.ToLower(strings.TrimSpace(st.SIPTransport))
	switch {
	case st.SIPServer != "" && !hostRE.MatchString(st.SIPServer):
		return Settings{}, invalid("sip_server", "sip_server must be a host name or address")
	case st.SIPPort < 1 || st.SIPPort > 65535:
		return Settings{}, invalid("sip_port", "sip_port must be between 1 and 65535")
	case st.SIPTransport != "udp" && st.SIPTransport != "tcp" && st.SIPTransport != "tls":
		return Settings{}, invalid("sip_transport", "sip_transport must be udp, tcp or tls")
	case st.OutboundProxy != "" && (!hostRE.MatchString(st.OutboundProxy) || badPort(st.OutboundProxy)):
		return Settings{}, invalid("outbound_proxy", "outbound_proxy must be host[:port] (port 1 to 65535) or empty")
	case st.NTPServer != "" && !hostRE.MatchString(st.NTPServer):
		return Settings{}, invalid("ntp_server", "ntp_server must be a host name or address")
	case st.DisclosureWindowSeconds < 1 || st.DisclosureWindowSeconds > 7*24*3600:
		return Settings{}, invalid("disclosure_window_seconds", "disclosure_window_seconds must be between 1 and 604800")
	}
	if err := checkLocale(Overrides{Timezone: st.Timezone, Language: st.Language, WebLanguage: st.WebLanguage, ToneScheme: st.ToneScheme}, true); err != nil {
		return Settings{}, err
	}
	if err := s.store.PutSettings(st); err != nil {
		return Settings{}, err
	}
	s.audit("", EventSettingsUpdated, actor, changedFields(before, st))
	return st, nil
}

// badPort reports a "host:port" whose port is not 1..65535.
func badPort(hostport string) bool {
	host, port := vendors.SplitHostPort(hostport)
	explicit := strings.HasPrefix(hostport, "[") && strings.Contains(hostport, "]:") ||
		!strings.HasPrefix(hostport, "[") && strings.Count(hostport, ":") == 1
	return host == "" || explicit && port == 0
}

// checkLocale validates locale names; required says empty is refused.
func checkLocale(o Overrides, required bool) error {
	if o.Timezone != "" || required {
		if _, err := vendors.ResolveZone(o.Timezone, 2026); err != nil {
			return invalid("timezone", "unknown time zone %q: use an IANA name such as Europe/Berlin", o.Timezone)
		}
	}
	if o.Language != "" || required {
		if _, ok := vendors.Languages[o.Language]; !ok {
			return invalid("language", "unknown language %q (supported: %s)", o.Language, strings.Join(sortedKeys(vendors.Languages), ", "))
		}
	}
	if o.WebLanguage != "" {
		if _, ok := vendors.Languages[o.WebLanguage]; !ok {
			return invalid("web_language", "unknown language %q (supported: %s)", o.WebLanguage, strings.Join(sortedKeys(vendors.Languages), ", "))
		}
	}
	if o.ToneScheme != "" || required {
		if _, ok := vendors.ToneSchemes[o.ToneScheme]; !ok {
			return invalid("tone_scheme", "unknown tone scheme %q (supported: %s)", o.ToneScheme, strings.Join(sortedKeys(vendors.ToneSchemes), ", "))
		}
	}
	if o.NTPServer != "" && !hostRE.MatchString(o.NTPServer) {
		return invalid("ntp_server", "ntp_server must be a host name or address")
	}
	return nil
}

// ---- accounts ----

var extensionRE = regexp.MustCompile(`^[A-Za-z0-9+*#._-]{1,32}$`)

// AccountInput creates or changes an account; nil fields are left as they are.
type AccountInput struct {
	Extension   *string `json:"extension"`
	DisplayName *string `json:"display_name"`
	AuthUser    *string `json:"auth_user"`
	Password    *string `json:"password"`
}

func checkAccount(a Account) error {
	switch {
	case !extensionRE.MatchString(a.Extension):
		return invalid("extension", "extension must be 1 to 32 letters, digits or + * # . _ -")
	case len(a.DisplayName) > 64 || hasControl(a.DisplayName):
		return invalid("display_name", "display_name must be at most 64 characters without control characters")
	case !extensionRE.MatchString(a.AuthUser):
		return invalid("auth_user", "auth_user must be 1 to 32 letters, digits or + * # . _ -")
	case len(a.Password) < 8 || len(a.Password) > 64 || hasControl(a.Password) || strings.ContainsAny(a.Password, "<>&\"'"):
		return invalid("password", "password must be 8 to 64 characters without control characters or < > & \" '")
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// CreateAccount creates an account, generating the password when absent.
func (s *Service) CreateAccount(in AccountInput, actor string) (Account, error) {
	a := Account{}
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
	a.Password = GeneratePassword(sipPasswordLen)
	if in.Password != nil && *in.Password != "" {
		a.Password = *in.Password
	}
	if err := checkAccount(a); err != nil {
		return Account{}, err
	}
	a, err := s.store.CreateAccount(a)
	if err == nil {
		s.audit("", EventAccountCreated, actor, "extension "+a.Extension)
	}
	return a, err
}

// Accounts lists the accounts.
func (s *Service) Accounts() ([]Account, error) { return s.store.Accounts() }

// Account returns one account.
func (s *Service) Account(ext string) (Account, error) { return s.store.Account(ext) }

// UpdateAccount changes an account. When a credential changes, every device
// carrying the account gets a new disclosure window so it can learn it.
func (s *Service) UpdateAccount(ext string, in AccountInput, actor string) (Account, error) {
	a, err := s.store.Account(ext)
	if err != nil {
		return Account{}, err
	}
	if in.Extension != nil && *in.Extension != ext {
		return Account{}, invalid("extension", "the extension cannot be changed; create a new account")
	}
	old := a
	if in.DisplayName != nil {
		a.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if in.AuthUser != nil {
		a.AuthUser = strings.TrimSpace(*in.AuthUser)
	}
	if in.Password != nil {
		a.Password = *in.Password
	}
	if err := checkAccount(a); err != nil {
		return Account{}, err
	}
	a, err = s.store.UpdateAccount(a)
	if err != nil {
		return Account{}, err
	}
	s.audit("", EventAccountUpdated, actor, "extension "+ext+": "+changedFields(old, a))
	if a.Password != old.Password || a.AuthUser != old.AuthUser {
		macs, err := s.store.DevicesUsingAccount(ext)
		if err != nil {
			return a, err
		}
		for _, mac := range macs {
			if _, err := s.openWindow(mac, actor); err != nil {
				return a, err
			}
		}
	}
	return a, nil
}

// DeleteAccount deletes an account that no device carries.
func (s *Service) DeleteAccount(ext, actor string) error {
	if err := s.store.DeleteAccount(ext); err != nil {
		return err
	}
	s.audit("", EventAccountDeleted, actor, "extension "+ext)
	return nil
}

// ---- devices ----

// DeviceInput creates or changes a device; nil fields are left as they are.
type DeviceInput struct {
	MAC          *string    `json:"mac"`
	Vendor       *string    `json:"vendor"`
	Model        *string    `json:"model"`
	Label        *string    `json:"label"`
	Accounts     *[]string  `json:"accounts"`
	KeyProfile   *string    `json:"key_profile"`
	Keys         *[]KeySpec `json:"keys"`
	Overrides    *Overrides `json:"overrides"`
	MenuPassword *string    `json:"menu_password"`
	WebPassword  *string    `json:"web_password"`
}

// ParseMAC canonicalises a MAC or returns an InvalidError for field "mac".
func ParseMAC(s string) (string, error) {
	m, err := vendors.ParseMAC(s)
	if err != nil {
		return "", invalid("mac", "%v", err)
	}
	return m, nil
}

// CreateDevice adds a device, or adopts it when the server has already seen
// it (an unassigned device of that MAC). ErrConflict when it is assigned.
func (s *Service) CreateDevice(in DeviceInput, actor string) (Device, error) {
	if in.MAC == nil {
		return Device{}, invalid("mac", "mac is required")
	}
	mac, err := ParseMAC(*in.MAC)
	if err != nil {
		return Device{}, err
	}
	existing, err := s.store.Device(mac)
	adopt := false
	switch {
	case err == nil && existing.State == StateAssigned:
		return Device{}, fmt.Errorf("device %s exists: %w", mac, ErrConflict)
	case err == nil:
		adopt = true
	case !errors.Is(err, ErrNotFound):
		return Device{}, err
	}
	d := Device{MAC: mac, State: StateAssigned, Accounts: []string{}, Keys: []KeySpec{}}
	if adopt {
		d = existing
		in = adopting(in, d)
		d.State = StateAssigned
	}
	if err := s.apply(&d, in); err != nil {
		return Device{}, err
	}
	s.fillSecrets(&d)
	event := EventDeviceCreated
	if adopt {
		event = EventDeviceAdopted
		err = s.store.UpdateDevice(d)
	} else {
		err = s.store.CreateDevice(d)
	}
	if err != nil {
		return Device{}, err
	}
	s.audit(mac, event, actor, d.Vendor+" "+d.Model+", accounts "+strings.Join(d.Accounts, ","))
	if len(d.Accounts) > 0 {
		if _, err := s.openWindow(mac, actor); err != nil {
			return Device{}, err
		}
	}
	return s.Device(mac)
}

// UpdateDevice changes a device. Changing its accounts or passwords opens
// a new disclosure window.
func (s *Service) UpdateDevice(mac string, in DeviceInput, actor string) (Device, error) {
	d, err := s.store.Device(mac)
	if err != nil {
		return Device{}, err
	}
	if in.MAC != nil {
		if m, err := vendors.ParseMAC(*in.MAC); err != nil || m != mac {
			return Device{}, invalid("mac", "the MAC cannot be changed; create a new device")
		}
	}
	before := d
	if d.State != StateAssigned {
		in = adopting(in, d)
		d.State = StateAssigned
	}
	if err := s.apply(&d, in); err != nil {
		return Device{}, err
	}
	s.fillSecrets(&d)
	if err := s.store.UpdateDevice(d); err != nil {
		return Device{}, err
	}
	s.audit(mac, EventDeviceUpdated, actor, changedFields(before, d))
	changed := strings.Join(before.Accounts, ",") != strings.Join(d.Accounts, ",") ||
		before.MenuPassword != d.MenuPassword || before.WebPassword != d.WebPassword
	if changed && len(d.Accounts) > 0 {
		if _, err := s.openWindow(mac, actor); err != nil {
			return Device{}, err
		}
	}
	return s.Device(mac)
}

// adopting fills the vendor and model an admin left out when adopting an
// unassigned device with what the phone reported about itself.
func adopting(in DeviceInput, seen Device) DeviceInput {
	if in.Model == nil && seen.Model != "" {
		in.Model = &seen.Model
	}
	if in.Vendor == nil && seen.Vendor != "" {
		in.Vendor = &seen.Vendor
	}
	return in
}

// apply validates in and writes it onto d. Nothing is stored here.
func (s *Service) apply(d *Device, in DeviceInput) error {
	vendor, model := d.Vendor, d.Model
	if in.Vendor != nil {
		vendor = strings.ToLower(strings.TrimSpace(*in.Vendor))
	}
	if in.Model != nil {
		model = strings.TrimSpace(*in.Model)
	}
	if model == "" {
		return invalid("model", "model is required (supported: %s)", strings.Join(s.reg.ModelNames(vendor), ", "))
	}
	if vendor == "" {
		// Let the MAC's OUI settle a model name two vendors share.
		if id, _ := s.reg.Identify(vendors.Request{MAC: d.MAC}); id.Vendor != "" {
			if _, _, err := s.reg.Lookup(id.Vendor, model); err == nil {
				vendor = id.Vendor
			}
		}
	}
	_, m, err := s.reg.Lookup(vendor, model)
	if err != nil {
		field := "model"
		if vendor != "" && !s.reg.HasVendor(vendor) {
			field = "vendor"
		}
		return invalid(field, "%s", strings.TrimSuffix(err.Error(), ": "+vendors.ErrNotFound.Error()))
	}
	d.Vendor, d.Model = m.Vendor, m.Name
	if in.Label != nil {
		if len(*in.Label) > 64 || hasControl(*in.Label) {
			return invalid("label", "label must be at most 64 characters without control characters")
		}
		d.Label = strings.TrimSpace(*in.Label)
	}
	if in.Accounts != nil {
		d.Accounts = *in.Accounts
	}
	if len(d.Accounts) > m.Lines {
		return invalid("accounts", "the %s takes at most %d accounts, got %d", m.Name, m.Lines, len(d.Accounts))
	}
	seen := map[string]bool{}
	for _, ext := range d.Accounts {
		if seen[ext] {
			return invalid("accounts", "account %s is listed twice", ext)
		}
		seen[ext] = true
	}
	found, err := s.store.AccountsByExtension(d.Accounts)
	if err != nil {
		return err
	}
	for _, ext := range d.Accounts {
		if _, ok := found[ext]; !ok {
			return invalid("accounts", "account %s does not exist", ext)
		}
	}
	if in.KeyProfile != nil {
		d.KeyProfile = strings.TrimSpace(*in.KeyProfile)
	}
	if d.KeyProfile != "" {
		if _, err := s.store.KeyProfile(d.KeyProfile); errors.Is(err, ErrNotFound) {
			return invalid("key_profile", "key profile %q does not exist", d.KeyProfile)
		} else if err != nil {
			return err
		}
	}
	if in.Keys != nil {
		d.Keys = *in.Keys
	}
	if d.Keys == nil {
		d.Keys = []KeySpec{}
	}
	if in.Overrides != nil {
		if err := checkLocale(*in.Overrides, false); err != nil {
			return err
		}
		d.Overrides = *in.Overrides
	}
	if in.MenuPassword != nil {
		d.MenuPassword = *in.MenuPassword
	}
	if p := d.MenuPassword; p != "" {
		digits := strings.Trim(p, "0123456789") == ""
		switch {
		case m.MenuPINDigits > 0 && (!digits || len(p) != m.MenuPINDigits):
			if in.MenuPassword != nil {
				return invalid("menu_password", "the %s takes a menu PIN of exactly %d digits", m.Name, m.MenuPINDigits)
			}
			d.MenuPassword = "" // generated anew for the new model
		case !digits || len(p) < 4 || len(p) > 32:
			return invalid("menu_password", "menu_password must be 4 to 32 digits")
		}
	}
	if in.WebPassword != nil {
		if p := *in.WebPassword; p != "" && (len(p) < 8 || len(p) > 64 || hasControl(p) || strings.ContainsAny(p, "<>&\"'")) {
			return invalid("web_password", "web_password must be 8 to 64 characters without control characters or < > & \" '")
		}
		d.WebPassword = *in.WebPassword
	}
	return s.checkKeys(*d, m)
}

// fillSecrets generates the phone-menu PIN and web password a device lacks,
// the PIN as long as its model takes.
func (s *Service) fillSecrets(d *Device) {
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

// checkKeys validates the device's whole key layout (its profile's keys
// and its own) against its model, returning one InvalidError listing every
// bad key.
func (s *Service) checkKeys(d Device, m vendors.Model) error {
	profile, err := s.profileKeys(d)
	if err != nil {
		return err
	}
	field := "keys"
	if len(d.Keys) == 0 {
		field = "key_profile"
	}
	return s.checkLayout(d, m, profile, field)
}

// checkLayout validates a device's layout with the given profile keys.
func (s *Service) checkLayout(d Device, m vendors.Model, profile []KeySpec, field string) error {
	specs, names, _ := layout(s.layers(d, m, profile)[1:]...) // defaults are valid by construction
	if len(specs) == 0 {
		return nil
	}
	accts, err := s.store.AccountsByExtension(d.Accounts)
	if err != nil {
		return err
	}
	keys, details := toVendorKeys(specs, names, d.Accounts, accts)
	if len(details) == 0 { // toVendorKeys drops bad keys; validate only a whole list
		for _, e := range vendors.ValidateKeys(m, keys, len(d.Accounts)) {
			why := e.Message
			if e.Conflict >= 0 {
				why = "same position as " + names[e.Conflict]
			}
			details = append(details, describe(names[e.Index], specs[e.Index], why))
		}
	}
	if len(details) == 0 {
		return nil
	}
	return &InvalidError{Field: field, Message: fmt.Sprintf("%d invalid key(s) for the %s: %s", len(details), m.Name, strings.Join(details, "; ")), Details: details}
}

// SetKeys replaces a device's own keys after validating the whole layout.
func (s *Service) SetKeys(mac string, keys []KeySpec, actor string) (Device, error) {
	if keys == nil {
		keys = []KeySpec{}
	}
	return s.UpdateDevice(mac, DeviceInput{Keys: &keys}, actor)
}

// DeleteDevice removes a device.
func (s *Service) DeleteDevice(mac, actor string) error {
	if err := s.store.DeleteDevice(mac); err != nil {
		return err
	}
	s.audit(mac, EventDeviceDeleted, actor, "")
	return nil
}

// Device returns a device with its disclosure state as of now.
func (s *Service) Device(mac string) (Device, error) {
	d, err := s.store.Device(mac)
	if err != nil {
		return Device{}, err
	}
	s.effective(&d)
	return d, nil
}

// Devices lists a page of the devices matching f and the number of all
// that match.
func (s *Service) Devices(f DeviceFilter) ([]Device, int, error) {
	if f.Limit < 0 || f.Offset < 0 {
		return nil, 0, invalid("limit", "limit and offset must not be negative")
	}
	total, err := s.store.CountDevices(f)
	if err != nil {
		return nil, 0, err
	}
	ds, err := s.store.Devices(f)
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
func (s *Service) effective(d *Device) {
	if d.Disclosure.State == DisclosureOpen && d.Disclosure.ExpiresAt != nil && !s.now().Before(*d.Disclosure.ExpiresAt) {
		d.Disclosure.State = DisclosureExpired
	}
}

// OpenDisclosure re-arms a device's disclosure window.
func (s *Service) OpenDisclosure(mac, actor string) (Disclosure, error) {
	d, err := s.store.Device(mac)
	if err != nil {
		return Disclosure{}, err
	}
	if d.State != StateAssigned {
		return Disclosure{}, invalid("mac", "device %s is unassigned: assign it first", mac)
	}
	return s.openWindow(mac, actor)
}

func (s *Service) openWindow(mac, actor string) (Disclosure, error) {
	st, err := s.Settings()
	if err != nil {
		return Disclosure{}, err
	}
	return s.store.OpenDisclosure(mac, s.now(), time.Duration(st.DisclosureWindowSeconds)*time.Second, actor)
}

// ExpireDisclosures records the end of every window that ran out.
func (s *Service) ExpireDisclosures() error {
	macs, err := s.store.ExpireDue(s.now())
	for _, mac := range macs {
		s.log.Info("disclosure window expired without a completed fetch", "mac", mac)
	}
	return err
}

// Preview renders a device's file as the phone would get it with secrets
// in it, but every secret value replaced by a mask.
func (s *Service) Preview(mac, name string, base string) (*vendors.File, error) {
	d, err := s.store.Device(mac)
	if err != nil {
		return nil, err
	}
	if d.State != StateAssigned {
		return nil, invalid("mac", "device %s is unassigned: nothing to preview", mac)
	}
	v, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, err
	}
	vd, err := s.vendorDevice(d, v, m, vendors.Request{BaseURL: base}, true)
	if err != nil {
		return nil, err
	}
	const mask = "********"
	vd.MenuPassword, vd.WebPassword = mask, mask
	for i := range vd.Lines {
		vd.Lines[i].Password = mask
	}
	if name == "" {
		return nil, invalid("name", "file name required")
	}
	f, err := v.Render(name, vd)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", name, err)
	}
	return f, nil
}

// PreviewFiles lists the files a device fetches.
func (s *Service) PreviewFiles(mac string) ([]string, error) {
	d, err := s.store.Device(mac)
	if err != nil {
		return nil, err
	}
	v, m, err := s.reg.Lookup(d.Vendor, d.Model)
	if err != nil {
		return nil, invalid("mac", "device %s has no supported model yet", mac)
	}
	return v.Files(&vendors.Device{MAC: d.MAC, Vendor: d.Vendor, Model: m.Name}), nil
}

// ---- key profiles ----

var profileRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// SaveKeyProfile creates (create=true) or replaces a key profile. A change
// is validated against every device that uses the profile; nothing is
// saved when one of them would get an invalid layout.
func (s *Service) SaveKeyProfile(p KeyProfile, create bool, actor string) (KeyProfile, error) {
	if !profileRE.MatchString(p.Name) {
		return KeyProfile{}, invalid("name", "name must be 1 to 64 letters, digits, . _ or -")
	}
	if p.Keys == nil {
		p.Keys = []KeySpec{}
	}
	var details []string
	for i, k := range p.Keys {
		if k.Account != "" {
			details = append(details, fmt.Sprintf("key %d: profiles name lines by number (line), not by account", i+1))
		}
	}
	if len(details) > 0 {
		return KeyProfile{}, &InvalidError{Field: "keys", Message: strings.Join(details, "; "), Details: details}
	}
	if create {
		if _, err := s.store.KeyProfile(p.Name); err == nil {
			return KeyProfile{}, fmt.Errorf("key profile %s exists: %w", p.Name, ErrConflict)
		}
	} else {
		macs, err := s.store.DevicesWithProfile(p.Name)
		if err != nil {
			return KeyProfile{}, err
		}
		for _, mac := range macs {
			d, err := s.store.Device(mac)
			if err != nil {
				return KeyProfile{}, err
			}
			if _, m, err := s.reg.Lookup(d.Vendor, d.Model); err == nil {
				if err := s.checkLayout(d, m, p.Keys, "keys"); err != nil {
					var ie *InvalidError
					if errors.As(err, &ie) {
						ie.Field = "keys"
						ie.Message = "device " + mac + ": " + ie.Message
					}
					return KeyProfile{}, err
				}
			}
		}
		p, err = s.store.UpdateKeyProfile(p)
		if err == nil {
			s.audit("", EventKeyProfileUpdated, actor, fmt.Sprintf("%s: %d keys, used by %d devices", p.Name, len(p.Keys), len(macs)))
		}
		return p, err
	}
	p, err := s.store.CreateKeyProfile(p)
	if err == nil {
		s.audit("", EventKeyProfileCreated, actor, fmt.Sprintf("%s: %d keys", p.Name, len(p.Keys)))
	}
	return p, err
}

// KeyProfiles lists the key profiles.
func (s *Service) KeyProfiles() ([]KeyProfile, error) { return s.store.KeyProfiles() }

// KeyProfile returns one key profile.
func (s *Service) KeyProfile(name string) (KeyProfile, error) { return s.store.KeyProfile(name) }

// DeleteKeyProfile deletes a key profile no device uses.
func (s *Service) DeleteKeyProfile(name, actor string) error {
	if err := s.store.DeleteKeyProfile(name); err != nil {
		return err
	}
	s.audit("", EventKeyProfileDeleted, actor, name)
	return nil
}

// Audit lists audit events, newest first.
func (s *Service) Audit(mac string, limit int) ([]AuditEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.store.Audit(mac, limit)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
