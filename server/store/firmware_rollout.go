package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
)

// Firmware targets (migration 9): the version a model or a device should
// run, its stage and whether it waits for the maintenance window. One row
// per (vendor, model, mac): a model's target has mac "", a device's has
// model "".

func targetDetail(t autoprov.FirmwareTarget) string {
	who := "model " + t.Vendor + " " + t.Model
	if t.MAC != "" {
		who = "device " + t.MAC
	}
	if t.Exclude {
		return who + " excluded"
	}
	d := fmt.Sprintf("%s version=%s firmware=%d", who, t.Version(), t.Firmware.ID)
	if len(t.StageMACs) > 0 {
		d += " stage=" + strconv.Itoa(len(t.StageMACs)) + " macs"
	} else {
		d += " stage=" + strconv.Itoa(t.Stage)
	}
	return d + " now=" + strconv.FormatBool(t.Now)
}

// targetsOf reads the catalogue rows the targets name and returns the
// domain values.
func targetsOf(tx *gorm.DB, rows []firmwareTargetRow) ([]autoprov.FirmwareTarget, error) {
	var ids []int64
	for _, r := range rows {
		if r.FirmwareID != nil {
			ids = append(ids, *r.FirmwareID)
		}
	}
	by := map[int64]autoprov.Firmware{}
	if len(ids) > 0 {
		var frs []firmwareRow
		if err := tx.Where("id IN ?", ids).Find(&frs).Error; err != nil {
			return nil, wrap(err, "firmware of targets")
		}
		fs, err := withModels(tx, frs)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			by[f.ID] = f
		}
	}
	out := make([]autoprov.FirmwareTarget, 0, len(rows))
	for _, r := range rows {
		t := autoprov.FirmwareTarget{ID: r.ID, Vendor: r.Vendor, Model: r.Model, MAC: r.MAC, Stage: r.Stage,
			Now: r.Immediate, Exclude: r.Exclude, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
		if r.StageMACs != "" {
			t.StageMACs = strings.Split(r.StageMACs, ",")
		}
		if r.FirmwareID != nil {
			f, ok := by[*r.FirmwareID]
			if !ok {
				return nil, notFound("target %d names firmware %d", r.ID, *r.FirmwareID)
			}
			t.Firmware = &f
		}
		out = append(out, t)
	}
	return out, nil
}

// PutFirmwareTarget creates or replaces the target of a model (t.MAC
// "") or a device (t.Model ""), keeping its ID (and so the stage's
// choice of devices), and audits it, in one transaction. t.Firmware names
// the catalogue row by ID; nil only for an exclusion.
func (s *Store) PutFirmwareTarget(ctx context.Context, t autoprov.FirmwareTarget, actor string) (autoprov.FirmwareTarget, error) {
	macs := append([]string(nil), t.StageMACs...)
	sort.Strings(macs)
	now := time.Now().UTC()
	if !t.UpdatedAt.IsZero() {
		now = t.UpdatedAt.UTC()
	}
	var out autoprov.FirmwareTarget
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []firmwareTargetRow
		if err := tx.Where("vendor = ? AND model = ? AND mac = ?", t.Vendor, t.Model, t.MAC).Find(&rows).Error; err != nil {
			return wrap(err, "firmware target")
		}
		r := firmwareTargetRow{Vendor: t.Vendor, Model: t.Model, MAC: t.MAC, CreatedAt: now}
		if len(rows) > 0 {
			r = rows[0]
		}
		r.FirmwareID = nil
		if t.Firmware != nil {
			id := t.Firmware.ID
			r.FirmwareID = &id
		}
		r.Stage, r.StageMACs, r.Immediate, r.Exclude = t.Stage, strings.Join(macs, ","), t.Now, t.Exclude
		r.UpdatedAt, r.UpdatedBy = now, actor
		if err := tx.Save(&r).Error; err != nil {
			return wrap(err, "save firmware target")
		}
		ts, err := targetsOf(tx, []firmwareTargetRow{r})
		if err != nil {
			return err
		}
		out = ts[0]
		return appendAudit(tx, autoprov.AuditEvent{At: now, MAC: t.MAC, Event: autoprov.EventFirmwareTargetSet, Actor: actor, Detail: targetDetail(out)})
	})
	return out, err
}

// DeleteFirmwareTarget removes the target of a model (mac "") or a
// device (model ""), audited; ErrNotFound when there is none.
func (s *Store) DeleteFirmwareTarget(ctx context.Context, vendor, model, mac, actor string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []firmwareTargetRow
		if err := tx.Where("vendor = ? AND model = ? AND mac = ?", vendor, model, mac).Find(&rows).Error; err != nil {
			return wrap(err, "firmware target")
		}
		if len(rows) == 0 {
			what := autoprov.T("model %s %s", vendor, model)
			if mac != "" {
				what = autoprov.T("device %s", mac)
			}
			return notFound("firmware target of %s", what)
		}
		ts, err := targetsOf(tx, rows)
		if err != nil {
			return err
		}
		if err := tx.Delete(&firmwareTargetRow{}, rows[0].ID).Error; err != nil {
			return wrap(err, "delete firmware target")
		}
		return appendAudit(tx, autoprov.AuditEvent{MAC: mac, Event: autoprov.EventFirmwareTargetDeleted, Actor: actor, Detail: targetDetail(ts[0])})
	})
}

// FirmwareTargets lists the targets: of the models (vendor and model ""
// match all) when mac is "", else the one of that device (at most one).
// Models' targets come ordered by vendor and model.
func (s *Store) FirmwareTargets(ctx context.Context, vendor, model, mac string) ([]autoprov.FirmwareTarget, error) {
	tx := s.db.WithContext(ctx)
	q := tx.Model(&firmwareTargetRow{})
	if mac != "" {
		q = q.Where("mac = ?", mac)
	} else {
		q = q.Where("mac = ''")
		if vendor != "" {
			q = q.Where("vendor = ?", vendor)
		}
		if model != "" {
			q = q.Where("model = ?", model)
		}
	}
	var rows []firmwareTargetRow
	if err := q.Order("vendor, model, mac").Find(&rows).Error; err != nil {
		return nil, wrap(err, "firmware targets")
	}
	return targetsOf(tx, rows)
}

// DeviceFirmwareTargets returns the targets of every device that has one
// (an override or an exclusion), by MAC.
func (s *Store) DeviceFirmwareTargets(ctx context.Context) (map[string]autoprov.FirmwareTarget, error) {
	tx := s.db.WithContext(ctx)
	var rows []firmwareTargetRow
	if err := tx.Where("mac <> ''").Find(&rows).Error; err != nil {
		return nil, wrap(err, "device firmware targets")
	}
	ts, err := targetsOf(tx, rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]autoprov.FirmwareTarget, len(ts))
	for _, t := range ts {
		out[t.MAC] = t
	}
	return out, nil
}
