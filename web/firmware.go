package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/provision"
)

// Firmware is what the Firmware page calls of the firmware store
// (*firmware.Store): the catalogue and uploads.
type Firmware interface {
	MaxBytes() int64
	Validate(m firmware.Meta) (firmware.Meta, error)
	Receive(r io.Reader) (*firmware.Temp, error)
	Commit(ctx context.Context, t *firmware.Temp, m firmware.Meta, actor string) (autoprov.Firmware, bool, error)
	List(ctx context.Context, f autoprov.FirmwareFilter) ([]autoprov.Firmware, int, error)
}

// Rollout is what the Firmware page calls of the rollout
// (*provision.Inventory): the models' targets and the status.
type Rollout interface {
	ModelFirmwares(ctx context.Context) ([]autoprov.FirmwareTarget, error)
	PutModelFirmware(ctx context.Context, vendor, model string, in autoprov.FirmwareTargetInput, actor string) (autoprov.FirmwareTarget, error)
	DeleteModelFirmware(ctx context.Context, vendor, model, actor string) error
	FirmwareStatus(ctx context.Context, f provision.FirmwareStatusFilter) ([]autoprov.FirmwareStatus, int, []autoprov.FirmwareSummary, error)
}

// Option configures the UI.
type Option func(*UI)

// WithFirmware adds the Firmware page (upload, catalogue, targets,
// rollout); without it the page answers 404.
func WithFirmware(fw Firmware, ro Rollout) Option {
	return func(u *UI) { u.fw, u.ro = fw, ro }
}

// Limits of the Firmware page.
const (
	rolloutRows    = 500      // devices the rollout table shows
	uploadSlack    = 64 << 10 // multipart overhead beyond the image
	catalogueLimit = 200      // catalogue entries shown
)

type firmwareData struct {
	Catalogue []autoprov.Firmware
	Targets   []autoprov.FirmwareTarget
	Summaries []autoprov.FirmwareSummary
	Devices   []autoprov.FirmwareStatus
	Total     int
	// Unsupported names ("vendor model") the models with devices whose
	// target is ignored: the model takes no firmware from autoprov
	// (autoprov.FirmwareUnsupported, a target stored before the core
	// refused them).
	Unsupported []string
	Models      []string // "vendor/model" for the target form
	Window      string
	MaxBytes    string // the upload cap, as byteSize writes it
}

func (u *UI) firmwarePage(c *gin.Context) {
	u.renderFirmware(c, http.StatusOK, "")
}

func (u *UI) renderFirmware(c *gin.Context, status int, errMsg string) {
	if u.fw == nil || u.ro == nil {
		u.fail(c, http.StatusNotFound, "Firmware is not available on this server.")
		return
	}
	ctx := c.Request.Context()
	var d firmwareData
	var err error
	if d.Catalogue, _, err = u.fw.List(ctx, autoprov.FirmwareFilter{Limit: catalogueLimit}); err != nil {
		u.failErr(c, err)
		return
	}
	if d.Targets, err = u.ro.ModelFirmwares(ctx); err != nil {
		u.failErr(c, err)
		return
	}
	if d.Devices, d.Total, d.Summaries, err = u.ro.FirmwareStatus(ctx, provision.FirmwareStatusFilter{Limit: rolloutRows}); err != nil {
		u.failErr(c, err)
		return
	}
	st, err := u.core.Settings(ctx)
	if err != nil {
		u.failErr(c, err)
		return
	}
	d.Window, d.MaxBytes = st.FirmwareWindow, byteSize(u.fw.MaxBytes())
	for _, s := range d.Summaries {
		if s.Unsupported > 0 {
			d.Unsupported = append(d.Unsupported, s.Vendor+" "+s.Model)
		}
	}
	seen := map[string]bool{}
	for _, f := range d.Catalogue {
		for _, m := range f.Models {
			if k := f.Vendor + "/" + m; !seen[k] {
				seen[k] = true
				d.Models = append(d.Models, k)
			}
		}
	}
	u.render(c, status, "firmware", view{Title: "Firmware", Nav: "firmware", Error: errMsg, Data: d})
}

// uploadFirmware takes the upload form: multipart with vendor, version,
// models and name before the part "file", streamed to the store. The
// body is larger than any other form, so it skips limitBody and carries
// its CSRF token in the query (reading it from the body would mean
// reading the image first).
func (u *UI) uploadFirmware(c *gin.Context) {
	if u.fw == nil {
		u.fail(c, http.StatusNotFound, "Firmware is not available on this server.")
		return
	}
	sess := c.MustGet(sessionKey).(*session)
	if subtle.ConstantTimeCompare([]byte(c.Query("csrf")), []byte(sess.csrf)) != 1 {
		u.log.Warn("form without a valid CSRF token refused", "path", c.Request.URL.Path, "remote", c.ClientIP())
		u.fail(c, http.StatusForbidden, "The form has expired or did not come from this page. Reload the page and try again.")
		return
	}
	max := u.fw.MaxBytes()
	if c.Request.ContentLength > max+uploadSlack {
		c.Header("Connection", "close")
		u.renderFirmware(c, http.StatusRequestEntityTooLarge, u.tr(c, "Not uploaded: the file is larger than %s.", byteSize(max)))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max+uploadSlack)
	f, created, err := u.receive(c)
	if err != nil {
		var tooBig *firmware.TooLargeError
		var status int
		var msg string
		if errors.As(err, &tooBig) {
			status, msg = http.StatusRequestEntityTooLarge, u.tr(c, "the file is larger than %s", byteSize(max))
		} else {
			status, msg = u.explain(c, err) // a refusal, a conflict ("Conflict: ..."), or 500
		}
		u.renderFirmware(c, status, u.tr(c, "Not uploaded: %s", msg))
		return
	}
	msg := u.tr(c, "Uploaded %s %s (%s) for %s.", f.Vendor, f.Version, f.Name, strings.Join(f.Models, ", "))
	if !created {
		msg = u.tr(c, "%s %s (%s) was already in the catalogue.", f.Vendor, f.Version, f.Name)
	}
	u.sessions.setFlash(sess, msg)
	c.Redirect(http.StatusSeeOther, "/ui/firmware")
}

