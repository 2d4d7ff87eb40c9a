package provision

import (
	"context"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// The core declares what it needs from storage, one small interface per
// concern; server/store satisfies them all, and the core's tests use
// hand-written fakes. Every method takes the caller's context and stops
// when it is done. Errors wrap autoprov.ErrNotFound for a missing row and
// autoprov.ErrConflict for a taken name or a row still in use.

// SettingsReader reads the fleet-wide settings as stored: fields never set
// are zero (autoprov.DefaultSettings before the first write).
type SettingsReader interface {
	Settings(ctx context.Context) (autoprov.Settings, error)
}

// SettingsStore reads and replaces the fleet-wide settings.
type SettingsStore interface {
	SettingsReader
	PutSettings(ctx context.Context, st autoprov.Settings) error
}

// AccountReader reads SIP accounts, passwords included.
type AccountReader interface {
	Account(ctx context.Context, ext string) (autoprov.Account, error)
	// Accounts lists every account ordered by extension.
	Accounts(ctx context.Context) ([]autoprov.Account, error)
	// AccountsByExtension returns those of exts that exist, by extension.
	AccountsByExtension(ctx context.Context, exts []string) (map[string]autoprov.Account, error)
}

// AccountStore keeps SIP accounts.
type AccountStore interface {
	AccountReader
	CreateAccount(ctx context.Context, a autoprov.Account) (autoprov.Account, error)
	UpdateAccount(ctx context.Context, a autoprov.Account) (autoprov.Account, error)
	// DeleteAccount refuses (ErrConflict) while a device carries the account.
	DeleteAccount(ctx context.Context, ext string) error
}

// ProfileReader reads key profiles, and the raw parameters of models
// (the model's layer under a device's profile and its own).
type ProfileReader interface {
	KeyProfile(ctx context.Context, name string) (autoprov.KeyProfile, error)
	KeyProfiles(ctx context.Context) ([]autoprov.KeyProfile, error)
	// ModelParams returns a model's raw vendor parameters (none: empty).
	ModelParams(ctx context.Context, vendor, model string) ([]autoprov.Param, error)
}

// ProfileStore keeps key profiles.
type ProfileStore interface {
	ProfileReader
	CreateKeyProfile(ctx context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error)
	UpdateKeyProfile(ctx context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error)
	// DeleteKeyProfile refuses (ErrConflict) while a device uses the profile.
	DeleteKeyProfile(ctx context.Context, name string) error
	// SetModelParams replaces a model's raw vendor parameters.
	SetModelParams(ctx context.Context, vendor, model string, params []autoprov.Param) error
}

// DeviceReader reads one device with its accounts in line order.
type DeviceReader interface {
	Device(ctx context.Context, mac string) (autoprov.Device, error)
}

// DeviceStore keeps the inventory of devices.
type DeviceStore interface {
	DeviceReader
	// Devices lists the devices matching f, ordered by MAC.
	Devices(ctx context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, error)
	// CountDevices counts the devices matching f, ignoring Limit and Offset.
	CountDevices(ctx context.Context, f autoprov.DeviceFilter) (int, error)
	CreateDevice(ctx context.Context, d autoprov.Device) error
	// UpdateDevice saves the admin-editable fields and the accounts;
	// sightings and the disclosure window are left as they are.
	UpdateDevice(ctx context.Context, d autoprov.Device) error
	// WriteDevice creates or changes a device, audits it and opens its
	// disclosure window in one transaction (autoprov.DeviceWrite).
	WriteDevice(ctx context.Context, w autoprov.DeviceWrite) error
	DeleteDevice(ctx context.Context, mac string) error
	DevicesUsingAccount(ctx context.Context, ext string) ([]string, error)
	DevicesWithProfile(ctx context.Context, name string) ([]string, error)
}

// Sightings records what edges learn about phones.
type Sightings interface {
	// Seen creates the device as unassigned when the MAC is new and
	// updates what the phone told us either way; created reports a new one.
	Seen(ctx context.Context, v autoprov.Sighting) (created bool, err error)
}

// Reporter records what a known phone reported about itself, possibly
// later: server/phonecache queues reports and writes them in batches.
type Reporter interface {
	Report(ctx context.Context, v autoprov.Sighting) error
}

// FileCache keeps files rendered without secrets (server/phonecache), so
// that a phone's steady-state fetch renders nothing. Epoch is read before
// anything a file is rendered from is read; PutFile keeps the file only
// if the cache dropped nothing since, and a per-device file only while the
// cache keeps the snapshot of mac's device it was rendered from.
type FileCache interface {
	Epoch() uint64
	File(mac string, key FileKey) (CachedFile, bool)
	PutFile(mac string, key FileKey, epoch uint64, f CachedFile)
}

// FileKey names what a file without secrets is rendered from besides the
// stored inventory (which the file cache follows): the file, the driver
// and model, the base URL and the year (time zone rules); for a
// per-device file (Device), what the firmware offer reads that the change
// log does not follow: the firmware the device reports and whether now is
// inside the maintenance window (Window 'y' or 'n'; '?' when the setting
// cannot be read; 0 without firmware targets). A struct of its parts,
// compared field by field: a fetch builds no string for it.
type FileKey struct {
	Path, Vendor, Model, BaseURL string
	Year                         int
	Device                       bool
	Firmware                     string
	Window                       byte
}

// CachedFile is a file rendered without secrets, with its ETag.
type CachedFile struct {
	File *vendors.File
	ETag string
}

// Claims is the phone side of the one-time disclosure protocol: every
// step is atomic in the database, across processes.
type Claims interface {
	// Reserve claims an open, unexpired, unclaimed window for the transfer
	// named token, for at most lease; it reports whether this caller won.
	Reserve(ctx context.Context, mac, token string, now time.Time, lease time.Duration) (bool, error)
	// Commit consumes the window held by token, right before the first
	// secret-bearing byte leaves: state consumed, completion unknown, the
	// token kept for Complete; false when the claim was lost meanwhile (an
	// admin re-armed the window, or the lease lapsed and another took it).
	Commit(ctx context.Context, mac, token string, now time.Time, to autoprov.Peer) (bool, error)
	// CommitIssuing is Credentials.IssueCredential(password) and Commit in
	// one atomic step, both or neither: the transfer of a body that
	// carries a credential makes one trip to the database, not two.
	CommitIssuing(ctx context.Context, mac, token, password string, now time.Time, to autoprov.Peer) (bool, error)
	// Complete records whether the transfer that consumed the window with
	// token completed (reason: why not, audited); false, changing nothing,
	// when the window is no longer that consumption (re-armed) or its end
	// is recorded already.
	Complete(ctx context.Context, mac, token string, now time.Time, complete bool, reason string) (bool, error)
	// Release gives up the claim held by token on a window that is still
	// open (nothing was sent); the window stays as it was.
	Release(ctx context.Context, mac, token string) error
}

// Credentials keeps the per-device provisioning credential (see
// autoprov.Credential); both steps are atomic in the database.
type Credentials interface {
	// IssueCredential stores password as the device's new credential
	// (state issued) while the open window is still claimed by token,
	// right before the secrets leave; false, writing nothing, when the
	// claim was lost.
	IssueCredential(ctx context.Context, mac, token, password string, now time.Time) (bool, error)
	// ApplyCredential moves the issued credential issued at issuedAt (the
	// one whose password was verified) to applied (the phone presented
	// it); false, changing nothing, in any other state or when another
	// credential was issued meanwhile.
	ApplyCredential(ctx context.Context, mac string, issuedAt, now time.Time) (bool, error)
}

// DisclosureStore is the admin side of the disclosure protocol.
type DisclosureStore interface {
	// OpenDisclosure (re-)opens a window and audits it in one
	// transaction, and resets the device's credential to none.
	OpenDisclosure(ctx context.Context, mac string, now time.Time, window time.Duration, actor string) (autoprov.Disclosure, error)
	// ExpireDue ends every open window past its end that no transfer holds,
	// audits each and returns their MACs.
	ExpireDue(ctx context.Context, now time.Time) ([]string, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// Audit lists events newest first, for one MAC unless mac is "".
	Audit(ctx context.Context, mac string, limit int) ([]autoprov.AuditEvent, error)
	AppendAudit(ctx context.Context, e autoprov.AuditEvent) error
}

// Lister pages the admin lists: each returns one page (limit 0: all) and
// the number of all matches.
type Lister interface {
	// ListAccounts lists the accounts matching f, ordered by extension.
	ListAccounts(ctx context.Context, f autoprov.AccountFilter) ([]autoprov.Account, int, error)
	// ListKeyProfiles lists the key profiles by name.
	ListKeyProfiles(ctx context.Context, limit, offset int) ([]autoprov.KeyProfile, int, error)
	// ListAudit lists audit events matching f, newest first.
	ListAudit(ctx context.Context, f autoprov.AuditFilter) ([]autoprov.AuditEvent, int, error)
}

// BulkStore is the batched write path of a bulk change.
type BulkStore interface {
	// DevicesToEdit returns those of macs that exist, by MAC, with their
	// accounts and the fields an admin edits (the others are left unread).
	DevicesToEdit(ctx context.Context, macs []string) (map[string]autoprov.Device, error)
	// DevicesUsingAccounts lists the MACs of the devices carrying any of exts.
	DevicesUsingAccounts(ctx context.Context, exts []string) ([]string, error)
	// WriteBulk makes the change in one transaction, all or nothing.
	WriteBulk(ctx context.Context, w autoprov.BulkWrite) error
}

// Backend is a store that satisfies every concern, as server/store does.
// It exists for wiring (New); the services themselves take the small
// interfaces.
type Backend interface {
	SettingsStore
	AccountStore
	ProfileStore
	DeviceStore
	Sightings
	Claims
	Credentials
	DisclosureStore
	AuditStore
	Lister
	BulkStore
}

// FirmwareTargetReader reads the firmware rollout's targets (server/store).
type FirmwareTargetReader interface {
	// FirmwareTargets lists the models' targets (vendor, model "" match
	// all) when mac is "", else that device's own target (at most one).
	FirmwareTargets(ctx context.Context, vendor, model, mac string) ([]autoprov.FirmwareTarget, error)
}

// FirmwareRollout keeps the firmware rollout: targets per model and per
// device, the catalogue entries they name, and the devices' downloads.
type FirmwareRollout interface {
	FirmwareTargetReader
	// FirmwareFor returns the catalogue entry of a model's version.
	FirmwareFor(ctx context.Context, vendor, model, version string) (autoprov.Firmware, error)
	// DeviceFirmwareTargets returns every device's own target, by MAC.
	DeviceFirmwareTargets(ctx context.Context) (map[string]autoprov.FirmwareTarget, error)
	// PutFirmwareTarget creates or replaces a target (keeping its ID) and
	// audits it, in one transaction.
	PutFirmwareTarget(ctx context.Context, t autoprov.FirmwareTarget, actor string) (autoprov.FirmwareTarget, error)
	// DeleteFirmwareTarget removes a model's (mac "") or a device's
	// (model "") target, audited; ErrNotFound without one.
	DeleteFirmwareTarget(ctx context.Context, vendor, model, mac, actor string) error
	// FirmwareDownloads lists a device's (all when mac is "") last
	// download of each firmware.
	FirmwareDownloads(ctx context.Context, mac string) ([]autoprov.FirmwareDownload, error)
}

// DialogueStore keeps what the server knows of each dialogue phone
// (autoprov.DialogueState) across restarts and instances: one row per
// device, deleted with it. A MAC with no device row is ignored (writes do
// nothing, reads answer ErrNotFound).
type DialogueStore interface {
	// DialogueState returns what is kept of mac; ErrNotFound when nothing.
	DialogueState(ctx context.Context, mac string) (autoprov.DialogueState, error)
	// QueueDialogueJob queues a job (Job+1; PendingSince at unless one is
	// pending).
	QueueDialogueJob(ctx context.Context, mac string, at time.Time) error
	// SaveDialogueTurn keeps what a session's turn left (autoprov.DialogueTurn).
	SaveDialogueTurn(ctx context.Context, mac string, t autoprov.DialogueTurn) error
	// ClaimContact records a contact-me at now unless the last one is
	// less than gap before now; it returns the last one and whether this
	// one may go. Atomic: of instances racing, one wins.
	ClaimContact(ctx context.Context, mac string, now time.Time, gap time.Duration) (last time.Time, ok bool, err error)
	// ForgetContact forgets the contact-me recorded at at (it reached
	// nobody), unless another was recorded since.
	ForgetContact(ctx context.Context, mac string, at time.Time) error
}
