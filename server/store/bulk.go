package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/autoprov/autoprov"
)

// bulkChunk is how many rows one multi-row INSERT carries and how many
// keys one IN list holds: a device row has about 35 columns, so 500 rows
// stay under SQLite's 32,766 bound parameters (PostgreSQL: 65,535).
const bulkChunk = 500

// rowByRow is ctx without its cancellation, for the statements of a bulk
// change: mattn/go-sqlite3 runs each step of a statement whose context can
// be cancelled on a goroutine of its own (a goroutine and two channel
// handoffs for every row read and every statement executed, a good part
// of a bulk change's CPU). Callers check ctx between batches instead
// (checked), so a cancelled request still stops within a batch; inside a
// transaction, database/sql rolls it back as soon as ctx ends.
func rowByRow(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// checked calls f with each batch (chunks) and a context without
// cancellation (rowByRow), stopping with ctx's error once ctx ends.
func checked[T any](ctx context.Context, all []T, f func(quiet context.Context, part []T) error) error {
	quiet := rowByRow(ctx)
	return chunks(all, func(part []T) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return f(quiet, part)
	})
}

// insertRows and insertParams bound the rows one INSERT of insertAll
// carries and the parameters it binds (SQLite takes at most 32,766,
// PostgreSQL 65,535). Longer statements save nothing: a statement of
// thousands of rows takes SQLite longer to prepare than it saves.
const (
	insertRows   = 500
	insertParams = 30_000
)

// insertAll inserts rows (of one row type of rows.go) with multi-row
// INSERTs of up to insertRows rows, each statement shape
// prepared once on tx's connection. The columns and their values are what
// GORM's Create writes (serializers included), without the auto-increment
// id and without RETURNING: GORM's CreateInBatches re-reads every row and
// re-parses every batch, which made it most of a bulk change's time.
// CreatedAt and UpdatedAt are written as given. A column with the same
// value in every row (times of the change, states, empty fields) is bound
// once per statement, as a numbered parameter every row names (?1 on
// SQLite, $1 on PostgreSQL): binding is a good part of the cost.
func insertAll[T any](ctx context.Context, tx *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(&rows[0]); err != nil {
		return err
	}
	var fields []*schema.Field
	for _, f := range stmt.Schema.Fields {
		if f.DBName != "" && !(f.PrimaryKey && f.AutoIncrement) {
			fields = append(fields, f)
		}
	}
	// The columns whose value is the same in every row come first.
	first := reflect.ValueOf(&rows[0]).Elem()
	var consts []any
	var constFields, varying []*schema.Field
	for _, f := range fields {
		v, _ := f.ValueOf(ctx, first)
		same := true
		for i := 1; i < len(rows) && same; i++ {
			w, _ := f.ValueOf(ctx, reflect.ValueOf(&rows[i]).Elem())
			same = sameValue(v, w)
		}
		if same {
			consts = append(consts, v)
			constFields = append(constFields, f)
		} else {
			varying = append(varying, f)
		}
	}
	var cols []string
	for _, f := range append(constFields, varying...) {
		cols = append(cols, stmt.Quote(f.DBName))
	}
	perStmt := min(len(rows), insertRows)
	if len(varying) > 0 {
		perStmt = min(perStmt, (insertParams-len(consts))/len(varying))
	}
	postgres := tx.Dialector.Name() == "postgres"
	prepared := map[int]*sql.Stmt{} // by rows per statement
	defer func() {
		for _, st := range prepared {
			st.Close()
		}
	}()
	// Every row names the constants' parameters 1..len(consts), then binds
	// its own. SQLite: the constants as ?1.. (each row's first ones, so
	// they are numbered before any plain ?), the others as plain ?: a
	// statement with many ?NNN takes SQLite quadratic time to prepare.
	sqlOf := func(n int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + stmt.Quote(stmt.Schema.Table) + " (" + strings.Join(cols, ",") + ") VALUES ")
		writeTuples(&b, n, len(cols), func(i, j int) string {
			switch {
			case j >= len(consts):
				return param(postgres, len(consts)+i*len(varying)+j-len(consts)+1)
			case postgres:
				return param(true, j+1)
			default:
				return "?" + strconv.Itoa(j+1)
			}
		})
		return b.String()
	}
	args := make([]any, 0, insertParams)
	for start := 0; start < len(rows); start += perStmt {
		part := rows[start:min(start+perStmt, len(rows))]
		args = append(args[:0], consts...)
		for i := range part {
			rv := reflect.ValueOf(&part[i]).Elem()
			for _, f := range varying {
				v, _ := f.ValueOf(ctx, rv)
				args = append(args, v)
			}
		}
		st, ok := prepared[len(part)]
		if !ok {
			var err error
			if st, err = tx.Statement.ConnPool.PrepareContext(ctx, sqlOf(len(part))); err != nil {
				return err
			}
			prepared[len(part)] = st
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := st.ExecContext(rowByRow(ctx), args...); err != nil {
			if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok {
				return t.Translate(err)
			}
			return err
		}
	}
	return nil
}