func (u *UI) receive(c *gin.Context) (autoprov.Firmware, bool, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return autoprov.Firmware{}, false, autoprov.Invalid("file", "the form is not multipart/form-data")
	}
	var meta firmware.Meta
	var tmp *firmware.Temp
	defer func() {
		if tmp != nil {
			tmp.Discard()
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return autoprov.Firmware{}, false, autoprov.Invalid("file", "the upload broke off")
		}
		switch name := part.FormName(); name {
		case "file":
			if tmp != nil {
				return autoprov.Firmware{}, false, autoprov.Invalid("file", "more than one file")
			}
			if meta.Name == "" {
				meta.Name = path.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
			}
			if _, err := u.fw.Validate(meta); err != nil {
				return autoprov.Firmware{}, false, err
			}
			if tmp, err = u.fw.Receive(part); err != nil {
				return autoprov.Firmware{}, false, err
			}
		case "vendor", "version", "models", "name":
			b, err := io.ReadAll(io.LimitReader(part, 1025))
			if err != nil || len(b) > 1024 {
				return autoprov.Firmware{}, false, autoprov.Invalid(name, "%s is too long", name)
			}
			v := strings.TrimSpace(string(b))
			switch name {
			case "vendor":
				meta.Vendor = v
			case "version":
				meta.Version = v
			case "models":
				meta.Models = append(meta.Models, v)
			case "name":
				meta.Name = v
			}
		default:
			return autoprov.Firmware{}, false, autoprov.Invalid(name, "unknown field %q", name)
		}
	}
	if tmp == nil {
		return autoprov.Firmware{}, false, autoprov.Invalid("file", "choose a file")
	}
	t := tmp
	tmp = nil
	return u.fw.Commit(c.Request.Context(), t, meta, actor(c))
}

// saveTarget sets a model's target from the form: model ("vendor/model"),
// version, stage (percentage), now.
func (u *UI) saveTarget(c *gin.Context) {
	if u.ro == nil {
		u.fail(c, http.StatusNotFound, "Firmware is not available on this server.")
		return
	}
	vendor, model, _ := strings.Cut(c.PostForm("model"), "/")
	in := autoprov.FirmwareTargetInput{Version: strings.TrimSpace(c.PostForm("version")), Now: c.PostForm("now") == "on"}
	if s := strings.TrimSpace(c.PostForm("stage")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			u.renderFirmware(c, http.StatusBadRequest, u.tr(c, "Not saved: stage must be a percentage from 1 to 100"))
			return
		}
		in.Stage = &n
	}
	t, err := u.ro.PutModelFirmware(c.Request.Context(), vendor, model, in, actor(c))
	if err != nil {
		status, msg := u.explain(c, err)
		u.renderFirmware(c, status, u.tr(c, "Not saved: %s", msg))
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "%s %s now targets %s for %d%% of its devices.", t.Vendor, t.Model, t.Version(), t.Stage))
	c.Redirect(http.StatusSeeOther, "/ui/firmware")
}

func (u *UI) deleteTarget(c *gin.Context) {
	if u.ro == nil {
		u.fail(c, http.StatusNotFound, "Firmware is not available on this server.")
		return
	}
	vendor, model := c.PostForm("vendor"), c.PostForm("model")
	if err := u.ro.DeleteModelFirmware(c.Request.Context(), vendor, model, actor(c)); err != nil {
		status, msg := u.explain(c, err)
		u.renderFirmware(c, status, u.tr(c, "Not removed: %s", msg))
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "The target of %s %s is removed: its phones get no firmware.", vendor, model))
	c.Redirect(http.StatusSeeOther, "/ui/firmware")
}

// saveWindow sets the setting firmware_window.
func (u *UI) saveWindow(c *gin.Context) {
	w := strings.TrimSpace(c.PostForm("firmware_window"))
	if _, err := u.core.PutSettings(c.Request.Context(), autoprov.SettingsPatch{FirmwareWindow: &w}, actor(c)); err != nil {
		status, msg := u.explain(c, err)
		u.renderFirmware(c, status, u.tr(c, "Not saved: %s", msg))
		return
	}
	u.sessions.setFlash(c.MustGet(sessionKey).(*session), u.tr(c, "Maintenance window saved."))
	c.Redirect(http.StatusSeeOther, "/ui/firmware")
}

// byteSize writes n for a person: in whole GiB, MiB or KiB where it is
// one, else in bytes ("512 MiB", not "536870912 bytes").
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		unit string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.unit)
		}
	}
	return fmt.Sprintf("%d B", n)
}
