package store

import (
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// settingsRow is the single row (ID 1) of fleet-wide settings.
type settingsRow struct {
	ID   uint           `gorm:"primaryKey"`
	Data storedSettings `gorm:"serializer:json"`
}

func (settingsRow) TableName() string { return "settings" }

type accountRow struct {
	ID          uint   `gorm:"primaryKey"`
	Extension   string `gorm:"uniqueIndex;not null"`
	DisplayName string
	AuthUser    string
	Password    string
	// PasswordGenerated: the password was generated (migration 00015).
	PasswordGenerated bool `gorm:"not null;default:false"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (accountRow) TableName() string { return "accounts" }

func (r accountRow) domain() autoprov.Account {
	return autoprov.Account{Extension: r.Extension, DisplayName: r.DisplayName, AuthUser: r.AuthUser,
		Password: r.Password, PasswordGenerated: r.PasswordGenerated, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type deviceRow struct {
	MAC          string `gorm:"primaryKey"`
	Vendor       string `gorm:"index"`
	Model        string `gorm:"index"`
	Label        string
	State        string          `gorm:"index"`
	KeyProfile   string          `gorm:"index"`
	Keys         []storedKey     `gorm:"serializer:json"`
	Overrides    storedOverrides `gorm:"serializer:json"`
	Params       []storedParam   `gorm:"serializer:json"` // migration 7
	MenuPassword string
	WebPassword  string

	LastSeen  *time.Time
	RemoteIP  string
	UserAgent string
	Firmware  string
	LastFile  string

	// The one-time disclosure window. DisclosureState is "none", "open",
	// "consumed" or "expired"; ReservedBy/ReservedUntil hold the claim of a
	// transfer in flight (reserve, first byte: commit, end: complete).
	// After the commit ReservedBy keeps the token (ReservedUntil is nil)
	// until the transfer's end is recorded in DisclosureComplete (NULL while
	// in flight; migration 2).
	DisclosureState string `gorm:"index;not null;default:none"`
	OpenedAt        *time.Time
	ExpiresAt       *time.Time
	DisclosedAt     *time.Time
	DisclosedIP     string
	DisclosedUA     string
	ReservedBy      string
	ReservedUntil   *time.Time
	// DisclosureComplete: did the consuming transfer complete (NULL: not known yet).
	DisclosureComplete *bool

	// The per-device provisioning credential (migration 4): state none,
	// issued or applied; the password sealed (a secret column); reset
	// to none whenever the window (re-)opens.
	CredentialState     string `gorm:"not null;default:none"`
	CredentialPassword  string `gorm:"not null;default:''"`
	CredentialIssuedAt  *time.Time
	CredentialAppliedAt *time.Time
	TFTPAllowed         bool `gorm:"column:tftp_allowed;not null;default:false"`

	// The stored onboarding state (migration 8; "" is local).
	OnboardingState   string `gorm:"not null;default:''"`
	OnboardingService string `gorm:"not null;default:''"`
	OnboardingDetail  string `gorm:"not null;default:''"`
	OnboardingAt      *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

func (deviceRow) TableName() string { return "devices" }

// deviceAccountRow puts an account on a device as line Position (1-based).
type deviceAccountRow struct {
	DeviceMAC string     `gorm:"primaryKey"`
	Position  int        `gorm:"primaryKey"`
	AccountID uint       `gorm:"index;not null"`
	Device    deviceRow  `gorm:"foreignKey:DeviceMAC;references:MAC;constraint:OnDelete:CASCADE"`
	Account   accountRow `gorm:"foreignKey:AccountID;constraint:OnDelete:RESTRICT"`
}

func (deviceAccountRow) TableName() string { return "device_accounts" }

type keyProfileRow struct {
	Name        string `gorm:"primaryKey"`
	Description string
	Keys        []storedKey   `gorm:"serializer:json"`
	Params      []storedParam `gorm:"serializer:json"` // migration 7
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (keyProfileRow) TableName() string { return "key_profiles" }

// modelParamRow holds a model's raw vendor parameters (migration 7).
type modelParamRow struct {
	Vendor    string        `gorm:"primaryKey"`
	Model     string        `gorm:"primaryKey"`
	Params    []storedParam `gorm:"serializer:json"`
	UpdatedAt time.Time
}

func (modelParamRow) TableName() string { return "model_params" }

// storedParam is one raw vendor parameter of the params JSON.
type storedParam struct {
	Vendor string `json:"vendor,omitempty"`
	Name   string `json:"name"`
	Value  string `json:"value"`
}

// paramsOf turns stored parameters into the domain's (never nil).
func paramsOf(ps []storedParam) []autoprov.Param {
	out := make([]autoprov.Param, len(ps))
	for i, p := range ps {
		out[i] = autoprov.Param(p)
	}
	return out
}

// storeParams turns the domain's parameters into their stored form.
func storeParams(ps []autoprov.Param) []storedParam {
	out := make([]storedParam, len(ps))
	for i, p := range ps {
		out[i] = storedParam(p)
	}
	return out
}

func (r keyProfileRow) domain() autoprov.KeyProfile {
	return autoprov.KeyProfile{Name: r.Name, Description: r.Description, Keys: keysOf(r.Keys), Params: paramsOf(r.Params), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type auditRow struct {
	ID     uint      `gorm:"primaryKey"`
	At     time.Time `gorm:"index"`
	MAC    string    `gorm:"index"`
	Event  string
	Actor  string
	Detail string
}

func (auditRow) TableName() string { return "audit" }

func (r auditRow) domain() autoprov.AuditEvent {
	return autoprov.AuditEvent{ID: r.ID, At: r.At, MAC: r.MAC, Event: r.Event, Actor: r.Actor, Detail: r.Detail}
}

// The JSON held in serializer:json columns. These types belong to the
// store: their tags are the format at rest, which migrations version;
// they are independent of the domain types and of the API's JSON.

// storedSettings is the settings row's JSON.
type storedSettings struct {
	SIPServer               string `json:"sip_server"`
	SIPPort                 int    `json:"sip_port"`
	SIPTransport            string `json:"sip_transport"`
	OutboundProxy           string `json:"outbound_proxy"`
	NTPServer               string `json:"ntp_server"`
	Timezone                string `json:"timezone"`
	Language                string `json:"language"`
	WebLanguage             string `json:"web_language"`
	ToneScheme              string `json:"tone_scheme"`
	DisclosureWindowSeconds int    `json:"disclosure_window_seconds"`
	InboxCap                int    `json:"inbox_cap,omitempty"`
	FirmwareWindow          string `json:"firmware_window,omitempty"`
}

func settingsOf(v storedSettings) autoprov.Settings {
	return autoprov.Settings(v)
}

func storeSettings(v autoprov.Settings) storedSettings {
	return storedSettings(v)
}

// storedOverrides is a device's overrides JSON.
type storedOverrides struct {
	NTPServer   string `json:"ntp_server,omitempty"`
	Timezone    string `json:"timezone,omitempty"`
	Language    string `json:"language,omitempty"`
	WebLanguage string `json:"web_language,omitempty"`
	ToneScheme  string `json:"tone_scheme,omitempty"`
}

// storedKey is one key of a device's or a profile's keys JSON.
type storedKey struct {
	Position   int             `json:"position"`
	Module     int             `json:"module,omitempty"`
	Type       vendors.KeyType `json:"type"`
	Account    string          `json:"account,omitempty"`
	Line       int             `json:"line,omitempty"`
	Value      string          `json:"value,omitempty"`
	Label      string          `json:"label,omitempty"`
	PickupCode string          `json:"pickup_code,omitempty"`
}

// keysOf turns stored keys into the domain's (never nil).
func keysOf(ks []storedKey) []autoprov.KeySpec {
	out := make([]autoprov.KeySpec, len(ks))
	for i, k := range ks {
		out[i] = autoprov.KeySpec(k)
	}
	return out
}

// storeKeys turns the domain's keys into their stored form (never nil).
func storeKeys(ks []autoprov.KeySpec) []storedKey {
	out := make([]storedKey, len(ks))
	for i, k := range ks {
		out[i] = storedKey(k)
	}
	return out
}
