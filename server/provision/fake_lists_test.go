package provision_test

import (
	"context"
	"maps"
	"sort"
	"strings"

	"github.com/autoprov/autoprov"
)

// The memStore's side of the admin lists and of bulk changes, with the
// semantics server/store documents.

// search is the q and last-seen part of a device filter (m is locked).
func (m *memStore) search(d autoprov.Device, f autoprov.DeviceFilter) bool {
	if !f.SeenBefore.IsZero() && (d.LastSeen == nil || !d.LastSeen.Before(f.SeenBefore)) {
		return false
	}
	if !f.SeenAfter.IsZero() && (d.LastSeen == nil || d.LastSeen.Before(f.SeenAfter)) {
		return false
	}
	if f.Q == "" {
		return true
	}
	q := strings.ToLower(f.Q)
	prefix := func(s string) bool { return strings.HasPrefix(strings.ToLower(s), q) }
	mac := strings.NewReplacer(":", "", "-", "", ".", "").Replace(q)
	if prefix(d.Label) || mac != "" && strings.HasPrefix(d.MAC, mac) {
		return true
	}
	for _, ext := range d.Accounts {
		if prefix(ext) || prefix(m.accounts[ext].DisplayName) {
			return true
		}
	}
	return false
}

func page[T any](all []T, limit, offset int) []T {
	all = all[min(offset, len(all)):]
	if limit > 0 {
		all = all[:min(limit, len(all))]
	}
	return all
}

func (m *memStore) ListAccounts(_ context.Context, f autoprov.AccountFilter) ([]autoprov.Account, int, error) {
	defer m.lock()()
	q := strings.ToLower(f.Q)
	var out []autoprov.Account
	for _, a := range m.accounts {
		for _, s := range []string{a.Extension, a.DisplayName, a.AuthUser} {
			if strings.HasPrefix(strings.ToLower(s), q) {
				out = append(out, a)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Extension < out[j].Extension })
	return page(out, f.Limit, f.Offset), len(out), nil
}

func (m *memStore) ListKeyProfiles(ctx context.Context, limit, offset int) ([]autoprov.KeyProfile, int, error) {
	all, err := m.KeyProfiles(ctx)
	return page(all, limit, offset), len(all), err
}

func (m *memStore) ListAudit(_ context.Context, f autoprov.AuditFilter) ([]autoprov.AuditEvent, int, error) {
	defer m.lock()()
	var out []autoprov.AuditEvent
	for i := len(m.audit) - 1; i >= 0; i-- {
		if f.MAC == "" || m.audit[i].MAC == f.MAC {
			out = append(out, m.audit[i])
		}
	}
	return page(out, f.Limit, f.Offset), len(out), nil
}

func (m *memStore) DevicesToEdit(_ context.Context, macs []string) (map[string]autoprov.Device, error) {
	defer m.lock()()
	out := map[string]autoprov.Device{}
	for _, mac := range macs {
		if d, ok := m.devices[mac]; ok {
			// Only what the store reads: the accounts and the fields an
			// admin edits.
			d = clone(d)
			out[mac] = autoprov.Device{MAC: d.MAC, Vendor: d.Vendor, Model: d.Model, Label: d.Label, State: d.State,
				Accounts: d.Accounts, KeyProfile: d.KeyProfile, Keys: d.Keys, Overrides: d.Overrides, Params: d.Params,
				MenuPassword: d.MenuPassword, WebPassword: d.WebPassword, TFTPAllowed: d.TFTPAllowed}
		}
	}
	return out, nil
}

func (m *memStore) DevicesUsingAccounts(ctx context.Context, exts []string) ([]string, error) {
	seen := map[string]bool{}
	for _, ext := range exts {
		macs, _ := m.DevicesUsingAccount(ctx, ext)
		for _, mac := range macs {
			seen[mac] = true
		}
	}
	out := make([]string, 0, len(seen))
	for mac := range seen {
		out = append(out, mac)
	}
	sort.Strings(out)
	return out, nil
}

// WriteBulk applies the change with the single writes, and puts
// everything back as it was when one fails.
func (m *memStore) WriteBulk(ctx context.Context, w autoprov.BulkWrite) error {
	m.mu.Lock()
	accounts, devices, audit := maps.Clone(m.accounts), maps.Clone(m.devices), len(m.audit)
	m.mu.Unlock()
	err := func() error {
		for _, aw := range w.Accounts {
			var err error
			if aw.Create {
				_, err = m.CreateAccount(ctx, aw.Account)
			} else {
				_, err = m.UpdateAccount(ctx, aw.Account)
			}
			if err != nil {
				return err
			}
		}
		for _, dw := range w.Devices {
			if err := m.WriteDevice(ctx, dw); err != nil {
				return err
			}
		}
		for _, e := range w.Audit {
			if err := m.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		for _, mac := range w.Windows {
			if _, err := m.OpenDisclosure(ctx, mac, w.At, w.Window, w.Actor); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		defer m.lock()()
		m.accounts, m.devices, m.audit = accounts, devices, m.audit[:audit]
	}
	return err
}
