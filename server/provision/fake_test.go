package provision_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov"
)

// memStore is a hand-written in-memory store for the core's tests: every
// concern the core declares, with the semantics server/store documents
// (the disclosure claim included), and nothing else.
type memStore struct {
	mu       sync.Mutex
	settings *autoprov.Settings
	accounts map[string]autoprov.Account
	// failAudit makes AppendAudit fail (a database that refuses the write).
	failAudit bool
	devices   map[string]autoprov.Device
	profiles  map[string]autoprov.KeyProfile
	params    map[[2]string][]autoprov.Param
	claims    map[string]claim
	audit     []autoprov.AuditEvent
}

// claim is a transfer's hold on a window: until its lease ends while the
// window is open; after Commit (consumed) until Complete.
type claim struct {
	token string
	until time.Time
}

func newMemStore() *memStore {
	return &memStore{accounts: map[string]autoprov.Account{}, devices: map[string]autoprov.Device{},
		profiles: map[string]autoprov.KeyProfile{}, claims: map[string]claim{}}
}

func notFound(what string) error                        { return fmt.Errorf("%s: %w", what, autoprov.ErrNotFound) }
func conflict(what string) error                        { return fmt.Errorf("%s: %w", what, autoprov.ErrConflict) }
func (m *memStore) lock() func()                        { m.mu.Lock(); return m.mu.Unlock }
func cloneKeys(k []autoprov.KeySpec) []autoprov.KeySpec { return append([]autoprov.KeySpec{}, k...) }

func clone(d autoprov.Device) autoprov.Device {
	d.Accounts = append([]string{}, d.Accounts...)
	d.Keys = cloneKeys(d.Keys)
	return d
}

func (m *memStore) Settings(context.Context) (autoprov.Settings, error) {
	defer m.lock()()
	if m.settings == nil {
		return autoprov.DefaultSettings(), nil
	}
	return *m.settings, nil
}

func (m *memStore) PutSettings(_ context.Context, st autoprov.Settings) error {
	defer m.lock()()
	m.settings = &st
	return nil
}

func (m *memStore) Account(_ context.Context, ext string) (autoprov.Account, error) {
	defer m.lock()()
	a, ok := m.accounts[ext]
	if !ok {
		return a, notFound("account " + ext)
	}
	return a, nil
}

func (m *memStore) Accounts(context.Context) ([]autoprov.Account, error) {
	defer m.lock()()
	out := make([]autoprov.Account, 0, len(m.accounts))
	for _, a := range m.accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Extension < out[j].Extension })
	return out, nil
}

func (m *memStore) AccountsByExtension(_ context.Context, exts []string) (map[string]autoprov.Account, error) {
	defer m.lock()()
	out := map[string]autoprov.Account{}
	for _, e := range exts {
		if a, ok := m.accounts[e]; ok {
			out[e] = a
		}
	}
	return out, nil
}

func (m *memStore) CreateAccount(_ context.Context, a autoprov.Account) (autoprov.Account, error) {
	defer m.lock()()
	if _, ok := m.accounts[a.Extension]; ok {
		return a, conflict("account " + a.Extension)
	}
	a.CreatedAt, a.UpdatedAt = time.Now(), time.Now()
	m.accounts[a.Extension] = a
	return a, nil
}

func (m *memStore) UpdateAccount(_ context.Context, a autoprov.Account) (autoprov.Account, error) {
	defer m.lock()()
	old, ok := m.accounts[a.Extension]
	if !ok {
		return a, notFound("account " + a.Extension)
	}
	a.CreatedAt, a.UpdatedAt = old.CreatedAt, time.Now()
	m.accounts[a.Extension] = a
	return a, nil
}

func (m *memStore) DeleteAccount(_ context.Context, ext string) error {
	defer m.lock()()
	if _, ok := m.accounts[ext]; !ok {
		return notFound("account " + ext)
	}
	for _, d := range m.devices {
		for _, e := range d.Accounts {
			if e == ext {
				return conflict("account " + ext + " is on device " + d.MAC)
			}
		}
	}
	delete(m.accounts, ext)
	return nil
}

