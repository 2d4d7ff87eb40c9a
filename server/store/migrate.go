package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/pressly/goose/v3"
)

// Versioned schema migrations (goose). Each backend has its own numbered
// SQL files under migrations/<dialect>/; goose records the versions it
// applied in the table goose_db_version. Open runs every pending one before
// anything else touches the database. Version 1 is the schema AutoMigrate
// made before there were versions, written with IF NOT EXISTS, so a
// database from that time gets version 1 recorded without a change.

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// versionTable is where goose records the applied versions (its default).
const versionTable = goose.DefaultTablename

// SchemaTooNewError is returned by Open when the database has been
// migrated by a newer autoprov than this one: its schema version is above
// every migration this binary has. Nothing is changed; the fix is to run
// that newer autoprov (or a later one).
type SchemaTooNewError struct {
	Version int64 // the database's schema version
	Known   int64 // the newest version this binary knows
}

// Error says which versions and what to do.
func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this autoprov (knows up to %d); upgrade autoprov", e.Version, e.Known)
}

// SchemaTooOldError is returned by Open with WithoutUpgrade when the
// database's schema is older than this binary's (a migration of this
// binary's is not applied; version 0: a database from before versioned
// migrations): an older autoprov wrote it, and may still be running on
// it. Nothing is changed.
type SchemaTooOldError struct {
	Version int64 // the database's schema version
	Known   int64 // the newest version this binary knows
}

// Error says which versions and what to do.
func (e *SchemaTooOldError) Error() string {
	if e.Version >= e.Known {
		return fmt.Sprintf("database schema version %d lacks lower migrations this autoprov has: it applies them when its server starts (autoprov serve); "+
			"this command leaves the schema as it is", e.Version)
	}
	return fmt.Sprintf("database schema version %d is older than this autoprov's (%d): it upgrades the schema when its server starts (autoprov serve); "+
		"until then use the autoprov that runs on it (this command leaves the schema as it is, for a server of that version may be running on it)", e.Version, e.Known)
}

// WithoutUpgrade makes Open refuse a database whose schema an older
// autoprov wrote, with a *SchemaTooOldError, instead of migrating it: for
// the maintenance commands, which may run beside an older server (a new
// binary installed, the old one still serving) that a migrated schema
// would leave unable to start again. Any migration pending counts,
// on a database from before versioned migrations too (version 0). Only a
// database without any table of ours (a new one) is created. The keyring
// is checked first, read-only, also on an older schema: a keyring that
// opens none of its sealed secrets gets the *KeyMismatchError.
func WithoutUpgrade() Option {
	return func(s *Store) { s.noUpgrade = true }
}

// migrator runs the embedded migrations of one backend on one database.
type migrator struct {
	p *goose.Provider
}

func newMigrator(db *sql.DB, postgres bool) (*migrator, error) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	if postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
	}
	fsys, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	// No goose locker: migrate holds its own lock around the whole run
	// (see there); the global registry (Go migrations registered by
	// init functions) is not ours to pick up. A version missing below the
	// newest applied one is applied (out of order), not refused: main
	// held versions 1 and 3 without 2 for two commits (56ee6af, d64a651),
	// and their databases upgrade.
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, fmt.Errorf("schema migrations: %w", err)
	}
	return &migrator{p: p}, nil
}

// latest is the newest schema version this binary knows.
func (m *migrator) latest() int64 {
	src := m.p.ListSources()
	return src[len(src)-1].Version
}

// unlockFunc releases a migration lock.
type unlockFunc func()