// updateEach writes cols of every row (of one row type of rows.go) with
// one UPDATE ... WHERE key = ? per row, a statement prepared once on tx's
// connection (GORM's Updates in a transaction prepares its statement again
// on every call, and the change-log triggers make that a large program),
// with GORM's own column values (serializers included). A row that does not
// exist is ErrNotFound, named by its key.
func updateEach[T any](ctx context.Context, tx *gorm.DB, rows []T, key string, cols ...string) error {
	if len(rows) == 0 {
		return nil
	}
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(&rows[0]); err != nil {
		return err
	}
	fields := make([]*schema.Field, 0, len(cols)+1)
	sets := make([]string, 0, len(cols))
	postgres := tx.Dialector.Name() == "postgres"
	for _, c := range append(cols, key) {
		f := stmt.Schema.LookUpField(c)
		if f == nil {
			return fmt.Errorf("no column %s in %s", c, stmt.Schema.Table)
		}
		fields = append(fields, f)
		if c != key {
			sets = append(sets, stmt.Quote(c)+" = "+param(postgres, len(fields)))
		}
	}
	if postgres {
		return updateBatched(ctx, tx, stmt, rows, fields)
	}
	q := "UPDATE " + stmt.Quote(stmt.Schema.Table) + " SET " + strings.Join(sets, ", ") +
		" WHERE " + stmt.Quote(key) + " = " + param(postgres, len(fields))
	st, err := tx.Statement.ConnPool.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer st.Close()
	args := make([]any, len(fields))
	quiet := rowByRow(ctx)
	for i := range rows {
		if i%bulkChunk == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rv := reflect.ValueOf(&rows[i]).Elem()
		for j, f := range fields {
			args[j], _ = f.ValueOf(ctx, rv)
		}
		res, err := st.ExecContext(quiet, args...)
		if err != nil {
			if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok {
				err = t.Translate(err)
			}
			return wrap(err, "%s %v", stmt.Schema.Table, args[len(args)-1])
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%s %v: %w", stmt.Schema.Table, args[len(args)-1], ErrNotFound)
		}
	}
	return nil
}

// updateBatched is updateEach on PostgreSQL, where each statement is a
// round trip to the server: one UPDATE ... FROM (VALUES ...) per
// bulkChunk rows, each value cast to its column's type (as the catalog
// names it; an untyped VALUES column would be text). fields are the
// columns to set, then the key. A row that does not exist is ErrNotFound.
func updateBatched[T any](ctx context.Context, tx *gorm.DB, stmt *gorm.Statement, rows []T, fields []*schema.Field) error {
	table := stmt.Schema.Table
	var types []string
	for _, f := range fields {
		var typ string
		err := tx.Raw("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?",
			table, f.DBName).Row().Scan(&typ)
		if err != nil {
			return fmt.Errorf("the type of %s.%s: %w", table, f.DBName, err)
		}
		types = append(types, typ)
	}
	key := fields[len(fields)-1]
	names := make([]string, len(fields))
	sets := make([]string, 0, len(fields)-1)
	for i, f := range fields {
		names[i] = stmt.Quote(f.DBName)
		if i < len(fields)-1 {
			sets = append(sets, names[i]+" = v."+names[i])
		}
	}
	sqlOf := func(n int) string {
		var b strings.Builder
		b.WriteString("UPDATE " + stmt.Quote(table) + " SET " + strings.Join(sets, ", ") + " FROM (VALUES ")
		writeTuples(&b, n, len(fields), func(i, j int) string {
			return param(true, i*len(fields)+j+1) + "::" + types[j]
		})
		b.WriteString(") AS v(" + strings.Join(names, ",") + ") WHERE " + stmt.Quote(table) + "." + names[len(names)-1] + " = v." + names[len(names)-1])
		return b.String()
	}
	args := make([]any, 0, bulkChunk*len(fields))
	return chunks(rows, func(part []T) error {
		args = args[:0]
		for i := range part {
			rv := reflect.ValueOf(&part[i]).Elem()
			for _, f := range fields {
				v, _ := f.ValueOf(ctx, rv)
				args = append(args, v)
			}
		}
		res, err := tx.Statement.ConnPool.ExecContext(ctx, sqlOf(len(part)), args...)
		if err != nil {
			if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok {
				err = t.Translate(err)
			}
			return wrap(err, "%s", table)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(part)) {
			first, _ := key.ValueOf(ctx, reflect.ValueOf(&part[0]).Elem())
			return fmt.Errorf("%s: %d of %d rows from %v found: %w", table, n, len(part), first, ErrNotFound)
		}
		return nil
	})
}

