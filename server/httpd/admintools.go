package httpd

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/csvio"
	"github.com/autoprov/autoprov/server/dhcpconf"
	"github.com/autoprov/autoprov/server/provision"
)

// AdminTools are the admin's tools beyond the inventory's lists and
// forms (*provision.Inventory): DHCP snippets, replacing a phone, and the
// PBX side of accounts. The routes answer 404 when Config.Inventory lacks
// them.
type AdminTools interface {
	ProvisioningURL(reqBase string) string
	ReplaceDevice(ctx context.Context, oldMAC, newMAC, model, actor string) (autoprov.Device, error)
	RevealPasswords(ctx context.Context, exts []string, format, actor string) (string, error)
	Accounts(ctx context.Context) ([]autoprov.Account, error)
}

func (s *Server) toolRoutes(api *gin.RouterGroup) {
	api.GET("/export", s.exportCSV)
	api.GET("/dhcp-config", s.dhcpConfig)
	api.POST("/devices/:mac/replace", s.replaceDevice)
	api.POST("/accounts/reveal", s.revealPasswords)
}

func (s *Server) tools(c *gin.Context) (AdminTools, bool) {
	t, ok := s.cfg.Inventory.(AdminTools)
	if !ok {
		s.fail(c, autoprov.ErrNotFound)
	}
	return t, ok
}

// isCSV reports whether a request body is CSV (Content-Type text/csv).
func isCSV(c *gin.Context) bool {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return mt == "text/csv"
}

// bulkCSV is POST /bulk with a CSV body (csvio): the file's errors and
// the core's, each by line number; nothing is written when there is one.
func (s *Server) bulkCSV(c *gin.Context, dry bool) {
	im, err := csvio.Read(c.Request.Body)
	var lineErr *csvio.Error
	if errors.As(err, &lineErr) {
		c.JSON(http.StatusBadRequest, csvErrorOut(lineErr))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.cfg.Inventory.Bulk(c.Request.Context(), im.Input, dry, actor(c))
	var bulkErr *autoprov.BulkError
	if errors.As(err, &bulkErr) {
		c.JSON(http.StatusBadRequest, csvErrorOut(im.Lines(bulkErr)))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, bulkResultOut(res))
}

// exportCSV answers every account and adopted device as CSV (csvio): the
// file POST /bulk takes back; never a password.
func (s *Server) exportCSV(c *gin.Context) {
	t, ok := s.tools(c)
	if !ok {
		return
	}
	as, err := t.Accounts(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	ds, err := provision.AllDevices(c.Request.Context(), s.cfg.Inventory.Devices, autoprov.DeviceFilter{State: autoprov.StateAssigned})
	if err != nil {
		s.fail(c, err)
		return
	}
	var b bytes.Buffer
	if err := csvio.Write(&b, as, ds); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="autoprov.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// dhcpConfig answers the DHCP snippets for ?server= (dhcpconf) pointing
// at the provisioning URL (?url=, else --public-url, else the address
// the admin reached); ?tftp= adds Cisco's option 150, ?dls= OpenStage's 43.
func (s *Server) dhcpConfig(c *gin.Context) {
	t, ok := s.tools(c)
	if !ok {
		return
	}
	cfg := dhcpconf.Config{BaseURL: c.Query("url"), TFTP: c.Query("tftp"), DLS: c.Query("dls")}
	if cfg.BaseURL == "" {
		cfg.BaseURL = t.ProvisioningURL(BaseURL(c.Request))
	}
	out, err := dhcpconf.Generate(c.Query("server"), cfg)
	if err != nil {
		field := "url"
		switch {
		case !strings.Contains(" "+strings.Join(dhcpconf.Servers, " ")+" ", " "+c.Query("server")+" "):
			field = "server"
		case strings.Contains(err.Error(), "TFTP"):
			field = "tftp"
		case strings.Contains(err.Error(), "DLS"):
			field = "dls"
		}
		s.fail(c, autoprov.Invalid(field, "%s", err.Error()))
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(out))
}

// replaceDevice moves a device to a new phone: {"new_mac", "model"}.
func (s *Server) replaceDevice(c *gin.Context) {
	t, ok := s.tools(c)
	if !ok {
		return
	}
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	var in replaceInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	d, err := t.ReplaceDevice(c.Request.Context(), mac, in.NewMAC, in.Model, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.deviceAnswer(c, d)
}

// revealPasswords is the PBX side of accounts: generated SIP passwords,
// plain or as PBX configuration, for a request that carries the admin
// token once more in its body (a stolen session or a replayed request
// without it reveals nothing). Audited by the core.
func (s *Server) revealPasswords(c *gin.Context) {
	t, ok := s.tools(c)
	if !ok {
		return
	}
	var in revealInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	// The token typed again is throttled as the bearer token is, in a
	// bucket of its own: a request the central sent over this site's link
	// has no bearer token to pass, and it would otherwise guess the site's
	// admin token here at line rate.
	key := "reveal\x00" + c.ClientIP()
	if _, ok := linkActor(c); ok {
		key = "reveal\x00link"
	}
	if !s.access.guesses.Allow(key) {
		if s.access.quiet.Allow("throttled\x00" + key) {
			s.log.Warn(AuthFailedMsg, "remote", c.ClientIP(), "via", "api", "reason", "throttled admin_token to reveal passwords")
		}
		c.Header("Retry-After", retryAfter(s.access.guesses.RetryAfter(key)))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, apiError{Error: "too many wrong tokens: retry later"})
		return
	}
	if s.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(in.AdminToken), []byte(s.cfg.AdminToken)) != 1 {
		s.log.Warn(AuthFailedMsg, "remote", c.ClientIP(), "via", "api", "reason", "wrong admin_token to reveal passwords")
		c.JSON(http.StatusForbidden, apiError{Error: "admin_token: type the admin token again to reveal passwords", Field: "admin_token"})
		return
	}
	s.access.guesses.Forget(key)
	format := in.Format
	if format == "" {
		format = "password"
	}
	out, err := t.RevealPasswords(c.Request.Context(), in.Extensions, format, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(out))
}
