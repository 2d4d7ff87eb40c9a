package phonecache

import (
	"context"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
)

// Store is what Wire needs of server/store.
type Store interface {
	provision.Backend
	Source
	SightingWriter
}

// Wire builds both services of the core on st: the phone side reads
// through c and reports sightings of known phones to s; the admin side
// reads and writes st itself, and reads the change log (c.Sync) right after
// each of its writes, so that the next fetch in this process sees it.
func Wire(o provision.Options, st Store, c *Cache, s *Sightings) (*provision.Phones, *provision.Inventory) {
	if o.Dialogues == nil { // shared by both sides (contact-me, DCMP)
		o.Dialogues = provision.NewDialogues(o.Now)
	}
	ph := phoneWrites{Claims: st, Credentials: st, c: c}
	adm := admin{Backend: st, c: c, s: s}
	ps := provision.PhoneStores{Settings: c, Accounts: c, Profiles: c, Devices: c,
		Sightings: st, Claims: ph, Credentials: ph, Counter: st, Reports: s, Files: c}
	is := provision.InventoryStores{Settings: adm, Accounts: adm, Profiles: adm,
		Devices: adm, Disclosures: adm, Audit: st, Lists: st, Bulk: adm}
	// Targets are read when a file is rendered (a cache miss), through
	// the cache (targets.go); their changes are in the change log (every
	// device), and the file's cache key carries what the log cannot (the
	// reported firmware, the window).
	if fr, ok := st.(provision.FirmwareRollout); ok {
		ps.Firmware, is.Firmware = c.Targets(fr), adminRollout{fr, adm}
	}
	return provision.NewPhones(o, ps), provision.NewInventory(o, is)
}

// phoneWrites are the phone side's writes that change a device's state:
// the device is dropped from this cache at once (other instances read
// the change log).
type phoneWrites struct {
	provision.Claims
	provision.Credentials
	c *Cache
}

func (w phoneWrites) Commit(ctx context.Context, mac, token string, now time.Time, to autoprov.Peer) (bool, error) {
	defer w.c.Forget(mac)
	return w.Claims.Commit(ctx, mac, token, now, to)
}

func (w phoneWrites) CommitIssuing(ctx context.Context, mac, token, password string, now time.Time, to autoprov.Peer) (bool, error) {
	defer w.c.Forget(mac)
	return w.Claims.CommitIssuing(ctx, mac, token, password, now, to)
}

func (w phoneWrites) Complete(ctx context.Context, mac, token string, now time.Time, complete bool, reason string) (bool, error) {
	defer w.c.Forget(mac)
	return w.Claims.Complete(ctx, mac, token, now, complete, reason)
}

func (w phoneWrites) IssueCredential(ctx context.Context, mac, token, password string, now time.Time) (bool, error) {
	defer w.c.Forget(mac)
	return w.Credentials.IssueCredential(ctx, mac, token, password, now)
}

func (w phoneWrites) ApplyCredential(ctx context.Context, mac string, issuedAt, now time.Time) (bool, error) {
	defer w.c.Forget(mac)
	return w.Credentials.ApplyCredential(ctx, mac, issuedAt, now)
}

// admin is the store as the admin side uses it: every write is followed
// by a read of the change log.
type admin struct {
	provision.Backend
	c *Cache
	s *Sightings
}

// Device reads a device with what its phone reported and the queue has not
// written yet (Sightings.Overlay): the device page, GET /devices/{mac} and
// a resync right after a fetch see the phone's newest address.
func (a admin) Device(ctx context.Context, mac string) (autoprov.Device, error) {
	d, err := a.Backend.Device(ctx, mac)
	if err != nil || a.s == nil {
		return d, err
	}
	return a.s.Overlay(d), nil
}

// synced reads the change log after a write, even if the caller has gone
// (the write is made); a failed read is caught up by Watch.
func (a admin) synced(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = a.c.Sync(ctx)
}

func (a admin) PutSettings(ctx context.Context, st autoprov.Settings) error {
	defer a.synced(ctx)
	return a.Backend.PutSettings(ctx, st)
}

func (a admin) CreateAccount(ctx context.Context, acc autoprov.Account) (autoprov.Account, error) {
	defer a.synced(ctx)
	return a.Backend.CreateAccount(ctx, acc)
}

func (a admin) UpdateAccount(ctx context.Context, acc autoprov.Account) (autoprov.Account, error) {
	defer a.synced(ctx)
	return a.Backend.UpdateAccount(ctx, acc)
}

func (a admin) DeleteAccount(ctx context.Context, ext string) error {
	defer a.synced(ctx)
	return a.Backend.DeleteAccount(ctx, ext)
}

func (a admin) CreateKeyProfile(ctx context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error) {
	defer a.synced(ctx)
	return a.Backend.CreateKeyProfile(ctx, p)
}

func (a admin) UpdateKeyProfile(ctx context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error) {
	defer a.synced(ctx)
	return a.Backend.UpdateKeyProfile(ctx, p)
}

func (a admin) DeleteKeyProfile(ctx context.Context, name string) error {
	defer a.synced(ctx)
	return a.Backend.DeleteKeyProfile(ctx, name)
}

func (a admin) CreateDevice(ctx context.Context, d autoprov.Device) error {
	defer a.synced(ctx)
	return a.Backend.CreateDevice(ctx, d)
}

func (a admin) UpdateDevice(ctx context.Context, d autoprov.Device) error {
	defer a.synced(ctx)
	return a.Backend.UpdateDevice(ctx, d)
}

func (a admin) WriteDevice(ctx context.Context, w autoprov.DeviceWrite) error {
	defer a.synced(ctx)
	return a.Backend.WriteDevice(ctx, w)
}

func (a admin) DeleteDevice(ctx context.Context, mac string) error {
	defer a.synced(ctx)
	return a.Backend.DeleteDevice(ctx, mac)
}

func (a admin) OpenDisclosure(ctx context.Context, mac string, now time.Time, window time.Duration, actor string) (autoprov.Disclosure, error) {
	defer a.synced(ctx)
	return a.Backend.OpenDisclosure(ctx, mac, now, window, actor)
}

func (a admin) ExpireDue(ctx context.Context, now time.Time) ([]string, error) {
	defer a.synced(ctx)
	return a.Backend.ExpireDue(ctx, now)
}

func (a admin) WriteBulk(ctx context.Context, w autoprov.BulkWrite) error {
	defer a.synced(ctx)
	return a.Backend.WriteBulk(ctx, w)
}

func (a admin) SetModelParams(ctx context.Context, vendor, model string, params []autoprov.Param) error {
	defer a.synced(ctx)
	return a.Backend.SetModelParams(ctx, vendor, model, params)
}

// adminRollout is the firmware rollout as the admin side uses it: a
// target's change is read from the change log right after it is written,
// as every other admin write is (the phone side reads the targets through
// the cache).
type adminRollout struct {
	provision.FirmwareRollout
	a admin
}

func (r adminRollout) PutFirmwareTarget(ctx context.Context, t autoprov.FirmwareTarget, actor string) (autoprov.FirmwareTarget, error) {
	defer r.a.synced(ctx)
	return r.FirmwareRollout.PutFirmwareTarget(ctx, t, actor)
}

func (r adminRollout) DeleteFirmwareTarget(ctx context.Context, vendor, model, mac, actor string) error {
	defer r.a.synced(ctx)
	return r.FirmwareRollout.DeleteFirmwareTarget(ctx, vendor, model, mac, actor)
}