// migrate brings the schema to the newest version. Several instances may
// start at once on one database, so the whole run (creating goose's
// version table, reading which versions are applied, applying the rest)
// happens under lock, which serializes them across processes: the second
// instance waits, then finds nothing left to do.
//
//   - PostgreSQL: a session-level pg_advisory_lock on one connection, with
//     the key the AutoMigrate releases took (pg_advisory_xact_lock), so an
//     old and a new instance starting together also wait for each other.
//     It blocks in the server; no polling (goose's own session locker
//     polls, and goose checks for the version table before locking).
//   - SQLite: an exclusive flock on <database>-migrate.lock beside the
//     file. The database's own write lock only covers one transaction, and
//     goose applies each version in a transaction of its own after reading
//     the applied ones outside it.
//
// Each migration runs in a transaction with its version row, so a failed
// one leaves the previous version in place.
func (s *Store) migrate(ctx context.Context, lock func(context.Context) (unlockFunc, error)) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	m, err := newMigrator(sqlDB, s.postgres)
	if err != nil {
		return err
	}
	unlock, err := lock(ctx)
	if err != nil {
		return fmt.Errorf("lock for schema migration: %w", err)
	}
	defer unlock()
	if s.noUpgrade {
		if err := s.refuseUpgrade(ctx, m); err != nil {
			return err
		}
	}
	// GetVersions creates the version table (at version 0) when missing.
	current, known, err := m.p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if current > known {
		return &SchemaTooNewError{Version: current, Known: known}
	}
	if _, err := m.p.Up(ctx); err != nil {
		return fmt.Errorf("schema migration: %w", err)
	}
	s.schema = m
	// The data migration: secrets an older autoprov stored in plain text
	// are sealed, still under the lock, so instances starting together
	// seal each value once; but first a keyring that opens none of the
	// sealed values is refused, before it writes anything.
	if err := s.checkKeys(ctx, secretColumns); err != nil {
		return err
	}
	if err := s.sealPlain(ctx); err != nil {
		return err
	}
	return nil
}

// refuseUpgrade is migrate's check WithoutUpgrade, before goose touches
// the database: a database with tables of ours and any migration pending
// (none applied yet: one the AutoMigrate releases wrote, which has no
// version table; an older version; or a lower version missing beside the
// newest, which out-of-order mode would apply) is refused with a
// *SchemaTooOldError. Only a database without any table of ours (a new
// one) goes on to be created. Before refusing, the keyring is checked
// against the secret columns that older schema has, read-only, so that a
// backup copying it as it is (the backup before an upgrade) does not pack
// a keyring that cannot open it: a *KeyMismatchError then.
func (s *Store) refuseUpgrade(ctx context.Context, m *migrator) error {
	tables, err := s.tableNames(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if len(tables) == 0 || len(tables) == 1 && tables[0] == versionTable {
		return nil
	}
	tooOld := &SchemaTooOldError{Known: m.latest()}
	if slices.Contains(tables, versionTable) {
		current, known, err := m.p.GetVersions(ctx)
		if err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if current > known {
			return &SchemaTooNewError{Version: current, Known: known}
		}
		pending, err := m.p.HasPending(ctx)
		if err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if !pending {
			return nil
		}
		tooOld.Version = current
	}
	var cols []secretColumn
	for _, c := range secretColumns {
		ok, err := s.hasColumn(ctx, c.table, c.column)
		if err != nil {
			return fmt.Errorf("schema: %w", err)
		}
		if ok {
			cols = append(cols, c)
		}
	}
	if err := s.checkKeys(ctx, cols); err != nil {
		return err
	}
	return tooOld
}

// tableNames lists the database's tables (on PostgreSQL: those of its
// current schema), sorted.
func (s *Store) tableNames(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`
	if s.postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	var names []string
	if err := s.db.WithContext(ctx).Raw(q).Scan(&names).Error; err != nil {
		return nil, err
	}
	return names, nil
}

// hasColumn reports whether table has column.
func (s *Store) hasColumn(ctx context.Context, table, column string) (bool, error) {
	q := `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`
	if s.postgres {
		q = `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`
	}
	var n int64
	if err := s.db.WithContext(ctx).Raw(q, table, column).Scan(&n).Error; err != nil {
		return false, err
	}
	return n > 0, nil
}

// SchemaVersion returns the database's schema version: the newest
// migration applied (after Open, the newest this binary knows).
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	v, err := s.schema.p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// lockPostgres takes the migration advisory lock on a connection of its
// own and keeps it until unlock. If the unlock fails the connection is
// dropped instead of going back to the pool: its session, and the lock,
// end with it.
func (s *Store) lockPostgres(ctx context.Context) (unlockFunc, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLockID)); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLockID)); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// sqliteLock returns the migration lock of the SQLite file at path.
func sqliteLock(path string) func(context.Context) (unlockFunc, error) {
	return func(ctx context.Context) (unlockFunc, error) {
		unlock, err := lockFile(path + "-migrate.lock")
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			unlock()
			return nil, err
		}
		return unlock, nil
	}
}
