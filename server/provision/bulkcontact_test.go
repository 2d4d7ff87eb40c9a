package provision_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
)

// deviceReads is the fake store counting its single-device reads.
type deviceReads struct {
	*memStore
	n atomic.Int64
}

func (r *deviceReads) Device(ctx context.Context, mac string) (autoprov.Device, error) {
	r.n.Add(1)
	return r.memStore.Device(ctx, mac)
}

// fiftyYealinksAndAnOpenStage is a bulk change of account 201 and 51
// phones carrying it: 50 Yealink T54W and one OpenStage 40.
func fiftyYealinksAndAnOpenStage() autoprov.BulkInput {
	in := autoprov.BulkInput{Accounts: []autoprov.AccountInput{{Extension: ptr("201"), Password: ptr("Sip-Pass-201-core")}}}
	for i := range 50 {
		in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: ptr(fmt.Sprintf("805ec0%06x", i)), Model: ptr("T54W"), Accounts: &[]string{"201"}})
	}
	in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: ptr("001ae8123400"), Model: ptr("OpenStage 40"), Accounts: &[]string{"201"}})
	return in
}

// After a bulk change, only the phones it wrote as dialogue phones
// (OpenStage) are read back for a contact-me: a bulk change of 100,000
// Yealink phones used to read every one of them in the background.
func TestBulkReadsBackOnlyDialoguePhones(t *testing.T) {
	st := &deviceReads{memStore: newMemStore()}
	c, _ := newCoreOn(t, st)
	ctx := context.Background()
	in := fiftyYealinksAndAnOpenStage()
	res, err := c.Bulk(ctx, in, false, "t")
	if err != nil {
		t.Fatal(err)
	}
	provision.WaitContacts(c.Inventory)
	if len(res.DevicesCreated) != 51 {
		t.Fatalf("%d devices created, want 51", len(res.DevicesCreated))
	}
	if n := st.n.Load(); n != 1 {
		t.Errorf("%d devices read after the bulk change, want 1 (the OpenStage)", n)
	}
}

// A bulk change of an account carried by many phones reads back, one by
// one, only the dialogue phones among them: those it wrote are known as
// written, the others are read in one batch.
func TestBulkAccountUpdateReadsBackOnlyDialoguePhones(t *testing.T) {
	st := &deviceReads{memStore: newMemStore()}
	c, _ := newCoreOn(t, st)
	ctx := context.Background()
	in := fiftyYealinksAndAnOpenStage()
	if _, err := c.Bulk(ctx, in, false, "t"); err != nil {
		t.Fatal(err)
	}
	provision.WaitContacts(c.Inventory)
	st.n.Store(0)
	// The account's password changes; one of its phones is written too.
	res, err := c.Bulk(ctx, autoprov.BulkInput{Accounts: []autoprov.AccountInput{{Extension: ptr("201"), Password: ptr("Sip-Pass-201-changed")}},
		Devices: []autoprov.DeviceInput{{MAC: ptr("805ec0000000"), Label: ptr("Reception")}}}, false, "t")
	if err != nil {
		t.Fatal(err)
	}
	provision.WaitContacts(c.Inventory)
	if len(res.AccountsUpdated) != 1 || len(res.DevicesUpdated) != 1 {
		t.Fatalf("updated %v and %v", res.AccountsUpdated, res.DevicesUpdated)
	}
	if n := st.n.Load(); n != 1 {
		t.Errorf("%d devices read after the bulk change, want 1 (the OpenStage)", n)
	}
	// Only its display name changes (no window opens, so the devices
	// carrying it are looked up after the change, not before).
	st.n.Store(0)
	if _, err := c.Bulk(ctx, autoprov.BulkInput{Accounts: []autoprov.AccountInput{{Extension: ptr("201"), DisplayName: ptr("Renamed")}}}, false, "t"); err != nil {
		t.Fatal(err)
	}
	provision.WaitContacts(c.Inventory)
	if n := st.n.Load(); n != 1 {
		t.Errorf("%d devices read after a display name changed, want 1 (the OpenStage)", n)
	}
}
