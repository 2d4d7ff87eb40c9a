package phonecache_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/server/phonecache"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

const (
	mac     = "805ec0aabb01"
	file    = mac + ".cfg"
	yua     = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"
	sipPass = "Sip-Pass-201-xyz"
)

// testKeys is the keyring of every store of a test (one fleet).
var testKeys = sealed.Generate()

func ptr[T any](v T) *T { return &v }

// stack is one server's core on a store, reading through a cache.
type stack struct {
	st     *store.Store
	cache  *phonecache.Cache
	sights *phonecache.Sightings
	phones *provision.Phones
	inv    *provision.Inventory
	// cred is the provisioning password the secrets transfer carried:
	// once that transfer is complete the file needs it, as a phone
	// presents it (Basic over HTTPS).
	cred atomic.Value
}

// req is a phone's request for path, with its credential once it has one.
func (s *stack) req(path, ua string) vendors.Request {
	r := vendors.Request{Path: path, UserAgent: ua, RemoteAddr: "192.0.2.9", Transport: "http"}
	if c, _ := s.cred.Load().(string); c != "" {
		r.Transport = "https"
		r.Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(mac+":"+c))
	}
	return r
}

var provPass = regexp.MustCompile(`static\.auto_provision\.server\.password = (\S+)`)

func newStack(t testing.TB, dsn string) *stack {
	t.Helper()
	return newStackAt(t, dsn, nil)
}

// newStackAt is newStack with the core's clock (nil: time.Now).
func newStackAt(t testing.TB, dsn string, now func() time.Time, opts ...func(*provision.Options)) *stack {
	t.Helper()
	st, err := store.Open(dsn, store.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	c := phonecache.New(st, phonecache.Options{Poll: 20 * time.Millisecond})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	sg := phonecache.NewSightings(st, phonecache.SightingOptions{})
	o := provision.Options{Registry: reg, PublicURL: "http://prov.example.com/", Now: now}
	for _, f := range opts {
		f(&o)
	}
	p, inv := phonecache.Wire(o, st, c, sg)
	return &stack{st: st, cache: c, sights: sg, phones: p, inv: inv}
}

// fetch is an HTTP transfer as the edge makes it.
func (s *stack) fetch(t testing.TB, path, ua string) []byte {
	t.Helper()
	res, err := s.phones.Provide(context.Background(), s.req(path, ua))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	transfer(t, res)
	if m := provPass.FindSubmatch(res.File.Body); m != nil {
		s.cred.Store(string(m[1]))
	}
	return res.File.Body
}

// transfer sends res as an edge does: Sending, then the whole file.
func transfer(t testing.TB, res *provision.Result) {
	t.Helper()
	if err := res.Sending(); err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
}

// setup makes the inventory (inventory) and fetches the device's file
// once: its secrets.
func (s *stack) setup(t testing.TB) {
	t.Helper()
	s.inventory(t)
	if body := s.fetch(t, file, yua); !bytes.Contains(body, []byte(sipPass)) {
		t.Fatalf("first fetch without the secrets:\n%s", body)
	}
}

// inventory makes the settings, account 201, key profile "reception" and
// the device of mac (T54W) with both, its window opened.
func (s *stack) inventory(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com")}, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201"), DisplayName: ptr("Alice"), Password: ptr(sipPass)}, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.inv.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "reception", Keys: []autoprov.KeySpec{{Position: 2, Type: vendors.KeySpeedDial, Value: "100", Label: "Desk"}}}, true, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(mac), Model: ptr("T54W"), Accounts: &[]string{"201"}, KeyProfile: ptr("reception")}, "t"); err != nil {
		t.Fatal(err)
	}
}

// windowRunsOut waits for the end of the device's window (opened by the
// inventory), bounded by it.
func (s *stack) windowRunsOut(t testing.TB) {
	t.Helper()
	d, err := s.st.Device(context.Background(), mac)
	if err != nil || d.Disclosure.State != autoprov.DisclosureOpen || d.Disclosure.ExpiresAt == nil {
		t.Fatalf("device %+v, %v", d.Disclosure, err)
	}
	for time.Now().Before(*d.Disclosure.ExpiresAt) {
		time.Sleep(10 * time.Millisecond) // the window's own end, bounded by it
	}
}

