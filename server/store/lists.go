package store

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
)

// The admin lists: one page and the count of all matches, with the
// filters answered from indexes (migration 5, 00005_admin_indexes.sql).
// The search (q) is a case-insensitive prefix match, written per backend
// in the one form its index answers: SQLite `col LIKE 'p%' ESCAPE '\'`
// on a NOCASE index, PostgreSQL `lower(col) LIKE 'p%'` on a
// lower(col) text_pattern_ops index.

// prefixMatch is the WHERE fragment matching the values of col that start
// with p, ignoring case, and its argument.
func (s *Store) prefixMatch(col, p string) (string, string) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
	if s.postgres {
		return "lower(" + col + `) LIKE ? ESCAPE '\'`, strings.ToLower(esc)
	}
	return col + ` LIKE ? ESCAPE '\'`, esc
}

// macRange returns the bounds of the MACs that start with q, when q is a
// MAC or the start of one in any notation ("80:5E:C0", "805e.c0aa");
// ok is false otherwise. MACs are stored as 12 lower-case hex digits, so
// the range is exact under every collation and answered by the key.
func macRange(q string) (lo, hi string, ok bool) {
	var b strings.Builder
	for _, c := range strings.ToLower(q) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b.WriteRune(c)
		case c == ':' || c == '-' || c == '.':
		default:
			return "", "", false
		}
	}
	p := b.String()
	if p == "" || len(p) > 12 {
		return "", "", false
	}
	return p + strings.Repeat("0", 12-len(p)), p + strings.Repeat("f", 12-len(p)), true
}

// searchDevices narrows q to the devices whose MAC, label, or one of whose
// accounts' extension or display name starts with text.
func (s *Store) searchDevices(q *gorm.DB, text string) *gorm.DB {
	label, arg := s.prefixMatch("label", text)
	ext, _ := s.prefixMatch("extension", text)
	name, _ := s.prefixMatch("display_name", text)
	cond := "(" + label + " OR mac IN (SELECT device_mac FROM device_accounts WHERE account_id IN (SELECT id FROM accounts WHERE " + ext + " OR " + name + "))"
	args := []any{arg, arg, arg}
	if lo, hi, ok := macRange(text); ok {
		cond += " OR mac BETWEEN ? AND ?"
		args = append(args, lo, hi)
	}
	return q.Where(cond+")", args...)
}

// page applies a limit (0: none) and an offset.
func page(q *gorm.DB, limit, offset int) *gorm.DB {
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	return q
}

// ListAccounts returns a page of the accounts matching f, ordered by
// extension, and the number of all that match.
func (s *Store) ListAccounts(ctx context.Context, f autoprov.AccountFilter) ([]autoprov.Account, int, error) {
	q := s.db.WithContext(ctx).Model(&accountRow{})
	if f.Q != "" {
		ext, arg := s.prefixMatch("extension", f.Q)
		name, _ := s.prefixMatch("display_name", f.Q)
		user, _ := s.prefixMatch("auth_user", f.Q)
		q = q.Where("("+ext+" OR "+name+" OR "+user+")", arg, arg, arg)
	}
	var n int64
	if err := q.Session(&gorm.Session{}).Count(&n).Error; err != nil {
		return nil, 0, wrap(err, "count accounts")
	}
	var rows []accountRow
	if err := page(q.Order("extension"), f.Limit, f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "accounts")
	}
	out := make([]autoprov.Account, len(rows))
	for i, r := range rows {
		if err := s.openAccount(&r); err != nil {
			return nil, 0, err
		}
		out[i] = r.domain()
	}
	return out, int(n), nil
}

// ListKeyProfiles returns a page of the key profiles by name and the
// number of all of them.
func (s *Store) ListKeyProfiles(ctx context.Context, limit, offset int) ([]autoprov.KeyProfile, int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&keyProfileRow{}).Count(&n).Error; err != nil {
		return nil, 0, wrap(err, "count key profiles")
	}
	var rows []keyProfileRow
	if err := page(s.db.WithContext(ctx).Order("name"), limit, offset).Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "key profiles")
	}
	out := make([]autoprov.KeyProfile, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(n), nil
}

// ListAudit returns a page of the audit log, newest first, for one MAC
// unless f.MAC is "", and the number of all matching events.
func (s *Store) ListAudit(ctx context.Context, f autoprov.AuditFilter) ([]autoprov.AuditEvent, int, error) {
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if f.MAC != "" {
		q = q.Where("mac = ?", f.MAC)
	}
	var n int64
	if err := q.Session(&gorm.Session{}).Count(&n).Error; err != nil {
		return nil, 0, wrap(err, "count audit")
	}
	var rows []auditRow
	if err := page(q.Order("id DESC"), f.Limit, f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "audit")
	}
	out := make([]autoprov.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(n), nil
}
