package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/autoprov/autoprov"
)

// A bulk change (POST /api/v1/bulk, autoprov import) creates or changes
// many accounts and devices at once with the single endpoints' rules:
// every row goes through the same validation (newAccount, patchAccount,
// createWrite, updateWrite), opens the same windows and writes the same
// audit rows, but the store is read once up front (the accounts, devices
// and key profiles the rows name) and written once, in one transaction
// (BulkStore.WriteBulk). Every bad row is reported, with its first
// problem; then nothing is written.

// bulkAccounts answers the account lookups of a bulk change's validation
// from memory: the stored accounts the rows name, overlaid with the
// accounts the rows create or change.
type bulkAccounts struct {
	AccountStore
	m map[string]autoprov.Account
}

func (b bulkAccounts) Account(_ context.Context, ext string) (autoprov.Account, error) {
	if a, ok := b.m[ext]; ok {
		return a, nil
	}
	return autoprov.Account{}, fmt.Errorf("account %s: %w", ext, autoprov.ErrNotFound)
}

func (b bulkAccounts) AccountsByExtension(_ context.Context, exts []string) (map[string]autoprov.Account, error) {
	out := make(map[string]autoprov.Account, len(exts))
	for _, ext := range exts {
		if a, ok := b.m[ext]; ok {
			out[ext] = a
		}
	}
	return out, nil
}

// bulkProfiles answers key profile lookups from memory.
type bulkProfiles struct {
	ProfileStore
	m map[string]autoprov.KeyProfile
}

func (b bulkProfiles) KeyProfile(_ context.Context, name string) (autoprov.KeyProfile, error) {
	if p, ok := b.m[name]; ok {
		return p, nil
	}
	return autoprov.KeyProfile{}, fmt.Errorf("key profile %s: %w", name, autoprov.ErrNotFound)
}