func (m *memStore) KeyProfile(_ context.Context, name string) (autoprov.KeyProfile, error) {
	defer m.lock()()
	p, ok := m.profiles[name]
	if !ok {
		return p, notFound("key profile " + name)
	}
	p.Keys = cloneKeys(p.Keys)
	return p, nil
}

func (m *memStore) ModelParams(_ context.Context, vendor, model string) ([]autoprov.Param, error) {
	defer m.lock()()
	return append([]autoprov.Param{}, m.params[[2]string{vendor, model}]...), nil
}

func (m *memStore) SetModelParams(_ context.Context, vendor, model string, params []autoprov.Param) error {
	defer m.lock()()
	if m.params == nil {
		m.params = map[[2]string][]autoprov.Param{}
	}
	m.params[[2]string{vendor, model}] = append([]autoprov.Param{}, params...)
	return nil
}

func (m *memStore) KeyProfiles(context.Context) ([]autoprov.KeyProfile, error) {
	defer m.lock()()
	var out []autoprov.KeyProfile
	for _, p := range m.profiles {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memStore) CreateKeyProfile(_ context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error) {
	defer m.lock()()
	if _, ok := m.profiles[p.Name]; ok {
		return p, conflict("key profile " + p.Name)
	}
	p.Keys = cloneKeys(p.Keys)
	m.profiles[p.Name] = p
	return p, nil
}

func (m *memStore) UpdateKeyProfile(_ context.Context, p autoprov.KeyProfile) (autoprov.KeyProfile, error) {
	defer m.lock()()
	if _, ok := m.profiles[p.Name]; !ok {
		return p, notFound("key profile " + p.Name)
	}
	p.Keys = cloneKeys(p.Keys)
	m.profiles[p.Name] = p
	return p, nil
}

func (m *memStore) DeleteKeyProfile(_ context.Context, name string) error {
	defer m.lock()()
	if _, ok := m.profiles[name]; !ok {
		return notFound("key profile " + name)
	}
	for _, d := range m.devices {
		if d.KeyProfile == name {
			return conflict("key profile " + name + " is used by " + d.MAC)
		}
	}
	delete(m.profiles, name)
	return nil
}

func (m *memStore) Device(_ context.Context, mac string) (autoprov.Device, error) {
	defer m.lock()()
	d, ok := m.devices[mac]
	if !ok {
		return d, notFound("device " + mac)
	}
	return clone(d), nil
}

func (m *memStore) match(d autoprov.Device, f autoprov.DeviceFilter) bool {
	return (f.Vendor == "" || d.Vendor == f.Vendor) && (f.Model == "" || strings.EqualFold(d.Model, f.Model)) &&
		(f.State == "" || d.State == f.State) && (f.KeyProfile == "" || d.KeyProfile == f.KeyProfile) &&
		(f.Disclosure == "" || d.Disclosure.State == f.Disclosure) && (f.AfterMAC == "" || d.MAC > f.AfterMAC) && m.search(d, f)
}

func (m *memStore) Devices(_ context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, error) {
	defer m.lock()()
	var out []autoprov.Device
	for _, d := range m.devices {
		if m.match(d, f) {
			out = append(out, clone(d))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MAC < out[j].MAC })
	if f.NewestFirst {
		seen := func(d autoprov.Device) time.Time {
			if d.LastSeen == nil {
				return time.Time{}
			}
			return *d.LastSeen
		}
		sort.SliceStable(out, func(i, j int) bool { return seen(out[i]).After(seen(out[j])) })
	}
	if col := strings.TrimPrefix(f.Sort, "-"); col == "label" || col == "model" || col == "vendor" {
		key := func(d autoprov.Device) string {
			return map[string]string{"label": d.Label, "model": d.Model, "vendor": d.Vendor}[col]
		}
		sort.SliceStable(out, func(i, j int) bool {
			if f.Sort[0] == '-' {
				return key(out[i]) > key(out[j])
			}
			return key(out[i]) < key(out[j])
		})
	}
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 {
		out = out[:min(f.Limit, len(out))]
	}
	return out, nil
}

func (m *memStore) CountDevices(_ context.Context, f autoprov.DeviceFilter) (int, error) {
	defer m.lock()()
	n := 0
	for _, d := range m.devices {
		if m.match(d, f) {
			n++
		}
	}
	return n, nil
}

func (m *memStore) CreateDevice(_ context.Context, d autoprov.Device) error {
	defer m.lock()()
	if _, ok := m.devices[d.MAC]; ok {
		return conflict("device " + d.MAC)
	}
	d.Disclosure = autoprov.Disclosure{State: autoprov.DisclosureNone}
	m.devices[d.MAC] = clone(d)
	return nil
}

func (m *memStore) UpdateDevice(_ context.Context, d autoprov.Device) error {
	defer m.lock()()
	old, ok := m.devices[d.MAC]
	if !ok {
		return notFound("device " + d.MAC)
	}
	// Sightings and the disclosure window are not the admin's to change.
	d.LastSeen, d.RemoteIP, d.UserAgent, d.Firmware, d.LastFile = old.LastSeen, old.RemoteIP, old.UserAgent, old.Firmware, old.LastFile
	d.Disclosure = old.Disclosure
	m.devices[d.MAC] = clone(d)
	return nil
}

func (m *memStore) WriteDevice(_ context.Context, w autoprov.DeviceWrite) error {
	defer m.lock()()
	d := w.Device
	old, ok := m.devices[d.MAC]
	switch {
	case w.Create && ok:
		return conflict("device " + d.MAC)
	case !w.Create && !ok:
		return notFound("device " + d.MAC)
	case !w.Create && w.Adopt && old.State != autoprov.StateUnassigned:
		return conflict("device " + d.MAC + " was adopted meanwhile")
	}
	for _, ext := range d.Accounts {
		if _, ok := m.accounts[ext]; !ok {
			return notFound("account " + ext)
		}
	}
	if w.Replaces != "" {
		if _, ok := m.devices[w.Replaces]; !ok {
			return notFound("device " + w.Replaces)
		}
		delete(m.devices, w.Replaces)
	}
	if w.Create {
		d.Disclosure = autoprov.Disclosure{State: autoprov.DisclosureNone}
	} else {
		d.LastSeen, d.RemoteIP, d.UserAgent, d.Firmware, d.LastFile = old.LastSeen, old.RemoteIP, old.UserAgent, old.Firmware, old.LastFile
		d.Disclosure, d.Credential = old.Disclosure, old.Credential
	}
	for _, e := range w.Audit {
		m.appendAudit(e)
	}
	if w.Window > 0 {
		at, exp := w.At, w.At.Add(w.Window)
		d.Disclosure = autoprov.Disclosure{State: autoprov.DisclosureOpen, OpenedAt: &at, ExpiresAt: &exp}
		d.Credential = autoprov.Credential{State: autoprov.CredentialNone}
		delete(m.claims, d.MAC)
		m.appendAudit(autoprov.AuditEvent{At: at, MAC: d.MAC, Event: autoprov.EventDisclosureOpened, Actor: w.Actor})
	}
	m.devices[d.MAC] = clone(d)
	return nil
}

func (m *memStore) DeleteDevice(_ context.Context, mac string) error {
	defer m.lock()()
	if _, ok := m.devices[mac]; !ok {
		return notFound("device " + mac)
	}
	delete(m.devices, mac)
	return nil
}

func (m *memStore) DevicesUsingAccount(_ context.Context, ext string) ([]string, error) {
	defer m.lock()()
	var out []string
	for _, d := range m.devices {
		for _, e := range d.Accounts {
			if e == ext {
				out = append(out, d.MAC)
			}
		}
	}
	return out, nil
}

func (m *memStore) DevicesWithProfile(_ context.Context, name string) ([]string, error) {
	defer m.lock()()
	var out []string
	for _, d := range m.devices {
		if d.KeyProfile == name {
			out = append(out, d.MAC)
		}
	}
	return out, nil
}

func (m *memStore) Seen(_ context.Context, v autoprov.Sighting) (bool, error) {
	defer m.lock()()
	at := v.At
	d, ok := m.devices[v.MAC]
	if !ok {
		d = autoprov.Device{MAC: v.MAC, Vendor: v.Vendor, Model: v.Model, State: autoprov.StateUnassigned,
			Accounts: []string{}, Keys: []autoprov.KeySpec{}, Disclosure: autoprov.Disclosure{State: autoprov.DisclosureNone}}
	}
	d.LastSeen, d.RemoteIP, d.LastFile = &at, v.RemoteIP, v.File
	if v.UserAgent != "" {
		d.UserAgent = v.UserAgent
	}
	if v.Firmware != "" {
		d.Firmware = v.Firmware
	}
	if d.State == autoprov.StateUnassigned && d.Vendor == "" {
		d.Vendor = v.Vendor
	}
	if d.State == autoprov.StateUnassigned && d.Model == "" {
		d.Model = v.Model
	}
	m.devices[v.MAC] = d
	return !ok, nil
}

func (m *memStore) appendAudit(e autoprov.AuditEvent) {
	e.ID = uint(len(m.audit) + 1)
	m.audit = append(m.audit, e)
}

func (m *memStore) OpenDisclosure(_ context.Context, mac string, now time.Time, window time.Duration, actor string) (autoprov.Disclosure, error) {
	defer m.lock()()
	d, ok := m.devices[mac]
	if !ok {
		return autoprov.Disclosure{}, notFound("device " + mac)
	}
	exp := now.Add(window)
	d.Disclosure = autoprov.Disclosure{State: autoprov.DisclosureOpen, OpenedAt: &now, ExpiresAt: &exp}
	d.Credential = autoprov.Credential{State: autoprov.CredentialNone}
	m.devices[mac] = d
	delete(m.claims, mac)
	m.appendAudit(autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureOpened, Actor: actor})
	return d.Disclosure, nil
}

