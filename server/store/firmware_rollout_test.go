package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov"
)

// TestFirmwareTargets: a model's target is created, replaced in place
// (same ID, so the stage's choice stays), listed, deleted; a device's
// own target and its exclusion (no firmware); every change audited; a
// deleted device takes its target with it.
func TestFirmwareTargets(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		f, err := s.CreateFirmware(ctx, autoprov.Firmware{Vendor: "yealink", Models: []string{"T54W"}, Version: "96.86.0.100",
			Name: "a.rom", Size: 10, SHA256: strings.Repeat("cd", 32)}, "test")
		if err != nil {
			t.Fatal(err)
		}
		t1, err := s.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "yealink", Model: "T54W", Firmware: &f, Stage: 25}, "api@x")
		if err != nil || t1.ID == 0 || t1.Version() != "96.86.0.100" || t1.Stage != 25 || t1.UpdatedBy != "api@x" {
			t.Fatalf("put: %+v %v", t1, err)
		}
		t2, err := s.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "yealink", Model: "T54W", Firmware: &f, Stage: 50, Now: true,
			StageMACs: []string{"805ec0000002", "805ec0000001"}}, "api@x")
		if err != nil || t2.ID != t1.ID || t2.Stage != 50 || !t2.Now || strings.Join(t2.StageMACs, ",") != "805ec0000001,805ec0000002" {
			t.Fatalf("replace: %+v %v", t2, err)
		}
		if ts, err := s.FirmwareTargets(ctx, "yealink", "", ""); err != nil || len(ts) != 1 || ts[0].ID != t1.ID || ts[0].Firmware.ID != f.ID {
			t.Errorf("list: %+v %v", ts, err)
		}
		if err := s.CreateDevice(ctx, autoprov.Device{MAC: "805ec0000001", Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "yealink", MAC: "805ec0000001", Exclude: true, Stage: 100}, "api@x"); err != nil {
			t.Fatal(err)
		}
		if own, err := s.DeviceFirmwareTargets(ctx); err != nil || len(own) != 1 || !own["805ec0000001"].Exclude || own["805ec0000001"].Firmware != nil {
			t.Errorf("device targets: %+v %v", own, err)
		}
		if ts, _ := s.FirmwareTargets(ctx, "", "", "805ec0000001"); len(ts) != 1 || !ts[0].Exclude {
			t.Errorf("the device's own: %+v", ts)
		}
		if err := s.DeleteDevice(ctx, "805ec0000001"); err != nil {
			t.Fatal(err)
		}
		if ts, _ := s.FirmwareTargets(ctx, "", "", "805ec0000001"); len(ts) != 0 {
			t.Errorf("a deleted device kept its target: %+v", ts)
		}
		if err := s.DeleteFirmwareTarget(ctx, "yealink", "T54W", "", "api@x"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteFirmwareTarget(ctx, "yealink", "T54W", "", "api@x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		evs, _, err := s.ListAudit(ctx, autoprov.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			if strings.HasPrefix(e.Event, "firmware.target") {
				got = append(got, e.Event+": "+e.Detail)
			}
		}
		want := []string{
			"firmware.target_deleted: model yealink T54W version=96.86.0.100 firmware=" + itoa(f.ID) + " stage=2 macs now=true",
			"firmware.target_set: device 805ec0000001 excluded",
			"firmware.target_set: model yealink T54W version=96.86.0.100 firmware=" + itoa(f.ID) + " stage=2 macs now=true",
			"firmware.target_set: model yealink T54W version=96.86.0.100 firmware=" + itoa(f.ID) + " stage=25 now=false",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
