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
	Transport  string // "http", "https", "tftp"
	RemoteIP   string
	StartedAt  time.Time
	EndedAt    time.Time // zero while in flight
	Bytes      int64     // bytes of the file sent
	Size       int64     // bytes the answer was to carry (a Range: the slice)
	Outcome    string    // DownloadStarted, DownloadCompleted, DownloadBroken
	// Completed counts the downloads of this device and firmware that
	// delivered the whole file, over all time.
	Completed int
}

// Audit events of the firmware store.
const (
	EventFirmwareUploaded = "firmware.uploaded"
	EventFirmwareDeleted  = "firmware.deleted"
)
