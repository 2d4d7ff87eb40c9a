package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/server/provision"
)

// This file holds the fleet-wide pages: the dashboard, the device list
// with its search, filters, sorting and bulk actions, and the accounts.

// ---- dashboard ----

// count is one line of a dashboard tally, with the device list it links to.
type count struct {
	Label string
	N     int
	Href  string
}

type dashboardData struct {
	Assigned, Unassigned int
	SeenHour             int
	Vendors, Onboarding  []count
	Windows              []autoprov.Device // open secret windows, soonest end first
	WindowsTotal         int
	Firmware             []autoprov.FirmwareSummary // nil without firmware
	Misses               []autoprov.Miss
	Sites                *siteTally      // nil unless this is a central with sites
	Link                 *central.Status // this site's link to its central (nil: not a site)
}

// siteTally is the dashboard's panel of a central's sites.
type siteTally struct {
	Total, Connected, Disconnected, Other int
	Alarms                                []siteAlarm
}

// siteAlarm is one alarm about a site, with the site it came from: its
// English (Alarm), and the same as a Text (Format empty when there is
// none, as from a site that sends its alarms as English only).
type siteAlarm struct {
	ID, Name, Alarm string
	Text            autoprov.Text
}

// tallySites counts the sites by state and collects their alarms (a
// disconnected site's, and those a site's last summary reported); nil
// when there is none. when writes a time as the UI shows times.
func tallySites(sites []central.SiteView, when func(*time.Time) string) *siteTally {
	if len(sites) == 0 {
		return nil
	}
	t := &siteTally{Total: len(sites)}
	for _, s := range sites {
		switch s.State {
		case central.SiteConnected:
			t.Connected++
		case central.SiteDisconnected:
			t.Disconnected++
			// The central's own alarm: a site reports none while its link
			// is down. Its times are the UI's (the fleet's zone), written
			// into the Text as they are shown.
			if s.LastHeartbeat != nil {
				a := autoprov.T("no link since %s", when(s.LastHeartbeat))
				if s.GraceUntil != nil {
					a = autoprov.T("no link since %s; grace period until %s", when(s.LastHeartbeat), when(s.GraceUntil))
				}
				t.Alarms = append(t.Alarms, siteAlarm{ID: s.ID, Name: s.Name, Alarm: a.String(), Text: a})
			}
		default:
			t.Other++
		}
		var sum central.Summary
		if len(s.Summary) > 0 && json.Unmarshal(s.Summary, &sum) == nil {
			for _, a := range sum.Alarms {
				t.Alarms = append(t.Alarms, siteAlarm{ID: s.ID, Name: s.Name, Alarm: a})
			}
		}
	}
	return t
}

// What the dashboard lists at most.
const (
	dashboardWindows = 20 // open windows
	dashboardMisses  = 10 // latest misses
)

// WithMisses lets the dashboard list the latest misses (main passes
// (*provision.Phones).RecentMisses).
func WithMisses(latest func(n int) []autoprov.Miss) Option {
	return func(u *UI) { u.misses = latest }
}

