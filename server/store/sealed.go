package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/autoprov/autoprov/internal/sealed"
)

// Secrets at rest. Every secret column holds a value sealed with
// AES-256-GCM (internal/sealed) under the current key of the store's
// keyring, bound to its table, column and row, never plain text; an empty
// value means "no secret" and stays empty. The store seals on write and
// opens on read, so nothing above it sees a sealed value.

// secretColumn is one column that holds a secret, with the column naming
// its row (immutable: it is part of the sealed value's additional data).
type secretColumn struct {
	table, column, key string
}

// secretColumns lists every secret column. A new one goes here (and is
// sealed on write and opened on read where its row is stored and loaded);
// Open then seals its existing plain-text values at the next start.
var secretColumns = []secretColumn{
	{"accounts", "password", "extension"},
	{"devices", "menu_password", "mac"},
	{"devices", "web_password", "mac"},
	{"devices", "credential_password", "mac"},
	{"redirect_services", "password", "name"},
}

// resealBatch is how many values one transaction seals (start-up
// migration and rotation).
const resealBatch = 500

// Option configures Open.
type Option func(*Store)

// WithKeys sets the keyring the store seals and opens secrets with: a
// fixed *sealed.Keyring, or a *sealed.File that picks up a rotation. Without
// it the store uses a random key of its own, which nothing else can read:
// for tests that open a database once.
func WithKeys(src sealed.Source) Option {
	return func(s *Store) { s.keys = src }
}

// KeyMismatchError is returned by Open when the database holds sealed
// secrets and the keyring opens none of them: the instance was started
// with the wrong key. Nothing was written.
type KeyMismatchError struct {
	Sealed int      // how many sealed values the database holds
	KeyIDs []string // the key ids they were sealed under
	Ring   []string // the ids of the keyring given
}

// Error says what is wrong and what to do, naming key ids only.
func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("the secret keyring (key ids %s) opens none of the %d sealed secrets in the database (sealed under key ids %s): "+
		"start with the keyring they were sealed with (<data>/secret.key or AUTOPROV_SECRET_KEY, e.g. from a backup); "+
		"refusing to start rather than write secrets the other keys cannot read",
		strings.Join(e.Ring, ", "), e.Sealed, strings.Join(e.KeyIDs, ", "))
}

// adOf is the additional data a secret is sealed with: where it lives.
func adOf(c secretColumn, row string) string {
	return c.table + "." + c.column + "\x00" + row
}

// seal seals a secret for column c of row; "" stays "".
func (s *Store) seal(c secretColumn, row, plain string) string {
	if plain == "" {
		return ""
	}
	return sealWith(s.keys.Refresh(), c, row, plain)
}

// sealWith seals as seal does, with the keyring k: a bulk change reads
// the keyring file's state once (Refresh stats the file), not once per
// secret.
func sealWith(k *sealed.Keyring, c secretColumn, row, plain string) string {
	if plain == "" {
		return ""
	}
	return k.Seal(plain, adOf(c, row))
}

// open opens a secret of column c of row. A value that is not sealed
// (written by an older autoprov still running beside this one) is
// returned as it is; the next start seals it.
func (s *Store) open(c secretColumn, row, v string) (string, error) {
	if v == "" || !sealed.IsSealed(v) {
		return v, nil
	}
	plain, err := s.keys.Ring().Open(v, adOf(c, row))
	if errors.Is(err, sealed.ErrUnknownKey) {
		plain, err = s.keys.Refresh().Open(v, adOf(c, row)) // rotated on disk meanwhile?
	}
	if err != nil {
		return "", fmt.Errorf("%s.%s of %s: %w", c.table, c.column, row, err)
	}
	return plain, nil
}

var (
	colAccountPassword = secretColumns[0]
	colMenuPassword    = secretColumns[1]
	colWebPassword     = secretColumns[2]
	colCredPassword    = secretColumns[3]
	// colRedirectPassword is a redirect service's password (migration 8).
	colRedirectPassword = secretColumns[4]
)