// writeTuples writes n rows of cols values each, "(a,b),(c,d)", the value
// of row i (from 0) and column j being cell(i, j).
func writeTuples(b *strings.Builder, n, cols int, cell func(i, j int) string) {
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(cell(i, j))
		}
		b.WriteByte(')')
	}
}

// sameValue reports whether a and b, values of one column as GORM's
// ValueOf gives them, are the same value of a kind insertAll may bind once:
// strings, booleans, integers, times and pointers to them; any other kind
// (a serializer, a slice) is taken as different.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case string, bool, int, int64, uint, uint64, time.Time:
		return a == b
	case *time.Time:
		y, ok := b.(*time.Time)
		return ok && (x == y || x != nil && y != nil && *x == *y)
	case *bool:
		y, ok := b.(*bool)
		return ok && (x == y || x != nil && y != nil && *x == *y)
	}
	return false
}

// setColumns sets the fields of row r that cols names by column, as an
// UPDATE with cols would.
func setColumns[T any](ctx context.Context, tx *gorm.DB, r *T, cols map[string]any) error {
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(r); err != nil {
		return err
	}
	rv := reflect.ValueOf(r).Elem()
	for col, v := range cols {
		f := stmt.Schema.LookUpField(col)
		if f == nil {
			return fmt.Errorf("no column %s in %s", col, stmt.Schema.Table)
		}
		if err := f.Set(ctx, rv, v); err != nil {
			return fmt.Errorf("set %s: %w", col, err)
		}
	}
	return nil
}

// withWindow copies the columns of the window (those windowColumns names)
// from opened, a row setColumns gave them, into r.
func withWindow(r, opened *deviceRow) {
	r.DisclosureState, r.OpenedAt, r.ExpiresAt, r.DisclosedAt = opened.DisclosureState, opened.OpenedAt, opened.ExpiresAt, opened.DisclosedAt
	r.DisclosedIP, r.DisclosedUA, r.ReservedBy, r.ReservedUntil = opened.DisclosedIP, opened.DisclosedUA, opened.ReservedBy, opened.ReservedUntil
	r.DisclosureComplete = opened.DisclosureComplete
	r.CredentialState, r.CredentialPassword = opened.CredentialState, opened.CredentialPassword
	r.CredentialIssuedAt, r.CredentialAppliedAt = opened.CredentialIssuedAt, opened.CredentialAppliedAt
}

// chunks calls f with consecutive parts of at most bulkChunk elements.
func chunks[T any](all []T, f func([]T) error) error {
	for start := 0; start < len(all); start += bulkChunk {
		if err := f(all[start:min(start+bulkChunk, len(all))]); err != nil {
			return err
		}
	}
	return nil
}

