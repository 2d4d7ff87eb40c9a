package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/csvio"
	"github.com/autoprov/autoprov/server/dhcpconf"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
)

// The admin's tools: CSV import (upload, dry run, confirm) and export,
// the DHCP snippets, replacing a phone, and the PBX side of accounts
// (generated SIP passwords, plain or as PBX configuration, after the
// admin token is typed again). The pages answer 404 when the core lacks
// Tools.

// Tools is what these pages call beyond Core (*provision.Inventory).
type Tools interface {
	ProvisioningURL(reqBase string) string
	ReplaceDevice(ctx context.Context, oldMAC, newMAC, model, actor string) (autoprov.Device, error)
	RevealPasswords(ctx context.Context, exts []string, format, actor string) (string, error)
	Bulk(ctx context.Context, in autoprov.BulkInput, dryRun bool, actor string) (autoprov.BulkResult, error)
	Resync(ctx context.Context, macs []string, reboot bool, actor string) ([]autoprov.ResyncResult, error)
}

// maxCSV bounds an uploaded CSV file (the API's bulk bound).
const maxCSV = 64 << 20

// mountTools adds the tools' routes: a (logged in) and p (forms with a
// CSRF token, bounded bodies).
func (u *UI) mountTools(a, p *gin.RouterGroup) {
	a.GET("/tools", u.toolsPage)
	a.GET("/import", u.importPage)
	a.GET("/export", u.exportCSV)
	a.GET("/dhcp", u.dhcpPage)
	a.GET("/pbx", u.pbxPage)
	// A CSV file is larger than any form: bounded here, CSRF checked
	// after the body is read.
	a.POST("/import", u.sameOrigin, u.limitCSV, u.checkCSRF, u.importCSV)
	p.POST("/pbx", u.revealPasswords)
	a.GET("/resync", u.resyncPage)
	p.POST("/resync", u.resyncMany)
	p.POST("/devices/:mac/replace", u.replaceDevice)
}

func (u *UI) tools(c *gin.Context) (Tools, bool) {
	t, ok := u.core.(Tools)
	if !ok {
		u.fail(c, http.StatusNotFound, "Not available on this server.")
	}
	return t, ok
}

// toolsPage lists the tools: one nav link for all of them.
func (u *UI) toolsPage(c *gin.Context) {
	if _, ok := u.tools(c); !ok {
		return
	}
	u.render(c, http.StatusOK, "tools", view{Title: "Tools", Nav: "tools"})
}

func (u *UI) limitCSV(c *gin.Context) {
	if c.Request.ContentLength > maxCSV {
		u.fail(c, http.StatusRequestEntityTooLarge, "The file is too large (64 MiB at most).")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxCSV)
	c.Next()
}

// importData is the import page: the columns, then a dry run's changes or
// errors, and the file kept for the confirmation.
type importData struct {
	Columns  []string
	Name     string
	CSV      string // the checked file in base64, posted again to confirm (as text a browser would turn a Windows-1252 file's umlauts into U+FFFD)
	DryRun   bool
	Result   *autoprov.BulkResult
	Errors   []csvio.LineError
	Imported bool
}

func (u *UI) importPage(c *gin.Context) {
	if _, ok := u.tools(c); !ok {
		return
	}
	u.render(c, http.StatusOK, "import", view{Title: "Import and export", Nav: "import", Data: importData{Columns: csvio.Columns}})
}

// importCSV takes an uploaded file (dry run: the changes or the errors by
// line, and a confirm button) or the confirmed file (the import).
func (u *UI) importCSV(c *gin.Context) {
	t, ok := u.tools(c)
	if !ok {
		return
	}
	data := importData{Columns: csvio.Columns}
	confirm := c.PostForm("confirm") != ""
	var file []byte
	if confirm {
		b, err := base64.StdEncoding.DecodeString(c.PostForm("csv"))
		if err != nil {
			u.render(c, http.StatusBadRequest, "import", view{Title: "Import and export", Nav: "import", Error: u.tr(c, "Choose a CSV file to upload."), Data: data})
			return
		}
		file, data.Name = b, c.PostForm("name")
	} else {
		fh, err := c.FormFile("file")
		if err != nil {
			u.render(c, http.StatusBadRequest, "import", view{Title: "Import and export", Nav: "import", Error: u.tr(c, "Choose a CSV file to upload."), Data: data})
			return
		}
		f, err := fh.Open()
		if err != nil {
			u.failErr(c, err)
			return
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			u.failErr(c, err)
			return
		}
		file, data.Name = b, fh.Filename
	}
	data.CSV, data.DryRun = base64.StdEncoding.EncodeToString(file), !confirm
	im, err := csvio.Read(bytes.NewReader(file))
	var lineErr *csvio.Error
	if errors.As(err, &lineErr) {
		data.Errors = lineErr.Errors
		u.render(c, http.StatusBadRequest, "import", view{Title: "Import and export", Nav: "import",
			Error: u.tr(c, "%s: %d line(s) are invalid; nothing was written. Fix them and upload the file again.", data.Name, len(data.Errors)), Data: data})
		return
	}
	if err != nil {
		u.failErr(c, err)
		return
	}
	res, err := t.Bulk(c.Request.Context(), im.Input, !confirm, actor(c))
	var bulkErr *autoprov.BulkError
	if errors.As(err, &bulkErr) {
		data.Errors = im.Lines(bulkErr).Errors
		u.render(c, http.StatusBadRequest, "import", view{Title: "Import and export", Nav: "import",
			Error: u.tr(c, "%s: %d line(s) are invalid; nothing was written. Fix them and upload the file again.", data.Name, len(data.Errors)), Data: data})
		return
	}
	if err != nil {
		status, msg := u.explain(c, err)
		u.render(c, status, "import", view{Title: "Import and export", Nav: "import", Error: msg, Data: data})
		return
	}
	data.Result, data.Imported = &res, confirm
	if confirm {
		data.CSV = ""
		u.render(c, http.StatusOK, "import", view{Title: "Import and export", Nav: "import",
			Flash: u.tr(c, "Imported %s: %d accounts created, %d updated; %d devices created, %d updated.", data.Name,
				len(res.AccountsCreated), len(res.AccountsUpdated), len(res.DevicesCreated), len(res.DevicesUpdated)), Data: data})
		return
	}
	u.render(c, http.StatusOK, "import", view{Title: "Import and export", Nav: "import", Data: data})
}

