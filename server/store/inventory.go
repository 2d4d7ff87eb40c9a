package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
)

// Settings returns the fleet-wide settings (the defaults before the first Put).
func (s *Store) Settings(ctx context.Context) (autoprov.Settings, error) {
	var r settingsRow
	err := s.db.WithContext(ctx).First(&r, 1).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return autoprov.DefaultSettings(), nil
	}
	if err != nil {
		return autoprov.Settings{}, wrap(err, "settings")
	}
	return settingsOf(r.Data), nil
}

// PutSettings replaces the fleet-wide settings.
func (s *Store) PutSettings(ctx context.Context, v autoprov.Settings) error {
	return wrap(s.db.WithContext(ctx).Save(&settingsRow{ID: 1, Data: storeSettings(v)}).Error, "save settings")
}

// CreateAccount adds an account; ErrConflict when the extension exists.
func (s *Store) CreateAccount(ctx context.Context, a autoprov.Account) (autoprov.Account, error) {
	r := accountRow{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, Password: a.Password, PasswordGenerated: a.PasswordGenerated}
	s.sealAccount(&r)
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return autoprov.Account{}, wrap(err, "account %s", a.Extension)
	}
	r.Password = a.Password
	return r.domain(), nil
}

// Account returns one account, password included.
func (s *Store) Account(ctx context.Context, ext string) (autoprov.Account, error) {
	var r accountRow
	if err := s.db.WithContext(ctx).Where("extension = ?", ext).First(&r).Error; err != nil {
		return autoprov.Account{}, wrap(err, "account %s", ext)
	}
	if err := s.openAccount(&r); err != nil {
		return autoprov.Account{}, err
	}
	return r.domain(), nil
}

// Accounts lists every account ordered by extension.
func (s *Store) Accounts(ctx context.Context) ([]autoprov.Account, error) {
	var rows []accountRow
	if err := s.db.WithContext(ctx).Order("extension").Find(&rows).Error; err != nil {
		return nil, wrap(err, "accounts")
	}
	out := make([]autoprov.Account, len(rows))
	for i, r := range rows {
		if err := s.openAccount(&r); err != nil {
			return nil, err
		}
		out[i] = r.domain()
	}
	return out, nil
}

// AccountsByExtension returns the accounts among exts that exist, by extension.
func (s *Store) AccountsByExtension(ctx context.Context, exts []string) (map[string]autoprov.Account, error) {
	out := map[string]autoprov.Account{}
	if len(exts) == 0 {
		return out, nil
	}
	// A raw scan: GORM's Find reflects per field, and a bulk change reads
	// 100,000 accounts through here (in batches, so without a goroutine
	// per row: rowByRow).
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.WithContext(rowByRow(ctx)).Raw("SELECT extension, display_name, auth_user, password, password_generated, created_at, updated_at FROM accounts WHERE extension IN ?", exts).Rows()
	if err != nil {
		return nil, wrap(err, "accounts")
	}
	defer rows.Close()
	for rows.Next() {
		var r accountRow
		var name, user, pw sql.NullString
		var created, updated sql.NullTime
		if err := rows.Scan(&r.Extension, &name, &user, &pw, &r.PasswordGenerated, &created, &updated); err != nil {
			return nil, wrap(err, "accounts")
		}
		r.DisplayName, r.AuthUser, r.Password, r.CreatedAt, r.UpdatedAt = name.String, user.String, pw.String, created.Time, updated.Time
		if err := s.openAccount(&r); err != nil {
			return nil, err
		}
		out[r.Extension] = r.domain()
	}
	return out, wrap(rows.Err(), "accounts")
}

// UpdateAccount saves an account's display name, auth user and password.
func (s *Store) UpdateAccount(ctx context.Context, a autoprov.Account) (autoprov.Account, error) {
	var r accountRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("extension = ?", a.Extension).First(&r).Error; err != nil {
			return err
		}
		r.DisplayName, r.AuthUser, r.Password, r.PasswordGenerated = a.DisplayName, a.AuthUser, a.Password, a.PasswordGenerated
		s.sealAccount(&r)
		return tx.Save(&r).Error
	})
	if err != nil {
		return autoprov.Account{}, wrap(err, "account %s", a.Extension)
	}
	r.Password = a.Password
	return r.domain(), nil
}