// DevicesToEdit returns those of macs that exist, by MAC, with their
// accounts and the fields an admin edits (vendor, model, label, state, key
// profile, keys, overrides, params, menu and web passwords opened,
// tftp_allowed): what a bulk change merges its rows into. The other
// fields (sightings, window, credential, onboarding, times) are not read:
// their 25 columns, parsed for 100,000 devices, were most of the cost.
func (s *Store) DevicesToEdit(ctx context.Context, macs []string) (map[string]autoprov.Device, error) {
	out := make(map[string]autoprov.Device, len(macs))
	stored, err := readEditable(s.db.WithContext(ctx), macs)
	if err != nil || len(stored) == 0 {
		return out, err
	}
	found := make([]string, 0, len(stored))
	for mac := range stored {
		found = append(found, mac)
	}
	slices.Sort(found)
	exts, err := s.accountsOf(rowByRow(ctx), found)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	for _, mac := range found {
		e := stored[mac]
		r := deviceRow{MAC: e.MAC, Vendor: e.Vendor, Model: e.Model, Label: e.Label, State: e.State, KeyProfile: e.KeyProfile,
			MenuPassword: e.MenuPassword, WebPassword: e.WebPassword, TFTPAllowed: e.TFTPAllowed}
		// As GORM's JSON serializer reads them: NULL or empty is no value.
		for _, c := range []struct {
			text sql.NullString
			into any
		}{{e.Keys, &r.Keys}, {e.Overrides, &r.Overrides}, {e.Params, &r.Params}} {
			if c.text.Valid && c.text.String != "" {
				if err := json.Unmarshal([]byte(c.text.String), c.into); err != nil {
					return nil, fmt.Errorf("device %s: %w", mac, err)
				}
			}
		}
		if r.MenuPassword, err = s.open(colMenuPassword, mac, r.MenuPassword); err != nil {
			return nil, err
		}
		if r.WebPassword, err = s.open(colWebPassword, mac, r.WebPassword); err != nil {
			return nil, err
		}
		out[mac] = r.domain(exts[mac])
	}
	return out, nil
}

// DevicesUsingAccounts lists the MACs of the devices that carry any of
// exts, each once, in MAC order.
func (s *Store) DevicesUsingAccounts(ctx context.Context, exts []string) ([]string, error) {
	var macs []string
	err := checked(ctx, exts, func(quiet context.Context, part []string) error {
		var got []string
		err := s.db.WithContext(quiet).Model(&deviceAccountRow{}).
			Joins("JOIN accounts ON accounts.id = device_accounts.account_id").
			Where("accounts.extension IN ?", part).Distinct().Pluck("device_mac", &got).Error
		macs = append(macs, got...)
		return wrap(err, "devices of accounts")
	})
	slices.Sort(macs)
	return slices.Compact(macs), err
}

// deviceEditable are the columns of a device an admin changes, those
// WriteDevice writes on an update (with updated_at), in the order
// editableRow scans them.
var deviceEditable = []string{"vendor", "model", "label", "state", "key_profile", "keys", "overrides", "params", "menu_password", "web_password", "tftp_allowed"}

// editableRow is a device's deviceEditable columns as stored: the text
// of each (serialized JSON for keys, overrides, params; the secrets as
// sealed), as a bulk change reads them to compare.
type editableRow struct {
	MAC                                     string
	Vendor, Model, Label, State, KeyProfile string
	Keys, Overrides, Params                 sql.NullString
	MenuPassword, WebPassword               string
	TFTPAllowed                             bool
}

// readEditable reads the editableRow of those of macs that exist.
func readEditable(tx *gorm.DB, macs []string) (map[string]*editableRow, error) {
	out := make(map[string]*editableRow, len(macs))
	err := checked(tx.Statement.Context, macs, func(quiet context.Context, part []string) error {
		rows, err := tx.WithContext(quiet).Raw("SELECT mac, "+strings.Join(deviceEditable, ", ")+" FROM devices WHERE mac IN ?", part).Rows()
		if err != nil {
			return wrap(err, "devices")
		}
		defer rows.Close()
		for rows.Next() {
			var e editableRow
			if err := rows.Scan(&e.MAC, &e.Vendor, &e.Model, &e.Label, &e.State, &e.KeyProfile, &e.Keys, &e.Overrides, &e.Params,
				&e.MenuPassword, &e.WebPassword, &e.TFTPAllowed); err != nil {
				return wrap(err, "devices")
			}
			out[e.MAC] = &e
		}
		return wrap(rows.Err(), "devices")
	})
	return out, err
}

// lineRow is a row of device_accounts as insertAll writes it: the columns
// of deviceAccountRow without its relations (a deviceRow and an accountRow
// in every row, 100,000 rows per bulk change).
type lineRow struct {
	DeviceMAC string `gorm:"primaryKey"`
	Position  int    `gorm:"primaryKey"`
	AccountID uint
}

func (lineRow) TableName() string { return "device_accounts" }

