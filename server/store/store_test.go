package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/provision"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seed creates account 201 and an assigned device carrying it.
func seed(t *testing.T, s *Store, mac string) {
	t.Helper()
	if _, err := s.Account("201"); errors.Is(err, ErrNotFound) {
		if _, err := s.CreateAccount(provision.Account{Extension: "201", DisplayName: "Alice", AuthUser: "201", Password: "secret-201"}); err != nil {
			t.Fatal(err)
		}
	}
	d := provision.Device{MAC: mac, Vendor: "yealink", Model: "T54W", State: provision.StateAssigned, Accounts: []string{"201"}}
	if err := s.CreateDevice(d); err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestInventoryRoundTrip(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	seed(t, s, "805ec0aabb01")
	d, err := s.Device("805ec0aabb01")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != provision.StateAssigned || len(d.Accounts) != 1 || d.Accounts[0] != "201" || d.Disclosure.State != provision.DisclosureNone {
		t.Fatalf("device = %+v", d)
	}
	if err := s.CreateDevice(provision.Device{MAC: "805ec0aabb01"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate MAC: err = %v, want ErrConflict", err)
	}
	if _, err := s.CreateAccount(provision.Account{Extension: "201"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate extension: err = %v, want ErrConflict", err)
	}
	if err := s.DeleteAccount("201"); !errors.Is(err, ErrConflict) {
		t.Fatalf("deleting an account in use: err = %v, want ErrConflict", err)
	}
	created, err := s.Seen(provision.Sighting{MAC: "001565000001", Vendor: "yealink", Model: "T46S", RemoteIP: "127.0.0.1", File: "001565000001.cfg", At: t0})
	if err != nil || !created {
		t.Fatalf("Seen new: created=%v err=%v", created, err)
	}
	created, err = s.Seen(provision.Sighting{MAC: "001565000001", RemoteIP: "127.0.0.2", Firmware: "66.86.0.15", At: t0.Add(time.Minute)})
	if err != nil || created {
		t.Fatalf("Seen again: created=%v err=%v", created, err)
	}
	u, _ := s.Device("001565000001")
	if u.State != provision.StateUnassigned || u.RemoteIP != "127.0.0.2" || u.Firmware != "66.86.0.15" || u.Model != "T46S" || !u.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("unassigned device = %+v", u)
	}
	list, err := s.Devices(provision.DeviceFilter{State: provision.StateUnassigned})
	if err != nil || len(list) != 1 || list[0].MAC != "001565000001" {
		t.Fatalf("filter unassigned = %v, %v", list, err)
	}
	if err := s.DeleteDevice("805ec0aabb01"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount("201"); err != nil {
		t.Fatalf("account free after device deletion: %v", err)
	}
}

// TestClaimExactlyOneWinner: many goroutines, on two Store handles (two
// connection pools, as two processes would have), race for one window.
func TestClaimExactlyOneWinner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	a := open(t, path)
	b := open(t, path)
	seed(t, a, "805ec0aabb01")
	if _, err := a.OpenDisclosure("805ec0aabb01", t0, 10*time.Minute, "test"); err != nil {
		t.Fatal(err)
	}
	const n = 64
	var reserved, committed atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			tok := fmt.Sprintf("t%d", i)
			won, err := s.Reserve("805ec0aabb01", tok, t0.Add(time.Second), time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if !won {
				return
			}
			reserved.Add(1)
			ok, err := s.Commit("805ec0aabb01", tok, t0.Add(2*time.Second), provision.Peer{IP: "192.0.2.7", UserAgent: "ua"})
			if err != nil {
				t.Error(err)
			}
			if ok {
				committed.Add(1)
			}
		}()
	}
	wg.Wait()
	if reserved.Load() != 1 || committed.Load() != 1 {
		t.Fatalf("reserved %d, committed %d; want exactly one each", reserved.Load(), committed.Load())
	}
	d, _ := b.Device("805ec0aabb01")
	if d.Disclosure.State != provision.DisclosureConsumed || d.Disclosure.DisclosedTo == nil || d.Disclosure.DisclosedTo.IP != "192.0.2.7" {
		t.Fatalf("disclosure = %+v", d.Disclosure)
	}
	// After consumption nobody wins until it is re-armed.
	if won, _ := a.Reserve("805ec0aabb01", "late", t0.Add(3*time.Second), time.Minute); won {
		t.Fatal("reserved a consumed window")
	}
	if _, err := a.OpenDisclosure("805ec0aabb01", t0.Add(4*time.Second), 10*time.Minute, "test"); err != nil {
		t.Fatal(err)
	}
	if won, _ := a.Reserve("805ec0aabb01", "rearmed", t0.Add(5*time.Second), time.Minute); !won {
		t.Fatal("re-armed window could not be reserved")
	}
}

func TestReleaseAndLease(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "l.db"))
	seed(t, s, "805ec0aabb01")
	s.OpenDisclosure("805ec0aabb01", t0, 10*time.Minute, "test")
	if won, _ := s.Reserve("805ec0aabb01", "a", t0, time.Minute); !won {
		t.Fatal("first reserve lost")
	}
	if won, _ := s.Reserve("805ec0aabb01", "b", t0.Add(time.Second), time.Minute); won {
		t.Fatal("second reserve won while the first holds the claim")
	}
	// An abandoned transfer releases: the window is open again.
	if err := s.Release("805ec0aabb01", "a"); err != nil {
		t.Fatal(err)
	}
	if won, _ := s.Reserve("805ec0aabb01", "b", t0.Add(2*time.Second), time.Minute); !won {
		t.Fatal("reserve after release lost")
	}
	// A claim whose holder died lapses after its lease.
	if won, _ := s.Reserve("805ec0aabb01", "c", t0.Add(2*time.Second+time.Minute+time.Millisecond), time.Minute); !won {
		t.Fatal("reserve after the lease lapsed lost")
	}
	// The holder whose lease lapsed cannot commit any more.
	if ok, _ := s.Commit("805ec0aabb01", "b", t0.Add(3*time.Minute), provision.Peer{}); ok {
		t.Fatal("stale holder committed")
	}
	d, _ := s.Device("805ec0aabb01")
	if d.Disclosure.State != provision.DisclosureOpen {
		t.Fatalf("state = %s, want open", d.Disclosure.State)
	}
}