// Bulk validates a bulk change and, unless dryRun, makes it in one
// transaction. A *autoprov.BulkError lists every bad row; then nothing is
// written. The result names what was (or would be) created and updated.
func (s *Inventory) Bulk(ctx context.Context, in autoprov.BulkInput, dryRun bool, actor string) (autoprov.BulkResult, error) {
	res := autoprov.BulkResult{DryRun: dryRun, AccountsCreated: []string{}, AccountsUpdated: []string{},
		DevicesCreated: []string{}, DevicesUpdated: []string{}}
	var bad []autoprov.BulkRowError
	// report adds a row's refusal; any other error ends the change.
	report := func(kind string, i int, err error) error {
		var inv *autoprov.InvalidError
		if !errors.As(err, &inv) {
			return err
		}
		bad = append(bad, autoprov.BulkRowError{Kind: kind, Index: i, Field: inv.Field, Message: inv.Message, Text: inv.Text})
		return nil
	}

	// The rows' keys, and every extension they name.
	exts := make([]string, len(in.Accounts))
	names := make([]string, 0, len(in.Accounts)+len(in.Devices))
	for i, a := range in.Accounts {
		if a.Extension != nil {
			exts[i] = strings.TrimSpace(*a.Extension)
			names = append(names, exts[i])
		}
	}
	macs := make([]string, len(in.Devices))
	for i, d := range in.Devices {
		if d.MAC == nil {
			bad = append(bad, autoprov.RowError("device", i, "mac", autoprov.T("mac is required")))
			continue
		}
		m, err := autoprov.ParseMAC(*d.MAC)
		if err != nil {
			if err := report("device", i, err); err != nil {
				return res, err
			}
			continue
		}
		macs[i] = m
		if d.Accounts != nil {
			names = append(names, *d.Accounts...)
		}
		if d.Keys != nil {
			for _, k := range *d.Keys {
				if k.Value != "" {
					names = append(names, k.Value)
				}
			}
		}
	}

	// What is stored: read once. The devices first, as the accounts and
	// keys they keep name accounts too.
	present := make([]string, 0, len(macs))
	for _, m := range macs {
		if m != "" {
			present = append(present, m)
		}
	}
	devices, err := s.st.Bulk.DevicesToEdit(ctx, present)
	if err != nil {
		return res, err
	}
	for _, d := range devices {
		names = append(names, d.Accounts...)
		for _, k := range d.Keys {
			if k.Value != "" {
				names = append(names, k.Value)
			}
		}
	}
	known := map[string]autoprov.Account{}
	slices.Sort(names)
	names = slices.Compact(names)
	for start := 0; start < len(names); start += 1000 {
		part, err := s.st.Accounts.AccountsByExtension(ctx, names[start:min(start+1000, len(names))])
		if err != nil {
			return res, err
		}
		for ext, a := range part {
			known[ext] = a
		}
	}
	profiles := map[string]autoprov.KeyProfile{}
	ps, err := s.st.Profiles.KeyProfiles(ctx)
	if err != nil {
		return res, err
	}
	for _, p := range ps {
		profiles[p.Name] = p
	}
	window, err := s.windowLength(ctx)
	if err != nil {
		return res, err
	}

	// Accounts: each row alone, then duplicates.
	w := autoprov.BulkWrite{Window: window, At: s.now(), Actor: actor, Accounts: make([]autoprov.AccountWrite, 0, len(in.Accounts)),
		Devices: make([]autoprov.DeviceWrite, 0, len(in.Devices)), Audit: make([]autoprov.AuditEvent, 0, len(in.Accounts))}
	var credsChanged []string
	firstExt := map[string]int{}
	refused := map[string]int{} // extensions whose account row is refused: its index
	for i, in := range in.Accounts {
		if j, dup := firstExt[exts[i]]; dup && exts[i] != "" {
			bad = append(bad, autoprov.RowError("account", i, "extension",
				autoprov.T("extension %s is listed twice (also account %d)", exts[i], j)))
			continue
		}
		firstExt[exts[i]] = i
		var a autoprov.Account
		var err error
		old, exists := known[exts[i]]
		if exists {
			a, err = patchAccount(old, in)
		} else {
			a, err = newAccount(in)
		}
		if err != nil {
			if err := report("account", i, err); err != nil {
				return res, err
			}
			if _, ok := known[exts[i]]; !ok && exts[i] != "" {
				refused[exts[i]] = i
			}
			continue
		}
		known[a.Extension] = a
		if exists {
			res.AccountsUpdated = append(res.AccountsUpdated, a.Extension)
			w.Audit = append(w.Audit, autoprov.AuditEvent{At: w.At, Event: autoprov.EventAccountUpdated, Actor: actor,
				Detail: "extension " + a.Extension + ": " + changedFields(old, a)})
			if a.Password != old.Password || a.AuthUser != old.AuthUser {
				credsChanged = append(credsChanged, a.Extension)
			}
		} else {
			res.AccountsCreated = append(res.AccountsCreated, a.Extension)
			w.Audit = append(w.Audit, autoprov.AuditEvent{At: w.At, Event: autoprov.EventAccountCreated, Actor: actor,
				Detail: "extension " + a.Extension})
		}
		w.Accounts = append(w.Accounts, autoprov.AccountWrite{Account: a, Create: !exists})
	}

	// A credential changed is a secret to hand out again: not while the
	// site is cut off from its central server (as UpdateAccount refuses).
	if len(credsChanged) > 0 {
		if err := s.supervised(); err != nil {
			return res, err
		}
	}

	// Devices, validated against the accounts as they will be.
	v := *s
	v.st.Accounts = bulkAccounts{s.st.Accounts, known}
	v.st.Profiles = bulkProfiles{s.st.Profiles, profiles}
	v.renderer.accounts, v.renderer.profiles = v.st.Accounts, v.st.Profiles
	firstMAC := map[string]int{}
	for i, in := range in.Devices {
		mac := macs[i]
		if mac == "" {
			continue
		}
		if j, dup := firstMAC[mac]; dup {
			bad = append(bad, autoprov.RowError("device", i, "mac",
				autoprov.T("mac %s is listed twice (also device %d)", mac, j)))
			continue
		}
		firstMAC[mac] = i
		if in.Accounts != nil {
			// An account of this request refused above: say so, not that
			// it does not exist.
			var why autoprov.Text
			for _, ext := range *in.Accounts {
				if j, ok := refused[strings.TrimSpace(ext)]; ok {
					t := autoprov.T("account %s is refused in this request (account %d)", strings.TrimSpace(ext), j)
					if why.Format != "" {
						t = autoprov.T("%s; %s", why, t)
					}
					why = t
				}
			}
			if why.Format != "" {
				bad = append(bad, autoprov.RowError("device", i, "accounts", why))
				continue
			}
		}
		var dw autoprov.DeviceWrite
		var err error
		d, exists := devices[mac]
		switch {
		case exists && d.State == autoprov.StateAssigned:
			dw, err = v.updateWrite(ctx, d, in, actor, window)
		case exists:
			dw, err = v.createWrite(ctx, mac, &d, in, actor, window)
		default:
			dw, err = v.createWrite(ctx, mac, nil, in, actor, window)
		}
		if err != nil {
			if err := report("device", i, err); err != nil {
				return res, err
			}
			continue
		}
		if exists && d.State == autoprov.StateAssigned {
			res.DevicesUpdated = append(res.DevicesUpdated, mac)
		} else {
			res.DevicesCreated = append(res.DevicesCreated, mac)
		}
		w.Devices = append(w.Devices, dw)
	}
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b autoprov.BulkRowError) int {
			if a.Kind != b.Kind {
				return strings.Compare(a.Kind, b.Kind) // account before device
			}
			return a.Index - b.Index
		})
		return res, &autoprov.BulkError{Errors: bad}
	}
	if dryRun {
		return res, nil
	}
	var using []string // the devices carrying credsChanged
	if len(credsChanged) > 0 {
		var err error
		if using, err = s.st.Bulk.DevicesUsingAccounts(ctx, credsChanged); err != nil {
			return res, err
		}
		// Not those the change leaves without accounts.
		lines := map[string]int{}
		for _, dw := range w.Devices {
			lines[dw.Device.MAC] = len(dw.Device.Accounts)
		}
		for _, mac := range using {
			if n, ok := lines[mac]; !ok || n > 0 {
				w.Windows = append(w.Windows, mac)
			}
		}
	}
	if err := s.st.Bulk.WriteBulk(ctx, w); err != nil {
		return res, err
	}
	if len(credsChanged) < len(res.AccountsUpdated) {
		using = nil // not those of every updated account: changedBulk looks
	} else if using == nil {
		using = []string{}
	}
	s.changedBulk(ctx, w, res, using, actor)
	return res, nil
}
