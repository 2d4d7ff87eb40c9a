package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// funcs are the template helpers of one language.
func (u *UI) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":          func(msg string, args ...any) string { return translate(lang, msg, args...) },
		"text":       func(t vendors.Text, en string) string { return textOr(lang, t, en) },
		"colon":      colonMAC,
		"when":       func(t time.Time) string { return u.when(lang, &t) },
		"whenp":      func(t *time.Time) string { return u.when(lang, t) },
		"iso":        func(t *time.Time) string { return isoTime(t) },
		"ago":        func(t *time.Time) string { return ago(lang, t, u.now()) },
		"onboarding": autoprov.EffectiveOnboarding,
		"keytype":    func(t any) string { return translate(lang, keyTypeLabel(fmt.Sprint(t))) },
		// source names the layer a key of the effective layout comes from.
		"source": func(s string) string {
			if name, ok := strings.CutPrefix(s, "profile "); ok {
				return translate(lang, "profile %s", name)
			}
			return translate(lang, s)
		},
		"disclosure": func(d autoprov.Disclosure) string {
			return u.describeDisclosure(lang, d, u.now())
		},
		"join":   strings.Join,
		"inc":    func(i int) int { return i + 1 },
		"list":   func(s ...string) []string { return s },
		"eq_any": func(s string, list []string) bool { return slices.Contains(list, s) },
	}
}

// colonMAC writes a canonical MAC (12 hex digits) as 00:15:65:12:34:56.
func colonMAC(mac string) string { return strings.ToUpper(vendors.ColonMAC(mac)) }

// when writes a time in the fleet's time zone, with the zone's
// abbreviation (the page names the zone in full).
func (u *UI) when(lang string, t *time.Time) string {
	if t == nil || t.IsZero() {
		return translate(lang, "never")
	}
	return t.In(u.zone.current()).Format("2006-01-02 15:04:05 MST")
}

// isoTime is a time for a <time datetime> attribute.
func isoTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ago says how long ago t was, coarsely.
func ago(lang string, t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return translate(lang, "never")
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return translate(lang, "just now")
	case d < time.Hour:
		return translate(lang, "%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return translate(lang, "%d h ago", int(d/time.Hour))
	default:
		return translate(lang, "%d days ago", int(d/(24*time.Hour)))
	}
}

// left says how long is left until t, coarsely (at least "1 min").
func left(lang string, t time.Time, now time.Time) string {
	d := t.Sub(now)
	if d < time.Minute {
		return translate(lang, "%d s left", max(0, int(d/time.Second)))
	}
	return translate(lang, "%d min left", int(d/time.Minute))
}

// describeDisclosure says where a device's one-time secret window stands.
func (u *UI) describeDisclosure(lang string, d autoprov.Disclosure, now time.Time) string {
	tr := func(msg string, args ...any) string { return translate(lang, msg, args...) }
	switch d.State {
	case autoprov.DisclosureOpen:
		if d.ExpiresAt == nil {
			return tr("open")
		}
		return tr("open, %s (until %s)", left(lang, *d.ExpiresAt, now), u.when(lang, d.ExpiresAt))
	case autoprov.DisclosureConsumed:
		s := tr("consumed")
		if d.DisclosedTo != nil && d.DisclosedTo.IP != "" {
			s += tr(" by %s", d.DisclosedTo.IP)
		}
		if d.DisclosedAt != nil {
			s += tr(" at %s", u.when(lang, d.DisclosedAt))
		}
		switch {
		case d.Complete == nil:
			s += tr(" (transfer in flight)")
		case !*d.Complete:
			s += tr(": secrets sent, transfer did not complete: re-open the window")
		}
		return s
	case autoprov.DisclosureExpired:
		if d.ExpiresAt != nil {
			return tr("expired at %s before any fetch took the secrets", u.when(lang, d.ExpiresAt))
		}
		return tr("expired")
	default:
		return tr("none")
	}
}