// sealAccount seals the secrets of an account row in place.
func (s *Store) sealAccount(r *accountRow) { sealAccountWith(s.keys.Refresh(), r) }

// sealAccountWith is sealAccount with the keyring k.
func sealAccountWith(k *sealed.Keyring, r *accountRow) {
	r.Password = sealWith(k, colAccountPassword, r.Extension, r.Password)
}

// openAccount opens an account row's secrets in place.
func (s *Store) openAccount(r *accountRow) (err error) {
	r.Password, err = s.open(colAccountPassword, r.Extension, r.Password)
	return err
}

// sealDeviceWith seals the secrets of a device row in place with the
// keyring k.
func sealDeviceWith(k *sealed.Keyring, r *deviceRow) {
	r.MenuPassword = sealWith(k, colMenuPassword, r.MAC, r.MenuPassword)
	r.WebPassword = sealWith(k, colWebPassword, r.MAC, r.WebPassword)
	r.CredentialPassword = sealWith(k, colCredPassword, r.MAC, r.CredentialPassword)
}

// openDevice opens a device row's secrets in place.
func (s *Store) openDevice(r *deviceRow) (err error) {
	if r.MenuPassword, err = s.open(colMenuPassword, r.MAC, r.MenuPassword); err != nil {
		return err
	}
	if r.WebPassword, err = s.open(colWebPassword, r.MAC, r.WebPassword); err != nil {
		return err
	}
	r.CredentialPassword, err = s.open(colCredPassword, r.MAC, r.CredentialPassword)
	return err
}

// SealCounts says how the secret columns are stored: how many values are
// sealed under each key id, and how many are still plain text (empty
// values are no secret and not counted).
func (s *Store) SealCounts(ctx context.Context) (byKey map[string]int, plain int, err error) {
	return sealCounts(s.db.WithContext(ctx), secretColumns)
}

func sealCounts(db *gorm.DB, cols []secretColumn) (map[string]int, int, error) {
	byKey := map[string]int{}
	plain := 0
	for _, c := range cols {
		var rows []struct {
			ID string
			N  int
		}
		// SUBSTR and LIKE read the same on SQLite and PostgreSQL: the key
		// id is the 8 characters after "v1:".
		err := db.Raw(fmt.Sprintf(`SELECT SUBSTR(%[1]s, 4, 8) AS id, COUNT(*) AS n FROM %[2]s WHERE %[1]s LIKE 'v1:%%' GROUP BY SUBSTR(%[1]s, 4, 8)`, c.column, c.table)).
			Scan(&rows).Error
		if err != nil {
			return nil, 0, fmt.Errorf("count sealed %s.%s: %w", c.table, c.column, err)
		}
		for _, r := range rows {
			byKey[r.ID] += r.N
		}
		var n int64
		if err := db.Table(c.table).Where(plainText(c)).Count(&n).Error; err != nil {
			return nil, 0, fmt.Errorf("count plain %s.%s: %w", c.table, c.column, err)
		}
		plain += int(n)
	}
	return byKey, plain, nil
}

// plainText is the condition of c's values still in plain text: the very
// text of the predicate of c's partial index (migration 13), so that both
// databases answer it from that index, which is empty once every value is
// sealed, instead of reading every row.
func plainText(c secretColumn) string {
	return c.column + " <> '' AND " + c.column + " NOT LIKE 'v1:%'"
}

