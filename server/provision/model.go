package provision

import (
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

// Disclosure states, as GET /api/v1/devices/{mac} shows them.
const (
	DisclosureNone     = "none"
	DisclosureOpen     = "open"
	DisclosureConsumed = "consumed"
	DisclosureExpired  = "expired"
)

// Settings are the fleet-wide settings.
type Settings struct {
	SIPServer     string `json:"sip_server"`
	SIPPort       int    `json:"sip_port"`
	SIPTransport  string `json:"sip_transport"`
	OutboundProxy string `json:"outbound_proxy"`
	NTPServer     string `json:"ntp_server"`
	Timezone      string `json:"timezone"`
	Language      string `json:"language"`
	// WebLanguage is the phones' web UI language; "" follows Language.
	WebLanguage             string `json:"web_language"`
	ToneScheme              string `json:"tone_scheme"`
	DisclosureWindowSeconds int    `json:"disclosure_window_seconds"`
}

// DefaultSettings are the settings of a new installation. The disclosure
// window is left 0: the service fills in its configured default
// (--disclosure-window, 10 minutes) until an admin sets one.
func DefaultSettings() Settings {
	return Settings{
		SIPPort: 5060, SIPTransport: "udp", NTPServer: "pool.ntp.org",
		Timezone: "UTC", Language: "en", ToneScheme: "US",
	}
}

// Overrides are per-device settings that win over the fleet-wide ones.
// Empty fields inherit.
type Overrides struct {
	NTPServer   string `json:"ntp_server,omitempty"`
	Timezone    string `json:"timezone,omitempty"`
	Language    string `json:"language,omitempty"`
	WebLanguage string `json:"web_language,omitempty"`
	ToneScheme  string `json:"tone_scheme,omitempty"`
}

// Account is a SIP account (an extension). Password is write-only: it is
// never serialised.
type Account struct {
	Extension   string    `json:"extension"`
	DisplayName string    `json:"display_name"`
	AuthUser    string    `json:"auth_user"`
	Password    string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// KeySpec is a function key as admins write it. Account names the SIP
// account by extension (it must be on the device); Line names it by its
// 1-based line number instead (profiles use Line, since they do not know
// a device's accounts).
type KeySpec struct {
	Position   int             `json:"position"`
	Module     int             `json:"module,omitempty"`
	Type       vendors.KeyType `json:"type"`
	Account    string          `json:"account,omitempty"`
	Line       int             `json:"line,omitempty"`
	Value      string          `json:"value,omitempty"`
	Label      string          `json:"label,omitempty"`
	PickupCode string          `json:"pickup_code,omitempty"`
}

// KeyProfile is a named key layout many devices share.
type KeyProfile struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Keys        []KeySpec `json:"keys"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Peer is who fetched a file.
type Peer struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

// Disclosure is the state of a device's one-time secret window.
type Disclosure struct {
	State       string     `json:"state"`
	OpenedAt    *time.Time `json:"opened_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	DisclosedAt *time.Time `json:"disclosed_at"`
	DisclosedTo *Peer      `json:"disclosed_to"`
}

// Device is a phone in the inventory. MenuPassword and WebPassword are
// write-only secrets.
type Device struct {
	MAC          string    `json:"mac"`
	Vendor       string    `json:"vendor"`
	Model        string    `json:"model"`
	Label        string    `json:"label"`
	State        string    `json:"state"`
	Accounts     []string  `json:"accounts"`
	KeyProfile   string    `json:"key_profile,omitempty"`
	Keys         []KeySpec `json:"keys"`
	Overrides    Overrides `json:"overrides"`
	MenuPassword string    `json:"-"`
	WebPassword  string    `json:"-"`

	LastSeen  *time.Time `json:"last_seen"`
	RemoteIP  string     `json:"remote_ip"`
	UserAgent string     `json:"user_agent"`
	Firmware  string     `json:"firmware"`
	LastFile  string     `json:"last_file"`

	Disclosure Disclosure `json:"disclosure"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Sighting is what a fetch taught the server about a phone.
type Sighting struct {
	MAC, Vendor, Model, Firmware string
	RemoteIP, UserAgent, File    string
	At                           time.Time
}

// DeviceFilter narrows a device listing; empty fields match everything.
// Limit (0: all) and Offset page through the result, ordered by MAC.
type DeviceFilter struct {
	Vendor, Model, State string
	Limit, Offset        int
}

// AuditEvent is one entry of the audit log. It never holds a secret value.
type AuditEvent struct {
	ID     uint      `json:"id"`
	At     time.Time `json:"at"`
	MAC    string    `json:"mac,omitempty"`
	Event  string    `json:"event"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Audit event names.
const (
	EventDisclosureOpened   = "disclosure.opened"
	EventDisclosureConsumed = "disclosure.consumed"
	EventDisclosureExpired  = "disclosure.expired"
)
