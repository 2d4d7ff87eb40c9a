package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The read of one device (Device) bypasses GORM: on a boot storm every
// fetch of a phone whose window is open reads its row (the phone cache
// keeps no such device), and GORM's reflection over the 36 columns, its
// statement building and a second GORM query for the device's accounts
// were most of that read's cost. Here the row and its accounts'
// extensions (a JSON array in its last column) are one statement prepared
// once on the pool, scanned straight into a deviceRow with the conversions
// GORM makes: NULL text reads as "" (COALESCE), the JSON columns are
// decoded as its serializer does (NULL or empty: the zero value), times
// and booleans come from the driver as they do for GORM.
// TestDeviceReadAsGORM compares the two on both backends.

// readContext: Device's reads run on a context that is never cancelled. On
// one that can be, database/sql starts a goroutine per query to watch it
// and the SQLite driver another per row (a select on every step), which
// cost more than the read of a row by its key; the reads are bounded all
// the same (a key lookup, and busy_timeout when another process holds the
// file), as the group commit's statements are.

// deviceReadColumns are the columns of deviceRow, in scanRow's order.
var deviceReadColumns = []string{
	"mac", "vendor", "model", "label", "state", "key_profile", "keys", "overrides", "params",
	"menu_password", "web_password", "last_seen", "remote_ip", "user_agent", "firmware", "last_file",
	"disclosure_state", "opened_at", "expires_at", "disclosed_at", "disclosed_ip", "disclosed_ua",
	"reserved_by", "reserved_until", "disclosure_complete",
	"credential_state", "credential_password", "credential_issued_at", "credential_applied_at", "tftp_allowed",
	"onboarding_state", "onboarding_service", "onboarding_detail", "onboarding_at", "created_at", "updated_at",
}

// textColumns are COALESCEd to "" (GORM reads NULL text as ""); the JSON
// columns (keys, overrides, params) are read as bytes and decoded.
var (
	textColumns = map[string]bool{"mac": true, "vendor": true, "model": true, "label": true, "state": true,
		"key_profile": true, "menu_password": true, "web_password": true, "remote_ip": true, "user_agent": true,
		"firmware": true, "last_file": true, "disclosure_state": true, "disclosed_ip": true, "disclosed_ua": true,
		"reserved_by": true, "credential_state": true, "credential_password": true, "onboarding_state": true,
		"onboarding_service": true, "onboarding_detail": true}
)

// deviceReads holds the statement of Device, prepared on first use.
type deviceReads struct {
	once sync.Once
	err  error
	row  *sql.Stmt // the device's row by MAC, with its accounts' extensions
}

// deviceReadSQL is the statement reading one device's row and, as a last
// column, the extensions of its accounts in line order as a JSON array
// (one statement: one snapshot, and one trip), with the dialect's
// placeholder.
func deviceReadSQL(postgres bool) string {
	cols := make([]string, len(deviceReadColumns))
	for i, c := range deviceReadColumns {
		q := `"` + c + `"`
		if textColumns[c] {
			q = "COALESCE(" + q + ", '')"
		}
		cols[i] = q
	}
	agg := "json_group_array(accounts.extension ORDER BY device_accounts.position)" // '[]' for none
	if postgres {
		agg = "COALESCE(json_agg(accounts.extension ORDER BY device_accounts.position)::text, '[]')"
	}
	exts := "(SELECT " + agg + " FROM device_accounts JOIN accounts ON accounts.id = device_accounts.account_id" +
		" WHERE device_accounts.device_mac = devices.mac)"
	return "SELECT " + strings.Join(cols, ", ") + ", " + exts + " FROM devices WHERE mac = " + param(postgres, 1)
}

// param is the n-th (from 1) bind parameter of a statement in the
// dialect's notation: $n on PostgreSQL, ? on SQLite.
func param(postgres bool, n int) string {
	if postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// prepare prepares the statements once; later calls report the first one's error.
func (r *deviceReads) prepare(db *sql.DB, postgres bool) error {
	r.once.Do(func() {
		r.row, r.err = db.Prepare(deviceReadSQL(postgres))
	})
	return r.err
}

func (r *deviceReads) close() {
	if r.row != nil {
		_ = r.row.Close()
	}
}

// readDevice reads the row of mac and its accounts' extensions (nil for
// none); a MAC without a row wraps ErrNotFound.
func (s *Store) readDevice(ctx context.Context, mac string) (deviceRow, []string, error) {
	var r deviceRow
	sqlDB, err := s.db.DB()
	if err != nil {
		return r, nil, err
	}
	if err := s.reads.prepare(sqlDB, s.postgres); err != nil {
		return r, nil, err
	}
	ctx = context.WithoutCancel(ctx) // see readContext
	var keys, overrides, params, accounts []byte
	err = s.reads.row.QueryRowContext(ctx, mac).Scan(&r.MAC, &r.Vendor, &r.Model, &r.Label, &r.State, &r.KeyProfile,
		&keys, &overrides, &params, &r.MenuPassword, &r.WebPassword, &r.LastSeen, &r.RemoteIP, &r.UserAgent,
		&r.Firmware, &r.LastFile, &r.DisclosureState, &r.OpenedAt, &r.ExpiresAt, &r.DisclosedAt, &r.DisclosedIP,
		&r.DisclosedUA, &r.ReservedBy, &r.ReservedUntil, &r.DisclosureComplete,
		&r.CredentialState, &r.CredentialPassword, &r.CredentialIssuedAt, &r.CredentialAppliedAt, &r.TFTPAllowed,
		&r.OnboardingState, &r.OnboardingService, &r.OnboardingDetail, &r.OnboardingAt, &r.CreatedAt, &r.UpdatedAt, &accounts)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil, ErrNotFound
	}
	if err != nil {
		return r, nil, err
	}
	for _, c := range []struct {
		name string
		raw  []byte
		into any
	}{{"keys", keys, &r.Keys}, {"overrides", overrides, &r.Overrides}, {"params", params, &r.Params}} {
		if len(c.raw) > 0 {
			if err := json.Unmarshal(c.raw, c.into); err != nil {
				return r, nil, fmt.Errorf("column %s: %w", c.name, err)
			}
		}
	}
	var exts []string // nil for none, as before
	if err := json.Unmarshal(accounts, &exts); err != nil {
		return r, nil, fmt.Errorf("the device's accounts: %w", err)
	}
	if len(exts) == 0 {
		exts = nil
	}
	return r, exts, nil
}
