package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to create and drop test schemas

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/vendors"
)

// postgresEnv names the PostgreSQL DSN the tests run against, e.g.
// postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable (.ci/run
// starts a throwaway cluster and sets it). Unset: the PostgreSQL subtests
// skip, except under CI=true, where they fail so CI never skips silently.
const postgresEnv = "AUTOPROV_TEST_POSTGRES"

// testKeys is the keyring every handle the tests open shares, as the
// instances of one fleet share theirs.
var testKeys = sealed.Generate()

// open opens a handle on the database named by dsn and closes it when the
// test ends. Opening the same dsn twice gives two handles (two connection
// pools, as two server processes would have) on one database.
func open(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dsn, append([]Option{WithKeys(testKeys)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs f as the subtests "sqlite" and "postgres", each with the
// DSN of a fresh, empty database: a file in t.TempDir(), or a schema of its
// own on the PostgreSQL server (search_path set in the DSN, dropped at the
// end).
func eachBackend(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		f(t, filepath.Join(t.TempDir(), "test.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, postgresDSN(t))
	})
}

// postgresDSN creates a uniquely named schema on the server named by
// $AUTOPROV_TEST_POSTGRES and returns a DSN whose search_path is that
// schema; the schema is dropped when the test ends.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is unset: the PostgreSQL tests must run in CI (.ci/run starts a server)", postgresEnv)
		}
		t.Skipf("PostgreSQL: set %s to a DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run these", postgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "autoprov_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema on %s: %v", Describe(base), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema // key=value form
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// seed creates account 201 and an assigned device carrying it.
func seed(t *testing.T, s *Store, mac string) {
	t.Helper()
	if _, err := s.Account(context.Background(), "201"); errors.Is(err, ErrNotFound) {
		if _, err := s.CreateAccount(context.Background(), autoprov.Account{Extension: "201", DisplayName: "Alice", AuthUser: "201", Password: "secret-201"}); err != nil {
			t.Fatal(err)
		}
	}
	d := autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned, Accounts: []string{"201"}}
	if err := s.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestInventoryRoundTrip(t *testing.T) { eachBackend(t, testInventoryRoundTrip) }

func testInventoryRoundTrip(t *testing.T, dsn string) {
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")
	d, err := s.Device(context.Background(), "805ec0aabb01")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != autoprov.StateAssigned || len(d.Accounts) != 1 || d.Accounts[0] != "201" || d.Disclosure.State != autoprov.DisclosureNone {
		t.Fatalf("device = %+v", d)
	}
	if err := s.CreateDevice(context.Background(), autoprov.Device{MAC: "805ec0aabb01"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate MAC: err = %v, want ErrConflict", err)
	}
	if _, err := s.CreateAccount(context.Background(), autoprov.Account{Extension: "201"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate extension: err = %v, want ErrConflict", err)
	}
	if err := s.DeleteAccount(context.Background(), "201"); !errors.Is(err, ErrConflict) {
		t.Fatalf("deleting an account in use: err = %v, want ErrConflict", err)
	}
	created, err := s.Seen(context.Background(), autoprov.Sighting{MAC: "001565000001", Vendor: "yealink", Model: "T46S", RemoteIP: "127.0.0.1", File: "001565000001.cfg", At: t0})
	if err != nil || !created {
		t.Fatalf("Seen new: created=%v err=%v", created, err)
	}
	created, err = s.Seen(context.Background(), autoprov.Sighting{MAC: "001565000001", RemoteIP: "127.0.0.2", Firmware: "66.86.0.15", At: t0.Add(time.Minute)})
	if err != nil || created {
		t.Fatalf("Seen again: created=%v err=%v", created, err)
	}
	u, _ := s.Device(context.Background(), "001565000001")
	if u.State != autoprov.StateUnassigned || u.RemoteIP != "127.0.0.2" || u.Firmware != "66.86.0.15" || u.Model != "T46S" || !u.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("unassigned device = %+v", u)
	}
	list, err := s.Devices(context.Background(), autoprov.DeviceFilter{State: autoprov.StateUnassigned})
	if err != nil || len(list) != 1 || list[0].MAC != "001565000001" {
		t.Fatalf("filter unassigned = %v, %v", list, err)
	}
	if err := s.DeleteDevice(context.Background(), "805ec0aabb01"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(context.Background(), "201"); err != nil {
		t.Fatalf("account free after device deletion: %v", err)
	}
}

// TestClaimExactlyOneWinner: many goroutines on several Store handles
// (separate Opens of one database: separate connection pools, as separate
// processes would have) race for one window, round after round. They are
// released together by a barrier, and a winner commits only once every
// Reserve has answered, as a real transfer is still in flight while the
// other fetches try: a claim that is not exclusive shows as more than one
// reservation, on SQLite as on PostgreSQL.
func TestClaimExactlyOneWinner(t *testing.T) { eachBackend(t, testClaimExactlyOneWinner) }

func testClaimExactlyOneWinner(t *testing.T, dsn string) {
	const handles, n, rounds = 4, 32, 3
	stores := make([]*Store, handles)
	for i := range stores {
		stores[i] = open(t, dsn)
	}
	a := stores[0]
	seed(t, a, "805ec0aabb01")
	for round := range rounds {
		opened := t0.Add(time.Duration(round) * time.Hour)
		if _, err := a.OpenDisclosure(context.Background(), "805ec0aabb01", opened, 10*time.Minute, "test"); err != nil {
			t.Fatal(err)
		}
		var reserved, committed atomic.Int32
		var tried, done sync.WaitGroup
		start := make(chan struct{})
		tried.Add(n)
		done.Add(n)
		for i := range n {
			go func() {
				defer done.Done()
				s := stores[i%handles]
				tok := fmt.Sprintf("r%d-t%d", round, i)
				<-start
				won, err := s.Reserve(context.Background(), "805ec0aabb01", tok, opened.Add(time.Second), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if won {
					reserved.Add(1)
				}
				tried.Done()
				tried.Wait() // the transfer is in flight while the others try
				if !won {
					return
				}
				ok, err := s.Commit(context.Background(), "805ec0aabb01", tok, opened.Add(2*time.Second), autoprov.Peer{IP: "192.0.2.7", UserAgent: "ua"})
				if err != nil {
					t.Error(err)
				}
				if ok {
					committed.Add(1)
				}
			}()
		}
		close(start)
		done.Wait()
		if reserved.Load() != 1 || committed.Load() != 1 {
			t.Fatalf("round %d: %d of %d Reserves won, %d Commits; want exactly one each", round+1, reserved.Load(), n, committed.Load())
		}
		d, _ := stores[handles-1].Device(context.Background(), "805ec0aabb01")
		if d.Disclosure.State != autoprov.DisclosureConsumed || d.Disclosure.DisclosedTo == nil || d.Disclosure.DisclosedTo.IP != "192.0.2.7" {
			t.Fatalf("round %d: disclosure = %+v", round+1, d.Disclosure)
		}
		// After consumption nobody wins until it is re-armed.
		if won, _ := a.Reserve(context.Background(), "805ec0aabb01", "late", opened.Add(3*time.Second), time.Minute); won {
			t.Fatalf("round %d: reserved a consumed window", round+1)
		}
	}
}

func TestReleaseAndLease(t *testing.T) { eachBackend(t, testReleaseAndLease) }

func testReleaseAndLease(t *testing.T, dsn string) {
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")
	s.OpenDisclosure(context.Background(), "805ec0aabb01", t0, 10*time.Minute, "test")
	if won, _ := s.Reserve(context.Background(), "805ec0aabb01", "a", t0, time.Minute); !won {
		t.Fatal("first reserve lost")
	}
	if won, _ := s.Reserve(context.Background(), "805ec0aabb01", "b", t0.Add(time.Second), time.Minute); won {
		t.Fatal("second reserve won while the first holds the claim")
	}
	// An abandoned transfer releases: the window is open again.
	if err := s.Release(context.Background(), "805ec0aabb01", "a"); err != nil {
		t.Fatal(err)
	}
	if won, _ := s.Reserve(context.Background(), "805ec0aabb01", "b", t0.Add(2*time.Second), time.Minute); !won {
		t.Fatal("reserve after release lost")
	}
	// A claim whose holder died lapses after its lease.
	if won, _ := s.Reserve(context.Background(), "805ec0aabb01", "c", t0.Add(2*time.Second+time.Minute+time.Millisecond), time.Minute); !won {
		t.Fatal("reserve after the lease lapsed lost")
	}
	// The holder whose lease lapsed cannot commit any more.
	if ok, _ := s.Commit(context.Background(), "805ec0aabb01", "b", t0.Add(3*time.Minute), autoprov.Peer{}); ok {
		t.Fatal("stale holder committed")
	}
	d, _ := s.Device(context.Background(), "805ec0aabb01")
	if d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("state = %s, want open", d.Disclosure.State)
	}
}

// TestCommitAtFirstByteThenComplete: Commit consumes the window with its
// completion unknown; Complete records the end once, audited, and only
// for the token that consumed this window: a window re-armed meanwhile is
// left alone.
func TestCommitAtFirstByteThenComplete(t *testing.T) {
	eachBackend(t, testCommitAtFirstByteThenComplete)
}

func testCommitAtFirstByteThenComplete(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	const mac = "805ec0aabb01"
	seed(t, s, mac)
	disclosure := func() autoprov.Disclosure {
		t.Helper()
		d, err := s.Device(ctx, mac)
		if err != nil {
			t.Fatal(err)
		}
		return d.Disclosure
	}
	s.OpenDisclosure(ctx, mac, t0, 10*time.Minute, "test")
	if d := disclosure(); d.Complete != nil {
		t.Fatalf("open window: complete = %v, want nil", *d.Complete)
	}
	if won, _ := s.Reserve(ctx, mac, "a", t0, time.Minute); !won {
		t.Fatal("reserve lost")
	}
	// Nothing to complete before the commit.
	if ok, err := s.Complete(ctx, mac, "a", t0, true, ""); ok || err != nil {
		t.Fatalf("Complete before Commit = %v, %v", ok, err)
	}
	if ok, err := s.Commit(ctx, mac, "a", t0.Add(time.Second), autoprov.Peer{IP: "192.0.2.7"}); !ok || err != nil {
		t.Fatalf("Commit = %v, %v", ok, err)
	}
	if d := disclosure(); d.State != autoprov.DisclosureConsumed || d.Complete != nil {
		t.Fatalf("after Commit: %+v, want consumed, complete nil (in flight)", d)
	}
	// Release after the commit (an edge's mistake) cannot re-open it.
	if err := s.Release(ctx, mac, "a"); err != nil {
		t.Fatal(err)
	}
	if won, _ := s.Reserve(ctx, mac, "b", t0.Add(2*time.Second), time.Minute); won {
		t.Fatal("reserved a consumed window")
	}
	if ok, _ := s.Complete(ctx, mac, "b", t0, true, ""); ok {
		t.Fatal("another token completed the transfer")
	}
	if ok, err := s.Complete(ctx, mac, "a", t0.Add(3*time.Second), false, "timeout waiting for ACK #1"); !ok || err != nil {
		t.Fatalf("Complete = %v, %v", ok, err)
	}
	if d := disclosure(); d.State != autoprov.DisclosureConsumed || d.Complete == nil || *d.Complete {
		t.Fatalf("after Complete(false): %+v", d)
	}
	if ok, _ := s.Complete(ctx, mac, "a", t0.Add(4*time.Second), true, ""); ok {
		t.Fatal("the end was recorded twice")
	}
	if d := disclosure(); *d.Complete {
		t.Fatal("a second Complete changed the recorded end")
	}
	evs, _ := s.Audit(ctx, mac, 10)
	if len(evs) < 2 || evs[0].Event != autoprov.EventDisclosureTransferEnded || evs[0].Detail != "complete: false (timeout waiting for ACK #1)" ||
		evs[1].Event != autoprov.EventDisclosureConsumed || !strings.Contains(evs[1].Detail, "192.0.2.7") {
		t.Fatalf("audit = %+v", evs)
	}

	// Re-armed while a transfer is in flight: its end leaves the new
	// window alone.
	s.OpenDisclosure(ctx, mac, t0.Add(time.Hour), 10*time.Minute, "admin")
	if d := disclosure(); d.State != autoprov.DisclosureOpen || d.Complete != nil {
		t.Fatalf("re-opened: %+v", d)
	}
	s.Reserve(ctx, mac, "c", t0.Add(time.Hour), time.Minute)
	s.Commit(ctx, mac, "c", t0.Add(time.Hour+time.Second), autoprov.Peer{IP: "192.0.2.8"})
	s.OpenDisclosure(ctx, mac, t0.Add(2*time.Hour), 10*time.Minute, "admin")
	if ok, _ := s.Complete(ctx, mac, "c", t0.Add(2*time.Hour+time.Second), true, ""); ok {
		t.Fatal("the end of a transfer was recorded on the window re-armed after it")
	}
	if d := disclosure(); d.State != autoprov.DisclosureOpen || d.Complete != nil {
		t.Fatalf("re-armed window touched: %+v", d)
	}
	// A complete transfer is recorded as such.
	s.Reserve(ctx, mac, "d", t0.Add(2*time.Hour+2*time.Second), time.Minute)
	s.Commit(ctx, mac, "d", t0.Add(2*time.Hour+3*time.Second), autoprov.Peer{IP: "192.0.2.9"})
	if ok, _ := s.Complete(ctx, mac, "d", t0.Add(2*time.Hour+4*time.Second), true, ""); !ok {
		t.Fatal("Complete(true) lost")
	}
	if d := disclosure(); d.Complete == nil || !*d.Complete {
		t.Fatalf("after Complete(true): %+v", d)
	}
	if evs, _ := s.Audit(ctx, mac, 1); evs[0].Detail != "complete: true" {
		t.Fatalf("audit = %+v", evs)
	}
}

func TestExpiry(t *testing.T) { eachBackend(t, testExpiry) }

func testExpiry(t *testing.T, dsn string) {
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")
	s.OpenDisclosure(context.Background(), "805ec0aabb01", t0, 2*time.Second, "admin")
	if macs, _ := s.ExpireDue(context.Background(), t0.Add(time.Second)); len(macs) != 0 {
		t.Fatalf("expired early: %v", macs)
	}
	if won, _ := s.Reserve(context.Background(), "805ec0aabb01", "late", t0.Add(3*time.Second), time.Minute); won {
		t.Fatal("reserved after the window ended")
	}
	macs, err := s.ExpireDue(context.Background(), t0.Add(3*time.Second))
	if err != nil || len(macs) != 1 {
		t.Fatalf("ExpireDue = %v, %v", macs, err)
	}
	d, _ := s.Device(context.Background(), "805ec0aabb01")
	if d.Disclosure.State != autoprov.DisclosureExpired {
		t.Fatalf("state = %s", d.Disclosure.State)
	}
	evs, _ := s.Audit(context.Background(), "805ec0aabb01", 10)
	if len(evs) != 2 || evs[0].Event != autoprov.EventDisclosureExpired || evs[1].Event != autoprov.EventDisclosureOpened {
		t.Fatalf("audit = %+v", evs)
	}
	// Re-arm reopens.
	s.OpenDisclosure(context.Background(), "805ec0aabb01", t0.Add(time.Hour), time.Minute, "admin")
	if won, _ := s.Reserve(context.Background(), "805ec0aabb01", "x", t0.Add(time.Hour+time.Second), time.Minute); !won {
		t.Fatal("re-armed window not reservable")
	}
}

// TestPortable covers what differs between the backends: the
// case-insensitive model filter, JSON columns, the settings upsert, the
// CASE expressions of a sighting, times read back in UTC, duplicate keys
// and foreign keys.
func TestPortable(t *testing.T) { eachBackend(t, testPortable) }

func testPortable(t *testing.T, dsn string) {
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")

	for _, m := range []string{"T54W", "t54w", "T54w"} {
		list, err := s.Devices(context.Background(), autoprov.DeviceFilter{Model: m})
		if err != nil || len(list) != 1 || list[0].MAC != "805ec0aabb01" {
			t.Fatalf("model filter %q = %v, %v", m, list, err)
		}
	}
	if list, err := s.Devices(context.Background(), autoprov.DeviceFilter{Model: "T54"}); err != nil || len(list) != 0 {
		t.Fatalf("model filter T54 = %v, %v", list, err)
	}

	// Settings: the first Save inserts row 1, the second updates it.
	if st, err := s.Settings(context.Background()); err != nil || st != autoprov.DefaultSettings() {
		t.Fatalf("default settings = %+v, %v", st, err)
	}
	for _, srv := range []string{"pbx1.example.com", "pbx2.example.com"} {
		want := autoprov.DefaultSettings()
		want.SIPServer, want.Timezone = srv, "Europe/Berlin"
		if err := s.PutSettings(context.Background(), want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Settings(context.Background()); err != nil || got != want {
			t.Fatalf("settings = %+v, %v; want %+v", got, err, want)
		}
	}

	// JSON columns: keys and overrides on a device, keys on a profile.
	keys := []autoprov.KeySpec{{Position: 1, Type: vendors.KeyLine, Account: "201"},
		{Position: 2, Module: 1, Type: vendors.KeyBLF, Value: "202", Label: "Bob \"B\" <ü>", PickupCode: "*8"}}
	if _, err := s.CreateKeyProfile(context.Background(), autoprov.KeyProfile{Name: "desk", Description: "d", Keys: keys}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateKeyProfile(context.Background(), autoprov.KeyProfile{Name: "desk"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate profile: err = %v, want ErrConflict", err)
	}
	d, _ := s.Device(context.Background(), "805ec0aabb01")
	d.Keys, d.Overrides, d.KeyProfile, d.Label = keys, autoprov.Overrides{Language: "fr", Timezone: "Europe/Paris"}, "desk", "Reception"
	if err := s.UpdateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Device(context.Background(), "805ec0aabb01")
	if err != nil || fmt.Sprint(got.Keys) != fmt.Sprint(keys) || got.Overrides != d.Overrides || got.KeyProfile != "desk" || got.Label != "Reception" {
		t.Fatalf("device after update = %+v, %v", got, err)
	}
	if p, err := s.KeyProfile(context.Background(), "desk"); err != nil || fmt.Sprint(p.Keys) != fmt.Sprint(keys) {
		t.Fatalf("profile = %+v, %v", p, err)
	}
	if err := s.DeleteKeyProfile(context.Background(), "desk"); !errors.Is(err, ErrConflict) {
		t.Fatalf("deleting a profile in use: err = %v, want ErrConflict", err)
	}
	if err := s.DeleteKeyProfile(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a missing profile: err = %v, want ErrNotFound", err)
	}

	// A sighting of an assigned device keeps its vendor and model and an
	// empty User-Agent or firmware keeps what was known.
	at := time.Date(2026, 11, 23, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	if _, err := s.Seen(context.Background(), autoprov.Sighting{MAC: "805ec0aabb01", Vendor: "snom", Model: "D785", UserAgent: "ua1", Firmware: "fw1", RemoteIP: "192.0.2.1", File: "a", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seen(context.Background(), autoprov.Sighting{MAC: "805ec0aabb01", RemoteIP: "192.0.2.2", File: "b", At: at}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Device(context.Background(), "805ec0aabb01")
	if got.Vendor != "yealink" || got.Model != "T54W" || got.UserAgent != "ua1" || got.Firmware != "fw1" || got.RemoteIP != "192.0.2.2" || got.LastFile != "b" {
		t.Fatalf("after sightings = %+v", got)
	}
	if got.LastSeen == nil || !got.LastSeen.Equal(at) || got.LastSeen.Location() != time.UTC {
		t.Fatalf("last seen = %v, want %v in UTC", got.LastSeen, at)
	}
	if got.CreatedAt.Location() != time.UTC || time.Since(got.CreatedAt) > time.Minute || time.Since(got.CreatedAt) < -time.Minute {
		t.Fatalf("created at = %v, want about now in UTC", got.CreatedAt)
	}

	// Many concurrent first sightings of one new MAC create it once.
	var created atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			c, err := s.Seen(context.Background(), autoprov.Sighting{MAC: "001565000099", Vendor: "yealink", Model: "T46S", At: t0})
			if err != nil {
				t.Error(err)
			}
			if c {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Fatalf("created %d times, want 1", created.Load())
	}

	// The device_accounts foreign keys: the row goes with its device
	// (CASCADE); an account cannot go while a device holds it.
	if macs, err := s.DevicesUsingAccount(context.Background(), "201"); err != nil || len(macs) != 1 {
		t.Fatalf("devices using 201 = %v, %v", macs, err)
	}
	if err := s.DeleteDevice(context.Background(), "805ec0aabb01"); err != nil {
		t.Fatal(err)
	}
	if macs, err := s.DevicesUsingAccount(context.Background(), "201"); err != nil || len(macs) != 0 {
		t.Fatalf("after delete, devices using 201 = %v, %v", macs, err)
	}
	if err := s.DeleteDevice(context.Background(), "805ec0aabb01"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: err = %v, want ErrNotFound", err)
	}
	if err := s.CreateDevice(context.Background(), autoprov.Device{MAC: "805ec0aabb02", Accounts: []string{"999"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("device with unknown account: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Device(context.Background(), "805ec0aabb02"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-created device: err = %v, want ErrNotFound (rolled back)", err)
	}
}

// TestConcurrentOpen: several instances starting at once on one empty
// database all migrate it without tripping over each other.
func TestConcurrentOpen(t *testing.T) { eachBackend(t, testConcurrentOpen) }

func testConcurrentOpen(t *testing.T, dsn string) {
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() {
			s, err := Open(dsn, WithKeys(testKeys))
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			s.Close()
		}
	}
	if t.Failed() {
		return
	}
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")
	if list, err := s.Devices(context.Background(), autoprov.DeviceFilter{}); err != nil || len(list) != 1 {
		t.Fatalf("devices = %v, %v", list, err)
	}
}

func TestDSN(t *testing.T) {
	for _, c := range []struct {
		dsn      string
		postgres bool
		describe string
	}{
		{"data/autoprov.db", false, "data/autoprov.db"},
		{"sqlite:/var/lib/autoprov/a.db", false, "/var/lib/autoprov/a.db"},
		{"/tmp/we=ird.db", false, "/tmp/we=ird.db"},
		{"", false, ""},
		{"postgres://ap:s3cret@db.example.com:6543/fleet?sslmode=disable", true, "postgres user=ap host=db.example.com port=6543 dbname=fleet"},
		{"postgresql://ap:s3cret@db.example.com/fleet?sslmode=disable", true, "postgres user=ap host=db.example.com port=5432 dbname=fleet"},
		{"host=db.example.com user=ap password=s3cret dbname=fleet sslmode=disable", true, "postgres user=ap host=db.example.com port=5432 dbname=fleet"},
		{"dbname=fleet host=/run/postgresql user=ap", true, "postgres user=ap host=/run/postgresql port=5432 dbname=fleet"},
	} {
		if got := IsPostgres(c.dsn); got != c.postgres {
			t.Errorf("IsPostgres(%q) = %v", c.dsn, got)
		}
		got := Describe(c.dsn)
		if got != c.describe || strings.Contains(got, "s3cret") {
			t.Errorf("Describe(%q) = %q, want %q", c.dsn, got, c.describe)
		}
	}
}

// TestOpenErrorsHidePassword: a PostgreSQL server that cannot be reached
// is reported by name, never with the password.
func TestOpenErrorsHidePassword(t *testing.T) {
	_, err := Open("postgres://ap:s3cret@127.0.0.1:1/fleet?sslmode=disable&connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "dbname=fleet") {
		t.Fatalf("err = %v", err)
	}
	_, err = Open("host=127.0.0.1 port=1 user=ap password=s3cret dbname=fleet connect_timeout=2 sslmode=disable")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

// Every write runs with the caller's context: a cancelled one writes
// nothing and says so.
func TestWritesHonourTheContext(t *testing.T) { eachBackend(t, testWritesHonourTheContext) }

func testWritesHonourTheContext(t *testing.T, dsn string) {
	s := open(t, dsn)
	seed(t, s, "805ec0aabb01")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, write := range map[string]func() error{
		"AppendAudit": func() error {
			return s.AppendAudit(ctx, autoprov.AuditEvent{At: t0, Event: autoprov.EventSettingsUpdated, Actor: "t", Detail: "x"})
		},
		"PutSettings": func() error { return s.PutSettings(ctx, autoprov.DefaultSettings()) },
		"UpdateDevice": func() error {
			return s.UpdateDevice(ctx, autoprov.Device{MAC: "805ec0aabb01", Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned, Label: "x"})
		},
		"Seen": func() error {
			_, err := s.Seen(ctx, autoprov.Sighting{MAC: "805ec0aabb02", At: t0})
			return err
		},
	} {
		if err := write(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	evs, err := s.Audit(context.Background(), "", 10)
	if err != nil || len(evs) != 0 {
		t.Errorf("audit after cancelled writes: %v %+v, want nothing written", err, evs)
	}
}

// TestOpenOddPath: a database path with '#', '?' or '%' in it is opened
// where it says (in a SQLite URI, '#' ended the path: /tmp/x#y/a.db
// opened /tmp/x).
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site #1?a=b%20")
	path := filepath.Join(dir, "autoprov.db")
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("no database at %s: %v", path, err)
	}
	ents, err := os.ReadDir(filepath.Dir(dir))
	if err != nil || len(ents) != 1 {
		t.Fatalf("beside the directory: %v %v", ents, err)
	}
	// And copied from there, read-only (backup).
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := CopySQLite(context.Background(), path, out); err != nil {
		t.Fatalf("copy: %v", err)
	}
}

// TestNotFoundAndConflictTexts: a row not found and a unique key taken
// are ErrNotFound and ErrConflict with their English as before ("account
// 999: not found"), and each is one *vendors.TextError whose Text is the
// context's format, so the web UI can say in German what it was about.
func TestNotFoundAndConflictTexts(t *testing.T) { eachBackend(t, testNotFoundAndConflictTexts) }

func testNotFoundAndConflictTexts(t *testing.T, dsn string) {
	s := open(t, dsn)
	ctx := context.Background()
	a := autoprov.Account{Extension: "201", DisplayName: "Alice", AuthUser: "201", Password: "secret-201"}
	if _, err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, dup := s.CreateAccount(ctx, a)
	_, noAccount := s.Account(ctx, "999")
	_, noDevice := s.Device(ctx, "805ec0aabb09")
	for _, c := range []struct {
		err             error
		sentinel        error
		english, format string
	}{
		{dup, ErrConflict, "account 201: conflict", "account %s"},
		{noAccount, ErrNotFound, "account 999: not found", "account %s"},
		{noDevice, ErrNotFound, "device 805ec0aabb09: not found", "device %s"},                          // the row reader's own ErrNotFound
		{s.DeleteKeyProfile(ctx, "nope"), ErrNotFound, "key profile nope: not found", "key profile %s"}, // notFound
	} {
		var te *vendors.TextError
		switch {
		case c.err == nil || c.err.Error() != c.english || !errors.Is(c.err, c.sentinel):
			t.Errorf("%v, want %q wrapping %v", c.err, c.english, c.sentinel)
		case !errors.As(c.err, &te) || te.Error() != c.err.Error() || te.Text.Format != c.format || te.Err != c.sentinel:
			t.Errorf("%q is not one TextError of %q and %v: %#v", c.english, c.format, c.sentinel, c.err)
		}
	}
}