// TestEveryChangeReachesTheNextFetch: in the steady state the file comes
// from the cache (no query), and a change of each input through the admin
// side is in the very next fetch, with no watcher running (the admin side
// reads the change log after its write).
func TestEveryChangeReachesTheNextFetch(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	s.fetch(t, file, yua) // presents the credential: applied (a write)
	s.fetch(t, file, yua) // cached from here on
	before := s.cache.Stats()
	body := s.fetch(t, file, yua)
	// With the Basic header that proved the credential: the hot answer,
	// which reads neither the store nor the cache.
	if after := s.cache.Stats(); after != before || after.Files == 0 {
		t.Fatalf("steady-state fetch not answered from memory: %+v then %+v", before, after)
	}
	if bytes.Contains(body, []byte(sipPass)) {
		t.Fatal("secrets twice")
	}
	// The same request shape with a wrong credential, or none, is not
	// answered with it: challenged, as without it.
	good := s.req(file, yua)
	for _, auth := range []string{"", "Basic " + base64.StdEncoding.EncodeToString([]byte(mac+":wrong-password")), strings.Replace(good.Authorization, "Basic", "basic", 1) + "x"} {
		r := good
		r.Authorization = auth
		if res, err := s.phones.Provide(context.Background(), r); err == nil {
			res.Finish(false)
			t.Fatalf("Authorization %q answered with the file", auth)
		}
	}
	s.everyChange(t)
	// The window was consumed by that fetch: the next one has no secret.
	if body := s.fetch(t, file, yua); bytes.Contains(body, []byte(sipPass)) {
		t.Fatal("secrets twice after a re-opened window")
	}
}

// change is an admin's change and what the next fetch must show of it.
type change struct {
	what   string
	change func() error
	want   string
}

// everyChange makes each change of every input of the device's file in
// turn, the file cached (or hot) before each, and checks that the next
// fetch shows it; the last one opens the window: the next fetch carries
// the secrets.
func (s *stack) everyChange(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []change{
		{"settings", func() error {
			_, err := s.inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx2.example.com")}, "t")
			return err
		}, "pbx2.example.com"},
		{"account display name", func() error {
			_, err := s.inv.UpdateAccount(ctx, "201", autoprov.AccountInput{DisplayName: ptr("Alice Renamed")}, "t")
			return err
		}, "Alice Renamed"},
		{"key profile", func() error {
			_, err := s.inv.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "reception", Keys: []autoprov.KeySpec{{Position: 2, Type: vendors.KeySpeedDial, Value: "100", Label: "Front Desk"}}}, false, "t")
			return err
		}, "Front Desk"},
		{"device overrides", func() error {
			_, err := s.inv.UpdateDevice(ctx, mac, autoprov.DeviceInput{Overrides: &autoprov.Overrides{NTPServer: "ntp.cache.example"}}, "t")
			return err
		}, "ntp.cache.example"},
		{"device keys", func() error {
			_, err := s.inv.SetKeys(ctx, mac, []autoprov.KeySpec{{Position: 3, Type: vendors.KeySpeedDial, Value: "300", Label: "Own Key"}}, "t")
			return err
		}, "Own Key"},
		{"disclosure window opened", func() error {
			_, err := s.inv.OpenDisclosure(ctx, mac, "t")
			return err
		}, sipPass},
	} {
		s.fetch(t, file, yua) // cached
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		if body := s.fetch(t, file, yua); !bytes.Contains(body, []byte(tc.want)) {
			t.Fatalf("%s: the next fetch lacks %q:\n%s", tc.what, tc.want, body)
		}
	}
}

