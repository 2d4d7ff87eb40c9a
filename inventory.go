package autoprov

import (
	"fmt"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// Device states.
const (
	// StateUnassigned is a phone the server has seen but no admin has set up.
	StateUnassigned = "unassigned"
	// StateAssigned is a phone with a vendor, model and (usually) accounts.
	StateAssigned = "assigned"
)

// Disclosure states of a device's one-time secret window.
const (
	DisclosureNone     = "none"
	DisclosureOpen     = "open"
	DisclosureConsumed = "consumed"
	DisclosureExpired  = "expired"
)

// Settings are the fleet-wide settings. A zero value of a field that has a
// derived default (DisclosureWindowSeconds, ToneScheme, WebLanguage) means
// "not set": the core fills in the default when it reads them, and keeps
// them unset when they are stored.
type Settings struct {
	SIPServer     string
	SIPPort       int
	SIPTransport  string // "udp", "tcp" or "tls"
	OutboundProxy string // "host[:port]" or ""
	NTPServer     string
	Timezone      string // IANA name
	Language      string // ISO 639-1, a key of vendors.Languages
	// WebLanguage is the phones' web UI language; "" follows Language.
	WebLanguage string
	// ToneScheme is a key of vendors.ToneSchemes; "" follows the time
	// zone's country (Europe/Berlin: DE), else US.
	ToneScheme string
	// DisclosureWindowSeconds is the length of a secret window; 0 follows
	// the server's --disclosure-window.
	DisclosureWindowSeconds int
	// InboxCap bounds the unassigned devices (the inbox): a new phone
	// beyond it is not recorded. 0 follows DefaultInboxCap.
	InboxCap int
	// FirmwareWindow is the maintenance window in which firmware is
	// offered, "HH:MM-HH:MM" in the fleet's time zone (it may span
	// midnight: "22:00-05:00"); "" is any time.
	FirmwareWindow string
}

// DefaultInboxCap is the inbox's bound while the settings set none.
const DefaultInboxCap = 5000

// MaxInboxCap is the largest inbox_cap an admin may set.
const MaxInboxCap = 1000000

// DefaultSettings are the settings of a new installation.
func DefaultSettings() Settings {
	return Settings{SIPPort: 5060, SIPTransport: "udp", NTPServer: "pool.ntp.org", Timezone: "UTC", Language: "en"}
}

// SettingsPatch changes some settings; nil fields are left as they are.
type SettingsPatch struct {
	SIPServer, SIPTransport, OutboundProxy, NTPServer *string
	Timezone, Language, WebLanguage, ToneScheme       *string
	SIPPort, DisclosureWindowSeconds, InboxCap        *int
	FirmwareWindow                                    *string
}

// Overrides are per-device settings that win over the fleet-wide ones.
// Empty fields inherit.
type Overrides struct {
	NTPServer   string
	Timezone    string
	Language    string
	WebLanguage string
	ToneScheme  string
}

// Param is a raw vendor parameter: a name in the vendor's own vocabulary
// (Yealink's static.network.vlan.internet_port_enable, Snom's
// user_srtp[1]...) and its value, written last into the device's file so
// that it wins over what the product renders. Vendor is set only on a
// key profile's parameters (a profile is vendor-neutral: each parameter
// applies to the devices of its vendor); a model's or a device's take
// their vendor from it.
type Param struct {
	Vendor string
	Name   string
	Value  string
}

// Account is a SIP account (an extension). Password is a secret: the core
// hands it to drivers only, and no edge ever shows it.
type Account struct {
	Extension   string
	DisplayName string
	AuthUser    string
	Password    string
	// PasswordGenerated: autoprov generated Password (the admin never saw
	// it), so the PBX side may reveal it once more (an audited action).
	PasswordGenerated bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// AccountInput creates or changes an account; nil fields are left as they are.
type AccountInput struct {
	Extension   *string
	DisplayName *string
	AuthUser    *string
	Password    *string
}

// KeySpec is a function key as admins write it. Account names the SIP
// account by extension (it must be on the device); Line names it by its
// 1-based line number instead (profiles use Line, since they do not know
// a device's accounts).
type KeySpec struct {
	Position   int
	Module     int // 0: the phone, 1..: an expansion module
	Type       vendors.KeyType
	Account    string
	Line       int
	Value      string
	Label      string
	PickupCode string
}

// KeyProfile is a named key layout many devices share.
type KeyProfile struct {
	Name        string
	Description string
	Keys        []KeySpec
	// Params are raw vendor parameters for the devices using the profile
	// (each for the devices of its Vendor).
	Params    []Param
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Peer is who fetched a file.
type Peer struct {
	IP        string
	UserAgent string
}

// Credential states of a device's own provisioning credential.
const (
	// CredentialNone: no credential issued since the window last opened.
	CredentialNone = "none"
	// CredentialIssued: the transfer that carried the secrets carried a
	// credential too; the phone has not presented it yet. Once that
	// transfer is recorded complete, the per-device file needs it.
	CredentialIssued = "issued"
	// CredentialApplied: the phone fetched its per-device file presenting
	// the credential; from now on only such requests get that file.
	CredentialApplied = "applied"
	// CredentialUnsupported: the device's driver renders no credential.
	CredentialUnsupported = "unsupported"
)

// Credential is a device's own provisioning credential: the user name is
// the device's MAC, Password a secret generated by the core when it
// issues the credential with the secrets.
type Credential struct {
	State     string // one of the Credential* states
	Password  string // secret; "" in state none
	IssuedAt  *time.Time
	AppliedAt *time.Time
}

// Disclosure is the state of a device's one-time secret window.
type Disclosure struct {
	State       string // one of the Disclosure* states
	OpenedAt    *time.Time
	ExpiresAt   *time.Time
	DisclosedAt *time.Time
	DisclosedTo *Peer
	// Complete tells, once the window is consumed, whether the transfer
	// that carried the secrets completed: nil while it is in flight (or
	// when its server stopped before it ended), false when the phone broke
	// off after the first secret-bearing bytes had left (the phone may
	// lack its config: re-open the window), true when it got all of it.
	Complete *bool
}

// OpenAt reports whether the window lets secrets out at now: open and not
// yet past its end (an expired window the sweeper has not marked yet is
// not open).
func (d Disclosure) OpenAt(now time.Time) bool {
	return d.State == DisclosureOpen && d.ExpiresAt != nil && now.Before(*d.ExpiresAt)
}

// Device is a phone in the inventory. MenuPassword and WebPassword are
// secrets, like Account.Password.
type Device struct {
	MAC        string // canonical: 12 lower-case hex digits
	Vendor     string
	Model      string
	Label      string
	State      string   // StateAssigned or StateUnassigned
	Accounts   []string // extensions, line 1 first
	KeyProfile string
	Keys       []KeySpec // the device's own keys
	Overrides  Overrides
	// Params are the device's own raw vendor parameters; they win over
	// its model's and its key profile's.
	Params       []Param
	MenuPassword string
	WebPassword  string

	// What the phone last told the server about itself.
	LastSeen  *time.Time
	RemoteIP  string
	UserAgent string
	Firmware  string
	LastFile  string

	Disclosure Disclosure
	// Credential is the phone's own provisioning credential; re-opening
	// the disclosure window resets it.
	Credential Credential
	// TFTPAllowed lets the phone fetch its per-device file over TFTP
	// (which cannot authenticate) once its credential is required
	// (applied, or issued by a complete secrets transfer).
	TFTPAllowed bool
	// Onboarding is the stored onboarding state (see EffectiveOnboarding
	// for what the admin sees).
	Onboarding Onboarding
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Warnings are what the device's driver says its files cannot carry
	// as asked (vendors.Warner: a zone written as the nearest one, a
	// language written as English...) and raw parameters it does not
	// know. Computed by the core when it answers for one assigned device;
	// never stored. The API says their English (String), the UI words
	// them in the admin's language.
	Warnings []Text
}

// DeviceInput creates or changes a device; nil fields are left as they are.
type DeviceInput struct {
	MAC          *string
	Vendor       *string
	Model        *string
	Label        *string
	Accounts     *[]string
	KeyProfile   *string
	Keys         *[]KeySpec
	Overrides    *Overrides
	Params       *[]Param
	MenuPassword *string
	WebPassword  *string
	TFTPAllowed  *bool
}

// Sighting is what an edge learnt about a phone: a fetch, a plug-and-play
// SUBSCRIBE or a DHCP request.
type Sighting struct {
	MAC, Vendor, Model, Firmware string
	RemoteIP, UserAgent, File    string
	At                           time.Time
}

// Changes is what the change log says changed after a revision: the
// devices named by MACs, or everything (settings, accounts, key profiles,
// or more changes than one read names) when All. Rev is the newest
// revision it covers.
type Changes struct {
	Rev  int64
	MACs []string
	All  bool
}

// DeviceWrite is one change of a device that the store makes atomically:
// the device row and its accounts, the audit events and, when Window is
// set, the opening of its disclosure window (with its disclosure.opened
// event). A crash leaves all of it or none.
type DeviceWrite struct {
	Device Device
	// Create inserts the device (ErrConflict when the MAC exists);
	// otherwise its admin-editable fields and accounts are updated.
	Create bool
	// Adopt, with Create false, requires the stored device to be
	// unassigned still (ErrConflict otherwise): two admins adopting one
	// phone at once do not both win.
	Adopt bool
	// Replaces, when set, is the MAC of a device deleted in the same
	// transaction (with its firmware target): the device is replaced by
	// this one (autoprov's "replace a phone").
	Replaces string
	// Audit events are written with the change.
	Audit []AuditEvent
	// Window > 0 opens the disclosure window [At, At+Window) as
	// OpenDisclosure does, audited with Actor.
	Window time.Duration
	At     time.Time
	Actor  string
}

// DeviceFilter narrows a device listing; empty fields match everything.
// Limit (0: all) and Offset page through the result, ordered by MAC, or
// by last seen, newest first, then MAC when NewestFirst is set.
type DeviceFilter struct {
	Vendor, Model, State string
	// Q matches, case-insensitively, a device whose MAC (in any notation,
	// also a partial one such as "80:5e:c0"), label, or one of whose
	// accounts' extension or display name starts with it.
	Q string
	// SeenBefore and SeenAfter, when not zero, keep the devices last seen
	// before (exclusive) and at or after that instant; a device never seen
	// matches neither.
	SeenBefore, SeenAfter time.Time
	// Onboarding keeps the devices whose effective onboarding state
	// (EffectiveOnboarding) is this one.
	Onboarding string
	// KeyProfile keeps the devices using this key profile.
	KeyProfile string
	// Disclosure keeps the devices whose secret window is in this state as
	// stored (an open window past its end counts as open until the sweeper
	// marks it expired; the listed devices show it expired).
	Disclosure string
	// AfterMAC, when set, keeps the devices whose MAC (12 lower-case hex
	// digits) sorts after it: paging through a list in MAC order by the
	// last MAC seen, which a device added or deleted meanwhile does not
	// shift (an offset does).
	AfterMAC string
	// Sort orders the list by one of DeviceSorts ("" is by MAC; a
	// leading "-" reverses it); NewestFirst, when set, comes first.
	Sort          string
	Limit, Offset int
	NewestFirst   bool
}

// DeviceSorts are the orders a DeviceFilter's Sort takes (each also with a
// leading "-" for the reverse); devices never seen sort last by last_seen.
var DeviceSorts = []string{"mac", "vendor", "model", "label", "last_seen"}

// Paging of the admin lists: a page holds DefaultPageLimit items unless
// the caller asks for another Limit, at most MaxPageLimit.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// AccountFilter narrows an account listing: Q matches, case-insensitively,
// an account whose extension, display name or auth user starts with it.
// Limit (0: all) and Offset page through it, ordered by extension.
type AccountFilter struct {
	Q             string
	Limit, Offset int
}

// AuditFilter narrows the audit log to one MAC (unless MAC is ""); Limit
// (0: all) and Offset page through it, newest first.
type AuditFilter struct {
	MAC           string
	Limit, Offset int
}

// BulkInput is one bulk change: accounts and devices as the single
// create endpoints take them. A row whose extension or MAC exists changes
// that account or device with the fields it gives, as a PATCH would.
type BulkInput struct {
	Accounts []AccountInput
	Devices  []DeviceInput
}

// BulkResult is what a bulk change did (or, in a dry run, would do): the
// keys (extensions, MACs) created and updated, in request order.
type BulkResult struct {
	DryRun                           bool
	AccountsCreated, AccountsUpdated []string
	DevicesCreated, DevicesUpdated   []string
}

// BulkRowError is one problem of one row of a bulk change: Kind is
// "account" or "device", Index the row's 0-based position in its list.
// Message is the English; Text, when its Format is set, the same as a
// translatable Text (see vendors.Text).
type BulkRowError struct {
	Kind    string
	Index   int
	Field   string
	Message string
	Text    Text
}

// RowError returns the BulkRowError of t.
func RowError(kind string, index int, field string, t Text) BulkRowError {
	return BulkRowError{Kind: kind, Index: index, Field: field, Message: t.String(), Text: t}
}

// BulkError refuses a bulk change, listing every bad row; nothing was
// written.
type BulkError struct {
	Errors []BulkRowError
}

// Error implements error.
func (e *BulkError) Error() string {
	if len(e.Errors) == 1 {
		r := e.Errors[0]
		return fmt.Sprintf("%s %d: %s", r.Kind, r.Index, r.Message)
	}
	return fmt.Sprintf("%d rows are invalid; nothing was written", len(e.Errors))
}

// AccountWrite is one account of a BulkWrite: created (Create) or updated.
type AccountWrite struct {
	Account Account
	Create  bool
}

// BulkWrite is a bulk change the store makes in one transaction, all or
// nothing: accounts first, then devices (each as WriteDevice would write
// it; every window opened at At for Window by Actor), the audit events,
// and the windows of the devices in Windows (those carrying an account
// whose credentials changed).
type BulkWrite struct {
	Accounts []AccountWrite
	Devices  []DeviceWrite
	Audit    []AuditEvent
	Windows  []string
	Window   time.Duration
	At       time.Time
	Actor    string
}

// LayoutKey is one key of a device's effective layout, as its driver gets
// it, with the account it acts for and the layer it comes from.
type LayoutKey struct {
	vendors.Key
	// Account is the extension of the line the key acts for, or "".
	Account string
	// Source is "model default", "profile <name>" or "device".
	Source string
}

// Miss is a phone's request that no file answered, with the reason (the
// one the log gives; never sent to the phone).
type Miss struct {
	At                    time.Time
	MAC                   string // "" when the request named none
	Path                  string
	RemoteAddr, UserAgent string
	Transport             string
	Reason                string
}

// AuditEvent is one entry of the audit log. It never holds a secret value.
type AuditEvent struct {
	ID     uint
	At     time.Time
	MAC    string
	Event  string
	Actor  string
	Detail string
}

// Audit event names.
const (
	EventDisclosureOpened   = "disclosure.opened"
	EventDisclosureConsumed = "disclosure.consumed"
	EventDisclosureExpired  = "disclosure.expired"
	// EventDisclosureTransferEnded follows disclosure.consumed when the
	// transfer that carried the secrets ends: "complete: true" or
	// "complete: false (reason)".
	EventDisclosureTransferEnded = "disclosure.transfer_ended"
	EventSettingsUpdated         = "settings.updated"
	EventAccountCreated          = "account.created"
	EventAccountUpdated          = "account.updated"
	EventAccountDeleted          = "account.deleted"
	EventDeviceCreated           = "device.created"
	EventDeviceAdopted           = "device.adopted"
	EventDeviceUpdated           = "device.updated"
	EventDeviceDeleted           = "device.deleted"
	// EventDeviceReplaced is audited for both MACs of a replacement.
	EventDeviceReplaced = "device.replaced"
	// EventPasswordRevealed: a generated SIP password was shown to an
	// admin (a reveal or a PBX export), one event per account.
	EventPasswordRevealed  = "account.password_revealed"
	EventKeyProfileCreated = "key_profile.created"
	EventKeyProfileUpdated = "key_profile.updated"
	EventKeyProfileDeleted = "key_profile.deleted"
	// EventModelParamsUpdated: a model's raw vendor parameters changed.
	EventModelParamsUpdated = "model.params_updated"
)
