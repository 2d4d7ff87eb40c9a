package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// TestFirmwareCatalogue: rows with their models, a model's version once,
// paging, lookup by file, delete refused while targeted (409), and the
// last download per device and firmware.
func TestFirmwareCatalogue(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		sha := strings.Repeat("ab", 32)
		f, err := s.CreateFirmware(ctx, autoprov.Firmware{Vendor: "yealink", Models: []string{"T57W", "T54W"}, Version: "96.86.0.100",
			Name: "T54W-96.86.0.100.rom", Size: 10, SHA256: sha, UploadedBy: "test"}, "test")
		if err != nil || f.ID == 0 || strings.Join(f.Models, ",") != "T54W,T57W" {
			t.Fatalf("create: %+v %v", f, err)
		}
		// T57W already has 96.86.0.100: refused, nothing written.
		_, err = s.CreateFirmware(ctx, autoprov.Firmware{Vendor: "yealink", Models: []string{"T57W"}, Version: "96.86.0.100", Name: "x", Size: 1, SHA256: sha}, "test")
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "T57W") {
			t.Errorf("a model's version twice: %v", err)
		}
		f2, err := s.CreateFirmware(ctx, autoprov.Firmware{Vendor: "yealink", Models: []string{"T54W"}, Version: "96.86.0.101", Name: "b.rom", Size: 10, SHA256: sha}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if list, total, err := s.Firmwares(ctx, autoprov.FirmwareFilter{Limit: 1}); err != nil || total != 2 || len(list) != 1 || list[0].ID != f2.ID {
			t.Errorf("page 1: %+v %d %v", list, total, err)
		}
		if list, total, _ := s.Firmwares(ctx, autoprov.FirmwareFilter{Model: "t57w"}); total != 1 || list[0].ID != f.ID {
			t.Errorf("by model: %+v", list)
		}
		if got, err := s.FirmwareFor(ctx, "yealink", "T57W", "96.86.0.100"); err != nil || got.ID != f.ID {
			t.Errorf("FirmwareFor: %+v %v", got, err)
		}
		if got, err := s.FirmwareByFile(ctx, sha[:16], "b.rom"); err != nil || got.ID != f2.ID {
			t.Errorf("FirmwareByFile: %+v %v", got, err)
		}
		if _, err := s.FirmwareByFile(ctx, sha[:16], "c.rom"); !errors.Is(err, ErrNotFound) {
			t.Errorf("FirmwareByFile of another name: %v", err)
		}

		// A download, then another that breaks: the row is the last one,
		// the count of whole ones stays.
		now := time.Now()
		s.db.Create(&deviceRow{MAC: "805ec0aabb01", State: "assigned", RemoteIP: "10.0.0.5", LastSeen: &now})
		if mac, err := s.DeviceAt(ctx, "10.0.0.5"); err != nil || mac != "805ec0aabb01" {
			t.Errorf("DeviceAt: %q %v", mac, err)
		}
		d := autoprov.FirmwareDownload{MAC: "805ec0aabb01", FirmwareID: f.ID, Transport: "http", RemoteIP: "10.0.0.5", StartedAt: now, Size: 10}
		if err := s.StartDownload(ctx, d, "t1"); err != nil {
			t.Fatal(err)
		}
		if err := s.EndDownload(ctx, d.MAC, f.ID, "t1", now, 10, autoprov.DownloadCompleted, true); err != nil {
			t.Fatal(err)
		}
		s.StartDownload(ctx, d, "t2")
		s.EndDownload(ctx, d.MAC, f.ID, "t1", now, 3, autoprov.DownloadCompleted, false) // an old token: no change
		if ds, _ := s.FirmwareDownloads(ctx, d.MAC); len(ds) != 1 || ds[0].Outcome != autoprov.DownloadStarted || ds[0].Completed != 1 ||
			ds[0].MAC != d.MAC || ds[0].FirmwareID != f.ID || ds[0].File != autoprov.FirmwareFile(f) {
			t.Errorf("in flight: %+v", ds)
		}
		s.EndDownload(ctx, d.MAC, f.ID, "t2", now, 4, autoprov.DownloadBroken, false)
		if ds, _ := s.FirmwareDownloads(ctx, d.MAC); len(ds) != 1 || ds[0].Outcome != autoprov.DownloadBroken || ds[0].Bytes != 4 || ds[0].Completed != 1 || ds[0].EndedAt.IsZero() {
			t.Errorf("broken: %+v", ds)
		}

		// Targeted by a model and a device: 409 naming them, nothing deleted.
		if _, err := s.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "yealink", Model: "T54W", Firmware: &f, Stage: 100}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "yealink", MAC: "805ec0aabb01", Firmware: &f, Stage: 100}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.DeleteFirmware(ctx, f.ID, "test"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "model yealink T54W, device 805ec0aabb01") {
			t.Errorf("delete a targeted version: %v", err)
		}
		if _, err := s.Firmware(ctx, f.ID); err != nil {
			t.Errorf("the refused delete removed the row: %v", err)
		}
		// The database refuses it too (RESTRICT), whatever the caller checks.
		if err := s.db.Delete(&firmwareRow{}, f.ID).Error; err == nil {
			t.Error("a targeted row deleted behind the store's back")
		}
		s.db.Where("firmware_id = ?", f.ID).Delete(&firmwareTargetRow{})

		got, shared, err := s.DeleteFirmware(ctx, f.ID, "test")
		if err != nil || got.ID != f.ID || !shared {
			t.Errorf("delete: %+v shared %v %v", got, shared, err)
		}
		if ds, _ := s.FirmwareDownloads(ctx, d.MAC); len(ds) != 0 {
			t.Errorf("downloads of a deleted row: %+v", ds)
		}
		if _, shared, err := s.DeleteFirmware(ctx, f2.ID, "test"); err != nil || shared {
			t.Errorf("delete the last row of a file: shared %v %v", shared, err)
		}
		if used, err := s.FirmwareFileUsed(ctx, sha); err != nil || used {
			t.Errorf("file still used: %v %v", used, err)
		}
		evs, _ := s.Audit(ctx, "", 10)
		var names []string
		for _, e := range evs {
			names = append(names, e.Event)
		}
		if strings.Join(names, " ") != "firmware.deleted firmware.deleted firmware.target_set firmware.target_set firmware.uploaded firmware.uploaded" {
			t.Errorf("audit: %v", names)
		}
	})
}