// DeleteAccount removes an account; ErrConflict (naming the devices) while a device uses it.
func (s *Store) DeleteAccount(ctx context.Context, ext string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r accountRow
		if err := tx.Where("extension = ?", ext).First(&r).Error; err != nil {
			return wrap(err, "account %s", ext)
		}
		var macs []string
		if err := tx.Model(&deviceAccountRow{}).Where("account_id = ?", r.ID).Pluck("device_mac", &macs).Error; err != nil {
			return wrap(err, "account %s", ext)
		}
		if len(macs) > 0 {
			return autoprov.Conflict("account %s is on devices %v; remove it there first", ext, macs)
		}
		return wrap(tx.Delete(&r).Error, "delete account %s", ext)
	})
}

// DevicesUsingAccount lists the MACs of the devices that carry an extension.
func (s *Store) DevicesUsingAccount(ctx context.Context, ext string) ([]string, error) {
	var macs []string
	err := s.db.WithContext(ctx).Model(&deviceAccountRow{}).
		Joins("JOIN accounts ON accounts.id = device_accounts.account_id").
		Where("accounts.extension = ?", ext).Distinct().Pluck("device_mac", &macs).Error
	return macs, wrap(err, "devices of account %s", ext)
}

// CreateDevice adds a device with its accounts (which must exist);
// ErrConflict when the MAC exists.
func (s *Store) CreateDevice(ctx context.Context, d autoprov.Device) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r := deviceRow{MAC: d.MAC}
		s.fill(&r, d)
		if err := tx.Create(&r).Error; err != nil {
			return wrap(err, "device %s", d.MAC)
		}
		return setAccounts(tx, d.MAC, d.Accounts)
	})
}

// UpdateDevice saves an existing device's admin-editable fields and
// accounts. Sightings and disclosure state are left as they are.
func (s *Store) UpdateDevice(ctx context.Context, d autoprov.Device) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r deviceRow
		if err := tx.First(&r, "mac = ?", d.MAC).Error; err != nil {
			return wrap(err, "device %s", d.MAC)
		}
		s.fill(&r, d)
		if err := tx.Select("vendor", "model", "label", "state", "key_profile", "keys", "overrides", "params", "menu_password", "web_password", "tftp_allowed", "updated_at").Updates(&r).Error; err != nil {
			return wrap(err, "device %s", d.MAC)
		}
		if err := tx.Where("device_mac = ?", d.MAC).Delete(&deviceAccountRow{}).Error; err != nil {
			return wrap(err, "device %s", d.MAC)
		}
		return setAccounts(tx, d.MAC, d.Accounts)
	})
}

// WriteDevice creates or changes a device, writes its audit events and
// opens its disclosure window (when w.Window > 0) in one transaction: a
// crash at any moment leaves all of it or none.
func (s *Store) WriteDevice(ctx context.Context, w autoprov.DeviceWrite) error {
	d := w.Device
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if w.Replaces != "" {
			if err := deleteDevice(tx, w.Replaces); err != nil {
				return err
			}
		}
		if w.Create {
			r := deviceRow{MAC: d.MAC}
			s.fill(&r, d)
			if err := tx.Create(&r).Error; err != nil {
				return wrap(err, "device %s", d.MAC)
			}
		} else {
			var r deviceRow
			if err := tx.First(&r, "mac = ?", d.MAC).Error; err != nil {
				return wrap(err, "device %s", d.MAC)
			}
			if w.Adopt && r.State != autoprov.StateUnassigned {
				return autoprov.Conflict("device %s was adopted meanwhile", d.MAC)
			}
			s.fill(&r, d)
			if err := tx.Select("vendor", "model", "label", "state", "key_profile", "keys", "overrides", "params", "menu_password", "web_password", "tftp_allowed", "updated_at").Updates(&r).Error; err != nil {
				return wrap(err, "device %s", d.MAC)
			}
			if err := tx.Where("device_mac = ?", d.MAC).Delete(&deviceAccountRow{}).Error; err != nil {
				return wrap(err, "device %s", d.MAC)
			}
		}
		if err := setAccounts(tx, d.MAC, d.Accounts); err != nil {
			return err
		}
		for _, e := range w.Audit {
			if err := appendAudit(tx, e); err != nil {
				return err
			}
		}
		if w.Window > 0 {
			return openDisclosure(tx, d.MAC, w.At.UTC(), w.Window, w.Actor)
		}
		return nil
	})
}

