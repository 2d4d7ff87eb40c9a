package autoprov

import "time"

// Firmware is one catalogue entry of the firmware store: an image for some
// models of one vendor at one version. The file itself is kept once per
// content (SHA256), however many entries name it.
type Firmware struct {
	ID      int64
	Vendor  string   // driver name, e.g. "yealink"
	Models  []string // canonical model names, sorted; at least one
	Version string   // as the vendor spells it, e.g. "96.86.0.100"
	// Name is the original file name; phones get it as the last segment
	// of the file's URL (see firmware.Path).
	Name       string
	Size       int64
	SHA256     string // lower-case hex
	UploadedAt time.Time
	UploadedBy string // "api@<ip>", "cli@<host>"
}

// FirmwareFilter pages through the catalogue.
type FirmwareFilter struct {
	Vendor, Model string // "" matches all
	Limit, Offset int    // Limit 0: all
}

// Outcomes of a firmware download.
const (
	DownloadStarted   = "started"   // in flight (or the server died during it)
	DownloadCompleted = "completed" // every byte of the answer went out (HTTP) or was acknowledged (TFTP)
	DownloadBroken    = "broken"    // the transfer ended early
)

// FirmwareDownload is the last download of one firmware by one device.
type FirmwareDownload struct {
	MAC        string
	FirmwareID int64
	// File is the downloaded file as FirmwareFile names it. Entries that
	// name the same bytes under the same name share one download path,
	// and a download is recorded against the entry the path found first:
	// it counts for each of them.
	File      string
	Transport string // "http", "https", "tftp"
	RemoteIP  string
	StartedAt time.Time
	EndedAt   time.Time // zero while in flight
	Bytes     int64     // bytes of the file sent
	Size      int64     // bytes the answer was to carry (a Range: the slice)
	Outcome   string    // DownloadStarted, DownloadCompleted, DownloadBroken
	// Completed counts the downloads of this device and firmware that
	// delivered the whole file, over all time.
	Completed int
}

// FirmwareFile names f's file: its SHA-256 and name, what its download
// path is made of.
func FirmwareFile(f Firmware) string { return f.SHA256 + "/" + f.Name }

// Audit events of the firmware store.
const (
	EventFirmwareUploaded = "firmware.uploaded"
	EventFirmwareDeleted  = "firmware.deleted"
)

// FirmwareTarget is the version a vendor's model (MAC empty) or one
// device (MAC set, Model empty) should run, and how it is rolled out.
type FirmwareTarget struct {
	ID     int64 // stable while the target exists; the stage's choice hashes it
	Vendor string
	Model  string // "" for a device's target
	MAC    string // "" for a model's target
	// Firmware is the catalogue entry the target names; nil for a
	// device's exclusion.
	Firmware *Firmware
	// Stage is the percentage (1 to 100) of the model's devices that get
	// the firmware, a stable choice per MAC (see provision's InStage); it
	// is ignored when StageMACs is set. Device targets have 100.
	Stage int
	// StageMACs, when not empty, is the explicit list of the devices that
	// get the firmware (canonical MACs, sorted).
	StageMACs []string
	// Now offers the firmware at any time, outside the maintenance window
	// (Settings.FirmwareWindow) too.
	Now bool
	// Exclude (device targets only) keeps the device off every rollout.
	Exclude   bool
	UpdatedAt time.Time
	UpdatedBy string
}

// Version is the target's version, or "" for an exclusion.
func (t FirmwareTarget) Version() string {
	if t.Firmware == nil {
		return ""
	}
	return t.Firmware.Version
}

// FirmwareTargetInput sets a model's target (PUT
// /models/{vendor}/{model}/firmware) or a device's (PATCH /devices/{mac}
// with "firmware").
type FirmwareTargetInput struct {
	Version string
	// Stage is the percentage; nil means 100. Ignored with StageMACs.
	Stage     *int
	StageMACs []string // explicit list (any MAC notation)
	Now       bool
	Exclude   bool // devices only: no firmware for this device
}

// Firmware statuses of a device (FirmwareStatus.Status).
const (
	FirmwareNone      = "none"      // no target applies
	FirmwareOnTarget  = "on target" // reports the target version
	FirmwareUpgrading = "upgrading" // in the stage, not on target yet
	FirmwareWaiting   = "waiting"   // not in the stage (yet)
	FirmwareFailed    = "failed"    // still on another version after FirmwareFailAfter completed downloads of the target
	FirmwareExcluded  = "excluded"  // the device is excluded
	// FirmwareUnsupported: a target applies but the model takes no
	// firmware from autoprov (vendors.Model.NoFirmware: its files carry
	// no firmware setting). The API refuses such targets; one stored
	// before it did is reported, not offered: remove it.
	FirmwareUnsupported = "unsupported"
)

// FirmwareFailAfter is how many completed downloads of its target a
// device may make while still reporting another version before its
// rollout counts as failed.
const FirmwareFailAfter = 3

// FirmwareStatus is where a device stands in its rollout.
type FirmwareStatus struct {
	MAC, Vendor, Model string
	Reported           string // the version the phone reported ("" unknown)
	Target             string // the target version, "" without one
	FirmwareID         int64  // the target's catalogue entry, 0 without one
	Source             string // "model", "device" (its own target) or ""
	InStage            bool
	Status             string // a Firmware* status
	// LastDownload is the device's last download of the target's file
	// (recorded under whichever entry names that file), or nil; its
	// Completed counts the whole downloads under every such entry.
	LastDownload *FirmwareDownload
}

// FirmwareSummary counts one model's devices by rollout status.
type FirmwareSummary struct {
	Vendor, Model string
	Target        string // the model's target version, "" without one
	Stage         int
	StageMACs     int // how many MACs an explicit stage lists (0: a percentage)
	Now           bool
	Devices       int
	OnTarget      int
	Pending       int // upgrading or waiting
	Failed        int
	Excluded      int
	Unsupported   int // a target applies, but the model takes no firmware (FirmwareUnsupported)
}

// Audit events of firmware targets.
const (
	EventFirmwareTargetSet     = "firmware.target_set"
	EventFirmwareTargetDeleted = "firmware.target_deleted"
)
