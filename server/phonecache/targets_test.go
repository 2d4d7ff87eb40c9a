package phonecache_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/phonecache"
	"github.com/autoprov/autoprov/server/store"
)

// countingTargets counts the target reads that reach the store.
type countingTargets struct {
	*store.Store
	reads atomic.Int64
}

func (c *countingTargets) FirmwareTargets(ctx context.Context, vendor, model, mac string) ([]autoprov.FirmwareTarget, error) {
	c.reads.Add(1)
	return c.Store.FirmwareTargets(ctx, vendor, model, mac)
}

func (c *countingTargets) DeviceFirmwareTargets(ctx context.Context) (map[string]autoprov.FirmwareTarget, error) {
	c.reads.Add(1)
	return c.Store.DeviceFirmwareTargets(ctx)
}

// TestTargetsThroughTheCache: the firmware targets read through the cache
// answer as the store does for every filter, are read from the store once
// (a render of a device whose window is open reads them, twice a phone in
// a boot storm), and a target changed by another store on the same file
// is answered once the change log was read.
func TestTargetsThroughTheCache(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "a.db")
	st, err := store.Open(dsn, store.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := store.Open(dsn, store.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c := phonecache.New(st, phonecache.Options{Poll: time.Hour})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fw, err := st.CreateFirmware(ctx, autoprov.Firmware{Vendor: "yealink", Models: []string{"T54W", "T46S"}, Version: "96.86.0.200",
		Name: "T54W-96.86.0.200.rom", Size: 1, SHA256: strings.Repeat("ab", 32)}, "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range []autoprov.FirmwareTarget{
		{Vendor: "yealink", Model: "T54W", Firmware: &fw, Stage: 30},
		{Vendor: "yealink", Model: "T46S", Firmware: &fw, Stage: 100, StageMACs: []string{"805ec0aabb07"}},
		{Vendor: "yealink", MAC: "805ec0aabb01", Exclude: true, Stage: 100},
		{Vendor: "yealink", MAC: "805ec0aabb02", Firmware: &fw, Stage: 100},
	} {
		if _, err := st.PutFirmwareTarget(ctx, tg, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	src := &countingTargets{Store: st}
	r := c.Targets(src)
	same := func(when string) {
		t.Helper()
		for _, q := range [][3]string{{"", "", ""}, {"yealink", "", ""}, {"yealink", "T54W", ""}, {"", "T46S", ""},
			{"snom", "", ""}, {"", "", "805ec0aabb01"}, {"", "", "805ec0aabb02"}, {"", "", "805ec0aabb03"}} {
			want, err := st.FirmwareTargets(ctx, q[0], q[1], q[2])
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.FirmwareTargets(ctx, q[0], q[1], q[2])
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(len(got)) != fmt.Sprint(len(want)) || len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("%s: targets %q: through the cache %+v, the store %+v", when, q, got, want)
			}
		}
	}
	same("first read")
	same("second read")
	if n := src.reads.Load(); n != 2 {
		t.Errorf("%d reads of the store for 16 reads of the targets, want 2 (models and devices, once)", n)
	}
	if err := other.DeleteFirmwareTarget(ctx, "yealink", "", "805ec0aabb01", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "yealink", Model: "T54W", Firmware: &fw, Stage: 60}, "t"); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	same("after another store's changes")
	if ts, _ := r.FirmwareTargets(ctx, "", "", "805ec0aabb01"); len(ts) != 0 {
		t.Errorf("a deleted device target is still answered: %+v", ts)
	}
	if ts, _ := r.FirmwareTargets(ctx, "yealink", "T54W", ""); len(ts) != 1 || ts[0].Stage != 60 {
		t.Errorf("the widened stage is not answered: %+v", ts)
	}
}
