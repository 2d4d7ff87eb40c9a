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

// TestWriteGateHolds: while a transaction holds the gate, reads and
// backups go on, writes of other goroutines wait (and give up with their context), and
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
	if err := s.Backup(rc, filepath.Join(t.TempDir(), "backup.db")); err != nil {
		t.Errorf("backup while a transaction holds the gate: %v", err)
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
		"EXPLAIN QUERY PLAN SELECT 1": false, "(SELECT 1)": false, "VACUUM INTO ?": false,
		"UPDATE devices SET label = ''": true, "INSERT INTO audit VALUES (1)": true, "DELETE FROM changes": true,
		"WITH x AS (SELECT 1) DELETE FROM changes": true, "CREATE TABLE t (x)": true, "\n\tBEGIN IMMEDIATE": true,
	} {
		if got := writesSQL(q); got != want {
			t.Errorf("writesSQL(%q) = %v, want %v", q, got, want)
		}
	}
}

// holdGate runs a transaction on s that holds the write gate until the
// returned function is called (which waits for its commit).
func holdGate(t *testing.T, s *Store) (release func()) {
	t.Helper()
	held, rel, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.db.Transaction(func(tx *gorm.DB) error {
			close(held)
			<-rel
			return nil
		})
	}()
	<-held
	return func() {
		close(rel)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// waitQueued waits until the group's goroutine has taken taken steps and
// n more wait in its queue.
func waitQueued(t *testing.T, s *Store, taken uint64, n int) {
	t.Helper()
	if !poll(func() bool { return s.group.taken.Load() == taken && len(s.group.ops) == n }) {
		t.Errorf("%d steps taken and %d queued, want %d and %d", s.group.taken.Load(), len(s.group.ops), taken, n)
	}
}

// waitGathering waits until the group's goroutine holds steps it took
// and waits for more (gather).
func waitGathering(t *testing.T, s *Store) {
	t.Helper()
	if !poll(func() bool { return s.group.gathering.Load() == 1 }) {
		t.Fatalf("the group is not gathering: %d steps taken, %d queued", s.group.taken.Load(), len(s.group.ops))
	}
}

// poll reports whether cond held within 30 s, asking every millisecond.
func poll(cond func() bool) bool {
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// TestGroupCommitOneErrorIsNobodyElses: steps committed in one
// transaction, one of which fails (a trigger refuses its device): that one
// gets the error, every other step of the group is won and on disk.
func TestGroupCommitOneErrorIsNobodyElses(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "group.db"))
	ctx := context.Background()
	const n = 10
	openWindows(t, s, n+1)
	bad := fmt.Sprintf("805ec0%06x", 0)
	if err := s.db.Exec("CREATE TRIGGER refuse_one BEFORE UPDATE OF reserved_by ON devices WHEN NEW.mac = '" + bad +
		"' BEGIN SELECT RAISE(ABORT, 'refused'); END").Error; err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Second)
	release := holdGate(t, s)
	// The first step is taken by the group's goroutine, which then waits
	// for the gate; the next ones queue behind it and run as one group.
	first := make(chan error, 1)
	go func() {
		_, err := s.Reserve(ctx, fmt.Sprintf("805ec0%06x", n), "first", now, time.Minute)
		first <- err
	}()
	waitQueued(t, s, 1, 0)
	results := make(chan error, n)
	for i := range n {
		go func() {
			mac := fmt.Sprintf("805ec0%06x", i)
			won, err := s.Reserve(ctx, mac, "tok", now, time.Minute)
			if err == nil && !won {
				err = fmt.Errorf("%s: claim lost", mac)
			}
			if err != nil && mac != bad {
				err = fmt.Errorf("%s: %w", mac, err)
			} else if mac == bad {
				if err == nil {
					err = fmt.Errorf("%s: claimed despite the trigger", mac)
				} else {
					err = nil
				}
			}
			results <- err
		}()
	}
	waitQueued(t, s, 1, n)
	release()
	if err := <-first; err != nil {
		t.Error(err)
	}
	for range n {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	var claimed int64
	if err := s.db.Model(&deviceRow{}).Where("reserved_by = 'tok'").Count(&claimed).Error; err != nil || claimed != n-1 {
		t.Errorf("%d claims on disk (%v), want %d", claimed, err, n-1)
	}
}

