package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
)

// withBusy sets SQLite's busy_timeout (the write gate still waits up to
// sqliteBusy).
func withBusy(d time.Duration) Option { return func(s *Store) { s.busy = d } }

// TestWriteGateSparesTheBusyHandler: with SQLite's busy_timeout at 1 ms, a
// writer of this process that found the file's lock taken would fail
// ("database is locked") after one short sleep. Behind the gate, 32
// goroutines writing at once (claims, releases, audit rows, windows
// re-opened in transactions) never meet SQLite's lock held: no error.
func TestWriteGateSparesTheBusyHandler(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "gate.db"), WithKeys(testKeys), withBusy(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const writers, rounds = 32, 30
	for i := range writers {
		mac := fmt.Sprintf("805ec0ab%04x", i)
		seed(t, s, mac)
		if _, err := s.OpenDisclosure(ctx, mac, t0, time.Hour, "test"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds*4)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mac := fmt.Sprintf("805ec0ab%04x", i)
			for r := range rounds {
				tok := fmt.Sprintf("t%d-%d", i, r)
				won, err := s.Reserve(ctx, mac, tok, t0.Add(time.Minute), time.Minute)
				if err == nil && !won {
					err = fmt.Errorf("%s: claim lost", mac)
				}
				errs <- err
				errs <- s.Release(ctx, mac, tok)
				errs <- s.AppendAudit(ctx, autoprov.AuditEvent{At: t0, MAC: mac, Event: autoprov.EventSettingsUpdated, Actor: "t", Detail: tok})
				_, err = s.OpenDisclosure(ctx, mac, t0, time.Hour, "test")
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed++; failed <= 3 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d writes failed", failed, writers*rounds*4)
	}
}

// TestWriteGateHolds: while a transaction holds the gate, reads go on,
// writes of other goroutines wait (and give up with their context), and
// however the holder ends (commit, rollback, the rows of an UPDATE ...
// RETURNING closed) the next writer gets its turn.
func TestWriteGateHolds(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "gate.db"))
	const mac = "805ec0aabb01"
	seed(t, s, mac)
	ctx := context.Background()

	// hold runs end inside a transaction that holds the gate until
	// release is closed.
	hold := func(end func(tx *gorm.DB) error) (held, release chan struct{}, done chan error) {
		held, release, done = make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec("UPDATE devices SET label = 'held' WHERE mac = ?", mac).Error; err != nil {
					return err
				}
				close(held)
				<-release
				return end(tx)
			})
		}()
		<-held
		return held, release, done
	}
	write := func(timeout time.Duration) error {
		c, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return s.AppendAudit(c, autoprov.AuditEvent{At: t0, MAC: mac, Event: autoprov.EventSettingsUpdated, Actor: "t", Detail: "x"})
	}

	_, release, done := hold(func(*gorm.DB) error { return nil })
	rc, cancel := context.WithTimeout(ctx, 10*time.Second)
	if _, err := s.Device(rc, mac); err != nil {
		t.Errorf("read while a transaction holds the gate: %v", err)
	}
	cancel()
	if err := write(100 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("write while a transaction holds the gate: %v, want it to wait until its deadline", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := write(10 * time.Second); err != nil {
		t.Errorf("write after a commit: %v", err)
	}

	_, release, done = hold(func(*gorm.DB) error { return errors.New("roll back") })
	close(release)
	if err := <-done; err == nil {
		t.Fatal("the transaction did not fail")
	}
	if err := write(10 * time.Second); err != nil {
		t.Errorf("write after a rollback: %v", err)
	}

	// A write outside a transaction read through rows (RETURNING) holds
	// the gate until its rows are closed.
	var got []string
	if err := s.db.WithContext(ctx).Raw("UPDATE devices SET label = 'x' WHERE mac = ? RETURNING mac", mac).Scan(&got).Error; err != nil || len(got) != 1 {
		t.Fatalf("UPDATE ... RETURNING: %v %v", got, err)
	}
	if err := write(10 * time.Second); err != nil {
		t.Errorf("write after an UPDATE ... RETURNING: %v", err)
	}
	// A failed write gives the gate back too.
	if err := s.db.WithContext(ctx).Exec("UPDATE no_such_table SET x = 1").Error; err == nil {
		t.Error("UPDATE of a missing table did not fail")
	}
	if err := write(10 * time.Second); err != nil {
		t.Errorf("write after a failed statement: %v", err)
	}
}

func TestWritesSQL(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1": false, " select * from devices": false, "PRAGMA foreign_keys = on": false,
		"EXPLAIN QUERY PLAN SELECT 1": false, "(SELECT 1)": false,
		"UPDATE devices SET label = ''": true, "INSERT INTO audit VALUES (1)": true, "DELETE FROM changes": true,
		"WITH x AS (SELECT 1) DELETE FROM changes": true, "CREATE TABLE t (x)": true, "\n\tBEGIN IMMEDIATE": true,
	} {
		if got := writesSQL(q); got != want {
			t.Errorf("writesSQL(%q) = %v, want %v", q, got, want)
		}
	}
}
