package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/autoprov/autoprov"
)

// bulkChunk is how many rows one multi-row INSERT carries and how many
// keys one IN list holds: a device row has about 35 columns, so 500 rows
// stay under SQLite's 32,766 bound parameters (PostgreSQL: 65,535).
const bulkChunk = 500

// insertRows is how many rows one INSERT of insertAll carries: at most
// 31 columns (devices), so 200 rows bind 6,200 parameters.
const insertRows = 200

// insertAll inserts rows (of one row type of rows.go) with multi-row
// INSERTs of up to insertRows rows, each statement shape prepared once on
// tx's connection. The columns and their values are what GORM's Create
// writes (serializers included), without the auto-increment id and
// without RETURNING: GORM's CreateInBatches re-reads every row and
// re-parses every batch, which made it most of a bulk change's time.
// CreatedAt and UpdatedAt are written as given.
func insertAll[T any](ctx context.Context, tx *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(&rows[0]); err != nil {
		return err
	}
	var fields []*schema.Field
	var cols []string
	for _, f := range stmt.Schema.Fields {
		if f.DBName == "" || f.PrimaryKey && f.AutoIncrement {
			continue
		}
		fields = append(fields, f)
		cols = append(cols, stmt.Quote(f.DBName))
	}
	postgres := tx.Dialector.Name() == "postgres"
	prepared := map[int]*sql.Stmt{} // by rows per statement
	defer func() {
		for _, st := range prepared {
			st.Close()
		}
	}()
	sqlOf := func(n int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + stmt.Quote(stmt.Schema.Table) + " (" + strings.Join(cols, ",") + ") VALUES ")
		p := 0
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range fields {
				if j > 0 {
					b.WriteByte(',')
				}
				p++
				if postgres {
					b.WriteString("$" + strconv.Itoa(p))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	args := make([]any, 0, insertRows*len(fields))
	for start := 0; start < len(rows); start += insertRows {
		part := rows[start:min(start+insertRows, len(rows))]
		args = args[:0]
		for i := range part {
			rv := reflect.ValueOf(&part[i]).Elem()
			for _, f := range fields {
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
		if _, err := st.ExecContext(ctx, args...); err != nil {
			if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok {
				return t.Translate(err)
			}
			return err
		}
	}
	return nil
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

// chunks calls f with consecutive parts of at most bulkChunk elements.
func chunks[T any](all []T, f func([]T) error) error {
	for start := 0; start < len(all); start += bulkChunk {
		if err := f(all[start:min(start+bulkChunk, len(all))]); err != nil {
			return err
		}
	}
	return nil
}

// DevicesByMAC returns those of macs that exist, by MAC, with their
// accounts (secrets opened, as Device does).
func (s *Store) DevicesByMAC(ctx context.Context, macs []string) (map[string]autoprov.Device, error) {
	out := map[string]autoprov.Device{}
	var rows []deviceRow
	err := chunks(macs, func(part []string) error {
		var got []deviceRow
		if err := s.db.WithContext(ctx).Where("mac IN ?", part).Find(&got).Error; err != nil {
			return wrap(err, "devices")
		}
		rows = append(rows, got...)
		return nil
	})
	if err != nil || len(rows) == 0 {
		return out, err
	}
	found := make([]string, len(rows))
	for i, r := range rows {
		found[i] = r.MAC
	}
	exts, err := s.accountsOf(ctx, found)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := s.openDevice(&r); err != nil {
			return nil, err
		}
		out[r.MAC] = r.domain(exts[r.MAC])
	}
	return out, nil
}

// DevicesUsingAccounts lists the MACs of the devices that carry any of
// exts, each once, in MAC order.
func (s *Store) DevicesUsingAccounts(ctx context.Context, exts []string) ([]string, error) {
	var macs []string
	err := chunks(exts, func(part []string) error {
		var got []string
		err := s.db.WithContext(ctx).Model(&deviceAccountRow{}).
			Joins("JOIN accounts ON accounts.id = device_accounts.account_id").
			Where("accounts.extension IN ?", part).Distinct().Pluck("device_mac", &got).Error
		macs = append(macs, got...)
		return wrap(err, "devices of accounts")
	})
	slices.Sort(macs)
	return slices.Compact(macs), err
}

// WriteBulk makes a bulk change in one transaction, all or nothing (see
// autoprov.BulkWrite): multi-row INSERTs of bulkChunk rows for what is
// new, one UPDATE per changed row, one UPDATE per bulkChunk MACs for the
// windows (every window of one bulk change opens at the same instant for
// the same length), and the audit rows last, in multi-row INSERTs. An
// existing MAC or extension among the rows to create, or a device to
// adopt that was adopted meanwhile, is ErrConflict.
func (s *Store) WriteBulk(ctx context.Context, w autoprov.BulkWrite) error {
	at := w.At.UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.db.NowFunc()
		var newAccounts []accountRow
		for _, aw := range w.Accounts {
			a := aw.Account
			r := accountRow{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, Password: a.Password, CreatedAt: now, UpdatedAt: now}
			s.sealAccount(&r)
			if aw.Create {
				newAccounts = append(newAccounts, r)
				continue
			}
			res := tx.Model(&accountRow{}).Where("extension = ?", a.Extension).
				Updates(map[string]any{"display_name": r.DisplayName, "auth_user": r.AuthUser, "password": r.Password, "updated_at": at})
			if res.Error == nil && res.RowsAffected == 0 {
				return fmt.Errorf("account %s: %w", a.Extension, ErrNotFound)
			}
			if res.Error != nil {
				return wrap(res.Error, "account %s", a.Extension)
			}
		}
		if len(newAccounts) > 0 {
			if err := insertAll(ctx, tx, newAccounts); err != nil {
				return wrap(err, "create accounts")
			}
		}

		var newDevices []deviceRow
		var changed, windows, exts []string
		var events []autoprov.AuditEvent
		for _, dw := range w.Devices {
			d := dw.Device
			if dw.Create {
				r := deviceRow{MAC: d.MAC, Keys: []storedKey{}, CredentialState: autoprov.CredentialNone, CreatedAt: now, UpdatedAt: now}
				s.fill(&r, d)
				if dw.Window > 0 { // opened right here, as windowColumns says
					if err := setColumns(ctx, tx, &r, windowColumns(at, w.Window)); err != nil {
						return err
					}
					events = append(events, dw.Audit...)
					events = append(events, openedEvent(d.MAC, at, w.Window, w.Actor))
					exts = append(exts, d.Accounts...)
					newDevices = append(newDevices, r)
					continue
				}
				newDevices = append(newDevices, r)
			} else {
				var r deviceRow
				if err := tx.First(&r, "mac = ?", d.MAC).Error; err != nil {
					return wrap(err, "device %s", d.MAC)
				}
				if dw.Adopt && r.State != autoprov.StateUnassigned {
					return fmt.Errorf("device %s was adopted meanwhile: %w", d.MAC, ErrConflict)
				}
				s.fill(&r, d)
				if err := tx.Select("vendor", "model", "label", "state", "key_profile", "keys", "overrides", "params", "menu_password", "web_password", "tftp_allowed", "updated_at").Updates(&r).Error; err != nil {
					return wrap(err, "device %s", d.MAC)
				}
				changed = append(changed, d.MAC)
			}
			exts = append(exts, d.Accounts...)
			events = append(events, dw.Audit...)
			if dw.Window > 0 {
				windows = append(windows, d.MAC)
			}
		}
		if len(newDevices) > 0 {
			if err := insertAll(ctx, tx, newDevices); err != nil {
				return wrap(err, "create devices")
			}
		}
		err := chunks(changed, func(part []string) error {
			return wrap(tx.Where("device_mac IN ?", part).Delete(&deviceAccountRow{}).Error, "device accounts")
		})
		if err != nil {
			return err
		}

		// The devices' lines, by account id.
		slices.Sort(exts)
		ids := map[string]uint{}
		err = chunks(slices.Compact(exts), func(part []string) error {
			var got []accountRow
			if err := tx.Select("id", "extension").Where("extension IN ?", part).Find(&got).Error; err != nil {
				return wrap(err, "accounts")
			}
			for _, a := range got {
				ids[a.Extension] = a.ID
			}
			return nil
		})
		if err != nil {
			return err
		}
		var lines []deviceAccountRow
		for _, dw := range w.Devices {
			for i, ext := range dw.Device.Accounts {
				id, ok := ids[ext]
				if !ok {
					return fmt.Errorf("account %s: %w", ext, ErrNotFound)
				}
				lines = append(lines, deviceAccountRow{DeviceMAC: dw.Device.MAC, Position: i + 1, AccountID: id})
			}
		}
		if len(lines) > 0 {
			if err := insertAll(ctx, tx, lines); err != nil {
				return wrap(err, "device accounts")
			}
		}

		// The windows: those of the devices written, then those of the
		// devices whose accounts' credentials changed.
		seen := map[string]bool{}
		for _, mac := range append(windows, w.Windows...) {
			if !seen[mac] {
				seen[mac] = true
				events = append(events, openedEvent(mac, at, w.Window, w.Actor))
			}
		}
		windows = windows[:0]
		for mac := range seen {
			windows = append(windows, mac)
		}
		slices.Sort(windows)
		cols := windowColumns(at, w.Window)
		err = chunks(windows, func(part []string) error {
			res := tx.Model(&deviceRow{}).Where("mac IN ?", part).Updates(cols)
			if res.Error == nil && res.RowsAffected != int64(len(part)) {
				return fmt.Errorf("open windows: %d of %d devices found: %w", res.RowsAffected, len(part), ErrNotFound)
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
		if len(audit) > 0 {
			return wrap(insertAll(ctx, tx, audit), "audit")
		}
		return nil
	})
}