func (m *memStore) Reserve(_ context.Context, mac, token string, now time.Time, lease time.Duration) (bool, error) {
	defer m.lock()()
	d := m.devices[mac]
	if d.Disclosure.State != autoprov.DisclosureOpen || d.Disclosure.ExpiresAt == nil || !now.Before(*d.Disclosure.ExpiresAt) {
		return false, nil
	}
	if c, ok := m.claims[mac]; ok && !now.After(c.until) {
		return false, nil
	}
	m.claims[mac] = claim{token, now.Add(lease)}
	return true, nil
}

func (m *memStore) IssueCredential(_ context.Context, mac, token, password string, now time.Time) (bool, error) {
	defer m.lock()()
	d := m.devices[mac]
	if c, ok := m.claims[mac]; !ok || c.token != token || d.Disclosure.State != autoprov.DisclosureOpen {
		return false, nil
	}
	d.Credential = autoprov.Credential{State: autoprov.CredentialIssued, Password: password, IssuedAt: &now}
	m.devices[mac] = d
	return true, nil
}

func (m *memStore) ApplyCredential(_ context.Context, mac string, issuedAt, now time.Time) (bool, error) {
	defer m.lock()()
	d, ok := m.devices[mac]
	if !ok || d.Credential.State != autoprov.CredentialIssued || d.Credential.IssuedAt == nil || !d.Credential.IssuedAt.Equal(issuedAt) {
		return false, nil
	}
	d.Credential.State, d.Credential.AppliedAt = autoprov.CredentialApplied, &now
	m.devices[mac] = d
	return true, nil
}

