package httpd

import (
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/csvio"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// The REST API's JSON. These types are the contract with API clients; the
// domain types (package autoprov) carry no tags, and the store keeps its
// own format at rest. Secrets are write-only: input types take them,
// output types have no field for them.

type settingsJSON struct {
	SIPServer               string `json:"sip_server"`
	SIPPort                 int    `json:"sip_port"`
	SIPTransport            string `json:"sip_transport"`
	OutboundProxy           string `json:"outbound_proxy"`
	NTPServer               string `json:"ntp_server"`
	Timezone                string `json:"timezone"`
	Language                string `json:"language"`
	WebLanguage             string `json:"web_language"`
	ToneScheme              string `json:"tone_scheme"`
	DisclosureWindowSeconds int    `json:"disclosure_window_seconds"`
	InboxCap                int    `json:"inbox_cap"`
	FirmwareWindow          string `json:"firmware_window"`
}

// settingsPatchJSON is PUT /settings: fields left out keep their value.
type settingsPatchJSON struct {
	SIPServer               *string `json:"sip_server"`
	SIPPort                 *int    `json:"sip_port"`
	SIPTransport            *string `json:"sip_transport"`
	OutboundProxy           *string `json:"outbound_proxy"`
	NTPServer               *string `json:"ntp_server"`
	Timezone                *string `json:"timezone"`
	Language                *string `json:"language"`
	WebLanguage             *string `json:"web_language"`
	ToneScheme              *string `json:"tone_scheme"`
	DisclosureWindowSeconds *int    `json:"disclosure_window_seconds"`
	InboxCap                *int    `json:"inbox_cap"`
	FirmwareWindow          *string `json:"firmware_window"`
}

func settingsOut(st autoprov.Settings) settingsJSON { return settingsJSON(st) }

func (p settingsPatchJSON) domain() autoprov.SettingsPatch {
	return autoprov.SettingsPatch{
		SIPServer: p.SIPServer, SIPTransport: p.SIPTransport, OutboundProxy: p.OutboundProxy, NTPServer: p.NTPServer,
		Timezone: p.Timezone, Language: p.Language, WebLanguage: p.WebLanguage, ToneScheme: p.ToneScheme,
		SIPPort: p.SIPPort, DisclosureWindowSeconds: p.DisclosureWindowSeconds, InboxCap: p.InboxCap,
		FirmwareWindow: p.FirmwareWindow,
	}
}

// inboxStatsJSON is GET /inbox/stats: the inbox's size and bound, and what
// bounded discovery refused since the server started.
type inboxStatsJSON struct {
	Unassigned int `json:"unassigned"`
	Cap        int `json:"cap"`
	Dropped    struct {
		RateLimited uint64 `json:"rate_limited"`
		Full        uint64 `json:"full"`
	} `json:"dropped"`
	RefusedMAC uint64 `json:"refused_mac"`
}

func inboxStatsOut(st provision.InboxStats) inboxStatsJSON {
	out := inboxStatsJSON{Unassigned: st.Unassigned, Cap: st.Cap, RefusedMAC: st.RefusedMAC}
	out.Dropped.RateLimited, out.Dropped.Full = st.DroppedRateLimited, st.DroppedFull
	return out
}

type accountJSON struct {
	Extension   string    `json:"extension"`
	DisplayName string    `json:"display_name"`
	AuthUser    string    `json:"auth_user"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func accountOut(a autoprov.Account) accountJSON {
	return accountJSON{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

type accountInputJSON struct {
	Extension   *string `json:"extension"`
	DisplayName *string `json:"display_name"`
	AuthUser    *string `json:"auth_user"`
	Password    *string `json:"password"`
}

func (in accountInputJSON) domain() autoprov.AccountInput { return autoprov.AccountInput(in) }

type keyJSON struct {
	Position   int             `json:"position"`
	Module     int             `json:"module,omitempty"`
	Type       vendors.KeyType `json:"type"`
	Account    string          `json:"account,omitempty"`
	Line       int             `json:"line,omitempty"`
	Value      string          `json:"value,omitempty"`
	Label      string          `json:"label,omitempty"`
	PickupCode string          `json:"pickup_code,omitempty"`
}

// each converts a list, one element at a time; never nil, so an empty
// list is [] in JSON, not null.
func each[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func keyOut(k autoprov.KeySpec) keyJSON { return keyJSON(k) }

func keysOut(ks []autoprov.KeySpec) []keyJSON { return each(ks, keyOut) }

func keysIn(ks []keyJSON) []autoprov.KeySpec {
	if ks == nil {
		return nil
	}
	return each(ks, func(k keyJSON) autoprov.KeySpec { return autoprov.KeySpec(k) })
}

type overridesJSON struct {
	NTPServer   string `json:"ntp_server,omitempty"`
	Timezone    string `json:"timezone,omitempty"`
	Language    string `json:"language,omitempty"`
	WebLanguage string `json:"web_language,omitempty"`
	ToneScheme  string `json:"tone_scheme,omitempty"`
}

// paramJSON is a raw vendor parameter; vendor only in a key profile's.
type paramJSON struct {
	Vendor string `json:"vendor,omitempty"`
	Name   string `json:"name"`
	Value  string `json:"value"`
}

func paramsOut(ps []autoprov.Param) []paramJSON {
	out := make([]paramJSON, len(ps))
	for i, p := range ps {
		out[i] = paramJSON(p)
	}
	return out
}

func paramsIn(ps []paramJSON) []autoprov.Param {
	out := make([]autoprov.Param, len(ps))
	for i, p := range ps {
		out[i] = autoprov.Param(p)
	}
	return out
}

type peerJSON struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

type disclosureJSON struct {
	State       string     `json:"state"`
	OpenedAt    *time.Time `json:"opened_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	DisclosedAt *time.Time `json:"disclosed_at"`
	DisclosedTo *peerJSON  `json:"disclosed_to"`
	// Complete: did the transfer that consumed the window complete (null
	// while in flight, and in every other state).
	Complete *bool `json:"complete"`
}

func disclosureOut(d autoprov.Disclosure) disclosureJSON {
	out := disclosureJSON{State: d.State, OpenedAt: d.OpenedAt, ExpiresAt: d.ExpiresAt, DisclosedAt: d.DisclosedAt, Complete: d.Complete}
	if d.DisclosedTo != nil {
		out.DisclosedTo = &peerJSON{IP: d.DisclosedTo.IP, UserAgent: d.DisclosedTo.UserAgent}
	}
	return out
}

// credentialJSON is a device's provisioning credential: its state and
// when the phone first presented it. The password is never shown.
type credentialJSON struct {
	State     string     `json:"state"`
	AppliedAt *time.Time `json:"applied_at"`
}

type deviceJSON struct {
	MAC        string         `json:"mac"`
	Vendor     string         `json:"vendor"`
	Model      string         `json:"model"`
	Label      string         `json:"label"`
	State      string         `json:"state"`
	Accounts   []string       `json:"accounts"`
	KeyProfile string         `json:"key_profile,omitempty"`
	Keys       []keyJSON      `json:"keys"`
	Overrides  overridesJSON  `json:"overrides"`
	Params     []paramJSON    `json:"params"`
	LastSeen   *time.Time     `json:"last_seen"`
	RemoteIP   string         `json:"remote_ip"`
	UserAgent  string         `json:"user_agent"`
	Firmware   string         `json:"firmware"`
	LastFile   string         `json:"last_file"`
	Disclosure disclosureJSON `json:"disclosure"`
	Credential credentialJSON `json:"credential"`
	// TFTPAllowed: the per-device file goes out over TFTP even once the
	// credential is required (applied, or issued by a complete transfer).
	TFTPAllowed bool           `json:"tftp_allowed"`
	Onboarding  onboardingJSON `json:"onboarding"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	// FirmwareStatus is where the device stands in its firmware rollout
	// (GET and PATCH of one device; lists leave it out).
	FirmwareStatus *firmwareStatusJSON `json:"firmware_status,omitempty"`
	// Dialogue is what the server knows of a dialogue phone (OpenStage):
	// its pending job, what it reported, the items it refused (GET of one
	// device; omitted when nothing is known).
	Dialogue *dialogueJSON `json:"dialogue,omitempty"`
	// Warnings: where the device's files depart from what was asked (a
	// zone written as the nearest the model has...); only in the answer
	// for one device, omitted in lists.
	Warnings []string `json:"warnings,omitempty"`
}

func deviceOut(d autoprov.Device) deviceJSON {
	if d.Credential.State == "" {
		d.Credential.State = autoprov.CredentialNone
	}
	accounts := d.Accounts
	if accounts == nil {
		accounts = []string{}
	}
	return deviceJSON{
		MAC: d.MAC, Vendor: d.Vendor, Model: d.Model, Label: d.Label, State: d.State,
		Accounts: accounts, KeyProfile: d.KeyProfile, Keys: keysOut(d.Keys), Overrides: overridesJSON(d.Overrides), Params: paramsOut(d.Params),
		LastSeen: d.LastSeen, RemoteIP: d.RemoteIP, UserAgent: d.UserAgent, Firmware: d.Firmware, LastFile: d.LastFile,
		Disclosure: disclosureOut(d.Disclosure), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Credential:  credentialJSON{State: d.Credential.State, AppliedAt: d.Credential.AppliedAt},
		TFTPAllowed: d.TFTPAllowed, Onboarding: onboardingOut(autoprov.EffectiveOnboarding(d)), Warnings: vendors.Strings(d.Warnings),
	}
}

type deviceInputJSON struct {
	MAC          *string        `json:"mac"`
	Vendor       *string        `json:"vendor"`
	Model        *string        `json:"model"`
	Label        *string        `json:"label"`
	Accounts     *[]string      `json:"accounts"`
	KeyProfile   *string        `json:"key_profile"`
	Keys         *[]keyJSON     `json:"keys"`
	Overrides    *overridesJSON `json:"overrides"`
	Params       *[]paramJSON   `json:"params"`
	MenuPassword *string        `json:"menu_password"`
	WebPassword  *string        `json:"web_password"`
	TFTPAllowed  *bool          `json:"tftp_allowed"`
}

func (in deviceInputJSON) domain() autoprov.DeviceInput {
	d := autoprov.DeviceInput{MAC: in.MAC, Vendor: in.Vendor, Model: in.Model, Label: in.Label, Accounts: in.Accounts,
		KeyProfile: in.KeyProfile, MenuPassword: in.MenuPassword, WebPassword: in.WebPassword, TFTPAllowed: in.TFTPAllowed}
	if in.Keys != nil {
		ks := keysIn(*in.Keys)
		if ks == nil {
			ks = []autoprov.KeySpec{}
		}
		d.Keys = &ks
	}
	if in.Overrides != nil {
		o := autoprov.Overrides(*in.Overrides)
		d.Overrides = &o
	}
	if in.Params != nil {
		ps := paramsIn(*in.Params)
		d.Params = &ps
	}
	return d
}

type keyProfileJSON struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Keys        []keyJSON   `json:"keys"`
	Params      []paramJSON `json:"params"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

func profileOut(p autoprov.KeyProfile) keyProfileJSON {
	return keyProfileJSON{Name: p.Name, Description: p.Description, Keys: keysOut(p.Keys), Params: paramsOut(p.Params), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// keyProfileInputJSON is POST and PUT /key-profiles: the timestamps of a
// profile read back with GET are accepted and ignored.
type keyProfileInputJSON struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Keys        []keyJSON   `json:"keys"`
	Params      []paramJSON `json:"params"`
	CreatedAt   *time.Time  `json:"created_at"`
	UpdatedAt   *time.Time  `json:"updated_at"`
}

func (in keyProfileInputJSON) domain() autoprov.KeyProfile {
	return autoprov.KeyProfile{Name: in.Name, Description: in.Description, Keys: keysIn(in.Keys), Params: paramsIn(in.Params)}
}

// modelParamsJSON is GET and PUT /models/{vendor}/{model}/params.
type modelParamsJSON struct {
	Vendor   string      `json:"vendor"`
	Model    string      `json:"model"`
	Params   []paramJSON `json:"params"`
	Warnings []string    `json:"warnings"`
}

type auditJSON struct {
	ID     uint      `json:"id"`
	At     time.Time `json:"at"`
	MAC    string    `json:"mac,omitempty"`
	Event  string    `json:"event"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

func auditOut(e autoprov.AuditEvent) auditJSON { return auditJSON(e) }

// listJSON is the answer of every list endpoint: one page of items, the
// number of all that match, and the page's limit and offset.
type listJSON[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// bulkInputJSON is POST /bulk: the objects of POST /accounts and POST
// /devices.
type bulkInputJSON struct {
	Accounts []accountInputJSON `json:"accounts"`
	Devices  []deviceInputJSON  `json:"devices"`
}

func (in bulkInputJSON) domain() autoprov.BulkInput {
	return autoprov.BulkInput{
		Accounts: each(in.Accounts, func(a accountInputJSON) autoprov.AccountInput { return a.domain() }),
		Devices:  each(in.Devices, func(d deviceInputJSON) autoprov.DeviceInput { return d.domain() }),
	}
}

// bulkKeysJSON is what a bulk change did to one kind of row: how many
// were created and updated, and their keys (extensions or MACs).
type bulkKeysJSON struct {
	Created     int      `json:"created"`
	Updated     int      `json:"updated"`
	CreatedKeys []string `json:"created_keys"`
	UpdatedKeys []string `json:"updated_keys"`
}

type bulkResultJSON struct {
	DryRun   bool         `json:"dry_run"`
	Accounts bulkKeysJSON `json:"accounts"`
	Devices  bulkKeysJSON `json:"devices"`
}

func bulkResultOut(r autoprov.BulkResult) bulkResultJSON {
	return bulkResultJSON{DryRun: r.DryRun,
		Accounts: bulkKeysJSON{len(r.AccountsCreated), len(r.AccountsUpdated), r.AccountsCreated, r.AccountsUpdated},
		Devices:  bulkKeysJSON{len(r.DevicesCreated), len(r.DevicesUpdated), r.DevicesCreated, r.DevicesUpdated}}
}

// bulkRowErrorJSON is one bad row of a bulk change.
type bulkRowErrorJSON struct {
	Kind  string `json:"kind"`
	Index int    `json:"index"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

type bulkErrorJSON struct {
	Error  string             `json:"error"`
	Errors []bulkRowErrorJSON `json:"errors"`
}

func bulkErrorOut(e *autoprov.BulkError) bulkErrorJSON {
	return bulkErrorJSON{Error: e.Error(), Errors: each(e.Errors, func(r autoprov.BulkRowError) bulkRowErrorJSON {
		return bulkRowErrorJSON{Kind: r.Kind, Index: r.Index, Field: r.Field, Error: r.Message}
	})}
}

type firmwareJSON struct {
	ID         int64     `json:"id"`
	Vendor     string    `json:"vendor"`
	Models     []string  `json:"models"`
	Version    string    `json:"version"`
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Path       string    `json:"path"`
	UploadedAt time.Time `json:"uploaded_at"`
	UploadedBy string    `json:"uploaded_by"`
}

func firmwareOut(f autoprov.Firmware) firmwareJSON {
	models := f.Models
	if models == nil {
		models = []string{}
	}
	return firmwareJSON{ID: f.ID, Vendor: f.Vendor, Models: models, Version: f.Version, Name: f.Name, Size: f.Size,
		SHA256: f.SHA256, Path: "/" + firmware.Path(f), UploadedAt: f.UploadedAt, UploadedBy: f.UploadedBy}
}

// resyncJSON is one device's resync result.
type resyncJSON struct {
	MAC    string `json:"mac"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func resyncOut(r autoprov.ResyncResult) resyncJSON {
	return resyncJSON{MAC: r.MAC, Status: r.Status, Detail: r.Detail}
}

// resyncInputJSON is POST /devices/{mac}/resync (an empty body is
// {"reboot": false}).
type resyncInputJSON struct {
	Reboot bool `json:"reboot"`
}

// bulkResyncInputJSON is POST /resync.
type bulkResyncInputJSON struct {
	MACs   []string `json:"macs"`
	Reboot bool     `json:"reboot"`
}

// bulkResyncJSON answers POST /resync: one result per MAC, in order.
type bulkResyncJSON struct {
	Results []resyncJSON `json:"results"`
}

type onboardingJSON struct {
	State   string     `json:"state"`
	Service string     `json:"service"`
	Detail  string     `json:"detail"`
	At      *time.Time `json:"at"`
}

func onboardingOut(o autoprov.Onboarding) onboardingJSON {
	return onboardingJSON{State: o.State, Service: o.Service, Detail: o.Detail, At: o.At}
}

// csvLineErrorJSON is one bad line of a CSV import.
type csvLineErrorJSON struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// csvErrorJSON refuses a CSV import: every bad line; nothing was written.
type csvErrorJSON struct {
	Error  string             `json:"error"`
	Errors []csvLineErrorJSON `json:"errors"`
}

func csvErrorOut(e *csvio.Error) csvErrorJSON {
	return csvErrorJSON{Error: e.Error(), Errors: each(e.Errors, func(l csvio.LineError) csvLineErrorJSON {
		return csvLineErrorJSON{Line: l.Line, Field: l.Field, Error: l.Message}
	})}
}

// replaceInputJSON is POST /devices/{mac}/replace.
type replaceInputJSON struct {
	NewMAC string `json:"new_mac"`
	Model  string `json:"model"`
}

// revealInputJSON is POST /accounts/reveal: the admin token again, the
// accounts (none: every generated one) and the format.
type revealInputJSON struct {
	AdminToken string   `json:"admin_token"`
	Extensions []string `json:"extensions"`
	Format     string   `json:"format"`
}

// dialogueJSON is provision.DialogueState.
type dialogueJSON struct {
	Pending      bool              `json:"pending"`
	PendingSince *time.Time        `json:"pending_since"`
	LastContact  *time.Time        `json:"last_contact_me"`
	Reported     map[string]string `json:"reported"`
	FailedItems  []string          `json:"failed_items"`
}