// TestOpenWindowNeverCached: while a device's window is open every fetch
// reads the store (the exact path), HEAD-like secret-free ones included.
func TestOpenWindowNeverCached(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	ctx := context.Background()
	if _, err := s.inv.OpenDisclosure(ctx, mac, "t"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		before := s.cache.Stats()
		r := s.req(file, yua)
		r.SecretFree = true
		res, err := s.phones.Provide(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		res.Finish(true)
		if after := s.cache.Stats(); after.Misses != before.Misses+1 {
			t.Fatalf("a fetch in an open window did not read the store: %+v then %+v", before, after)
		}
	}
	if body := s.fetch(t, file, yua); !bytes.Contains(body, []byte(sipPass)) {
		t.Fatal("the window's secrets did not go out")
	}
}

// TestSecondStoreOnTheSameFile: a write through a second store on the same
// SQLite file (the CLI, another process) reaches the cache through the
// change log, within the poll.
func TestSecondStoreOnTheSameFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	s := newStack(t, db)
	s.setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.cache.Watch(ctx)
	other, err := store.Open(db, store.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	reg, _ := all.Registry("")
	_, inv := provision.New(provision.Options{Registry: reg}, other) // no cache of its own
	s.fetch(t, file, yua)
	if _, err := inv.UpdateAccount(ctx, "201", autoprov.AccountInput{DisplayName: ptr("Written Elsewhere")}, "cli"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return bytes.Contains(s.fetch(t, file, yua), []byte("Written Elsewhere")) },
		"a write through another store did not reach the cache")
	if _, err := inv.OpenDisclosure(ctx, mac, "cli"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return bytes.Contains(s.fetch(t, file, yua), []byte(sipPass)) },
		"a window opened through another store was not honoured")
}