func (m *memStore) Commit(_ context.Context, mac, token string, now time.Time, to autoprov.Peer) (bool, error) {
	defer m.lock()()
	d := m.devices[mac]
	if c, ok := m.claims[mac]; !ok || c.token != token || d.Disclosure.State != autoprov.DisclosureOpen {
		return false, nil
	}
	m.claims[mac] = claim{token: token} // kept for Complete
	d.Disclosure.State, d.Disclosure.DisclosedAt, d.Disclosure.DisclosedTo = autoprov.DisclosureConsumed, &now, &to
	d.Disclosure.Complete = nil
	m.devices[mac] = d
	m.appendAudit(autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureConsumed})
	return true, nil
}

func (m *memStore) Complete(_ context.Context, mac, token string, now time.Time, complete bool, reason string) (bool, error) {
	defer m.lock()()
	d := m.devices[mac]
	if c, ok := m.claims[mac]; !ok || c.token != token || d.Disclosure.State != autoprov.DisclosureConsumed || d.Disclosure.Complete != nil {
		return false, nil
	}
	delete(m.claims, mac)
	d.Disclosure.Complete = &complete
	m.devices[mac] = d
	detail := "complete: true"
	if !complete {
		detail = "complete: false (" + reason + ")"
	}
	m.appendAudit(autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureTransferEnded, Detail: detail})
	return true, nil
}

