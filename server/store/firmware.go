package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/autoprov/autoprov"
)

// The firmware catalogue (migration 6): the rows firmware.Store keeps. The
// files themselves live under <data>/firmware/, named by their SHA-256;
// see firmware/README.md.

type firmwareRow struct {
	ID         int64 `gorm:"primaryKey"`
	Vendor     string
	Version    string
	Name       string
	Size       int64
	SHA256     string `gorm:"column:sha256"`
	UploadedAt time.Time
	UploadedBy string
}

func (firmwareRow) TableName() string { return "firmware" }

// firmwareModelRow is one model a firmware row applies to; (vendor,
// model, version) is unique.
type firmwareModelRow struct {
	FirmwareID int64 `gorm:"primaryKey"`
	Vendor     string
	Model      string `gorm:"primaryKey"`
	Version    string
}

func (firmwareModelRow) TableName() string { return "firmware_models" }

// firmwareTargetRow pins a model (Model set) or a device (MAC set) to a
// firmware row, or excludes a device (Exclude, no firmware); one row per
// (vendor, model, mac). See firmware_rollout.go.
type firmwareTargetRow struct {
	ID         int64 `gorm:"primaryKey"`
	Vendor     string
	Model      string
	MAC        string `gorm:"column:mac"`
	FirmwareID *int64
	Stage      int
	StageMACs  string `gorm:"column:stage_macs"` // comma-separated canonical MACs
	Immediate  bool
	Exclude    bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	UpdatedBy  string
}

func (firmwareTargetRow) TableName() string { return "firmware_targets" }

// firmwareDownloadRow is the last download of one firmware by one device.
type firmwareDownloadRow struct {
	MAC        string `gorm:"column:mac;primaryKey"`
	FirmwareID int64  `gorm:"primaryKey"`
	Token      string // which download the row describes (StartDownload's token)
	Transport  string
	RemoteIP   string
	StartedAt  time.Time
	EndedAt    *time.Time
	Bytes      int64
	Size       int64
	Outcome    string
	Completed  int
}

func (firmwareDownloadRow) TableName() string { return "firmware_downloads" }

func (r firmwareRow) domain(models []string) autoprov.Firmware {
	return autoprov.Firmware{ID: r.ID, Vendor: r.Vendor, Models: models, Version: r.Version, Name: r.Name,
		Size: r.Size, SHA256: r.SHA256, UploadedAt: r.UploadedAt, UploadedBy: r.UploadedBy}
}

// withModels reads the models of rows and returns the domain values.
func withModels(tx *gorm.DB, rows []firmwareRow) ([]autoprov.Firmware, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var ms []firmwareModelRow
	if err := tx.Where("firmware_id IN ?", ids).Order("model").Find(&ms).Error; err != nil {
		return nil, wrap(err, "firmware models")
	}
	by := map[int64][]string{}
	for _, m := range ms {
		by[m.FirmwareID] = append(by[m.FirmwareID], m.Model)
	}
	out := make([]autoprov.Firmware, len(rows))
	for i, r := range rows {
		out[i] = r.domain(by[r.ID])
	}
	return out, nil
}

func firmwareDetail(f autoprov.Firmware) string {
	return fmt.Sprintf("id=%d vendor=%s models=%s version=%s name=%s size=%d sha256=%s",
		f.ID, f.Vendor, strings.Join(f.Models, ","), f.Version, f.Name, f.Size, f.SHA256)
}

// CreateFirmware adds a catalogue row for a file already stored, with its
// models and the audit row firmware.uploaded, in one transaction. A model
// that already has this version (in any row) is ErrConflict, naming the
// row that has it.
func (s *Store) CreateFirmware(ctx context.Context, f autoprov.Firmware, actor string) (autoprov.Firmware, error) {
	models := append([]string(nil), f.Models...)
	sort.Strings(models)
	f.Models = models
	r := firmwareRow{Vendor: f.Vendor, Version: f.Version, Name: f.Name, Size: f.Size, SHA256: f.SHA256,
		UploadedAt: f.UploadedAt.UTC(), UploadedBy: f.UploadedBy}
	if r.UploadedAt.IsZero() {
		r.UploadedAt = time.Now().UTC()
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var taken firmwareModelRow
		err := tx.Where("vendor = ? AND version = ? AND model IN ?", f.Vendor, f.Version, models).First(&taken).Error
		if err == nil {
			return autoprov.Conflict("%s %s already has version %s (firmware %d)", f.Vendor, taken.Model, f.Version, taken.FirmwareID)
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return wrap(err, "firmware models")
		}
		if err := tx.Create(&r).Error; err != nil {
			return wrap(err, "create firmware")
		}
		for _, m := range models {
			if err := tx.Create(&firmwareModelRow{FirmwareID: r.ID, Vendor: f.Vendor, Model: m, Version: f.Version}).Error; err != nil {
				// A concurrent upload took the model's version after the check.
				return wrap(err, "%s %s version %s", f.Vendor, m, f.Version)
			}
		}
		out := r.domain(models)
		return appendAudit(tx, autoprov.AuditEvent{At: r.UploadedAt, Event: autoprov.EventFirmwareUploaded, Actor: actor, Detail: firmwareDetail(out)})
	})
	if err != nil {
		return autoprov.Firmware{}, err
	}
	return r.domain(models), nil
}

