// Package store is the only package that talks to the database (GORM). It
// keeps the inventory (settings, accounts, devices, key profiles), the audit
// log, and the one-time disclosure state, and satisfies the interfaces the
// provisioning core declares.
//
// Two backends: SQLite (an embedded file) by default, PostgreSQL where
// several server instances serve one fleet. The same code runs on both.
// Every state change that must be atomic across processes (the disclosure
// claim above all) is a conditional UPDATE whose RowsAffected decides, never
// an in-process lock. README.md in this directory explains why that holds on
// each backend.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/vendors"
)

// Errors the store returns, wrapped with context.
var (
	// ErrNotFound: no such row.
	ErrNotFound = autoprov.ErrNotFound
	// ErrConflict: a unique key (MAC, extension, profile name) is taken, or a row is in use.
	ErrConflict = autoprov.ErrConflict
)

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	db       *gorm.DB
	postgres bool
	schema   *migrator     // versioned migrations (migrate.go)
	keys     sealed.Source // the keyring secrets are sealed with (sealed.go)
	busy     time.Duration // SQLite's busy_timeout (0: sqliteBusy); tests set it
	group    *groupCommit  // SQLite: the disclosure steps, committed in groups (groupcommit.go)
	gather   time.Duration // the group's wait for more steps (0: gatherWait); tests set it
	reads    deviceReads   // Device's statements (deviceread.go)
	// noUpgrade: an older schema is refused, not migrated (WithoutUpgrade).
	noUpgrade bool
}

// Connection pool sizes. PostgreSQL: every instance keeps at most
// pgMaxConns server connections, so N instances need N*pgMaxConns below
// the server's max_connections (100 by default, a few reserved); idle ones
// are closed after a while so a quiet instance holds few. SQLite: a
// connection is an open file; this process's writers queue on the write
// gate (writegate.go), other processes' on the file lock (busy_timeout),
// whatever the pool size; readers run beside them (WAL).
const (
	pgMaxConns      = 16
	pgMaxIdle       = 4
	pgConnIdleTime  = 5 * time.Minute
	pgConnLifetime  = 30 * time.Minute
	sqliteMaxIdle   = 128                // a boot storm's writers each hold a connection while they queue
	sqliteIdleTime  = 1 * time.Minute    // then a quiet server closes them
	sqliteBusy      = 10 * time.Second   // busy_timeout: how long a writer waits for another's lock
	migrateLockID   = 0x6175746f70726f76 // "autoprov": advisory lock key for migrations (migrate.go)
	pgAppName       = "autoprov"
	pgDefaultTZ     = "UTC"
	sqliteDSNPrefix = "sqlite:"
)

// Open opens (and migrates) the database named by dsn:
//
//   - a file path, or "sqlite:<path>": a SQLite file (created, mode 0600);
//   - "postgres://user:pass@host:port/db?sslmode=disable" (or
//     "postgresql://..."), or the key=value form "host=... user=...
//     dbname=...": PostgreSQL (the database must exist; the tables are
//     created or migrated).
//
// Before anything else it applies every pending schema migration (see
// migrate.go); a database whose schema is newer than this binary knows is
// refused with a *SchemaTooNewError. Then, under the same lock, it checks
// the keyring (WithKeys) against the sealed secrets (a keyring that opens
// none of them is refused with a *KeyMismatchError) and seals any secret
// still in plain text (sealed.go). Errors name the database without its
// password.
func Open(dsn string, opts ...Option) (*Store, error) {
	s := &Store{}
	for _, o := range opts {
		o(s)
	}
	if s.keys == nil {
		s.keys = sealed.Generate()
	}
	if IsPostgres(dsn) {
		return s.openPostgres(dsn)
	}
	return s.openSQLite(strings.TrimPrefix(dsn, sqliteDSNPrefix))
}

// IsPostgres reports whether dsn names a PostgreSQL database: a
// postgres:// or postgresql:// URL, or a libpq key=value string.
func IsPostgres(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return true
	}
	// key=value form: the first field is a libpq keyword. A file name
	// with "=" in it is still a file unless it starts like "host=".
	fields := strings.Fields(dsn)
	if len(fields) == 0 {
		return false
	}
	key, _, ok := strings.Cut(fields[0], "=")
	if !ok {
		return false
	}
	switch key {
	case "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "service", "connect_timeout", "application_name", "options", "search_path":
		return true
	}
	return false
}