func (u *UI) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	var firstErr error
	total := func(f autoprov.DeviceFilter) int {
		f.Limit = 1
		_, n, err := u.core.Devices(ctx, f)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return n
	}
	var d dashboardData
	d.Assigned = total(autoprov.DeviceFilter{State: autoprov.StateAssigned})
	d.Unassigned = total(autoprov.DeviceFilter{State: autoprov.StateUnassigned})
	d.SeenHour = total(autoprov.DeviceFilter{SeenAfter: u.now().Add(-time.Hour)})
	for _, v := range u.core.Registry().VendorNames() {
		if n := total(autoprov.DeviceFilter{Vendor: v, State: autoprov.StateAssigned}); n > 0 {
			d.Vendors = append(d.Vendors, count{Label: v, N: n, Href: "/ui/devices?vendor=" + url.QueryEscape(v)})
		}
	}
	for _, o := range autoprov.OnboardingStates {
		if n := total(autoprov.DeviceFilter{Onboarding: o, State: autoprov.StateAssigned}); n > 0 {
			d.Onboarding = append(d.Onboarding, count{Label: o, N: n, Href: "/ui/devices?onboarding=" + url.QueryEscape(o)})
		}
	}
	if firstErr != nil {
		u.failErr(c, firstErr)
		return
	}
	open, n, err := u.core.Devices(ctx, autoprov.DeviceFilter{Disclosure: autoprov.DisclosureOpen, Limit: autoprov.MaxPageLimit})
	if err != nil {
		u.failErr(c, err)
		return
	}
	d.WindowsTotal = n
	for _, dev := range open {
		if dev.Disclosure.State == autoprov.DisclosureOpen { // not past its end
			d.Windows = append(d.Windows, dev)
		}
	}
	slices.SortStableFunc(d.Windows, func(a, b autoprov.Device) int {
		if a.Disclosure.ExpiresAt == nil || b.Disclosure.ExpiresAt == nil {
			return 0
		}
		return a.Disclosure.ExpiresAt.Compare(*b.Disclosure.ExpiresAt)
	})
	d.WindowsTotal -= len(open) - len(d.Windows)
	d.Windows = d.Windows[:min(len(d.Windows), dashboardWindows)]
	if u.ro != nil {
		if _, _, sums, err := u.ro.FirmwareStatus(ctx, provision.FirmwareStatusFilter{Limit: 1}); err == nil {
			d.Firmware = sums
		} else {
			u.log.Warn("dashboard: firmware status", "err", err)
		}
	}
	if u.misses != nil {
		d.Misses = u.misses(dashboardMisses)
	}
	if u.sites != nil {
		lang := u.lang(c)
		d.Sites = tallySites(u.sites.Sites(), func(t *time.Time) string { return u.when(lang, t) })
	}
	if u.link != nil {
		st := u.link.Status()
		d.Link = &st
	}
	u.render(c, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard", Data: d})
}

// ---- devices ----

// seenFilters are the "last seen" choices of the device list.
var seenFilters = []option{{"hour", "in the last hour"}, {"day", "in the last 24 hours"}, {"week", "in the last 7 days"}, {"stale", "not in the last 7 days"}}

// firmwareFilters are the firmware statuses the device list filters by
// (with WithFirmware).
var firmwareFilters = []string{autoprov.FirmwareOnTarget, autoprov.FirmwareUpgrading, autoprov.FirmwareWaiting,
	autoprov.FirmwareFailed, autoprov.FirmwareExcluded, autoprov.FirmwareUnsupported, autoprov.FirmwareNone}

// firmwareScan is how many devices the firmware status filter looks at:
// the core's rollout status has no filter by status, so the list is
// filtered here, over the first firmwareScan devices matching the rest.
const firmwareScan = 5 * autoprov.MaxPageLimit

// sortCol is a sortable column head of the device list.
type sortCol struct {
	Label string
	Href  string
	Sort  string // "ascending", "descending" or "" (aria-sort)
}

type devicesData struct {
	Devices                             []autoprov.Device
	Vendors, Models, Profiles, States   []string
	Q, Vendor, Model, State, Onboarding string
	Seen, Sort, Profile, Firmware       string
	Firmwares                           []string // nil without firmware
	Onboardings                         []string
	Seens                               []option
	Cols                                []sortCol
	Self                                string // this page's URL, to come back to after a bulk action
	page
}