// TestSightingsBatched: a known phone's fetches write nothing at once;
// Flush writes the newest report of each phone, and a full queue drops
// (and counts) new MACs rather than block.
func TestSightingsBatched(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	ctx := context.Background()
	// The first fetch queued its sighting (and nothing else wrote one).
	d, err := s.st.Device(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if d.UserAgent != "" {
		t.Fatalf("sighting written synchronously: %q", d.UserAgent)
	}
	s.sights.Flush(ctx)
	if d, _ = s.st.Device(ctx, mac); d.UserAgent != yua || d.RemoteIP != "192.0.2.9" || d.LastFile != file {
		t.Fatalf("after Flush: %+v", d)
	}

	q := phonecache.NewSightings(s.st, phonecache.SightingOptions{Max: 2})
	for i := range 5 {
		q.Report(ctx, autoprov.Sighting{MAC: fmt.Sprintf("805ec0aabb%02x", 0x10+i), At: time.Now()})
	}
	if q.Dropped() != 3 {
		t.Fatalf("dropped %d of 5 with room for 2", q.Dropped())
	}
}

// TestCacheRace hammers fetches while the admin side changes what they
// render and the cache drops things (run with -race): every answer is the
// file of one consistent state, and the last change is what stays.
func TestCacheRace(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.cache.Watch(ctx)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := s.phones.Provide(ctx, s.req(file, yua))
				if err != nil {
					t.Error(err)
					return
				}
				res.Finish(true)
				if !bytes.Contains(res.File.Body, []byte("account.1.display_name = Name ")) && !bytes.Contains(res.File.Body, []byte("= Alice")) {
					t.Errorf("odd body:\n%s", res.File.Body)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			select {
			case <-stop:
				return
			default:
			}
			s.cache.Forget(mac)
			s.cache.DropAll()
		}
	}()
	for i := range 30 {
		if _, err := s.inv.UpdateAccount(ctx, "201", autoprov.AccountInput{DisplayName: ptr(fmt.Sprintf("Name %d", i))}, "t"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if body := s.fetch(t, file, yua); !bytes.Contains(body, []byte("account.1.display_name = Name 29")) {
		t.Fatalf("the last change is not what is served:\n%s", body)
	}
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOverlayShowsQueuedReport: the admin side's device read carries a
// known phone's report that is queued and not written yet (so a resync
// right after a fetch knows the address), and never an older one.
func TestOverlayShowsQueuedReport(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	ctx := context.Background()
	s.sights.Flush(ctx) // setup's fetch came from 192.0.2.9
	r := s.req(file, yua)
	r.RemoteAddr = "192.0.2.77"
	res, err := s.phones.Provide(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	transfer(t, res)
	stored, err := s.st.Device(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if stored.RemoteIP == "192.0.2.77" {
		t.Fatal("the report was written at once; this test needs it queued")
	}
	d, err := s.inv.Device(ctx, mac)
	if err != nil || d.RemoteIP != "192.0.2.77" {
		t.Fatalf("admin read: %v %q, want the queued address 192.0.2.77", err, d.RemoteIP)
	}
	older := autoprov.Device{MAC: mac, RemoteIP: "192.0.2.1", LastSeen: ptr(time.Now().Add(time.Hour))}
	if got := s.sights.Overlay(older); got.RemoteIP != "192.0.2.1" {
		t.Errorf("a queued report older than the stored one won: %q", got.RemoteIP)
	}
}

// TestAtFindsQueuedAddress: the newest queued report from an address names
// its phone until it is written.
func TestAtFindsQueuedAddress(t *testing.T) {
	q := phonecache.NewSightings(nil, phonecache.SightingOptions{})
	now := time.Now()
	for i, v := range []autoprov.Sighting{
		{MAC: "805ec0000001", RemoteIP: "192.0.2.5", At: now},
		{MAC: "805ec0000002", RemoteIP: "192.0.2.5", At: now.Add(time.Second)},
		{MAC: "805ec0000003", RemoteIP: "192.0.2.6", At: now.Add(2 * time.Second)},
	} {
		if err := q.Report(context.Background(), v); err != nil {
			t.Fatal(i, err)
		}
	}
	if mac, ok := q.At("192.0.2.5"); !ok || mac != "805ec0000002" {
		t.Errorf("At(192.0.2.5) = %q %v, want the newest, 805ec0000002", mac, ok)
	}
	if mac, ok := q.At("192.0.2.7"); ok {
		t.Errorf("At(192.0.2.7) = %q, want none", mac)
	}
}

// TestFirmwareThroughTheCache: the cached file follows a firmware target
// set after it was cached (the change log), the maintenance window opening
// as the clock passes it (the cache key), and the phone reporting the
// target (the key again): the offer appears and goes without a stale file.
func TestFirmwareThroughTheCache(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).UnixNano())
	s := newStackAt(t, filepath.Join(t.TempDir(), "a.db"), func() time.Time { return time.Unix(0, clock.Load()) })
	s.setup(t)
	ctx := context.Background()
	s.fetch(t, file, yua) // presents the credential: applied
	if _, err := s.inv.PutSettings(ctx, autoprov.SettingsPatch{FirmwareWindow: ptr("22:00-05:00"), Timezone: ptr("UTC")}, "t"); err != nil {
		t.Fatal(err)
	}
	const url = "static.firmware.url"
	if body := s.fetch(t, file, yua); bytes.Contains(body, []byte(url)) {
		t.Fatalf("firmware offered without a target:\n%s", body)
	}
	s.fetch(t, file, yua) // cached
	fw, err := s.st.CreateFirmware(ctx, autoprov.Firmware{Vendor: "yealink", Models: []string{"T54W"}, Version: "96.86.0.200",
		Name: "T54W-96.86.0.200.rom", Size: 1, SHA256: strings.Repeat("ab", 32)}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.inv.PutModelFirmware(ctx, "yealink", "T54W", autoprov.FirmwareTargetInput{Version: fw.Version}, "t"); err != nil {
		t.Fatal(err)
	}
	if body := s.fetch(t, file, yua); bytes.Contains(body, []byte(url)) {
		t.Fatalf("firmware offered outside the window (noon):\n%s", body)
	}
	clock.Store(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC).UnixNano())
	if body := s.fetch(t, file, yua); !bytes.Contains(body, []byte(url)) {
		t.Fatalf("no firmware inside the window (23:00) though the phone reports 96.86.0.100:\n%s", body)
	}
	onTarget := strings.Replace(yua, "96.86.0.100", "96.86.0.200", 1)
	if body := s.fetch(t, file, onTarget); bytes.Contains(body, []byte(url)) {
		t.Fatalf("firmware offered to a phone on target:\n%s", body)
	}
}

// TestModelParamsReachTheNextFetch: a model's raw parameters, changed after
// its devices' files were cached, are in the next fetch (the admin side
// reads the change log after its write), and a second store's change
// within the poll.
func TestModelParamsReachTheNextFetch(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "a.db")
	s := newStack(t, dsn)
	s.setup(t)
	ctx := context.Background()
	s.fetch(t, file, yua) // presents the credential: applied
	s.fetch(t, file, yua) // cached
	if _, _, err := s.inv.SetModelParams(ctx, "yealink", "T54W", []autoprov.Param{{Name: "static.network.vlan.internet_port_vid", Value: "42"}}, "t"); err != nil {
		t.Fatal(err)
	}
	if body := s.fetch(t, file, yua); !bytes.Contains(body, []byte("static.network.vlan.internet_port_vid = 42")) {
		t.Fatalf("the model's parameter is not in the next fetch:\n%s", body)
	}
	other := newStack(t, dsn)
	if _, _, err := other.inv.SetModelParams(ctx, "yealink", "T54W", []autoprov.Param{{Name: "static.network.vlan.internet_port_vid", Value: "43"}}, "t"); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go s.cache.Watch(wctx)
	waitFor(t, 30*time.Second, func() bool {
		return bytes.Contains(s.fetch(t, file, yua), []byte("static.network.vlan.internet_port_vid = 43"))
	}, "a model parameter written through another store did not reach the cache")
}

// TestExpiredWindowIsCached: a window past its end that the sweeper has
// not marked yet lets no secret out, so its device's file comes from the
// cache like any other (it used to be read and rendered on every fetch).
func TestExpiredWindowIsCached(t *testing.T) {
	s := newStackAt(t, filepath.Join(t.TempDir(), "a.db"), nil, func(o *provision.Options) { o.DisclosureWindow = time.Second })
	s.inventory(t)
	s.windowRunsOut(t)
	if body := s.fetch(t, file, yua); bytes.Contains(body, []byte(sipPass)) {
		t.Fatal("secrets after the window's end")
	}
	before := s.cache.Stats()
	s.fetch(t, file, yua)
	if after := s.cache.Stats(); after.Misses != before.Misses {
		t.Fatalf("a fetch after the window's end is not served from the cache: %+v then %+v", before, after)
	}
}

// TestHotAnswerFollowsEveryChange: a device whose file needs no
// credential (its window ran out unused) is answered from its request's
// hot answer, without even reading its snapshot; every change of an input
// still reaches the next fetch, and a window opened again sends the
// secrets.
func TestHotAnswerFollowsEveryChange(t *testing.T) {
	s := newStackAt(t, filepath.Join(t.TempDir(), "a.db"), nil, func(o *provision.Options) { o.DisclosureWindow = time.Second })
	s.inventory(t)
	s.windowRunsOut(t)
	first := s.fetch(t, file, yua) // the whole path: the cache, then the hot answer kept
	if bytes.Contains(first, []byte(sipPass)) {
		t.Fatal("secrets after the window's end")
	}
	before := s.cache.Stats()
	if body := s.fetch(t, file, yua); !bytes.Equal(body, first) {
		t.Fatalf("the hot answer differs:\n%s\nwant\n%s", body, first)
	}
	if after := s.cache.Stats(); after != before {
		t.Fatalf("a steady fetch of a device without a credential read the cache: %+v then %+v", before, after)
	}
	// Another request shape (a User-Agent reporting another firmware) is
	// not answered with it: it takes the whole path.
	s.fetch(t, file, strings.Replace(yua, "96.86.0.100", "96.86.0.101", 1))
	if after := s.cache.Stats(); after.Hits+after.Misses == before.Hits+before.Misses {
		t.Fatal("another User-Agent was answered with the hot answer of the first")
	}
	s.everyChange(t)
	if s.cred.Load() == nil {
		t.Fatal("the window opened again sent no credential")
	}
}

// TestDeviceFilesGoWithTheirDevice: a per-device file is kept on its
// device's snapshot: found again under the same key only, at most four
// kinds per device (the oldest replaced), and gone with the device when a
// change drops it, while a common file stays.
func TestDeviceFilesGoWithTheirDevice(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	ctx := context.Background()
	c := s.cache
	if _, err := c.Device(ctx, mac); err != nil { // the snapshot the files hang on
		t.Fatal(err)
	}
	key := func(i int) provision.FileKey {
		return provision.FileKey{Path: file, Vendor: "yealink", Model: "T54W", BaseURL: fmt.Sprintf("http://h%d/prov/", i), Year: 2026, Device: true}
	}
	body := func(i int) provision.CachedFile {
		return provision.CachedFile{File: &vendors.File{Body: []byte(fmt.Sprint("file ", i))}, ETag: fmt.Sprint(`"`, i, `"`)}
	}
	base := c.Stats().Files
	for i := range 6 {
		c.PutFile(mac, key(i), c.Epoch(), body(i))
	}
	if got := c.Stats().Files - base; got != 4 {
		t.Fatalf("%d files held for one device, want 4", got)
	}
	for i := range 6 {
		f, ok := c.File(mac, key(i))
		switch {
		case i < 2 && ok:
			t.Fatalf("file %d kept past the bound of 4 (the oldest go first)", i)
		case i >= 2 && (!ok || f.ETag != body(i).ETag):
			t.Fatalf("file %d: %v %q", i, ok, f.ETag)
		}
	}
	other := key(5)
	other.Firmware = "96.86.0.101" // another report: another key
	if _, ok := c.File(mac, other); ok {
		t.Fatal("a file found under another firmware")
	}
	common := provision.FileKey{Path: "y000000000123.cfg", Vendor: "yealink", Model: "T54W", Year: 2026}
	c.PutFile(mac, common, c.Epoch(), body(9))
	stale := c.Epoch()
	c.Forget(mac)
	for i := 2; i < 6; i++ {
		if _, ok := c.File(mac, key(i)); ok {
			t.Fatalf("file %d outlived its device", i)
		}
	}
	if _, ok := c.File(mac, common); !ok {
		t.Fatal("a common file went with a device")
	}
	if got := c.Stats().Files - base; got != 1 {
		t.Fatalf("%d files counted after the drop, want the common one", got)
	}
	if _, err := c.Device(ctx, mac); err != nil {
		t.Fatal(err)
	}
	c.PutFile(mac, key(1), stale, body(1)) // rendered before the drop
	if _, ok := c.File(mac, key(1)); ok {
		t.Fatal("a file rendered before a drop was kept")
	}
}

// TestHotAnswerEndsWithItsYear: a hot answer holds only within the year
// it was made in (the file's time zone rules are the year's): the first
// fetch of the new year takes the whole path.
func TestHotAnswerEndsWithItsYear(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 31, 23, 59, 50, 0, time.Local).UnixNano())
	s := newStackAt(t, filepath.Join(t.TempDir(), "a.db"), func() time.Time { return time.Unix(0, clock.Load()) })
	s.setup(t)
	s.fetch(t, file, yua) // presents the credential: applied (a write)
	s.fetch(t, file, yua) // the whole path: the hot answer kept
	before := s.cache.Stats()
	s.fetch(t, file, yua)
	if after := s.cache.Stats(); after != before {
		t.Fatalf("not answered hot within the year: %+v then %+v", before, after)
	}
	clock.Store(time.Date(2027, 1, 1, 0, 0, 5, 0, time.Local).UnixNano())
	s.fetch(t, file, yua)
	if after := s.cache.Stats(); after == before {
		t.Fatal("the first fetch of the new year was answered with last year's hot answer")
	}
}