// checkKeys refuses a keyring that opens none of the sealed values in the
// database (a wrong key), before anything is written with it. It stops at
// the first sealed value under a key of the ring that the ring opens (one
// row read, on a database sealed with it); only when there is none does
// it count every sealed value, to start anyway (no sealed value, or one
// under a key of the ring that did not open: the old rule) or to say what
// the database holds.
func (s *Store) checkKeys(ctx context.Context, cols []secretColumn) error {
	ring := s.keys.Refresh()
	db := s.db.WithContext(ctx)
	for _, c := range cols {
		var rows []struct{ RowID, Value string }
		// SUBSTR reads the same on SQLite and PostgreSQL: the key id is
		// the 8 characters after "v1:".
		err := db.Raw(fmt.Sprintf(`SELECT %[1]s AS row_id, %[2]s AS value FROM %[3]s WHERE %[2]s LIKE 'v1:%%' AND SUBSTR(%[2]s, 4, 8) IN ? LIMIT 1`, c.key, c.column, c.table), ring.IDs()).
			Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("read sealed %s.%s: %w", c.table, c.column, err)
		}
		if len(rows) == 1 {
			if _, err := ring.Open(rows[0].Value, adOf(c, rows[0].RowID)); err == nil {
				return nil
			}
		}
	}
	byKey, _, err := sealCounts(db, cols)
	if err != nil {
		return err
	}
	total := 0
	var ids []string
	for id, n := range byKey {
		total += n
		ids = append(ids, id)
		if ring.Has(id) {
			return nil
		}
	}
	if total == 0 {
		return nil
	}
	slices.Sort(ids)
	return &KeyMismatchError{Sealed: total, KeyIDs: ids, Ring: ring.IDs()}
}

// pendingValue is a secret that is to be (re-)sealed under the current key.
type pendingValue struct {
	col      secretColumn
	row, old string
}

// pending lists the secrets not sealed under the current key: plain
// ones, and with all set, those sealed under older keys too.
func pending(db *gorm.DB, current string, all bool) ([]pendingValue, error) {
	var out []pendingValue
	for _, c := range secretColumns {
		var rows []struct{ RowID, Old string }
		if err := pendingQuery(db, c, current, all).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
		}
		for _, r := range rows {
			out = append(out, pendingValue{col: c, row: r.RowID, old: r.Old})
		}
	}
	return out, nil
}

// pendingQuery selects c's values that pending lists (row_id, old), by
// row. The plain ones alone are answered by c's partial index (migration 13).
func pendingQuery(db *gorm.DB, c secretColumn, current string, all bool) *gorm.DB {
	q := db.Table(c.table).Select(c.key + " AS row_id, " + c.column + " AS old")
	if all {
		q = q.Where(c.column+" <> '' AND "+c.column+" NOT LIKE ?", "v1:"+current+":%")
	} else {
		q = q.Where(plainText(c))
	}
	return q.Order(c.key)
}

// ResealResult counts what Reseal did.
type ResealResult struct {
	Resealed int // values now sealed under the current key
	Changed  int // values changed by someone else meanwhile (left as they are)
	Unknown  int // values sealed under a key the keyring lacks (left as they are)
}

// Reseal seals every secret that is not sealed under the keyring's
// current key (plain text, or an older key) under it, batch values per
// transaction; each update is conditional on the old value, so a secret an
// admin changed meanwhile is left as written. progress, when not nil, is
// told after each batch how many of how many are done.
func (s *Store) Reseal(ctx context.Context, batch int, progress func(done, total int)) (ResealResult, error) {
	return s.reseal(ctx, true, batch, progress)
}

// sealPlain seals the plain-text secrets an older autoprov left: the data
// migration Open runs after the schema migrations, under their lock.
func (s *Store) sealPlain(ctx context.Context) error {
	res, err := s.reseal(ctx, false, resealBatch, nil)
	if err != nil || res.Resealed == 0 || s.postgres {
		return err
	}
	// SQLite: move the sealed pages from the WAL into the file now, so the
	// plain text (overwritten there thanks to secure_delete) is gone from
	// the disk at once, not at the next automatic checkpoint.
	// The pragma answers a row: read it, or the statement stays active on
	// its connection and that connection's next COMMIT fails.
	var busy, logPages, checkpointed int
	return s.db.WithContext(ctx).Raw("PRAGMA wal_checkpoint(TRUNCATE)").Row().Scan(&busy, &logPages, &checkpointed)
}