func (s *Store) fill(r *deviceRow, d autoprov.Device) { fillWith(s.keys.Refresh(), r, d) }

// fillWith is fill with the keyring k (a bulk change reads it once).
func fillWith(k *sealed.Keyring, r *deviceRow, d autoprov.Device) {
	r.Vendor, r.Model, r.Label, r.State = d.Vendor, d.Model, d.Label, d.State
	r.KeyProfile, r.Keys, r.Overrides = d.KeyProfile, storeKeys(d.Keys), storedOverrides(d.Overrides)
	r.Params = storeParams(d.Params)
	r.MenuPassword, r.WebPassword = d.MenuPassword, d.WebPassword
	r.TFTPAllowed = d.TFTPAllowed
	sealDeviceWith(k, r)
	if r.DisclosureState == "" {
		r.DisclosureState = autoprov.DisclosureNone
	}
}

func setAccounts(tx *gorm.DB, mac string, exts []string) error {
	for i, ext := range exts {
		var a accountRow
		if err := tx.Where("extension = ?", ext).First(&a).Error; err != nil {
			return wrap(err, "account %s", ext)
		}
		if err := tx.Create(&deviceAccountRow{DeviceMAC: mac, Position: i + 1, AccountID: a.ID}).Error; err != nil {
			return wrap(err, "device %s account %s", mac, ext)
		}
	}
	return nil
}

// DeleteDevice removes a device.
func (s *Store) DeleteDevice(ctx context.Context, mac string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return deleteDevice(tx, mac) })
}

// deleteDevice is DeleteDevice inside tx.
func deleteDevice(tx *gorm.DB, mac string) error {
	res := tx.Delete(&deviceRow{}, "mac = ?", mac)
	if res.Error != nil {
		return wrap(res.Error, "delete device %s", mac)
	}
	if res.RowsAffected == 0 {
		return notFound("device %s", mac)
	}
	// Its firmware target (override or exclusion) goes with it.
	return wrap(tx.Delete(&firmwareTargetRow{}, "mac = ?", mac).Error, "delete firmware target of %s", mac)
}

// Device returns a device with its accounts (extensions in line order).
func (s *Store) Device(ctx context.Context, mac string) (autoprov.Device, error) {
	r, exts, err := s.readDevice(ctx, mac) // deviceread.go
	if err != nil {
		return autoprov.Device{}, wrap(err, "device %s", mac)
	}
	if err := s.openDevice(&r); err != nil {
		return autoprov.Device{}, err
	}
	return r.domain(exts), nil
}

// Devices lists the devices matching f, ordered by MAC.
func (s *Store) Devices(ctx context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, error) {
	q := s.filter(ctx, f)
	if f.NewestFirst {
		// NULLs last on both backends (PostgreSQL sorts them first in DESC).
		q = q.Order("CASE WHEN last_seen IS NULL THEN 1 ELSE 0 END").Order("last_seen DESC")
	}
	if col, desc := strings.TrimPrefix(f.Sort, "-"), strings.HasPrefix(f.Sort, "-"); slices.Contains(autoprov.DeviceSorts, col) && col != "mac" {
		dir := " ASC"
		if desc {
			dir = " DESC"
		}
		if col == "last_seen" {
			// Never seen last either way (PostgreSQL sorts NULLs first in DESC).
			q = q.Order("CASE WHEN last_seen IS NULL THEN 1 ELSE 0 END")
		}
		q = q.Order(col + dir) // col is one of DeviceSorts, never typed text
	}
	if f.Sort == "-mac" {
		q = q.Order("mac DESC")
	}
	q = q.Order("mac")
	q = page(q, f.Limit, f.Offset)
	var rows []deviceRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap(err, "devices")
	}
	macs := make([]string, len(rows))
	for i, r := range rows {
		macs[i] = r.MAC
	}
	exts, err := s.accountsOf(ctx, macs)
	if err != nil {
		return nil, err
	}
	out := make([]autoprov.Device, len(rows))
	for i, r := range rows {
		if err := s.openDevice(&r); err != nil {
			return nil, err
		}
		out[i] = r.domain(exts[r.MAC])
	}
	return out, nil
}