// readLines reads the lines of those of macs that have any: the account
// ids by MAC, line 1 first (0 for a line not at the position that follows
// the one before, which no id equals).
func readLines(tx *gorm.DB, macs []string) (map[string][]uint, error) {
	out := make(map[string][]uint, len(macs))
	err := checked(tx.Statement.Context, macs, func(quiet context.Context, part []string) error {
		rows, err := tx.WithContext(quiet).Raw("SELECT device_mac, position, account_id FROM device_accounts WHERE device_mac IN ? ORDER BY device_mac, position", part).Rows()
		if err != nil {
			return wrap(err, "device accounts")
		}
		defer rows.Close()
		for rows.Next() {
			var mac string
			var pos int
			var id uint
			if err := rows.Scan(&mac, &pos, &id); err != nil {
				return wrap(err, "device accounts")
			}
			if pos != len(out[mac])+1 {
				id = 0 // not as the bulk change writes lines: rewritten
			}
			out[mac] = append(out[mac], id)
		}
		return wrap(rows.Err(), "device accounts")
	})
	return out, err
}

// changedColumns lists the columns of deviceEditable whose value in r (as
// fillWith made it, secrets sealed; plain holds its menu and web passwords
// before sealing) differs from old's, and updated_at: what an UPDATE of all
// of them would change. A column is the same when the text GORM would
// write (a serialized column: its JSON) is the stored text, a secret when
// the stored one opens to the same plain text; anything else, a NULL too,
// is written.
func (s *Store) changedColumns(ctx context.Context, tx *gorm.DB, old *editableRow, r *deviceRow, plain [2]string) ([]string, error) {
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(r); err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(r).Elem()
	serialized := func(col string, was sql.NullString) (bool, error) {
		v, _ := stmt.Schema.LookUpField(col).ValueOf(ctx, rv)
		valuer, ok := v.(driver.Valuer)
		if !ok {
			return false, nil
		}
		dv, err := valuer.Value()
		if err != nil {
			return false, err
		}
		text, ok := dv.(string)
		return ok && was.Valid && was.String == text, nil
	}
	cols := make([]string, 0, len(deviceEditable)+1)
	for _, c := range deviceEditable {
		var same bool
		var err error
		switch c {
		case "vendor":
			same = old.Vendor == r.Vendor
		case "model":
			same = old.Model == r.Model
		case "label":
			same = old.Label == r.Label
		case "state":
			same = old.State == r.State
		case "key_profile":
			same = old.KeyProfile == r.KeyProfile
		case "keys":
			same, err = serialized(c, old.Keys)
		case "overrides":
			same, err = serialized(c, old.Overrides)
		case "params":
			same, err = serialized(c, old.Params)
		case "menu_password", "web_password":
			col, was, now := colMenuPassword, old.MenuPassword, plain[0]
			if c == "web_password" {
				col, was, now = colWebPassword, old.WebPassword, plain[1]
			}
			var opened string
			opened, err = s.open(col, old.MAC, was)
			same = opened == now
		case "tftp_allowed":
			same = old.TFTPAllowed == r.TFTPAllowed
		}
		if err != nil {
			return nil, err
		}
		if !same {
			cols = append(cols, c)
		}
	}
	return append(cols, "updated_at"), nil
}

// bulkPause is how many devices a bulk change writes from which it logs
// one change, "everything", instead of one per device (migration 14). A
// bulk change that writes an account logs "everything" anyway.
const bulkPause = 1000

// WriteBulk makes a bulk change in one transaction, all or nothing (see
// autoprov.BulkWrite): multi-row INSERTs for what is new, one UPDATE per
// changed row, one UPDATE per bulkChunk MACs for the windows (every window
// of one bulk change opens at the same instant for the same length), and
// the audit rows last, in multi-row INSERTs. An existing MAC or extension
// among the rows to create, or a device to adopt that was adopted
// meanwhile, is ErrConflict. A change of accounts or of bulkPause devices
// or more logs one change, "everything", with the change-log triggers
// paused meanwhile (migration 14): every phone cache drops all it holds.
func (s *Store) WriteBulk(ctx context.Context, w autoprov.BulkWrite) error {
	pause := len(w.Accounts) > 0 || len(w.Devices) >= bulkPause
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !pause {
			return s.writeBulk(ctx, tx, w)
		}
		logAll := "INSERT INTO changes (mac) VALUES ('')"
		if s.postgres {
			logAll = "SELECT autoprov_change('')"
		}
		if err := tx.Exec(logAll).Error; err != nil {
			return wrap(err, "log the change")
		}
		if err := tx.Exec("INSERT INTO changes_paused (id) VALUES (1)").Error; err != nil {
			return wrap(err, "pause the change log")
		}
		if err := s.writeBulk(ctx, tx, w); err != nil {
			return err
		}
		return wrap(tx.Exec("DELETE FROM changes_paused").Error, "resume the change log")
	})
}