func (s *Store) reseal(ctx context.Context, all bool, batch int, progress func(done, total int)) (ResealResult, error) {
	var res ResealResult
	if batch <= 0 {
		batch = resealBatch
	}
	ring := s.keys.Refresh()
	todo, err := pending(s.db.WithContext(ctx), ring.Current(), all)
	if err != nil {
		return res, err
	}
	for start := 0; start < len(todo); start += batch {
		part := todo[start:min(start+batch, len(todo))]
		var step ResealResult
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			step = ResealResult{}
			for _, p := range part {
				plain := p.old
				if sealed.IsSealed(p.old) {
					var err error
					plain, err = ring.Open(p.old, adOf(p.col, p.row))
					if errors.Is(err, sealed.ErrUnknownKey) {
						step.Unknown++
						continue
					}
					if err != nil {
						return fmt.Errorf("%s.%s of %s: %w", p.col.table, p.col.column, p.row, err)
					}
				}
				r := tx.Table(p.col.table).Where(p.col.key+" = ? AND "+p.col.column+" = ?", p.row, p.old).
					UpdateColumn(p.col.column, ring.Seal(plain, adOf(p.col, p.row)))
				if r.Error != nil {
					return r.Error
				}
				if r.RowsAffected == 1 {
					step.Resealed++
				} else {
					step.Changed++
				}
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("seal secrets: %w", err)
		}
		res.Resealed += step.Resealed
		res.Changed += step.Changed
		res.Unknown += step.Unknown
		if progress != nil {
			progress(start+len(part), len(todo))
		}
	}
	return res, nil
}

// ErrBackupPostgres is returned by Backup on PostgreSQL: its backup is
// pg_dump's job (kept together with the keyring).
var ErrBackupPostgres = errors.New("backup of a PostgreSQL database: use pg_dump (e.g. pg_dump -Fc) and keep the secret keyring (<data>/secret.key or AUTOPROV_SECRET_KEY) with the dump; without it the secrets in the dump cannot be read")

// Backup writes a consistent copy of a SQLite database to path (which
// must not exist), online: VACUUM INTO reads one snapshot while the
// server goes on. The copy holds only live rows (no free pages). On
// PostgreSQL it returns ErrBackupPostgres.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.postgres {
		return ErrBackupPostgres
	}
	if err := s.db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup database: %w", err)
	}
	return nil
}

// CopySQLite writes a consistent copy of the SQLite database at path to
// out (VACUUM INTO, online), as it is: it is not opened as a store, so
// its schema is not migrated and no keyring is checked. For a backup of a
// database an older autoprov wrote (Open WithoutUpgrade refused it), which
// must stay restorable by that autoprov.
func CopySQLite(ctx context.Context, path, out string) error {
	path = strings.TrimPrefix(path, sqliteDSNPrefix)
	db, err := sql.Open(sqlite.DriverName, fmt.Sprintf("file:%s?mode=ro&_busy_timeout=%d", uriPath(path), sqliteBusy.Milliseconds()))
	if err != nil {
		return fmt.Errorf("backup database: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", out); err != nil {
		return fmt.Errorf("backup database %s: %w", path, err)
	}
	return nil
}

// Check reads the whole SQLite database with PRAGMA integrity_check and
// returns an error naming the first problems found (a damaged file, such
// as a backup with bits flipped in transit), nil when it is sound. Opening
// a database reads only its schema, so damage in a table or index shows
// only here, or when a query reaches it. On PostgreSQL, which checks its
// own pages, it is nil.
func (s *Store) Check(ctx context.Context) error {
	if s.postgres {
		return nil
	}
	rows, err := s.db.WithContext(ctx).Raw("PRAGMA integrity_check(5)").Rows()
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		problems = append(problems, p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) == 1 && problems[0] == "ok" {
		return nil
	}
	return fmt.Errorf("the database is damaged (integrity check: %s)", strings.Join(problems, "; "))
}