// exportCSV downloads every account and adopted device as CSV, without a
// password.
func (u *UI) exportCSV(c *gin.Context) {
	if _, ok := u.tools(c); !ok {
		return
	}
	as, err := u.core.Accounts(c.Request.Context())
	if err != nil {
		u.failErr(c, err)
		return
	}
	ds, err := provision.AllDevices(c.Request.Context(), u.core.Devices, autoprov.DeviceFilter{State: autoprov.StateAssigned})
	if err != nil {
		u.failErr(c, err)
		return
	}
	var b bytes.Buffer
	if err := csvio.Write(&b, as, ds); err != nil {
		u.failErr(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="autoprov-`+u.now().UTC().Format("20060102")+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// dhcpData is the DHCP page: the form and the snippet.
type dhcpData struct {
	Servers                []string
	Server, URL, TFTP, DLS string
	Snippet                string
	Field                  string
}

func (u *UI) dhcpPage(c *gin.Context) {
	t, ok := u.tools(c)
	if !ok {
		return
	}
	d := dhcpData{Servers: dhcpconf.Servers, Server: c.DefaultQuery("server", "isc"), URL: c.Query("url"), TFTP: c.Query("tftp"), DLS: c.Query("dls")}
	if d.URL == "" {
		d.URL = t.ProvisioningURL(httpd.BaseURL(c.Request))
	}
	out, err := dhcpconf.Generate(d.Server, dhcpconf.Config{BaseURL: d.URL, TFTP: d.TFTP, DLS: d.DLS})
	if err != nil {
		u.render(c, http.StatusBadRequest, "dhcp", view{Title: "DHCP", Nav: "dhcp", Error: err.Error(), Data: d})
		return
	}
	d.Snippet = out
	u.render(c, http.StatusOK, "dhcp", view{Title: "DHCP", Nav: "dhcp", Data: d})
}

// replaceConfirm is the question before a replacement.
type replaceConfirm struct {
	Device autoprov.Device
	replaceForm
}

// replaceDevice moves a device to a new phone (its MAC typed on the
// device page) and shows the new device. It removes this phone's device,
// so it asks first (confirm): a typo in the MAC would move the desk's
// accounts to another phone.
func (u *UI) replaceDevice(c *gin.Context) {
	t, ok := u.tools(c)
	if !ok {
		return
	}
	mac, ok := u.macParam(c)
	if !ok {
		return
	}
	typed := replaceForm{NewMAC: strings.TrimSpace(c.PostForm("new_mac")), Model: strings.TrimSpace(c.PostForm("model"))}
	refused := func(err error) {
		if errors.Is(err, autoprov.ErrNotFound) {
			u.failErr(c, err)
			return
		}
		status, msg := u.explain(c, err)
		u.renderDeviceAll(c, mac, status, u.tr(c, "Not replaced: %s", msg), nil, nil, typed)
	}
	if c.PostForm("confirm") == "" {
		newMAC, err := autoprov.ParseMAC(typed.NewMAC)
		if err != nil {
			refused(err)
			return
		}
		old, err := u.core.Device(c.Request.Context(), mac)
		if err != nil {
			u.failErr(c, err)
			return
		}
		q := replaceConfirm{Device: old, replaceForm: replaceForm{NewMAC: colonMAC(newMAC), Model: typed.Model}}
		u.render(c, http.StatusOK, "replace_confirm", view{Title: u.tr(c, "Replace %s with %s?", colonMAC(mac), q.NewMAC), Nav: "devices", Data: q})
		return
	}
	d, err := t.ReplaceDevice(c.Request.Context(), mac, typed.NewMAC, typed.Model, actor(c))
	if err != nil {
		refused(err)
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "%s replaces %s: its accounts, keys, label and profile moved, %s removed, the secret window opened.",
		colonMAC(d.MAC), colonMAC(mac), colonMAC(mac)))
	c.Redirect(http.StatusSeeOther, "/ui/devices/"+d.MAC)
}

// resyncData is the bulk resync page: the MACs typed, and the results.
type resyncData struct {
	MACs    string
	All     bool
	Reboot  bool
	Results []autoprov.ResyncResult
}

// maxResync is the most phones one bulk resync takes (the API's bound).
const maxResync = 2000

func (u *UI) resyncPage(c *gin.Context) {
	if _, ok := u.tools(c); !ok {
		return
	}
	u.render(c, http.StatusOK, "resync", view{Title: "Resync", Nav: "resync", Data: resyncData{}})
}

// resyncMany tells many phones (the MACs typed, any notation, or every
// adopted phone) to fetch their configuration now, 128 at a time, and
// lists each phone's outcome.
func (u *UI) resyncMany(c *gin.Context) {
	t, ok := u.tools(c)
	if !ok {
		return
	}
	d := resyncData{MACs: c.PostForm("macs"), All: c.PostForm("all") != "", Reboot: c.PostForm("reboot") != ""}
	macs := strings.Fields(strings.NewReplacer(",", " ", ";", " ").Replace(d.MACs))
	if d.All {
		adopted := autoprov.DeviceFilter{State: autoprov.StateAssigned}
		count := adopted
		count.Limit = 1
		_, n, err := u.core.Devices(c.Request.Context(), count)
		if err != nil {
			u.failErr(c, err)
			return
		}
		if n > maxResync {
			u.render(c, http.StatusBadRequest, "resync", view{Title: "Resync", Nav: "resync",
				Error: u.tr(c, "%d adopted phones: at most %d at once; list the MACs instead.", n, maxResync), Data: d})
			return
		}
		ds, err := provision.AllDevices(c.Request.Context(), u.core.Devices, adopted)
		if err != nil {
			u.failErr(c, err)
			return
		}
		macs = macs[:0]
		for _, x := range ds {
			macs = append(macs, x.MAC)
		}
	}
	if len(macs) == 0 {
		u.render(c, http.StatusBadRequest, "resync", view{Title: "Resync", Nav: "resync", Error: u.tr(c, "Name at least one phone."), Data: d})
		return
	}
	rs, err := t.Resync(c.Request.Context(), macs, d.Reboot, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		u.render(c, status, "resync", view{Title: "Resync", Nav: "resync", Error: msg, Data: d})
		return
	}
	d.Results = rs
	u.render(c, http.StatusOK, "resync", view{Title: "Resync", Nav: "resync", Data: d})
}

// pbxData is the PBX page: the form, and once the token was typed again,
// what was revealed.
type pbxData struct {
	Formats            []string
	Format, Extensions string
	Output             string
}

func (u *UI) pbxPage(c *gin.Context) {
	if _, ok := u.tools(c); !ok {
		return
	}
	u.render(c, http.StatusOK, "pbx", view{Title: "PBX accounts", Nav: "pbx", Data: pbxData{Formats: pbxFormats, Format: "pjsip"}})
}

// pbxFormats are the formats the PBX page offers.
var pbxFormats = []string{"password", "pjsip", "freeswitch", "kamailio"}

// revealPasswords asks for the admin token again (throttled like the
// login) and shows the generated passwords in the chosen format; the core
// audits it. The page is never cached (headers: no-store).
func (u *UI) revealPasswords(c *gin.Context) {
	t, ok := u.tools(c)
	if !ok {
		return
	}
	d := pbxData{Formats: pbxFormats, Format: c.PostForm("format"), Extensions: strings.TrimSpace(c.PostForm("extensions"))}
	ip := c.ClientIP()
	key := ratelimit.ClientKey(ip) // as login's
	if !u.logins.Allow(key) {
		if u.quiet.Allow(key) {
			u.log.Warn(authFailedMsg, "remote", ip, "via", "ui", "reason", "throttled")
		}
		c.Header("Retry-After", strconv.FormatInt(max(1, int64((u.logins.RetryAfter(key)+time.Second-1)/time.Second)), 10))
		u.render(c, http.StatusTooManyRequests, "pbx", view{Title: "PBX accounts", Nav: "pbx", Error: u.tr(c, "Too many wrong tokens. Wait a minute and try again."), Data: d})
		return
	}
	if !u.tokenOK(c.PostForm("token")) {
		u.log.Warn(authFailedMsg, "remote", ip, "via", "ui", "reason", "wrong token to reveal passwords")
		u.render(c, http.StatusForbidden, "pbx", view{Title: "PBX accounts", Nav: "pbx", Error: u.tr(c, "Wrong admin token: nothing was revealed."), Data: d})
		return
	}
	u.logins.Forget(key)
	exts := strings.FieldsFunc(d.Extensions, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	out, err := t.RevealPasswords(c.Request.Context(), exts, d.Format, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		u.render(c, status, "pbx", view{Title: "PBX accounts", Nav: "pbx", Error: msg, Data: d})
		return
	}
	d.Output = out
	u.render(c, http.StatusOK, "pbx", view{Title: "PBX accounts", Nav: "pbx", Data: d})
}