// writeBulk is WriteBulk's transaction.
func (s *Store) writeBulk(ctx context.Context, tx *gorm.DB, w autoprov.BulkWrite) error {
	at := w.At.UTC()
	now := s.db.NowFunc()
	keys := s.keys.Refresh() // once: Refresh stats the keyring file
	newAccounts := make([]accountRow, 0, len(w.Accounts))
	var changedAccounts []accountRow
	for _, aw := range w.Accounts {
		a := aw.Account
		r := accountRow{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, Password: a.Password, PasswordGenerated: a.PasswordGenerated, CreatedAt: now, UpdatedAt: now}
		sealAccountWith(keys, &r)
		if aw.Create {
			newAccounts = append(newAccounts, r)
			continue
		}
		r.UpdatedAt = at
		changedAccounts = append(changedAccounts, r)
	}
	if err := updateEach(ctx, tx, changedAccounts, "extension", "display_name", "auth_user", "password", "password_generated", "updated_at"); err != nil {
		return wrap(err, "update accounts")
	}
	if err := insertAll(ctx, tx, newAccounts); err != nil {
		return wrap(err, "create accounts")
	}

	// A new device's row starts as created, or with its window opened
	// right here (as windowColumns says).
	created := deviceRow{Keys: []storedKey{}, CredentialState: autoprov.CredentialNone, CreatedAt: now, UpdatedAt: now}
	opened := created
	if err := setColumns(ctx, tx, &opened, windowColumns(at, w.Window)); err != nil {
		return err
	}
	newDevices := make([]deviceRow, 0, len(w.Devices))
	updates := 0
	for _, dw := range w.Devices {
		if !dw.Create {
			updates++
		}
	}
	var adopt, windows []string
	changed := make([]string, 0, updates)
	changedDevices := make([]deviceRow, 0, updates) // a deviceRow is large: no growing
	plain := make([][2]string, 0, updates)          // their menu and web passwords, not sealed
	exts := make([]string, 0, len(w.Devices))
	events := make([]autoprov.AuditEvent, 0, 2*len(w.Devices))
	for _, dw := range w.Devices {
		d := dw.Device
		exts = append(exts, d.Accounts...)
		events = append(events, dw.Audit...)
		if dw.Create {
			r := created
			if dw.Window > 0 {
				r = opened
				events = append(events, openedEvent(d.MAC, at, w.Window, w.Actor))
			}
			r.MAC = d.MAC
			fillWith(keys, &r, d)
			newDevices = append(newDevices, r)
			continue
		}
		// The admin-editable columns, as WriteDevice's PATCH writes them.
		r := deviceRow{MAC: d.MAC, UpdatedAt: now}
		fillWith(keys, &r, d)
		changedDevices = append(changedDevices, r)
		plain = append(plain, [2]string{d.MenuPassword, d.WebPassword})
		changed = append(changed, d.MAC)
		if dw.Adopt {
			adopt = append(adopt, d.MAC)
		}
		if dw.Window > 0 {
			windows = append(windows, d.MAC)
		}
	}
	// The devices to change must exist, those to adopt still unassigned:
	// their stored columns are read in batches, before anything of them is
	// written, and each is written with the columns whose value changes
	// (an indexed column written is an index entry rewritten), one
	// prepared UPDATE per set of columns.
	stored, err := readEditable(tx, changed)
	if err != nil {
		return err
	}
	for _, mac := range changed {
		if stored[mac] == nil {
			return notFound("device %s", mac)
		}
	}
	for _, mac := range adopt {
		if stored[mac].State != autoprov.StateUnassigned {
			return autoprov.Conflict("device %s was adopted meanwhile", mac)
		}
	}
	// The windows: those of the devices written, then those of the
	// devices whose accounts' credentials changed. A device updated here
	// gets its window in the same UPDATE.
	seen := map[string]bool{}
	for _, mac := range append(windows, w.Windows...) {
		if !seen[mac] {
			seen[mac] = true
			events = append(events, openedEvent(mac, at, w.Window, w.Actor))
		}
	}
	winCols := windowColumns(at, w.Window)
	winNames := make([]string, 0, len(winCols))
	for c := range winCols {
		winNames = append(winNames, c)
	}
	slices.Sort(winNames)
	var win deviceRow // only the window's columns set
	if err := setColumns(ctx, tx, &win, winCols); err != nil {
		return err
	}
	// The rows grouped by their set of columns, each group allocated once.
	keyOf := make([]string, len(changedDevices))
	count := map[string]int{}
	for i := range changedDevices {
		r := &changedDevices[i]
		cols, err := s.changedColumns(ctx, tx, stored[r.MAC], r, plain[i])
		if err != nil {
			return err
		}
		if seen[r.MAC] {
			withWindow(r, &win)
			cols = append(cols, winNames...)
			delete(seen, r.MAC) // opened
		}
		keyOf[i] = strings.Join(cols, ",")
		count[keyOf[i]]++
	}
	byCols := make(map[string][]deviceRow, len(count))
	for i := range changedDevices {
		if byCols[keyOf[i]] == nil {
			byCols[keyOf[i]] = make([]deviceRow, 0, count[keyOf[i]])
		}
		byCols[keyOf[i]] = append(byCols[keyOf[i]], changedDevices[i])
	}
	for key, rows := range byCols {
		if err := updateEach(ctx, tx, rows, "mac", strings.Split(key, ",")...); err != nil {
			return wrap(err, "update devices")
		}
	}
	if err := insertAll(ctx, tx, newDevices); err != nil {
		return wrap(err, "create devices")
	}

	// The devices' lines, by account id.
	slices.Sort(exts)
	ids := make(map[string]uint, len(exts))
	err = checked(ctx, slices.Compact(exts), func(quiet context.Context, part []string) error {
		rows, err := tx.WithContext(quiet).Raw("SELECT id, extension FROM accounts WHERE extension IN ?", part).Rows()
		if err != nil {
			return wrap(err, "accounts")
		}
		defer rows.Close()
		for rows.Next() {
			var id uint
			var ext string
			if err := rows.Scan(&id, &ext); err != nil {
				return wrap(err, "accounts")
			}
			ids[ext] = id
		}
		return wrap(rows.Err(), "accounts")
	})
	if err != nil {
		return err
	}
	// The lines of a changed device are rewritten only when they change
	// (most updates keep them): those are deleted, then inserted again with
	// the new devices' lines.
	had, err := readLines(tx, changed)
	if err != nil {
		return err
	}
	var rewrite []string
	lines := make([]lineRow, 0, len(exts))
	for _, dw := range w.Devices {
		want := make([]uint, len(dw.Device.Accounts))
		for i, ext := range dw.Device.Accounts {
			id, ok := ids[ext]
			if !ok {
				return notFound("account %s", ext)
			}
			want[i] = id
		}
		if !dw.Create {
			if slices.Equal(had[dw.Device.MAC], want) {
				continue
			}
			rewrite = append(rewrite, dw.Device.MAC)
		}
		for i, id := range want {
			lines = append(lines, lineRow{DeviceMAC: dw.Device.MAC, Position: i + 1, AccountID: id})
		}
	}
	err = chunks(rewrite, func(part []string) error {
		return wrap(tx.Where("device_mac IN ?", part).Delete(&deviceAccountRow{}).Error, "device accounts")
	})
	if err != nil {
		return err
	}
	if err := insertAll(ctx, tx, lines); err != nil {
		return wrap(err, "device accounts")
	}

	// The windows of the devices not updated above.
	windows = windows[:0]
	for mac := range seen {
		windows = append(windows, mac)
	}
	slices.Sort(windows)
	err = chunks(windows, func(part []string) error {
		res := tx.Model(&deviceRow{}).Where("mac IN ?", part).Updates(winCols)
		if res.Error == nil && res.RowsAffected != int64(len(part)) {
			return notFound("open windows: %d of %d devices found", res.RowsAffected, len(part))
		}
		return wrap(res.Error, "open windows")
	})
	if err != nil {
		return err
	}

	audit := make([]auditRow, 0, len(w.Audit)+len(events))
	for _, e := range append(slices.Clone(w.Audit), events...) {
		if e.At.IsZero() {
			e.At = at
		}
		audit = append(audit, auditRow{At: e.At.UTC(), MAC: e.MAC, Event: e.Event, Actor: e.Actor, Detail: e.Detail})
	}
	return wrap(insertAll(ctx, tx, audit), "audit")
}
