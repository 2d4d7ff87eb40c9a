package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// This file holds the pages for the daily work after adoption: editing and
// deleting a device, its keys, the fleet settings, key profiles and the
// audit log.

// option is one entry of a select.
type option struct{ Value, Label string }

// localeOptions lists a map of code -> name as select options, by code.
func localeOptions(m map[string]string) []option {
	out := make([]option, 0, len(m))
	for k, v := range m {
		out = append(out, option{Value: k, Label: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// ---- key editor ----

// keyRow is one row of the key editor as the admin typed it.
type keyRow struct {
	Position, Module, Type, Account, Line, Value, Label, PickupCode string
	Error                                                           string // the core's complaint about this key
}

// keyEditor is the key table of a device or a profile.
type keyEditor struct {
	Action  string   // where the form posts
	Profile bool     // a profile's keys name lines by number, a device's by account
	Types   []string // key types offered
	Lines   []string // a device's accounts, or a profile's line numbers
	Rows    []keyRow
	Details []string // the core's per-key errors
}

func rowsOf(keys []autoprov.KeySpec) []keyRow {
	rows := make([]keyRow, 0, len(keys)+emptyKeyRows)
	for _, k := range keys {
		r := keyRow{Position: strconv.Itoa(k.Position), Type: string(k.Type), Account: k.Account,
			Value: k.Value, Label: k.Label, PickupCode: k.PickupCode}
		if k.Module > 0 {
			r.Module = strconv.Itoa(k.Module)
		}
		if k.Line > 0 {
			r.Line = strconv.Itoa(k.Line)
		}
		rows = append(rows, r)
	}
	return rows
}

// padRows adds the blank rows for new keys.
func padRows(rows []keyRow) []keyRow {
	for range emptyKeyRows {
		rows = append(rows, keyRow{})
	}
	return rows
}

// typesFor lists the key types a model supports (all for nil), plus any
// the rows already use, so nothing typed is lost.
func typesFor(m *vendors.Model, rows []keyRow) []string {
	var out []string
	for _, t := range vendors.AllKeyTypes {
		if m == nil || m.Supports(t) {
			out = append(out, string(t))
		}
	}
	for _, r := range rows {
		if r.Type != "" && !slices.Contains(out, r.Type) {
			out = append(out, r.Type)
		}
	}
	return out
}

// parseKeys reads the key table of a form: parallel fields, one value a
// row. Blank rows are skipped. It returns the keys, the rows as typed, the
// row of each key and the rows' own errors (a position that is no number).
func (u *UI) parseKeys(c *gin.Context, profile bool) ([]autoprov.KeySpec, []keyRow, []int, []string, bool) {
	f := func(name string) []string { return c.PostFormArray("k_" + name) }
	pos, mod, typ, acct, line, val, lab, pick := f("position"), f("module"), f("type"), f("account"), f("line"), f("value"), f("label"), f("pickup")
	n := len(pos)
	other := acct
	if profile {
		other = line
	}
	for _, a := range [][]string{mod, typ, other, val, lab, pick} {
		if len(a) != n {
			return nil, nil, nil, nil, false
		}
	}
	var keys []autoprov.KeySpec
	var rows []keyRow
	var rowOf []int
	var errs []string
	for i := range n {
		r := keyRow{Position: strings.TrimSpace(pos[i]), Module: strings.TrimSpace(mod[i]), Type: typ[i],
			Value: strings.TrimSpace(val[i]), Label: strings.TrimSpace(lab[i]), PickupCode: strings.TrimSpace(pick[i])}
		if profile {
			r.Line = strings.TrimSpace(line[i])
		} else {
			r.Account = acct[i]
		}
		if r == (keyRow{}) || r == (keyRow{Module: "0"}) {
			continue // a blank row
		}
		rows = append(rows, r)
		k := autoprov.KeySpec{Type: vendors.KeyType(r.Type), Account: r.Account, Value: r.Value, Label: r.Label, PickupCode: r.PickupCode}
		var bad []string
		num := func(s, refusal string) int {
			if s == "" {
				return 0
			}
			v, err := strconv.Atoi(s)
			if err != nil {
				bad = append(bad, refusal)
			}
			return v
		}
		k.Position = num(r.Position, u.tr(c, "position must be a number"))
		k.Module = num(r.Module, u.tr(c, "module must be a number"))
		k.Line = num(r.Line, u.tr(c, "line must be a number"))
		if r.Position == "" {
			bad = append(bad, u.tr(c, "position is required"))
		}
		if len(bad) > 0 {
			msg := strings.Join(bad, ", ")
			rows[len(rows)-1].Error = msg
			errs = append(errs, u.tr(c, "row %d: %s", len(rows), msg))
			continue
		}
		keys = append(keys, k)
		rowOf = append(rowOf, len(rows)-1)
	}
	return keys, rows, rowOf, errs, true
}

// ownKeyRE finds the key an error detail is about: "key 2 (blf at ...)"
// for a device's own keys, "profile NAME key 2 (...)" or "key 2: ..." for
// a profile's.
var (
	ownKeyRE     = regexp.MustCompile(`^key (\d+)[ :]`)
	profileKeyRE = regexp.MustCompile(`^(?:profile \S+ )?key (\d+)[ :]`)
)

// markRows puts each detail next to the row it is about: the row its
// English (en[i]) names, what it says after the first ": " in the
// language shown (shown[i], "key 2 (...): why" or "Taste 2 (...): why").
func markRows(rows []keyRow, rowOf []int, shown, en []string, re *regexp.Regexp) {
	for i, d := range shown {
		m := re.FindStringSubmatch(en[i])
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > len(rowOf) {
			continue
		}
		r := &rows[rowOf[n-1]]
		if r.Error != "" {
			r.Error += "; "
		}
		_, why, _ := strings.Cut(d, ": ")
		r.Error += why
	}
}

// details are the per-key messages of a core refusal (none when it has
// none) in lang (translated when the core gave them as Texts), and their
// English, which names each key for markRows.
func details(lang string, err error) (shown, en []string) {
	var inv *autoprov.InvalidError
	if !errors.As(err, &inv) || len(inv.Details) == 0 {
		return nil, nil
	}
	if len(inv.DetailTexts) != len(inv.Details) {
		return inv.Details, inv.Details
	}
	shown = make([]string, len(inv.DetailTexts))
	for i, t := range inv.DetailTexts {
		shown[i] = translateText(lang, t)
	}
	return shown, inv.Details
}

// ---- device: edit, keys, delete ----

// deviceForm is the device edit form as shown or as typed.
type deviceForm struct {
	Label, Model, KeyProfile                         string
	Accounts                                         []string // one select per line
	Timezone, Language, WebLanguage, ToneScheme, NTP string
	TFTPAllowed                                      bool   // per-device file over TFTP once the credential is required
	Field                                            string // the field the core refused
}

type deviceExtra struct {
	Model       *vendors.Model
	Edit        deviceForm
	Keys        keyEditor
	Effective   []autoprov.LayoutKey
	Phone       *phoneView // the key editor's picture of the phone
	Models      []modelOption
	Profiles    []string
	AllAccounts []autoprov.Account
	Languages   []option
	ToneSchemes []option
}

func formOf(d autoprov.Device) deviceForm {
	return deviceForm{Label: d.Label, Model: d.Vendor + "/" + d.Model, KeyProfile: d.KeyProfile, Accounts: d.Accounts,
		Timezone: d.Overrides.Timezone, Language: d.Overrides.Language, WebLanguage: d.Overrides.WebLanguage,
		ToneScheme: d.Overrides.ToneScheme, NTP: d.Overrides.NTPServer, TFTPAllowed: d.TFTPAllowed}
}

// deviceExtra builds the edit forms and the layout of an assigned device;
// form and keys, when not nil, are what the admin typed.
func (u *UI) deviceExtra(ctx context.Context, d autoprov.Device, all []autoprov.Account, form *deviceForm, keys *keyEditor) (*deviceExtra, error) {
	reg := u.core.Registry()
	x := &deviceExtra{AllAccounts: all, Languages: localeOptions(vendors.Languages), ToneSchemes: localeOptions(vendors.ToneSchemes)}
	if _, m, err := reg.Lookup(d.Vendor, d.Model); err == nil {
		x.Model = &m
	}
	if form != nil {
		x.Edit = *form
	} else {
		x.Edit = formOf(d)
	}
	lines := len(x.Edit.Accounts) + 2
	if x.Model != nil {
		lines = min(lines, x.Model.Lines)
	}
	lines = max(lines, len(x.Edit.Accounts), 1)
	for len(x.Edit.Accounts) < lines {
		x.Edit.Accounts = append(x.Edit.Accounts, "")
	}
	for _, m := range reg.ModelNames(d.Vendor) {
		v := d.Vendor + "/" + m
		x.Models = append(x.Models, modelOption{Value: v, Label: m, Selected: v == x.Edit.Model})
	}
	profiles, err := u.core.KeyProfiles(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range profiles {
		x.Profiles = append(x.Profiles, p.Name)
	}
	if keys != nil {
		x.Keys = *keys
	} else {
		// The editor names a device key's line by its account; a key the
		// API stored with a line number shows that line's account.
		own := slices.Clone(d.Keys)
		for i, k := range own {
			if k.Account == "" && k.Line > 0 && k.Line <= len(d.Accounts) {
				own[i].Account, own[i].Line = d.Accounts[k.Line-1], 0
			}
		}
		x.Keys = keyEditor{Rows: rowsOf(own)}
	}
	x.Keys.Action = "/ui/devices/" + d.MAC + "/keys"
	x.Keys.Lines = d.Accounts
	x.Keys.Rows = padRows(x.Keys.Rows)
	x.Keys.Types = typesFor(x.Model, x.Keys.Rows)
	if x.Model != nil {
		// The core's own layout: what the phone's next fetch renders.
		if x.Effective, err = u.core.Layout(ctx, d.MAC); err != nil {
			return nil, err
		}
		x.Phone = newPhoneView(x.Model, x.Effective, x.Keys.Rows)
	}
	return x, nil
}

// assignedDevice loads the device of the :mac parameter for an edit; an
// unassigned phone is adopted in the inbox instead.
func (u *UI) assignedDevice(c *gin.Context) (autoprov.Device, bool) {
	mac, ok := u.macParam(c)
	if !ok {
		return autoprov.Device{}, false
	}
	d, err := u.core.Device(c.Request.Context(), mac)
	if err != nil {
		u.failErr(c, err)
		return autoprov.Device{}, false
	}
	if d.State != autoprov.StateAssigned {
		u.fail(c, http.StatusConflict, "This phone is in the inbox: adopt it there first.")
		return autoprov.Device{}, false
	}
	return d, true
}

func (u *UI) editDevice(c *gin.Context) {
	d, ok := u.assignedDevice(c)
	if !ok {
		return
	}
	form := deviceForm{Label: c.PostForm("label"), Model: c.PostForm("model"), KeyProfile: c.PostForm("key_profile"),
		Timezone: strings.TrimSpace(c.PostForm("timezone")), Language: c.PostForm("language"),
		WebLanguage: c.PostForm("web_language"), ToneScheme: c.PostForm("tone_scheme"), NTP: strings.TrimSpace(c.PostForm("ntp_server")),
		TFTPAllowed: c.PostForm("tftp_allowed") == "on"}
	accounts := []string{}
	for _, a := range c.PostFormArray("account") {
		if a = strings.TrimSpace(a); a != "" {
			accounts = append(accounts, a)
		}
	}
	form.Accounts = accounts
	vendor, model, found := strings.Cut(form.Model, "/")
	if !found || model == "" {
		form.Field = "model"
		u.renderDeviceWith(c, d.MAC, http.StatusBadRequest, u.tr(c, "Choose a model."), &form, nil)
		return
	}
	label, profile := strings.TrimSpace(form.Label), form.KeyProfile
	tftp := form.TFTPAllowed
	in := autoprov.DeviceInput{Vendor: &vendor, Model: &model, Label: &label, Accounts: &accounts, KeyProfile: &profile, TFTPAllowed: &tftp,
		Overrides: &autoprov.Overrides{NTPServer: form.NTP, Timezone: form.Timezone, Language: form.Language,
			WebLanguage: form.WebLanguage, ToneScheme: form.ToneScheme}}
	nd, err := u.core.UpdateDevice(c.Request.Context(), d.MAC, in, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		var inv *autoprov.InvalidError
		if errors.As(err, &inv) {
			form.Field = inv.Field
		}
		u.renderDeviceWith(c, d.MAC, status, u.tr(c, "Not saved: %s", msg), &form, nil)
		return
	}
	flash := u.tr(c, "Device saved.")
	if nd.Disclosure.State == autoprov.DisclosureOpen && (d.Disclosure.State != autoprov.DisclosureOpen ||
		nd.Disclosure.OpenedAt != nil && d.Disclosure.OpenedAt != nil && !nd.Disclosure.OpenedAt.Equal(*d.Disclosure.OpenedAt)) {
		flash += " " + u.tr(c, "Its accounts changed, so a secret window is open for %d minutes.", u.windowMinutes(c.Request.Context(), nd.Disclosure))
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), flash)
	c.Redirect(http.StatusSeeOther, "/ui/devices/"+d.MAC)
}

func (u *UI) saveDeviceKeys(c *gin.Context) {
	d, ok := u.assignedDevice(c)
	if !ok {
		return
	}
	keys, rows, rowOf, errs, ok := u.parseKeys(c, false)
	if !ok {
		u.fail(c, http.StatusBadRequest, "The key table is incomplete; reload the page.")
		return
	}
	if len(errs) > 0 {
		u.renderDeviceWith(c, d.MAC, http.StatusBadRequest, u.tr(c, "Keys not saved: fix the rows marked below."), nil,
			&keyEditor{Rows: rows, Details: errs})
		return
	}
	if _, err := u.core.SetKeys(c.Request.Context(), d.MAC, keys, actor(c)); err != nil {
		status, msg := u.explain(c, err)
		det, en := details(u.lang(c), err)
		markRows(rows, rowOf, det, en, ownKeyRE)
		if len(det) > 0 {
			msg = u.tr(c, "Keys not saved: %d invalid key(s), listed below.", len(det))
		} else {
			msg = u.tr(c, "Keys not saved: %s", msg)
		}
		u.renderDeviceWith(c, d.MAC, status, msg, nil, &keyEditor{Rows: rows, Details: det})
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Keys saved: %d of the device's own.", len(keys)))
	c.Redirect(http.StatusSeeOther, "/ui/devices/"+d.MAC+"#keys")
}

func (u *UI) confirmDeleteDevice(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	d, err := u.core.Device(c.Request.Context(), mac)
	if err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, http.StatusOK, "device_delete", view{Title: u.tr(c, "Delete %s", colonMAC(mac)), Nav: navOf(d), Data: d})
}

func (u *UI) deleteDevice(c *gin.Context) {
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	d, err := u.core.Device(c.Request.Context(), mac)
	if err != nil {
		u.failErr(c, err)
		return
	}
	if err := u.core.DeleteDevice(c.Request.Context(), mac, actor(c)); err != nil {
		u.failErr(c, err)
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), colonMAC(mac)+" deleted. If it fetches again it waits in the inbox.")
	c.Redirect(http.StatusSeeOther, "/ui/"+navOf(d))
}

// ---- settings ----

type settingsData struct {
	Form        map[string]string
	Field       string // the field the core refused
	Message     string
	Languages   []option
	ToneSchemes []option
}

var settingsFields = []string{"sip_server", "sip_port", "sip_transport", "outbound_proxy", "ntp_server", "timezone",
	"language", "web_language", "tone_scheme", "disclosure_window_seconds", "inbox_cap"}

func settingsForm(st autoprov.Settings) map[string]string {
	return map[string]string{"sip_server": st.SIPServer, "sip_port": strconv.Itoa(st.SIPPort), "sip_transport": st.SIPTransport,
		"outbound_proxy": st.OutboundProxy, "ntp_server": st.NTPServer, "timezone": st.Timezone, "language": st.Language,
		"web_language": st.WebLanguage, "tone_scheme": st.ToneScheme,
		"disclosure_window_seconds": strconv.Itoa(st.DisclosureWindowSeconds), "inbox_cap": strconv.Itoa(st.InboxCap)}
}

func (u *UI) settings(c *gin.Context) {
	st, err := u.core.Settings(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	u.renderSettings(c, http.StatusOK, "", settingsData{Form: settingsForm(st)})
}

func (u *UI) renderSettings(c *gin.Context, status int, errMsg string, data settingsData) {
	data.Languages, data.ToneSchemes = localeOptions(vendors.Languages), localeOptions(vendors.ToneSchemes)
	u.render(c, status, "settings", view{Title: "Settings", Nav: "settings", Error: errMsg, Data: data})
}

func (u *UI) saveSettings(c *gin.Context) {
	cur, err := u.core.Settings(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	// Send only what the admin changed, so a setting that follows a
	// default (the window, the tone scheme) keeps following it. A field
	// the form did not send (a page older than the field) is unchanged.
	shown := settingsForm(cur)
	form := map[string]string{}
	for _, f := range settingsFields {
		v, sent := c.GetPostForm(f)
		if !sent {
			v = shown[f]
		}
		form[f] = strings.TrimSpace(v)
	}
	data := settingsData{Form: form}
	var st autoprov.SettingsPatch
	strs := map[string]**string{"sip_server": &st.SIPServer, "sip_transport": &st.SIPTransport, "outbound_proxy": &st.OutboundProxy,
		"ntp_server": &st.NTPServer, "timezone": &st.Timezone, "language": &st.Language, "web_language": &st.WebLanguage,
		"tone_scheme": &st.ToneScheme}
	for f, dst := range strs {
		if v := form[f]; v != shown[f] {
			*dst = &v
		}
	}
	for f, dst := range map[string]**int{"sip_port": &st.SIPPort, "disclosure_window_seconds": &st.DisclosureWindowSeconds, "inbox_cap": &st.InboxCap} {
		if form[f] == shown[f] {
			continue
		}
		n, err := strconv.Atoi(form[f])
		if err != nil {
			data.Field, data.Message = f, u.tr(c, "%s must be a whole number", f)
			u.renderSettings(c, http.StatusBadRequest, u.tr(c, "Not saved: %s", data.Message), data)
			return
		}
		*dst = &n
	}
	if _, err := u.core.PutSettings(c.Request.Context(), st, actor(c)); err != nil {
		status, msg := u.explain(c, err)
		var inv *autoprov.InvalidError
		if errors.As(err, &inv) {
			data.Field, data.Message = inv.Field, u.invalid(c, inv)
		}
		u.renderSettings(c, status, u.tr(c, "Not saved: %s", msg), data)
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Settings saved; phones get them on their next fetch."))
	c.Redirect(http.StatusSeeOther, "/ui/settings")
}

// ---- key profiles ----

type profilesData struct {
	Profiles          []autoprov.KeyProfile
	Name, Description string
}

func (u *UI) profiles(c *gin.Context) {
	u.renderProfiles(c, http.StatusOK, "", profilesData{})
}

func (u *UI) renderProfiles(c *gin.Context, status int, errMsg string, data profilesData) {
	ps, err := u.core.KeyProfiles(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	data.Profiles = ps
	u.render(c, status, "profiles", view{Title: "Key profiles", Nav: "profiles", Error: errMsg, Data: data})
}

func (u *UI) createProfile(c *gin.Context) {
	name, desc := strings.TrimSpace(c.PostForm("name")), strings.TrimSpace(c.PostForm("description"))
	p, err := u.core.SaveKeyProfile(c.Request.Context(), autoprov.KeyProfile{Name: name, Description: desc}, true, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		if errors.Is(err, autoprov.ErrConflict) {
			msg = u.tr(c, "Key profile %s exists already.", name)
		}
		u.renderProfiles(c, status, msg, profilesData{Name: name, Description: desc})
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Key profile %s created; add its keys below.", p.Name))
	c.Redirect(http.StatusSeeOther, "/ui/profiles/"+p.Name)
}

type profileData struct {
	Name, Description string
	Keys              keyEditor
	UpdatedAt         string
	Devices           []autoprov.Device // the first devices using it
	DevicesTotal      int
}

// profileDevices is how many of a profile's devices its page lists.
const profileDevices = 50

func (u *UI) profile(c *gin.Context) {
	u.renderProfile(c, http.StatusOK, "", nil)
}

// renderProfile shows a profile's editor; typed, when not nil, is what the
// admin sent.
func (u *UI) renderProfile(c *gin.Context, status int, errMsg string, typed *profileData) {
	p, err := u.core.KeyProfile(c.Request.Context(), c.Param("name"))
	if err != nil {
		u.failErr(c, err)
		return
	}
	data := profileData{Name: p.Name, Description: p.Description, Keys: keyEditor{Rows: rowsOf(p.Keys)}, UpdatedAt: u.when(u.lang(c), &p.UpdatedAt)}
	if typed != nil {
		data.Description, data.Keys = typed.Description, typed.Keys
	}
	data.Keys.Action, data.Keys.Profile = "/ui/profiles/"+p.Name, true
	data.Keys.Rows = padRows(data.Keys.Rows)
	data.Keys.Types = typesFor(nil, data.Keys.Rows)
	lines := 1
	for _, m := range u.core.Registry().Models() {
		lines = max(lines, m.Lines)
	}
	for i := 1; i <= lines; i++ {
		data.Keys.Lines = append(data.Keys.Lines, strconv.Itoa(i))
	}
	if data.Devices, data.DevicesTotal, err = u.core.Devices(c.Request.Context(), autoprov.DeviceFilter{KeyProfile: p.Name, Limit: profileDevices}); err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, status, "profile", view{Title: u.tr(c, "Key profile %s", p.Name), Nav: "profiles", Error: errMsg, Data: data})
}

func (u *UI) saveProfile(c *gin.Context) {
	name := c.Param("name")
	if _, err := u.core.KeyProfile(c.Request.Context(), name); err != nil {
		u.failErr(c, err)
		return
	}
	desc := strings.TrimSpace(c.PostForm("description"))
	keys, rows, rowOf, errs, ok := u.parseKeys(c, true)
	if !ok {
		u.fail(c, http.StatusBadRequest, "The key table is incomplete; reload the page.")
		return
	}
	if len(errs) > 0 {
		u.renderProfile(c, http.StatusBadRequest, u.tr(c, "Not saved: fix the rows marked below."),
			&profileData{Description: desc, Keys: keyEditor{Rows: rows, Details: errs}})
		return
	}
	if _, err := u.core.SaveKeyProfile(c.Request.Context(), autoprov.KeyProfile{Name: name, Description: desc, Keys: keys}, false, actor(c)); err != nil {
		status, msg := u.explain(c, err)
		det, en := details(u.lang(c), err)
		markRows(rows, rowOf, det, en, profileKeyRE)
		u.renderProfile(c, status, u.tr(c, "Not saved: %s", msg), &profileData{Description: desc, Keys: keyEditor{Rows: rows, Details: det}})
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Key profile %s saved with %d keys.", name, len(keys)))
	c.Redirect(http.StatusSeeOther, "/ui/profiles/"+name)
}

func (u *UI) confirmDeleteProfile(c *gin.Context) {
	p, err := u.core.KeyProfile(c.Request.Context(), c.Param("name"))
	if err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, http.StatusOK, "profile_delete", view{Title: u.tr(c, "Delete key profile %s?", p.Name), Nav: "profiles", Data: p})
}

func (u *UI) deleteProfile(c *gin.Context) {
	name := c.Param("name")
	if err := u.core.DeleteKeyProfile(c.Request.Context(), name, actor(c)); err != nil {
		if errors.Is(err, autoprov.ErrConflict) {
			// The core says which devices: "key profile X is used by devices [...]: conflict".
			why := u.conflictWhy(c, err)
			u.renderProfile(c, http.StatusConflict, u.tr(c, "Not deleted: %s; give them another profile first.", why), nil)
			return
		}
		u.failErr(c, err)
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Key profile %s deleted.", name))
	c.Redirect(http.StatusSeeOther, "/ui/profiles")
}

// ---- audit ----

type auditData struct {
	Events []autoprov.AuditEvent
	MAC    string // the filter as typed
	Limit  int
}

func (u *UI) auditPage(c *gin.Context) {
	data := auditData{MAC: strings.TrimSpace(c.Query("mac"))}
	limit, err := queryInt(c, "limit", auditLimit)
	if err != nil || limit < 1 || limit > auditMax {
		u.fail(c, http.StatusBadRequest, u.tr(c, "limit must be 1 to %d.", auditMax))
		return
	}
	data.Limit = limit
	mac := ""
	if data.MAC != "" {
		if mac, err = autoprov.ParseMAC(data.MAC); err != nil {
			u.render(c, http.StatusBadRequest, "audit", view{Title: "Audit", Nav: "audit", Error: u.tr(c, "Not a MAC: %s", data.MAC), Data: data})
			return
		}
	}
	if data.Events, err = u.core.Audit(c.Request.Context(), mac, limit); err != nil {
		u.failErr(c, err)
		return
	}
	u.render(c, http.StatusOK, "audit", view{Title: "Audit", Nav: "audit", Data: data})
}