// windowMinutes is the length of a disclosure window in whole minutes (at least 1).
func (u *UI) windowMinutes(ctx context.Context, d autoprov.Disclosure) int {
	var secs float64
	if d.OpenedAt != nil && d.ExpiresAt != nil {
		secs = d.ExpiresAt.Sub(*d.OpenedAt).Seconds()
	} else if st, err := u.core.Settings(ctx); err == nil {
		secs = float64(st.DisclosureWindowSeconds)
	}
	return max(1, int((secs+59)/60))
}

// macParam is the canonical MAC of the :mac route parameter.
func (u *UI) macParam(c *gin.Context) (string, bool) {
	mac, err := autoprov.ParseMAC(c.Param("mac"))
	if err != nil {
		u.fail(c, http.StatusNotFound, "No such device.")
		return "", false
	}
	return mac, true
}

// ---- inbox ----

// modelGroup is one vendor's models in a select.
type modelGroup struct {
	Vendor string
	Models []modelOption
}

type modelOption struct {
	Value, Label string
	Selected     bool
}

type inboxRow struct {
	Device autoprov.Device
	Groups []modelGroup
	// Supported says the reported model is one the server supports (and
	// is pre-selected).
	Supported bool
	// Account and Label are what was typed into a refused adoption.
	Account, Label string
}

// adoptForm is an adoption as typed, kept on its row when refused.
type adoptForm struct {
	MAC, Model, Account, Label string
}

type inboxData struct {
	Rows     []inboxRow
	Accounts []autoprov.Account // offered once, as the account fields' datalist
	page
}

func (u *UI) inbox(c *gin.Context) {
	u.renderInbox(c, http.StatusOK, "", adoptForm{})
}

// renderInbox shows a page of the unassigned devices, newest first
// (?offset=, ?limit= as on the devices page); typed is a refused
// adoption, kept on its row.
func (u *UI) renderInbox(c *gin.Context, status int, errMsg string, typed adoptForm) {
	limit, offset, ok := u.pageParams(c)
	if !ok {
		return
	}
	ds, total, err := u.core.Devices(c.Request.Context(), autoprov.DeviceFilter{State: autoprov.StateUnassigned,
		NewestFirst: true, Limit: limit, Offset: offset})
	if err != nil {
		u.failErr(c, err)
		return
	}
	accts, err := u.core.Accounts(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	rows := make([]inboxRow, len(ds))
	for i, d := range ds {
		rows[i] = u.inboxRow(d, typed)
	}
	data := inboxData{Rows: rows, Accounts: accts, page: pageOf("/ui/inbox", nil, limit, offset, len(ds), total)}
	u.render(c, status, "inbox", view{Title: "Inbox", Nav: "inbox", Error: errMsg, Data: data})
}

// inboxRow builds the model choice for a phone: its vendor's models with
// the reported one selected, or every vendor's when the vendor is unknown;
// a refused adoption of this phone (typed) keeps what was typed.
func (u *UI) inboxRow(d autoprov.Device, typed adoptForm) inboxRow {
	reg := u.core.Registry()
	row := inboxRow{Device: d}
	selected := ""
	if _, m, err := reg.Lookup(d.Vendor, d.Model); err == nil && d.Model != "" {
		selected = m.Vendor + "/" + m.Name
		row.Supported = true
	}
	if typed.MAC == d.MAC {
		row.Account, row.Label = typed.Account, typed.Label
		if typed.Model != "" {
			selected = typed.Model
		}
	}
	vendorNames := reg.VendorNames()
	if d.Vendor != "" && reg.HasVendor(d.Vendor) {
		vendorNames = []string{strings.ToLower(d.Vendor)}
	}
	for _, v := range vendorNames {
		g := modelGroup{Vendor: v}
		for _, m := range reg.ModelNames(v) {
			val := v + "/" + m
			g.Models = append(g.Models, modelOption{Value: val, Label: m, Selected: val == selected})
		}
		row.Groups = append(row.Groups, g)
	}
	return row
}

func (u *UI) adopt(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	typed := adoptForm{MAC: mac, Model: c.PostForm("model"), Account: strings.TrimSpace(c.PostForm("account")), Label: strings.TrimSpace(c.PostForm("label"))}
	vendor, model, found := strings.Cut(typed.Model, "/")
	if !found || vendor == "" || model == "" {
		u.renderInbox(c, http.StatusBadRequest, u.tr(c, "Adopting %s: choose a model.", colonMAC(mac)), typed)
		return
	}
	in := autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model}
	if typed.Label != "" {
		in.Label = &typed.Label
	}
	if typed.Account != "" {
		in.Accounts = &[]string{typed.Account}
	}
	// Only a phone still in the inbox is adopted here: a MAC typed into the
	// URL must not create a device, nor touch an assigned one.
	switch d, err := u.core.Device(c.Request.Context(), mac); {
	case errors.Is(err, autoprov.ErrNotFound):
		u.renderInbox(c, http.StatusNotFound, u.tr(c, "Adopting %s: the phone is not in the inbox.", colonMAC(mac)), adoptForm{})
		return
	case err != nil:
		u.failErr(c, err)
		return
	case d.State != autoprov.StateUnassigned:
		u.renderInbox(c, http.StatusConflict, u.tr(c, "Adopting %s: it is already adopted.", colonMAC(mac)), adoptForm{})
		return
	}
	d, err := u.core.CreateDevice(c.Request.Context(), in, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		u.renderInbox(c, status, u.tr(c, "Adopting %s: %s", colonMAC(mac), msg), typed)
		return
	}
	sess := c.MustGet(sessionKey).(*session)
	if d.Disclosure.State == autoprov.DisclosureOpen {
		u.sessions.setFlash(sess, u.tr(c, "%s adopted; its secrets go out on its next fetch within %d minutes.",
			colonMAC(mac), u.windowMinutes(c.Request.Context(), d.Disclosure)))
	} else {
		u.sessions.setFlash(sess, u.tr(c, "%s adopted without an account, so no secret window is open; give it an account to provision one.", colonMAC(mac)))
	}
	c.Redirect(http.StatusSeeOther, "/ui/devices/"+mac)
}