func (u *UI) devices(c *gin.Context) {
	reg := u.core.Registry()
	d := devicesData{Vendors: reg.VendorNames(), States: []string{autoprov.StateAssigned, autoprov.StateUnassigned, "all"},
		Onboardings: autoprov.OnboardingStates, Seens: seenFilters,
		Q: strings.TrimSpace(c.Query("q")), Vendor: c.Query("vendor"), Model: c.Query("model"), State: c.DefaultQuery("state", autoprov.StateAssigned),
		Onboarding: c.Query("onboarding"), Seen: c.Query("seen"), Sort: c.Query("sort"), Profile: c.Query("profile"), Firmware: c.Query("firmware")}
	for _, v := range d.Vendors {
		if d.Vendor == "" || v == d.Vendor {
			d.Models = append(d.Models, reg.ModelNames(v)...)
		}
	}
	slices.Sort(d.Models)
	d.Models = slices.Compact(d.Models)
	switch {
	case d.Vendor != "" && !slices.Contains(d.Vendors, d.Vendor):
		u.fail(c, http.StatusBadRequest, "Unknown vendor.")
		return
	case d.Onboarding != "" && !slices.Contains(autoprov.OnboardingStates, d.Onboarding):
		u.fail(c, http.StatusBadRequest, "Unknown onboarding state.")
		return
	case !slices.Contains(d.States, d.State):
		u.fail(c, http.StatusBadRequest, "Unknown state.")
		return
	case d.Seen != "" && !slices.ContainsFunc(seenFilters, func(o option) bool { return o.Value == d.Seen }):
		u.fail(c, http.StatusBadRequest, "Unknown last-seen filter.")
		return
	case d.Firmware != "" && (u.ro == nil || !slices.Contains(firmwareFilters, d.Firmware)):
		u.fail(c, http.StatusBadRequest, "Unknown firmware status.")
		return
	case d.Sort != "" && !slices.Contains(autoprov.DeviceSorts, strings.TrimPrefix(d.Sort, "-")):
		u.fail(c, http.StatusBadRequest, "Unknown sort order.")
		return
	}
	limit, offset, ok := u.pageParams(c)
	if !ok {
		return
	}
	f := autoprov.DeviceFilter{Q: d.Q, Vendor: d.Vendor, Model: d.Model, State: d.State, Onboarding: d.Onboarding,
		KeyProfile: d.Profile, Sort: d.Sort, Limit: limit, Offset: offset}
	if f.State == "all" {
		f.State = ""
	}
	now := u.now()
	switch d.Seen {
	case "hour":
		f.SeenAfter = now.Add(-time.Hour)
	case "day":
		f.SeenAfter = now.Add(-24 * time.Hour)
	case "week":
		f.SeenAfter = now.Add(-7 * 24 * time.Hour)
	case "stale":
		f.SeenBefore = now.Add(-7 * 24 * time.Hour)
	}
	var ds []autoprov.Device
	var total int
	var err error
	if d.Firmware != "" {
		ds, total, err = u.byFirmware(c.Request.Context(), f, d.Firmware)
	} else {
		ds, total, err = u.core.Devices(c.Request.Context(), f)
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	if u.ro != nil {
		d.Firmwares = firmwareFilters
	}
	profiles, err := u.core.KeyProfiles(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	for _, p := range profiles {
		d.Profiles = append(d.Profiles, p.Name)
	}
	q := url.Values{}
	for k, v := range map[string]string{"q": d.Q, "vendor": d.Vendor, "model": d.Model, "onboarding": d.Onboarding,
		"seen": d.Seen, "profile": d.Profile, "firmware": d.Firmware} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if d.State != autoprov.StateAssigned {
		q.Set("state", d.State)
	}
	// The column heads sort by their column, the current one the other way.
	for _, col := range []struct{ label, sort string }{{"MAC", "mac"}, {"Vendor", "vendor"}, {"Model", "model"}, {"Label", "label"}, {"Last seen", "last_seen"}} {
		sc := sortCol{Label: col.label}
		next := col.sort
		switch d.Sort {
		case col.sort:
			sc.Sort, next = "ascending", "-"+col.sort
		case "-" + col.sort:
			sc.Sort = "descending"
		case "":
			if col.sort == "mac" {
				sc.Sort, next = "ascending", "-mac"
			}
		}
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("sort", next)
		sc.Href = "/ui/devices?" + v.Encode()
		d.Cols = append(d.Cols, sc)
	}
	if d.Sort != "" {
		q.Set("sort", d.Sort)
	}
	d.Devices = ds
	d.page = pageOf("/ui/devices", q, limit, offset, len(ds), total)
	d.Self = c.Request.URL.RequestURI()
	u.render(c, http.StatusOK, "devices", view{Title: "Devices", Nav: "devices", Data: d})
}

// byFirmware pages through the devices matching f (its Limit and Offset
// a page of the result) whose firmware status is status, among the first
// firmwareScan that match f.
func (u *UI) byFirmware(ctx context.Context, f autoprov.DeviceFilter, status string) ([]autoprov.Device, int, error) {
	statuses := map[string]string{}
	for off := 0; off < firmwareScan; off += autoprov.MaxPageLimit {
		ss, total, _, err := u.ro.FirmwareStatus(ctx, provision.FirmwareStatusFilter{Vendor: f.Vendor, Model: f.Model, Limit: autoprov.MaxPageLimit, Offset: off})
		if err != nil {
			return nil, 0, err
		}
		for _, s := range ss {
			statuses[s.MAC] = s.Status
		}
		if off+len(ss) >= total || len(ss) == 0 {
			break
		}
	}
	limit, offset := f.Limit, f.Offset
	var kept []autoprov.Device
	for off := 0; off < firmwareScan; off += autoprov.MaxPageLimit {
		f.Limit, f.Offset = autoprov.MaxPageLimit, off
		ds, total, err := u.core.Devices(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		for _, d := range ds {
			// A device the rollout does not list (not assigned) has none.
			if s, ok := statuses[d.MAC]; (ok && s == status) || (!ok && status == autoprov.FirmwareNone) {
				kept = append(kept, d)
			}
		}
		if off+len(ds) >= total || len(ds) == 0 {
			break
		}
	}
	return kept[min(offset, len(kept)):min(offset+limit, len(kept))], len(kept), nil
}

// ---- bulk actions ----

// bulkMax is the most devices one bulk action takes (a page's worth).
const bulkMax = maxPageSize

type bulkData struct {
	MACs    []string
	Back    string
	Profile string
}

// bulk runs an action on the devices ticked in the device list: re-open
// their windows, resync them, set their key profile (one all-or-nothing
// change), or ask to confirm their deletion.
func (u *UI) bulk(c *gin.Context) {
	back := localBack(c.PostForm("back"))
	var macs []string
	for _, m := range c.PostFormArray("mac") {
		mac, err := autoprov.ParseMAC(m)
		if err != nil {
			u.fail(c, http.StatusBadRequest, "Not a MAC.")
			return
		}
		if !slices.Contains(macs, mac) {
			macs = append(macs, mac)
		}
	}
	sess := c.MustGet(sessionKey).(*session)
	if len(macs) == 0 {
		u.sessions.setFlash(sess, u.tr(c, "No device selected: tick the devices first."))
		c.Redirect(http.StatusSeeOther, back)
		return
	}
	if len(macs) > bulkMax {
		u.fail(c, http.StatusBadRequest, u.tr(c, "At most %d devices at once.", bulkMax))
		return
	}
	ctx := c.Request.Context()
	switch c.PostForm("action") {
	case "reopen":
		var failed []string
		for _, mac := range macs {
			if _, err := u.core.OpenDisclosure(ctx, mac, actor(c)); err != nil {
				if _, msg := u.explain(c, err); msg != "" {
					failed = append(failed, colonMAC(mac)+": "+msg)
				}
			}
		}
		u.sessions.setFlash(sess, bulkOutcome(u.tr(c, "Secret windows re-opened: %d of %d.", len(macs)-len(failed), len(macs)), failed))
	case "resync":
		rs, err := u.core.Resync(ctx, macs, false, actor(c))
		if err != nil {
			u.failErr(c, err)
			return
		}
		var failed []string
		for _, r := range rs {
			if r.Status != autoprov.ResyncSent {
				failed = append(failed, colonMAC(r.MAC)+": "+u.tr(c, r.Status)+" ("+textOr(u.lang(c), r.Text, r.Detail)+")")
			}
		}
		u.sessions.setFlash(sess, bulkOutcome(u.tr(c, "Resync sent: %d of %d.", len(rs)-len(failed), len(rs)), failed))
	case "profile":
		profile := c.PostForm("profile")
		in := autoprov.BulkInput{}
		for _, mac := range macs {
			in.Devices = append(in.Devices, autoprov.DeviceInput{MAC: &mac, KeyProfile: &profile})
		}
		if _, err := u.core.Bulk(ctx, in, false, actor(c)); err != nil {
			var be *autoprov.BulkError
			if errors.As(err, &be) {
				var lines []string
				for _, r := range be.Errors {
					if r.Index >= 0 && r.Index < len(macs) {
						lines = append(lines, colonMAC(macs[r.Index])+": "+u.bulkRow(c, r))
					}
				}
				u.sessions.setFlash(sess, bulkOutcome(u.tr(c, "Key profile not set; nothing was changed."), lines))
				c.Redirect(http.StatusSeeOther, back)
				return
			}
			u.failErr(c, err)
			return
		}
		if profile == "" {
			u.sessions.setFlash(sess, u.tr(c, "Key profile removed from %d devices.", len(macs)))
		} else {
			u.sessions.setFlash(sess, u.tr(c, "Key profile %s set on %d devices.", profile, len(macs)))
		}
	case "delete":
		u.render(c, http.StatusOK, "bulk_delete", view{Title: "Delete devices", Nav: "devices", Data: bulkData{MACs: macs, Back: back}})
		return
	case "delete-confirmed":
		var failed []string
		for _, mac := range macs {
			if err := u.core.DeleteDevice(ctx, mac, actor(c)); err != nil && !errors.Is(err, autoprov.ErrNotFound) {
				_, msg := u.explain(c, err)
				failed = append(failed, colonMAC(mac)+": "+msg)
			}
		}
		u.sessions.setFlash(sess, bulkOutcome(u.tr(c, "Devices deleted: %d of %d.", len(macs)-len(failed), len(macs)), failed))
	default:
		u.fail(c, http.StatusBadRequest, "Unknown action.")
		return
	}
	c.Redirect(http.StatusSeeOther, back)
}

// bulkOutcome is a bulk action's flash: the tally, then what failed.
func bulkOutcome(head string, failed []string) string {
	if len(failed) == 0 {
		return head
	}
	return head + " " + strings.Join(failed, "; ")
}

// ---- accounts ----

type accountsData struct {
	Accounts    []autoprov.Account
	Q           string
	Extension   string
	DisplayName string
	Page        page
}

func (u *UI) accounts(c *gin.Context) {
	u.renderAccounts(c, http.StatusOK, "", accountsData{})
}

func (u *UI) renderAccounts(c *gin.Context, status int, errMsg string, data accountsData) {
	limit, offset, ok := u.pageParams(c)
	if !ok {
		return
	}
	data.Q = strings.TrimSpace(c.Query("q"))
	accts, total, err := u.core.ListAccounts(c.Request.Context(), autoprov.AccountFilter{Q: data.Q, Limit: limit, Offset: offset})
	if err != nil {
		u.failErr(c, err)
		return
	}
	q := url.Values{}
	if data.Q != "" {
		q.Set("q", data.Q)
	}
	data.Accounts, data.Page = accts, pageOf("/ui/accounts", q, limit, offset, len(accts), total)
	u.render(c, status, "accounts", view{Title: "Accounts", Nav: "accounts", Error: errMsg, Data: data})
}

func (u *UI) createAccount(c *gin.Context) {
	ext, name := strings.TrimSpace(c.PostForm("extension")), strings.TrimSpace(c.PostForm("display_name"))
	a, err := u.core.CreateAccount(c.Request.Context(), autoprov.AccountInput{Extension: &ext, DisplayName: &name}, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		if errors.Is(err, autoprov.ErrConflict) {
			msg = u.tr(c, "Extension %s exists already.", ext)
		}
		u.renderAccounts(c, status, msg, accountsData{Extension: ext, DisplayName: name})
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session),
		u.tr(c, "Account %s created; its password was generated and is never shown.", a.Extension))
	c.Redirect(http.StatusSeeOther, "/ui/accounts")
}

type accountData struct {
	Account                      autoprov.Account // its password is never rendered
	DisplayName, AuthUser, Field string
	Devices                      []string
}

// accountDevices lists the MACs of the devices carrying an extension.
func (u *UI) accountDevices(c *gin.Context, ext string) ([]string, error) {
	ds, _, err := u.core.Devices(c.Request.Context(), autoprov.DeviceFilter{Q: ext, Limit: autoprov.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	var macs []string
	for _, d := range ds {
		if slices.Contains(d.Accounts, ext) {
			macs = append(macs, d.MAC)
		}
	}
	return macs, nil
}

func (u *UI) account(c *gin.Context) {
	u.renderAccount(c, http.StatusOK, "account", "", nil)
}

func (u *UI) confirmDeleteAccount(c *gin.Context) {
	u.renderAccount(c, http.StatusOK, "account_delete", "", nil)
}

// renderAccount shows an account's page (or its delete confirmation);
// typed, when not nil, is what the admin typed.
func (u *UI) renderAccount(c *gin.Context, status int, page, errMsg string, typed *accountData) {
	a, err := u.core.Account(c.Request.Context(), c.Param("ext"))
	if err != nil {
		u.failErr(c, err)
		return
	}
	a.Password = "" // never near a template
	d := accountData{Account: a, DisplayName: a.DisplayName, AuthUser: a.AuthUser}
	if typed != nil {
		d.DisplayName, d.AuthUser, d.Field = typed.DisplayName, typed.AuthUser, typed.Field
	}
	if d.Devices, err = u.accountDevices(c, a.Extension); err != nil {
		u.failErr(c, err)
		return
	}
	title := u.tr(c, "Account %s", a.Extension)
	if page == "account_delete" {
		title = u.tr(c, "Delete account %s?", a.Extension)
	}
	u.render(c, status, page, view{Title: title, Nav: "accounts", Error: errMsg, Data: d})
}

func (u *UI) saveAccount(c *gin.Context) {
	ext := c.Param("ext")
	name, auth := strings.TrimSpace(c.PostForm("display_name")), strings.TrimSpace(c.PostForm("auth_user"))
	in := autoprov.AccountInput{DisplayName: &name}
	if auth != "" { // empty: as it is
		in.AuthUser = &auth
	}
	if c.PostForm("new_password") != "" {
		pw := provision.GeneratePassword(sipPasswordLen)
		in.Password = &pw
	}
	if _, err := u.core.UpdateAccount(c.Request.Context(), ext, in, actor(c)); err != nil {
		if errors.Is(err, autoprov.ErrNotFound) {
			u.failErr(c, err)
			return
		}
		status, msg := u.explain(c, err)
		var inv *autoprov.InvalidError
		field := ""
		if errors.As(err, &inv) {
			field = inv.Field
		}
		u.renderAccount(c, status, "account", u.tr(c, "Not saved: %s", msg), &accountData{DisplayName: name, AuthUser: auth, Field: field})
		return
	}
	msg := u.tr(c, "Account %s saved.", ext)
	if in.Password != nil {
		msg += " " + u.tr(c, "A new password was generated; the phones using it get it in a new secret window.")
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), msg)
	c.Redirect(http.StatusSeeOther, "/ui/accounts/"+url.PathEscape(ext))
}

func (u *UI) deleteAccount(c *gin.Context) {
	ext := c.Param("ext")
	if err := u.core.DeleteAccount(c.Request.Context(), ext, actor(c)); err != nil {
		if errors.Is(err, autoprov.ErrConflict) {
			u.renderAccount(c, http.StatusConflict, "account_delete", u.tr(c, "Not deleted: devices still use it."), nil)
			return
		}
		u.failErr(c, err)
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Account %s deleted.", ext))
	c.Redirect(http.StatusSeeOther, "/ui/accounts")
}

// sipPasswordLen is the length of a SIP password the UI generates, as the
// core's own.
const sipPasswordLen = 20
