package store

import (
	"time"

	"github.com/autoprov/autoprov/server/provision"
)

// settingsRow is the single row (ID 1) of fleet-wide settings.
type settingsRow struct {
	ID   uint               `gorm:"primaryKey"`
	Data provision.Settings `gorm:"serializer:json"`
}

func (settingsRow) TableName() string { return "settings" }

type accountRow struct {
	ID          uint   `gorm:"primaryKey"`
	Extension   string `gorm:"uniqueIndex;not null"`
	DisplayName string
	AuthUser    string
	Password    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (accountRow) TableName() string { return "accounts" }

func (r accountRow) domain() provision.Account {
	return provision.Account{Extension: r.Extension, DisplayName: r.DisplayName, AuthUser: r.AuthUser,
		Password: r.Password, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type deviceRow struct {
	MAC          string `gorm:"primaryKey"`
	Vendor       string `gorm:"index"`
	Model        string `gorm:"index"`
	Label        string
	State        string              `gorm:"index"`
	KeyProfile   string              `gorm:"index"`
	Keys         []provision.KeySpec `gorm:"serializer:json"`
	Overrides    provision.Overrides `gorm:"serializer:json"`
	MenuPassword string
	WebPassword  string

	LastSeen  *time.Time
	RemoteIP  string
	UserAgent string
	Firmware  string
	LastFile  string

	// The one-time disclosure window. DisclosureState is "none", "open",
	// "consumed" or "expired"; ReservedBy/ReservedUntil hold the claim of a
	// transfer in flight (reserve, transfer, commit).
	DisclosureState string `gorm:"index;not null;default:none"`
	OpenedAt        *time.Time
	ExpiresAt       *time.Time
	DisclosedAt     *time.Time
	DisclosedIP     string
	DisclosedUA     string
	ReservedBy      string
	ReservedUntil   *time.Time

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
	Keys        []provision.KeySpec `gorm:"serializer:json"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (keyProfileRow) TableName() string { return "key_profiles" }

func (r keyProfileRow) domain() provision.KeyProfile {
	return provision.KeyProfile{Name: r.Name, Description: r.Description, Keys: r.Keys, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
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

func (r auditRow) domain() provision.AuditEvent {
	return provision.AuditEvent{ID: r.ID, At: r.At, MAC: r.MAC, Event: r.Event, Actor: r.Actor, Detail: r.Detail}
}