// TestBorrowedRequestKeepsNoView: ProvideBorrowed is given views of one
// buffer (as the phone lane's read buffer), overwritten after each call;
// what the core keeps of them (its memo of request shapes, the hot
// answer's credential, the phones' reports, a new phone's inbox entry)
// still holds what the phone sent.
func TestBorrowedRequestKeepsNoView(t *testing.T) {
	s := newStack(t, filepath.Join(t.TempDir(), "a.db"))
	s.setup(t)
	ctx := context.Background()
	buf := make([]byte, 0, 4096)
	// borrow lays r's Path, UserAgent and Authorization out in buf and
	// returns r on views of it.
	borrow := func(r vendors.Request) vendors.Request {
		buf = buf[:0]
		view := func(v string) string {
			if v == "" {
				return ""
			}
			off := len(buf)
			buf = append(buf, v...)
			return unsafe.String(&buf[off], len(v))
		}
		r.Path, r.UserAgent, r.Authorization = view(r.Path), view(r.UserAgent), view(r.Authorization)
		r.Target = view("/prov/" + file)
		return r
	}
	scribble := func() {
		for i := range buf {
			buf[i] = 'X'
		}
	}
	// A shape the memo does not hold yet: the whole path (the hot answer
	// kept), then hot.
	ua := strings.Replace(yua, "96.86.0.100", "96.86.0.101", 1)
	for i := range 3 {
		res, err := s.phones.ProvideBorrowed(ctx, borrow(s.req(file, ua)))
		if err != nil {
			t.Fatalf("borrowed fetch %d: %v", i, err)
		}
		transfer(t, res)
		scribble()
	}
	before := s.cache.Stats()
	s.fetch(t, file, ua) // the same shape, owned: answered hot, with the credential kept
	if after := s.cache.Stats(); after != before {
		t.Fatalf("the shape kept from a borrowed request is not the phone's: %+v then %+v", before, after)
	}
	const newMAC = "805ec0aabbfe"
	newUA := "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:fe"
	r := borrow(vendors.Request{Path: newMAC + ".cfg", UserAgent: newUA, RemoteAddr: "192.0.2.10", Transport: "http"})
	if _, err := s.phones.ProvideBorrowed(ctx, r); err == nil {
		t.Fatal("an unknown phone got a file")
	}
	scribble()
	s.sights.Flush(ctx)
	d, err := s.st.Device(ctx, mac)
	if err != nil || d.UserAgent != ua || d.LastFile != file {
		t.Fatalf("the known phone's report: %q %q %v", d.UserAgent, d.LastFile, err)
	}
	n, err := s.st.Device(ctx, newMAC)
	if err != nil || n.UserAgent != newUA || n.LastFile != newMAC+".cfg" {
		t.Fatalf("the new phone's inbox entry: %q %q %v", n.UserAgent, n.LastFile, err)
	}
}

