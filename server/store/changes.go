package store

import (
	"context"
	"fmt"

	"github.com/autoprov/autoprov"
)

// The change log (migration 7): triggers add a row, in the writing
// transaction, for every write that can change what a phone gets; the
// phone cache (server/phonecache) follows it. See the migration for what
// is logged and why revisions have no gaps.

type changeRow struct {
	Rev int64
	MAC string
}

// Changes returns what changed after revision after, at most limit rows
// (autoprov.Changes). A result that cannot name everything that changed
// (more than limit rows, or rows pruned before the caller read them)
// says All, with the newest revision.
func (s *Store) Changes(ctx context.Context, after int64, limit int) (autoprov.Changes, error) {
	var rows []changeRow
	err := s.db.WithContext(ctx).Raw("SELECT rev, mac FROM changes WHERE rev > ? ORDER BY rev LIMIT ?", after, limit+1).Scan(&rows).Error
	if err != nil {
		return autoprov.Changes{}, wrap(err, "read change log")
	}
	if len(rows) == 0 {
		return autoprov.Changes{Rev: after}, nil
	}
	if len(rows) > limit || rows[0].Rev != after+1 {
		// Too many to name, or a gap: rows the caller never saw were
		// pruned. Everything changed, up to the newest revision (read
		// now, before the caller drops what it holds).
		var max int64
		if err := s.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(rev), 0) FROM changes").Scan(&max).Error; err != nil {
			return autoprov.Changes{}, wrap(err, "read change log")
		}
		return autoprov.Changes{Rev: max, All: true}, nil
	}
	c := autoprov.Changes{Rev: rows[len(rows)-1].Rev}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.MAC == "" {
			c.All = true
			c.MACs = nil
			break
		}
		if !seen[r.MAC] {
			seen[r.MAC] = true
			c.MACs = append(c.MACs, r.MAC)
		}
	}
	return c, nil
}

// Revision returns the newest revision of the change log (0 when empty).
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var max int64
	if err := s.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(rev), 0) FROM changes").Scan(&max).Error; err != nil {
		return 0, wrap(err, "read change log")
	}
	return max, nil
}

// PruneChanges deletes all but the newest keep revisions of the change
// log. An instance that had not read the deleted rows sees a gap and
// drops everything it holds.
func (s *Store) PruneChanges(ctx context.Context, keep int64) error {
	err := s.db.WithContext(ctx).Exec("DELETE FROM changes WHERE rev <= (SELECT COALESCE(MAX(rev), 0) FROM changes) - ?", keep).Error
	return wrap(err, "prune change log")
}

// SeenBatch records what known phones reported (as Seen does for a known
// MAC) in one transaction; a MAC no longer in the inventory is skipped,
// never created. The UPDATE is prepared once per transaction (through
// GORM, each row's statement was prepared again: half of the cost).
func (s *Store) SeenBatch(ctx context.Context, vs []autoprov.Sighting) error {
	if len(vs) == 0 {
		return nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return wrap(err, "record %d sightings", len(vs))
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err, "record %d sightings", len(vs))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, s.seenSQL())
	if err != nil {
		return wrap(err, "record %d sightings", len(vs))
	}
	defer stmt.Close()
	// The rows run on ctx without its cancellation (rowByRow: on one that
	// can be cancelled, the SQLite driver runs every statement on a
	// goroutine of its own, a goroutine and two handoffs per row while
	// this transaction holds the write gate that the disclosure steps
	// wait on). ctx still bounds the batch: database/sql rolls the
	// transaction, begun on ctx, back when it ends, and the next row
	// fails.
	each := rowByRow(ctx)
	for _, v := range vs {
		at := v.At.UTC()
		_, err := stmt.ExecContext(each, at, v.RemoteIP, v.File, v.UserAgent, v.UserAgent, v.Firmware, v.Firmware,
			autoprov.StateUnassigned, v.Vendor, autoprov.StateUnassigned, v.Model, v.MAC)
		if err != nil {
			return wrap(fmt.Errorf("device %s: %w", v.MAC, err), "record %d sightings", len(vs))
		}
	}
	return wrap(tx.Commit(), "record %d sightings", len(vs))
}

// seenSQL is seenUpdate's statement for SeenBatch, in the dialect's
// placeholders.
func (s *Store) seenSQL() string {
	n := 0
	p := func() string {
		n++
		return param(s.postgres, n)
	}
	return "UPDATE devices SET last_seen = " + p() + ", remote_ip = " + p() + ", last_file = " + p() +
		", user_agent = CASE WHEN " + p() + " = '' THEN user_agent ELSE " + p() + " END" +
		", firmware = CASE WHEN " + p() + " = '' THEN firmware ELSE " + p() + " END" +
		", vendor = CASE WHEN state = " + p() + " AND vendor = '' THEN " + p() + " ELSE vendor END" +
		", model = CASE WHEN state = " + p() + " AND model = '' THEN " + p() + " ELSE model END" +
		" WHERE mac = " + p()
}