func (m *memStore) Release(_ context.Context, mac, token string) error {
	defer m.lock()()
	if c, ok := m.claims[mac]; ok && c.token == token && m.devices[mac].Disclosure.State == autoprov.DisclosureOpen {
		delete(m.claims, mac)
	}
	return nil
}

func (m *memStore) ExpireDue(_ context.Context, now time.Time) ([]string, error) {
	defer m.lock()()
	var out []string
	for mac, d := range m.devices {
		if c, ok := m.claims[mac]; ok && !now.After(c.until) {
			continue
		}
		if d.Disclosure.State == autoprov.DisclosureOpen && !now.Before(*d.Disclosure.ExpiresAt) {
			d.Disclosure.State = autoprov.DisclosureExpired
			m.devices[mac] = d
			m.appendAudit(autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureExpired})
			out = append(out, mac)
		}
	}
	return out, nil
}

func (m *memStore) Audit(_ context.Context, mac string, limit int) ([]autoprov.AuditEvent, error) {
	defer m.lock()()
	var out []autoprov.AuditEvent
	for i := len(m.audit) - 1; i >= 0 && len(out) < limit; i-- {
		if mac == "" || m.audit[i].MAC == mac {
			out = append(out, m.audit[i])
		}
	}
	return out, nil
}

func (m *memStore) AppendAudit(_ context.Context, e autoprov.AuditEvent) error {
	defer m.lock()()
	if m.failAudit {
		return errBroken
	}
	m.appendAudit(e)
	return nil
}

// errBroken is what brokenStore answers: a database that is down.
var errBroken = errors.New("database is down")

// brokenStore fails every call, as a database that went away does. It
// embeds the interface so every method exists; the ones the core calls
// on the paths under test are overridden to fail.
type brokenStore struct{ memStore }

func (*brokenStore) Settings(context.Context) (autoprov.Settings, error) {
	return autoprov.Settings{}, errBroken
}
func (*brokenStore) Seen(context.Context, autoprov.Sighting) (bool, error) { return false, errBroken }
func (*brokenStore) Device(context.Context, string) (autoprov.Device, error) {
	return autoprov.Device{}, errBroken
}
func (*brokenStore) Accounts(context.Context) ([]autoprov.Account, error) { return nil, errBroken }
func (*brokenStore) AccountsByExtension(context.Context, []string) (map[string]autoprov.Account, error) {
	return nil, errBroken
}
func (*brokenStore) CreateAccount(context.Context, autoprov.Account) (autoprov.Account, error) {
	return autoprov.Account{}, errBroken
}

func (m *memStore) CommitIssuing(ctx context.Context, mac, token, password string, now time.Time, to autoprov.Peer) (bool, error) {
	if won, err := m.IssueCredential(ctx, mac, token, password, now); err != nil || !won {
		return won, err
	}
	return m.Commit(ctx, mac, token, now, to)
}