// TestHotFetchAllocatesNothing: a fetch answered hot through
// ProvideBorrowed (the phone lane's call), with no credential and with the
// Basic header that proved one, allocates nothing: under steady load the
// garbage collector has nothing to do.
func TestHotFetchAllocatesNothing(t *testing.T) {
	for _, withCred := range []bool{false, true} {
		t.Run(map[bool]string{false: "no credential", true: "basic"}[withCred], func(t *testing.T) {
			s := newStackAt(t, filepath.Join(t.TempDir(), "a.db"), nil, func(o *provision.Options) {
				if !withCred {
					o.DisclosureWindow = time.Second
				}
			})
			if withCred {
				s.setup(t)            // the secrets, and the credential they carried
				s.fetch(t, file, yua) // the credential presented: applied
			} else {
				s.inventory(t)
				s.windowRunsOut(t)
			}
			ctx := context.Background()
			req := s.req(file, yua)
			if withCred && req.Authorization == "" {
				t.Fatal("no credential to present")
			}
			req.Target = "/prov/" + file
			fetch := func() {
				res, err := s.phones.ProvideBorrowed(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				transfer(t, res)
			}
			fetch() // the whole path: the hot answer kept
			fetch()
			before := s.cache.Stats()
			if n := testing.AllocsPerRun(200, fetch); n != 0 {
				t.Fatalf("a hot fetch allocates %.1f times", n)
			}
			if after := s.cache.Stats(); after != before {
				t.Fatalf("not answered hot: %+v then %+v", before, after)
			}
		})
	}
}

// TestKeptFilesHoldTheirBodyTight: the files the cache and the hot
// answers keep, per-device and common, hold their bodies in slices of
// about their own length, not in the render buffer (a 2,971-byte Yealink
// file sat in 4,096 bytes: some 100 MB of a 100,000-phone fleet).
func TestKeptFilesHoldTheirBodyTight(t *testing.T) {
	s := newStackAt(t, filepath.Join(t.TempDir(), "a.db"), nil, func(o *provision.Options) { o.DisclosureWindow = time.Second })
	s.inventory(t)
	s.windowRunsOut(t)
	for _, name := range []string{file, "y000000000123.cfg"} {
		res, err := s.phones.Provide(context.Background(), s.req(name, yua))
		if err != nil {
			t.Fatal(err)
		}
		transfer(t, res)
		if b := res.File.Body; len(b) == 0 || cap(b)-len(b) > len(b)/8 {
			t.Errorf("%s: a body of %d bytes kept in %d", name, len(b), cap(b))
		}
	}
}