// CountDevices counts the devices matching f, ignoring Limit and Offset.
func (s *Store) CountDevices(ctx context.Context, f autoprov.DeviceFilter) (int, error) {
	var n int64
	err := s.filter(ctx, f).Model(&deviceRow{}).Count(&n).Error
	return int(n), wrap(err, "count devices")
}

func (s *Store) filter(ctx context.Context, f autoprov.DeviceFilter) *gorm.DB {
	q := s.db.WithContext(ctx)
	if f.Vendor != "" {
		q = q.Where("vendor = ?", f.Vendor)
	}
	if f.Model != "" {
		// Portable case-insensitive match (ASCII model names), SQLite and PostgreSQL alike.
		q = q.Where("LOWER(model) = LOWER(?)", f.Model)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if !f.SeenBefore.IsZero() {
		q = q.Where("last_seen < ?", f.SeenBefore.UTC())
	}
	if !f.SeenAfter.IsZero() {
		q = q.Where("last_seen >= ?", f.SeenAfter.UTC())
	}
	if f.Q != "" {
		q = s.searchDevices(q, f.Q)
	}
	if f.KeyProfile != "" {
		q = q.Where("key_profile = ?", f.KeyProfile)
	}
	if f.Disclosure != "" {
		q = q.Where("disclosure_state = ?", f.Disclosure)
	}
	if f.Onboarding != "" {
		q = onboardingFilter(q, f.Onboarding)
	}
	if f.AfterMAC != "" {
		q = q.Where("mac > ?", f.AfterMAC)
	}
	return q
}

func (s *Store) accountsOf(ctx context.Context, macs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(macs) == 0 {
		return out, nil
	}
	type pair struct {
		DeviceMAC string
		Extension string
	}
	var pairs []pair
	// Chunk to stay under the bound-parameter limits on large fleets
	// (SQLite: 32766, PostgreSQL: 65535).
	for start := 0; start < len(macs); start += 500 {
		end := min(start+500, len(macs))
		var part []pair
		err := s.db.WithContext(ctx).Table("device_accounts").Select("device_accounts.device_mac, accounts.extension").
			Joins("JOIN accounts ON accounts.id = device_accounts.account_id").
			Where("device_accounts.device_mac IN ?", macs[start:end]).
			Order("device_accounts.device_mac, device_accounts.position").Scan(&part).Error
		if err != nil {
			return nil, wrap(err, "device accounts")
		}
		pairs = append(pairs, part...)
	}
	for _, p := range pairs {
		out[p.DeviceMAC] = append(out[p.DeviceMAC], p.Extension)
	}
	return out, nil
}

func (r deviceRow) domain(accounts []string) autoprov.Device {
	if accounts == nil {
		accounts = []string{}
	}
	d := autoprov.Device{
		MAC: r.MAC, Vendor: r.Vendor, Model: r.Model, Label: r.Label, State: r.State,
		Accounts: accounts, KeyProfile: r.KeyProfile, Keys: keysOf(r.Keys), Overrides: autoprov.Overrides(r.Overrides), Params: paramsOf(r.Params),
		MenuPassword: r.MenuPassword, WebPassword: r.WebPassword,
		LastSeen: r.LastSeen, RemoteIP: r.RemoteIP, UserAgent: r.UserAgent, Firmware: r.Firmware, LastFile: r.LastFile,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Disclosure: autoprov.Disclosure{State: r.DisclosureState, OpenedAt: r.OpenedAt, ExpiresAt: r.ExpiresAt, DisclosedAt: r.DisclosedAt},
	}
	if r.DisclosureState == autoprov.DisclosureConsumed {
		d.Disclosure.Complete = r.DisclosureComplete
	}
	d.TFTPAllowed = r.TFTPAllowed
	d.Onboarding = autoprov.Onboarding{State: r.OnboardingState, Service: r.OnboardingService, Detail: r.OnboardingDetail, At: r.OnboardingAt}
	d.Credential = autoprov.Credential{State: r.CredentialState, Password: r.CredentialPassword,
		IssuedAt: r.CredentialIssuedAt, AppliedAt: r.CredentialAppliedAt}
	if d.Credential.State == "" {
		d.Credential.State = autoprov.CredentialNone
	}
	if d.Disclosure.State == "" {
		d.Disclosure.State = autoprov.DisclosureNone
	}
	if r.DisclosedAt != nil {
		d.Disclosure.DisclosedTo = &autoprov.Peer{IP: r.DisclosedIP, UserAgent: r.DisclosedUA}
	}
	return d
}

// Seen records a sighting: it creates the device as unassigned when the MAC
// is new and updates what the phone told us either way. It reports whether
// the device was created. The common case, a known phone, is one UPDATE.
func (s *Store) Seen(ctx context.Context, v autoprov.Sighting) (created bool, err error) {
	at := v.At.UTC()
	res := seenUpdate(s.db.WithContext(ctx), v)
	if res.Error != nil {
		return false, wrap(res.Error, "record device %s", v.MAC)
	}
	if res.RowsAffected == 1 {
		return false, nil
	}
	r := deviceRow{MAC: v.MAC, Vendor: v.Vendor, Model: v.Model, State: autoprov.StateUnassigned,
		DisclosureState: autoprov.DisclosureNone, LastSeen: &at, RemoteIP: v.RemoteIP,
		UserAgent: v.UserAgent, Firmware: v.Firmware, LastFile: v.File, Keys: []storedKey{}}
	res = s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
	if res.Error != nil {
		return false, wrap(res.Error, "record device %s", v.MAC)
	}
	if res.RowsAffected == 0 { // another fetch created it first
		return s.Seen(ctx, v)
	}
	return true, nil
}

// seenUpdate is Seen's update of a known device. What an unassigned
// phone says about itself is all we know: its vendor and model are filled
// in while they are empty.
func seenUpdate(db *gorm.DB, v autoprov.Sighting) *gorm.DB {
	at := v.At.UTC()
	return db.Model(&deviceRow{}).Where("mac = ?", v.MAC).UpdateColumns(map[string]any{
		"last_seen": &at, "remote_ip": v.RemoteIP, "last_file": v.File,
		"user_agent": gorm.Expr("CASE WHEN ? = '' THEN user_agent ELSE ? END", v.UserAgent, v.UserAgent),
		"firmware":   gorm.Expr("CASE WHEN ? = '' THEN firmware ELSE ? END", v.Firmware, v.Firmware),
		"vendor":     gorm.Expr("CASE WHEN state = ? AND vendor = '' THEN ? ELSE vendor END", autoprov.StateUnassigned, v.Vendor),
		"model":      gorm.Expr("CASE WHEN state = ? AND model = '' THEN ? ELSE model END", autoprov.StateUnassigned, v.Model),
	})
}

// CreateKeyProfile adds a key profile; ErrConflict when the name exists.
func (s *Store) CreateKeyProfile(ctx context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error) {
	r := keyProfileRow{Name: p.Name, Description: p.Description, Keys: storeKeys(p.Keys), Params: storeParams(p.Params)}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return autoprov.KeyProfile{}, wrap(err, "key profile %s", p.Name)
	}
	return r.domain(), nil
}