// Firmware returns one catalogue row.
func (s *Store) Firmware(ctx context.Context, id int64) (autoprov.Firmware, error) {
	return s.firstFirmware(ctx, autoprov.T("firmware %d", id), "id = ?", id)
}

// FirmwareFor returns the row that holds version for a vendor's model
// (the unique one; what a target names).
func (s *Store) FirmwareFor(ctx context.Context, vendor, model, version string) (autoprov.Firmware, error) {
	return s.firstFirmware(ctx, autoprov.T("firmware %s %s %s", vendor, model, version),
		"id IN (SELECT firmware_id FROM firmware_models WHERE vendor = ? AND model = ? AND version = ?)", vendor, model, version)
}

// FirmwareByFile returns the row a download path names: its SHA-256
// starts with shaPrefix and its original name is name (exactly). Of
// several such rows (the same file uploaded under the same name for other
// versions) the oldest.
func (s *Store) FirmwareByFile(ctx context.Context, shaPrefix, name string) (autoprov.Firmware, error) {
	return s.firstFirmware(ctx, autoprov.T("firmware file %s/%s", shaPrefix, name), "sha256 LIKE ? AND name = ?", shaPrefix+"%", name)
}

func (s *Store) firstFirmware(ctx context.Context, what autoprov.Text, query string, args ...any) (autoprov.Firmware, error) {
	tx := s.db.WithContext(ctx)
	var rows []firmwareRow
	if err := tx.Where(query, args...).Order("id").Limit(1).Find(&rows).Error; err != nil {
		return autoprov.Firmware{}, wrap(err, "%v", what)
	}
	if len(rows) == 0 {
		return autoprov.Firmware{}, notFound("%v", what)
	}
	out, err := withModels(tx, rows)
	if err != nil {
		return autoprov.Firmware{}, err
	}
	return out[0], nil
}

// Firmwares lists the catalogue, newest first, and counts all matches.
func (s *Store) Firmwares(ctx context.Context, f autoprov.FirmwareFilter) ([]autoprov.Firmware, int, error) {
	tx := s.db.WithContext(ctx)
	q := tx.Model(&firmwareRow{})
	if f.Vendor != "" {
		q = q.Where("vendor = ?", strings.ToLower(f.Vendor))
	}
	if f.Model != "" {
		q = q.Where("id IN (SELECT firmware_id FROM firmware_models WHERE LOWER(model) = LOWER(?))", f.Model)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count firmware")
	}
	q = q.Order("id DESC").Offset(f.Offset)
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []firmwareRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "list firmware")
	}
	out, err := withModels(tx, rows)
	return out, int(total), err
}

// DeleteFirmware removes a catalogue row with its models and downloads,
// and writes firmware.deleted, in one transaction. A row that a model or
// device targets is ErrConflict. It returns the row deleted and whether
// any other row still names its file (if not, the caller removes it).
func (s *Store) DeleteFirmware(ctx context.Context, id int64, actor string) (autoprov.Firmware, bool, error) {
	var out autoprov.Firmware
	var shared bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []firmwareRow
		if err := tx.Where("id = ?", id).Find(&rows).Error; err != nil {
			return wrap(err, "firmware %d", id)
		}
		if len(rows) == 0 {
			return notFound("firmware %d", id)
		}
		fs, err := withModels(tx, rows)
		if err != nil {
			return err
		}
		out = fs[0]
		var targets []firmwareTargetRow
		if err := tx.Where("firmware_id = ?", id).Order("id").Find(&targets).Error; err != nil {
			return wrap(err, "targets of firmware %d", id)
		}
		if len(targets) > 0 {
			var names []string
			for _, t := range targets {
				if t.MAC != "" {
					names = append(names, "device "+t.MAC)
				} else {
					names = append(names, "model "+t.Vendor+" "+t.Model)
				}
			}
			return autoprov.Conflict("firmware %d (%s %s) is the target of %s; change the target first",
				id, out.Vendor, out.Version, strings.Join(names, ", "))
		}
		for _, m := range []any{&firmwareModelRow{}, &firmwareDownloadRow{}} {
			if err := tx.Where("firmware_id = ?", id).Delete(m).Error; err != nil {
				return wrap(err, "delete firmware %d", id)
			}
		}
		if err := tx.Delete(&firmwareRow{}, id).Error; err != nil {
			return wrap(err, "delete firmware %d", id)
		}
		var n int64
		if err := tx.Model(&firmwareRow{}).Where("sha256 = ?", out.SHA256).Count(&n).Error; err != nil {
			return wrap(err, "firmware %d", id)
		}
		shared = n > 0
		return appendAudit(tx, autoprov.AuditEvent{Event: autoprov.EventFirmwareDeleted, Actor: actor, Detail: firmwareDetail(out)})
	})
	return out, shared, err
}

