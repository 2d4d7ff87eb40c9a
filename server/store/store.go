// Package store is the only package that talks to the database (GORM). It
// keeps the inventory (settings, accounts, devices, key profiles), the audit
// log, and the one-time disclosure state, and satisfies the interfaces the
// provisioning core declares.
//
// SQLite (an embedded file) is the default. Every state change that must be
// atomic across processes (the disclosure claim above all) is a conditional
// UPDATE whose RowsAffected decides, never an in-process lock.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/autoprov/autoprov/server/provision"
)

// Errors the store returns, wrapped with context.
var (
	// ErrNotFound: no such row.
	ErrNotFound = provision.ErrNotFound
	// ErrConflict: a unique key (MAC, extension, profile name) is taken, or a row is in use.
	ErrConflict = provision.ErrConflict
)

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	db *gorm.DB
}

// Open opens (and migrates) the database named by dsn. An empty dsn or a
// path means a SQLite file; "sqlite:<path>" is accepted too. PostgreSQL
// DSNs are recognised and refused with a clear message until that backend
// lands.
func Open(dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"), strings.Contains(dsn, "host="):
		return nil, errors.New("PostgreSQL is not supported by this build yet; use a SQLite file path for --db")
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
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
	// not deadlock upgrading a read lock.
	full := "file:" + path + "?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL"
	db, err := gorm.Open(sqlite.Open(full), &gorm.Config{
		Logger:         logger.Discard,
		TranslateError: true,
		// Phones fetch the same few statements over and over: prepare them
		// once. Single statements need no transaction of their own; the
		// multi-statement changes open theirs explicitly.
		PrepareStmt:            true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate() error {
	return s.db.AutoMigrate(&settingsRow{}, &accountRow{}, &deviceRow{}, &deviceAccountRow{}, &keyProfileRow{}, &auditRow{})
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database answers.
func (s *Store) Ping() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Ping()
}

func wrap(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, a...)
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", msg, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w", msg, ErrConflict)
	}
	return fmt.Errorf("%s: %w", msg, err)
}