func TestExpiry(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "e.db"))
	seed(t, s, "805ec0aabb01")
	s.OpenDisclosure("805ec0aabb01", t0, 2*time.Second, "admin")
	if macs, _ := s.ExpireDue(t0.Add(time.Second)); len(macs) != 0 {
		t.Fatalf("expired early: %v", macs)
	}
	if won, _ := s.Reserve("805ec0aabb01", "late", t0.Add(3*time.Second), time.Minute); won {
		t.Fatal("reserved after the window ended")
	}
	macs, err := s.ExpireDue(t0.Add(3 * time.Second))
	if err != nil || len(macs) != 1 {
		t.Fatalf("ExpireDue = %v, %v", macs, err)
	}
	d, _ := s.Device("805ec0aabb01")
	if d.Disclosure.State != provision.DisclosureExpired {
		t.Fatalf("state = %s", d.Disclosure.State)
	}
	evs, _ := s.Audit("805ec0aabb01", 10)
	if len(evs) != 2 || evs[0].Event != provision.EventDisclosureExpired || evs[1].Event != provision.EventDisclosureOpened {
		t.Fatalf("audit = %+v", evs)
	}
	// Re-arm reopens.
	s.OpenDisclosure("805ec0aabb01", t0.Add(time.Hour), time.Minute, "admin")
	if won, _ := s.Reserve("805ec0aabb01", "x", t0.Add(time.Hour+time.Second), time.Minute); !won {
		t.Fatal("re-armed window not reservable")
	}
}

func TestPostgresRefusedClearly(t *testing.T) {
	_, err := Open("postgres://u@localhost/db")
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("err = %v", err)
	}
}
