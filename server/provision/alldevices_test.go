package provision_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
)

// TestAllDevicesWhileTheListChanges: AllDevices reads past the first page,
// and a device deleted between two pages (an admin at work during an
// export) shifts no other device out of the list: each page starts after
// the last MAC of the one before, not at an offset.
func TestAllDevicesWhileTheListChanges(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	core, _ := newCoreOn(t, st)
	ctx := context.Background()
	const n = autoprov.MaxPageLimit + 20
	var in autoprov.BulkInput
	for i := range n {
		mac, model := fmt.Sprintf("805ec0%06x", i), "T54W"
		in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: &mac, Model: &model})
	}
	if _, err := core.Bulk(ctx, in, false, "test"); err != nil {
		t.Fatal(err)
	}
	pages := 0
	list := func(ctx context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, int, error) {
		ds, total, err := core.Devices(ctx, f)
		if pages++; pages == 1 && err == nil {
			// The first device goes once its page is read.
			if err := core.DeleteDevice(ctx, ds[0].MAC, "test"); err != nil {
				t.Fatal(err)
			}
		}
		return ds, total, err
	}
	ds, err := provision.AllDevices(ctx, list, autoprov.DeviceFilter{State: autoprov.StateAssigned})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != n || ds[n-1].MAC != fmt.Sprintf("805ec0%06x", n-1) {
		t.Fatalf("%d devices read, the last %s; want all %d, as they were when each page was read", len(ds), ds[len(ds)-1].MAC, n)
	}
	seen := map[string]bool{}
	for _, d := range ds {
		if seen[d.MAC] {
			t.Fatalf("%s read twice", d.MAC)
		}
		seen[d.MAC] = true
	}
}