// UpdateKeyProfile replaces a key profile's description and keys.
func (s *Store) UpdateKeyProfile(ctx context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error) {
	var r keyProfileRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&r, "name = ?", p.Name).Error; err != nil {
			return err
		}
		r.Description, r.Keys, r.Params = p.Description, storeKeys(p.Keys), storeParams(p.Params)
		return tx.Save(&r).Error
	})
	if err != nil {
		return autoprov.KeyProfile{}, wrap(err, "key profile %s", p.Name)
	}
	return r.domain(), nil
}

// KeyProfile returns one key profile.
func (s *Store) KeyProfile(ctx context.Context, name string) (autoprov.KeyProfile, error) {
	var r keyProfileRow
	if err := s.db.WithContext(ctx).First(&r, "name = ?", name).Error; err != nil {
		return autoprov.KeyProfile{}, wrap(err, "key profile %s", name)
	}
	return r.domain(), nil
}

// KeyProfiles lists the key profiles by name.
func (s *Store) KeyProfiles(ctx context.Context) ([]autoprov.KeyProfile, error) {
	var rows []keyProfileRow
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, wrap(err, "key profiles")
	}
	out := make([]autoprov.KeyProfile, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DeleteKeyProfile removes a key profile; ErrConflict while devices use it.
func (s *Store) DeleteKeyProfile(ctx context.Context, name string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var macs []string
		if err := tx.Model(&deviceRow{}).Where("key_profile = ?", name).Pluck("mac", &macs).Error; err != nil {
			return wrap(err, "key profile %s", name)
		}
		if len(macs) > 0 {
			return autoprov.Conflict("key profile %s is used by devices %v", name, macs)
		}
		res := tx.Delete(&keyProfileRow{}, "name = ?", name)
		if res.Error == nil && res.RowsAffected == 0 {
			return notFound("key profile %s", name)
		}
		return wrap(res.Error, "delete key profile %s", name)
	})
}