// Describe names the database dsn points at, for logs and errors: the
// SQLite path, or PostgreSQL user, host, port and database. It never
// includes a password.
func Describe(dsn string) string {
	if !IsPostgres(dsn) {
		return strings.TrimPrefix(dsn, sqliteDSNPrefix)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "postgres (unparsable DSN)"
	}
	return fmt.Sprintf("postgres user=%s host=%s port=%d dbname=%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger: logger.Discard,
		// gorm.ErrDuplicatedKey on both backends (SQLite's UNIQUE and
		// PRIMARY KEY constraint errors, PostgreSQL's 23505).
		TranslateError: true,
		// Phones fetch the same few statements over and over: prepare them
		// once. Single statements need no transaction of their own; the
		// multi-statement changes open theirs explicitly.
		PrepareStmt:            true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

func (s *Store) openSQLite(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("empty database path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
	}
	// WAL lets readers run beside the writer; busy_timeout makes concurrent
	// writers (other goroutines or processes) wait instead of failing;
	// _txlock=immediate takes the write lock at BEGIN so transactions do
	// not deadlock upgrading a read lock; secure_delete overwrites what a
	// change removes (a plain-text secret sealed in place) instead of
	// leaving it in free space.
	full := fmt.Sprintf("file:%s?_journal_mode=WAL&_busy_timeout=%d&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL&_secure_delete=on",
		uriPath(path), cmp.Or(s.busy, sqliteBusy).Milliseconds())
	// This process's writers take turns before SQLite's lock (writegate.go).
	gate := newWriteGate(sqliteBusy)
	// Switching a new file to WAL while another process does the same can
	// answer SQLITE_BUSY without waiting (busy_timeout does not cover WAL
	// recovery): retry a few times, as several instances may start at once.
	var db *gorm.DB
	var err error
	for attempt := 1; ; attempt++ {
		var pool *sql.DB
		if pool, err = gatedPool(full, gate); err != nil {
			break
		}
		db, err = gorm.Open(sqlite.New(sqlite.Config{DSN: full, Conn: pool}), gormConfig())
		if err != nil {
			_ = pool.Close()
		}
		if err == nil || attempt == 10 || !strings.Contains(err.Error(), "database is locked") {
			break
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s.db = db
	if err := countErrors(db); err != nil {
		s.Close()
		return nil, err
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.SetMaxIdleConns(sqliteMaxIdle)
		sqlDB.SetConnMaxIdleTime(sqliteIdleTime)
	}
	if err := s.migrate(context.Background(), sqliteLock(path)); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err == nil {
		s.group, err = newGroupCommit(sqlDB, cmp.Or(s.gather, gatherWait))
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// The file and its WAL, shared-memory and journal siblings hold the
	// database's pages: nobody else reads them.
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) openPostgres(dsn string) (*Store, error) {
	name := Describe(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = pgAppName
	}
	// timestamptz columns hold instants; reading them back in UTC (as
	// SQLite does) keeps the values the store returns the same on both.
	if _, ok := cfg.RuntimeParams["timezone"]; !ok {
		cfg.RuntimeParams["timezone"] = pgDefaultTZ
	}
	sqlDB := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}))
	sqlDB.SetMaxOpenConns(pgMaxConns)
	sqlDB.SetMaxIdleConns(pgMaxIdle)
	sqlDB.SetConnMaxIdleTime(pgConnIdleTime)
	sqlDB.SetConnMaxLifetime(pgConnLifetime)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	s.db, s.postgres = db, true
	if err := countErrors(db); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Ping(context.Background()); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if err := s.migrate(context.Background(), s.lockPostgres); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate database %s: %w", name, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if s.group != nil {
		s.group.close()
	}
	s.reads.close()
	return sqlDB.Close()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// wrap gives err the context T(format, a...) (format a string literal:
// the web UI translates it, see vendors.Text). A row not found (gorm's, or
// ErrNotFound itself) is ErrNotFound and a unique key taken ErrConflict,
// each as a *vendors.TextError of the context, so the UI can say in the
// admin's language what was not found or is in conflict; the English
// (Error) is "context: not found" or "context: conflict" either way.
// Any other error is wrapped with the English context.
func wrap(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) || err == ErrNotFound:
		return &vendors.TextError{Text: autoprov.T(format, a...), Err: ErrNotFound}
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &vendors.TextError{Text: autoprov.T(format, a...), Err: ErrConflict}
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), err)
}

// notFound is ErrNotFound with what was not found, T(format, a...)
// (format a string literal, see wrap): "device 805ec0aabb01: not found".
func notFound(format string, a ...any) error {
	return &vendors.TextError{Text: autoprov.T(format, a...), Err: ErrNotFound}
}

// uriPath escapes a file path for a SQLite "file:" URI: a '#' would end
// the path (a fragment) and a '?' start the parameters, so a --data of
// /tmp/x#y opened /tmp/x; '%' is escaped so that the path is read as it is.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}