// ---- devices ----

func queryInt(c *gin.Context, name string, def int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}

type deviceData struct {
	Device   autoprov.Device
	Accounts []autoprov.Account
	Files    []string
	Extra    *deviceExtra // forms and layout; nil while the phone is in the inbox
	Replace  replaceForm  // the replace form as typed
}

// replaceForm is the replace form: the new phone's MAC and model.
type replaceForm struct {
	NewMAC, Model string
}

func (u *UI) device(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	u.renderDevice(c, mac, http.StatusOK, "")
}

func (u *UI) renderDevice(c *gin.Context, mac string, status int, errMsg string) {
	u.renderDeviceWith(c, mac, status, errMsg, nil, nil)
}

// renderDeviceWith shows the device page; form and keys, when not nil,
// are what the admin typed into the edit form or the key editor.
func (u *UI) renderDeviceWith(c *gin.Context, mac string, status int, errMsg string, form *deviceForm, keys *keyEditor) {
	u.renderDeviceAll(c, mac, status, errMsg, form, keys, replaceForm{})
}

// renderDeviceAll is renderDeviceWith with the replace form as typed.
func (u *UI) renderDeviceAll(c *gin.Context, mac string, status int, errMsg string, form *deviceForm, keys *keyEditor, repl replaceForm) {
	d, err := u.core.Device(c.Request.Context(), mac)
	if err != nil {
		u.failErr(c, err)
		return
	}
	data := deviceData{Device: d, Replace: repl}
	all, err := u.core.Accounts(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	for _, ext := range d.Accounts {
		i := slices.IndexFunc(all, func(a autoprov.Account) bool { return a.Extension == ext })
		if i >= 0 {
			data.Accounts = append(data.Accounts, all[i])
		} else {
			data.Accounts = append(data.Accounts, autoprov.Account{Extension: ext})
		}
	}
	if d.State == autoprov.StateAssigned {
		if data.Files, err = u.core.PreviewFiles(c.Request.Context(), mac); err != nil {
			u.log.Warn("list a device's files", "mac", mac, "err", err)
		}
		if data.Extra, err = u.deviceExtra(c.Request.Context(), d, all, form, keys); err != nil {
			u.failErr(c, err)
			return
		}
	}
	u.render(c, status, "device", view{Title: colonMAC(mac), Nav: navOf(d), Error: errMsg, Data: data})
}

func navOf(d autoprov.Device) string {
	if d.State == autoprov.StateAssigned {
		return "devices"
	}
	return "inbox"
}

func (u *UI) reopen(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	disc, err := u.core.OpenDisclosure(c.Request.Context(), mac, actor(c))
	if err != nil {
		if errors.Is(err, autoprov.ErrNotFound) {
			u.failErr(c, err)
			return
		}
		status, msg := u.explain(c, err)
		u.renderDevice(c, mac, status, msg)
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c,
		"Secret window re-opened: the next fetch within %d minutes gets the secrets.", u.windowMinutes(c.Request.Context(), disc)))
	c.Redirect(http.StatusSeeOther, "/ui/devices/"+mac)
}