// DevicesWithProfile lists the MACs of the devices using a key profile.
func (s *Store) DevicesWithProfile(ctx context.Context, name string) ([]string, error) {
	var macs []string
	err := s.db.WithContext(ctx).Model(&deviceRow{}).Where("key_profile = ?", name).Pluck("mac", &macs).Error
	return macs, wrap(err, "devices of key profile %s", name)
}

// Audit lists audit events, newest first, for one MAC when mac is not "".
func (s *Store) Audit(ctx context.Context, mac string, limit int) ([]autoprov.AuditEvent, error) {
	q := s.db.WithContext(ctx).Order("id DESC").Limit(limit)
	if mac != "" {
		q = q.Where("mac = ?", mac)
	}
	var rows []auditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap(err, "audit")
	}
	out := make([]autoprov.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// AppendAudit writes one audit event.
func (s *Store) AppendAudit(ctx context.Context, e autoprov.AuditEvent) error {
	return appendAudit(s.db.WithContext(ctx), e)
}

func appendAudit(tx *gorm.DB, e autoprov.AuditEvent) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	r := auditRow{At: e.At.UTC(), MAC: e.MAC, Event: e.Event, Actor: e.Actor, Detail: e.Detail}
	return wrap(tx.Create(&r).Error, "audit")
}

// ModelParams returns a model's raw vendor parameters (none: empty).
func (s *Store) ModelParams(ctx context.Context, vendor, model string) ([]autoprov.Param, error) {
	var rows []modelParamRow
	if err := s.db.WithContext(ctx).Where("vendor = ? AND model = ?", vendor, model).Limit(1).Find(&rows).Error; err != nil {
		return nil, wrap(err, "model %s %s parameters", vendor, model)
	}
	if len(rows) == 0 {
		return []autoprov.Param{}, nil
	}
	return paramsOf(rows[0].Params), nil
}

// SetModelParams replaces a model's raw vendor parameters; none deletes
// the row.
func (s *Store) SetModelParams(ctx context.Context, vendor, model string, params []autoprov.Param) error {
	db := s.db.WithContext(ctx)
	var err error
	if len(params) == 0 {
		err = db.Where("vendor = ? AND model = ?", vendor, model).Delete(&modelParamRow{}).Error
	} else {
		err = db.Save(&modelParamRow{Vendor: vendor, Model: model, Params: storeParams(params), UpdatedAt: time.Now()}).Error
	}
	return wrap(err, "model %s %s parameters", vendor, model)
}