// FirmwareFileUsed reports whether any catalogue row names the file with
// this SHA-256.
func (s *Store) FirmwareFileUsed(ctx context.Context, sha256 string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&firmwareRow{}).Where("sha256 = ?", sha256).Count(&n).Error
	return n > 0, wrap(err, "firmware file %s", sha256)
}

// DeviceAt returns the MAC of the device last seen at the address ip
// (ErrNotFound if none). With several (phones behind one NAT) it is the
// one seen most recently.
func (s *Store) DeviceAt(ctx context.Context, ip string) (string, error) {
	var macs []string
	err := s.db.WithContext(ctx).Model(&deviceRow{}).Where("remote_ip = ?", ip).
		Order("last_seen DESC").Limit(1).Pluck("mac", &macs).Error
	if err != nil {
		return "", wrap(err, "device at %s", ip)
	}
	if len(macs) == 0 {
		return "", notFound("device at %s", ip)
	}
	return macs[0], nil
}

// DeviceKnown reports whether the inventory has the MAC (in any state).
func (s *Store) DeviceKnown(ctx context.Context, mac string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&deviceRow{}).Where("mac = ?", mac).Count(&n).Error
	return n > 0, wrap(err, "device %s", mac)
}

// StartDownload records that a device started downloading a firmware:
// the device's row for it now describes this download (token), outcome
// started; the count of completed downloads is kept.
func (s *Store) StartDownload(ctx context.Context, d autoprov.FirmwareDownload, token string) error {
	r := firmwareDownloadRow{MAC: d.MAC, FirmwareID: d.FirmwareID, Token: token, Transport: d.Transport,
		RemoteIP: d.RemoteIP, StartedAt: d.StartedAt.UTC(), Size: d.Size, Outcome: autoprov.DownloadStarted}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "mac"}, {Name: "firmware_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"token", "transport", "remote_ip", "started_at", "ended_at",
			"bytes", "size", "outcome"}),
	}).Create(&r).Error
	return wrap(err, "start download of firmware %d by %s", d.FirmwareID, d.MAC)
}

// EndDownload records how the download token ended. whole says the whole
// file was delivered (counted in Completed even if a later download has
// replaced the row since).
func (s *Store) EndDownload(ctx context.Context, mac string, id int64, token string, at time.Time, bytes int64, outcome string, whole bool) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		at := at.UTC()
		if err := tx.Model(&firmwareDownloadRow{}).Where("mac = ? AND firmware_id = ? AND token = ?", mac, id, token).
			Updates(map[string]any{"ended_at": &at, "bytes": bytes, "outcome": outcome}).Error; err != nil {
			return wrap(err, "end download of firmware %d by %s", id, mac)
		}
		if !whole {
			return nil
		}
		return wrap(tx.Model(&firmwareDownloadRow{}).Where("mac = ? AND firmware_id = ?", mac, id).
			Update("completed", gorm.Expr("completed + 1")).Error, "end download of firmware %d by %s", id, mac)
	})
}

// FirmwareDownloads lists a device's last download of each firmware
// (all devices when mac is ""), newest first.
func (s *Store) FirmwareDownloads(ctx context.Context, mac string) ([]autoprov.FirmwareDownload, error) {
	// Each row with its entry's file (autoprov.FirmwareFile), in one query.
	q := s.db.WithContext(ctx).Model(&firmwareDownloadRow{}).
		Select("firmware_downloads.*, COALESCE(firmware.sha256, '') AS file_sha256, COALESCE(firmware.name, '') AS file_name").
		Joins("LEFT JOIN firmware ON firmware.id = firmware_downloads.firmware_id").
		Order("firmware_downloads.started_at DESC")
	if mac != "" {
		q = q.Where("firmware_downloads.mac = ?", mac)
	}
	var rows []struct {
		Row                  firmwareDownloadRow `gorm:"embedded"`
		FileSHA256, FileName string
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap(err, "firmware downloads")
	}
	out := make([]autoprov.FirmwareDownload, len(rows))
	for i, r := range rows {
		d := r.Row
		out[i] = autoprov.FirmwareDownload{MAC: d.MAC, FirmwareID: d.FirmwareID, Transport: d.Transport,
			RemoteIP: d.RemoteIP, StartedAt: d.StartedAt, Bytes: d.Bytes, Size: d.Size, Outcome: d.Outcome, Completed: d.Completed}
		if r.FileSHA256 != "" {
			out[i].File = autoprov.FirmwareFile(autoprov.Firmware{SHA256: r.FileSHA256, Name: r.FileName})
		}
		if d.EndedAt != nil {
			out[i].EndedAt = *d.EndedAt
		}
	}
	return out, nil
}