// resync tells the phone to fetch its configuration now (or to reboot)
// and shows what came of it on the device's page.
func (u *UI) resync(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	reboot := c.PostForm("reboot") != ""
	r, err := u.core.ResyncDevice(c.Request.Context(), mac, reboot, actor(c))
	if err != nil {
		if errors.Is(err, autoprov.ErrNotFound) {
			u.failErr(c, err)
			return
		}
		status, msg := u.explain(c, err)
		u.renderDevice(c, mac, status, msg)
		return
	}
	what := "Resync"
	if reboot {
		what = "Reboot"
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "%s %s: %s.", u.tr(c, what), u.tr(c, r.Status), textOr(u.lang(c), r.Text, r.Detail)))
	c.Redirect(http.StatusSeeOther, "/ui/devices/"+mac)
}

type previewData struct {
	MAC, Name, ContentType, Body string
}

// preview shows a file as the phone would get it, secrets masked by the core.
func (u *UI) preview(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	name, err := provision.CleanPath(c.Param("name"))
	if err != nil || name == "" {
		u.fail(c, http.StatusBadRequest, "Invalid file name.")
		return
	}
	f, err := u.core.Preview(c.Request.Context(), mac, name, httpd.BaseURL(c.Request))
	if err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, http.StatusOK, "preview", view{Title: name, Nav: "devices",
		Data: previewData{MAC: mac, Name: name, ContentType: f.ContentType, Body: string(f.Body)}})
}

// page is where one page of a list stands, for the pager of a list page.
type page struct {
	Total      int
	From, To   int    // 1-based positions shown; 0 when the page is empty
	Prev, Next string // links, empty when there is no such page
}

// pageOf places a page of shown items at offset (limit a page) in a list
// of total; the links keep the query q and leave defaults out.
func pageOf(path string, q url.Values, limit, offset, shown, total int) page {
	p := page{Total: total}
	if shown > 0 {
		p.From, p.To = offset+1, offset+shown
	}
	link := func(off int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if limit != pageSize {
			v.Set("limit", strconv.Itoa(limit))
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if offset > 0 {
		p.Prev = link(max(0, offset-limit))
	}
	if offset+shown < total {
		p.Next = link(offset + limit)
	}
	return p
}

// pageParams reads ?limit= and ?offset=, answering 400 itself when they
// are out of range.
func (u *UI) pageParams(c *gin.Context) (limit, offset int, ok bool) {
	limit, err1 := queryInt(c, "limit", pageSize)
	offset, err2 := queryInt(c, "offset", 0)
	if err1 != nil || err2 != nil || limit < 1 || limit > maxPageSize || offset < 0 {
		u.fail(c, http.StatusBadRequest, u.tr(c, "limit must be 1 to %d and offset 0 or more.", maxPageSize))
		return 0, 0, false
	}
	return limit, offset, true
}