// TestGroupCommitSkipsAbandonedSteps: a step whose caller's context ended
// while it waited in the queue is not run (the window stays unclaimed),
// and a step queued when the store closes, or made after, is answered.
func TestGroupCommitSkipsAbandonedSteps(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "group.db"), WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	openWindows(t, s, 3)
	now := t0.Add(time.Second)
	mac := func(i int) string { return fmt.Sprintf("805ec0%06x", i) }

	release := holdGate(t, s)
	first := make(chan error, 1)
	go func() {
		_, err := s.Reserve(ctx, mac(0), "first", now, time.Minute)
		first <- err
	}()
	waitQueued(t, s, 1, 0)
	cctx, cancel := context.WithCancel(ctx)
	abandoned := make(chan error, 1)
	go func() {
		_, err := s.Reserve(cctx, mac(1), "abandoned", now, time.Minute)
		abandoned <- err
	}()
	waitQueued(t, s, 1, 1)
	cancel()
	release()
	if err := <-abandoned; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned Reserve: %v, want context.Canceled", err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if won, err := s.Reserve(ctx, mac(1), "next", now, time.Minute); err != nil || !won {
		t.Errorf("Reserve after an abandoned one = %v, %v; want the window unclaimed", won, err)
	}

	release = holdGate(t, s)
	go func() {
		_, err := s.Reserve(ctx, mac(2), "first", now, time.Minute)
		first <- err
	}()
	waitQueued(t, s, 4, 0)
	queued := make(chan error, 1)
	go func() {
		_, err := s.Reserve(ctx, mac(2), "queued", now, time.Minute)
		queued <- err
	}()
	waitQueued(t, s, 4, 1)
	closed := make(chan struct{})
	go func() {
		s.group.close()
		close(closed)
	}()
	<-s.group.quit // closing has begun before the running group ends
	release()
	<-closed
	if err := <-first; err != nil {
		t.Error(err)
	}
	if err := <-queued; !errors.Is(err, errStoreClosed) {
		t.Errorf("Reserve queued at close: %v, want errStoreClosed", err)
	}
	// Steps after close are answered too (never left in the queue).
	late := make(chan error)
	go func() {
		for range 20 {
			_, err := s.Reserve(ctx, mac(2), "late", now, time.Minute)
			late <- err
		}
	}()
	for range 20 {
		select {
		case err := <-late:
			if !errors.Is(err, errStoreClosed) {
				t.Fatalf("Reserve after close: %v, want errStoreClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a Reserve after close got no answer")
		}
	}
}

func withGather(d time.Duration) Option { return func(s *Store) { s.gather = d } }

// TestGroupCommitGathersWhileStepsKeepComing: steps found queued when a
// transaction ends, or a step right after a transaction of several, begin
// the next one only once gatherMin of them are there (the wait is an hour
// here, so only the count can start it); a lone phone's steps, one after
// the other, never wait.
func TestGroupCommitGathersWhileStepsKeepComing(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "group.db"), withGather(time.Hour))
	ctx := context.Background()
	openWindows(t, s, 2*gatherMin+3)
	now := t0.Add(time.Second)
	mac := func(i int) string { return fmt.Sprintf("805ec0%06x", i) }
	reserve := func(i int, into chan<- error) {
		won, err := s.Reserve(ctx, mac(i), "tok", now, time.Minute)
		if err == nil && !won {
			err = fmt.Errorf("%s: claim lost", mac(i))
		}
		into <- err
	}

	// A lone phone: reserve, commit, complete, each after the other's
	// answer, in three transactions and without waiting an hour.
	lone := make(chan error, 1)
	go func() {
		lone <- func() error {
			if won, err := s.Reserve(ctx, mac(0), "lone", now, time.Minute); err != nil || !won {
				return fmt.Errorf("reserve: %v %v", won, err)
			}
			if won, err := s.Commit(ctx, mac(0), "lone", now, autoprov.Peer{IP: "192.0.2.1"}); err != nil || !won {
				return fmt.Errorf("commit: %v %v", won, err)
			}
			if won, err := s.Complete(ctx, mac(0), "lone", now, true, ""); err != nil || !won {
				return fmt.Errorf("complete: %v %v", won, err)
			}
			return nil
		}()
	}()
	select {
	case err := <-lone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a lone phone's steps waited for others")
	}
	if n := s.group.groups.Load(); n != 3 {
		t.Errorf("a lone phone's three steps ran in %d transactions", n)
	}

	// Steps queued behind a transaction: gatherMin-1 of them wait for one
	// more, then all of them run as one transaction.
	release := holdGate(t, s)
	first := make(chan error, 1)
	go reserve(1, first)
	waitQueued(t, s, 4, 0)
	results := make(chan error, gatherMin)
	for i := range gatherMin - 1 {
		go reserve(2+i, results)
	}
	waitQueued(t, s, 4, gatherMin-1)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	waitGathering(t, s) // the seven taken by the goroutine, which waits for more
	if n := s.group.groups.Load(); n != 4 {
		t.Fatalf("%d transactions, want 4: the steps found queued did not wait for more", n)
	}
	go reserve(gatherMin+1, results)
	for range gatherMin {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if n, taken := s.group.groups.Load(), s.group.taken.Load(); n != 5 || taken != 4+gatherMin {
		t.Fatalf("%d transactions for %d steps, want 5 for %d: the gathered steps were not one group", n, taken, 4+gatherMin)
	}

	// Right after a group of several steps, a step that finds the queue
	// empty waits for more too.
	for i := range gatherMin {
		go reserve(gatherMin+2+i, results)
		if i == 0 {
			waitGathering(t, s) // a step after a group of gatherMin waits for more
			if n := s.group.groups.Load(); n != 5 {
				t.Fatalf("%d transactions, want 5: a step after a group of %d did not wait for more", n, gatherMin)
			}
		}
	}
	for range gatherMin {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if n, taken := s.group.groups.Load(), s.group.taken.Load(); n != 6 || taken != 4+2*gatherMin {
		t.Errorf("%d transactions for %d steps, want 6 for %d", n, taken, 4+2*gatherMin)
	}

	// A step gathering when the store closes is answered as a queued one:
	// its transaction never began.
	last := make(chan error, 1)
	go reserve(2*gatherMin+2, last)
	waitGathering(t, s)
	s.group.close()
	if err := <-last; !errors.Is(err, errStoreClosed) {
		t.Errorf("a step gathering at close: %v, want errStoreClosed", err)
	}
}
