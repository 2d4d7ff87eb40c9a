package httpd

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/redirect"
	"github.com/autoprov/autoprov/server/provision"
)

// Redirects is what the redirect routes call (*redirect.Service).
type Redirects interface {
	Config(ctx context.Context, name string) (autoprov.RedirectService, error)
	Configure(ctx context.Context, name string, in redirect.ServiceInput, actor string) (autoprov.RedirectService, error)
	Target(c autoprov.RedirectService) string
	Register(ctx context.Context, name string, macs []string, actor string) (int, error)
	Deregister(ctx context.Context, d autoprov.Device, actor string) (bool, error)
	Queue(ctx context.Context, name string, limit, offset int) ([]autoprov.RedirectJob, int, error)
	Lookup(ctx context.Context, name, mac string) (string, error)
	Export(name string, macs []string, provider string, w io.Writer) (string, error)
	Rules(ctx context.Context) ([]autoprov.RedirectRule, error)
	CreateRule(ctx context.Context, match []string, target, actor string) (autoprov.RedirectRule, error)
	DeleteRule(ctx context.Context, id int64, actor string) error
}

func (s *Server) redirectRoutes(api *gin.RouterGroup) {
	api.GET("/redirect-services/:name", s.redirectOn(s.getRedirectService))
	api.PUT("/redirect-services/:name", s.redirectOn(s.putRedirectService))
	api.POST("/redirect-services/:name/register", s.redirectOn(s.redirectRegister))
	api.GET("/redirect-services/:name/queue", s.redirectOn(s.redirectQueue))
	api.GET("/redirect-services/:name/lookup/:mac", s.redirectOn(s.redirectLookup))
	api.GET("/redirect-services/:name/export", s.redirectOn(s.redirectExport))
	api.GET("/redirect-rules", s.redirectOn(s.listRedirectRules))
	api.POST("/redirect-rules", s.redirectOn(s.createRedirectRule))
	api.DELETE("/redirect-rules/:id", s.redirectOn(s.deleteRedirectRule))
}

func (s *Server) redirectOn(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.cfg.Redirects == nil {
			s.fail(c, autoprov.ErrNotFound)
			return
		}
		h(c)
	}
}

type redirectServiceJSON struct {
	Name         string    `json:"name"`
	Enabled      bool      `json:"enabled"`
	URL          string    `json:"url"`
	Username     string    `json:"username"`
	PasswordSet  bool      `json:"password_set"`
	ServerName   string    `json:"server_name,omitempty"`
	ProvisionURL string    `json:"provision_url"`
	Registers    string    `json:"registers"` // the URL phones are sent to
	UpdatedAt    time.Time `json:"updated_at"`
}

type redirectServiceInputJSON struct {
	Enabled      *bool   `json:"enabled"`
	URL          *string `json:"url"`
	Username     *string `json:"username"`
	Password     *string `json:"password"`
	ServerName   *string `json:"server_name"`
	ProvisionURL *string `json:"provision_url"`
}

func (s *Server) redirectServiceOut(c autoprov.RedirectService) redirectServiceJSON {
	return redirectServiceJSON{Name: c.Name, Enabled: c.Enabled, URL: c.URL, Username: c.Username, PasswordSet: c.Password != "",
		ServerName: c.ServerName, ProvisionURL: c.ProvisionURL, Registers: s.cfg.Redirects.Target(c), UpdatedAt: c.UpdatedAt}
}

func (s *Server) getRedirectService(c *gin.Context) {
	cfg, err := s.cfg.Redirects.Config(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.redirectServiceOut(cfg))
}

func (s *Server) putRedirectService(c *gin.Context) {
	var in redirectServiceInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	cfg, err := s.cfg.Redirects.Configure(c.Request.Context(), c.Param("name"), redirect.ServiceInput{Enabled: in.Enabled, URL: in.URL,
		Username: in.Username, Password: in.Password, ServerName: in.ServerName, ProvURL: in.ProvisionURL}, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.redirectServiceOut(cfg))
}

type macsJSON struct {
	MACs []string `json:"macs"`
}

func (s *Server) redirectRegister(c *gin.Context) {
	var in macsJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.cfg.Redirects.Register(c.Request.Context(), c.Param("name"), in.MACs, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": n})
}

type redirectJobJSON struct {
	ID        int64     `json:"id"`
	MAC       string    `json:"mac"`
	Op        string    `json:"op"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}

func redirectJobOut(j autoprov.RedirectJob) redirectJobJSON {
	return redirectJobJSON{ID: j.ID, MAC: j.MAC, Op: j.Op, Attempts: j.Attempts, NextAt: j.NextAt, LastError: j.LastError,
		Actor: j.Actor, CreatedAt: j.CreatedAt}
}

func (s *Server) redirectQueue(c *gin.Context) {
	limit, offset, ok := s.page(c)
	if !ok {
		return
	}
	jobs, total, err := s.cfg.Redirects.Queue(c.Request.Context(), c.Param("name"), limit, offset)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, jobs, redirectJobOut, total, limit, offset)
}

func (s *Server) redirectLookup(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	where, err := s.cfg.Redirects.Lookup(c.Request.Context(), c.Param("name"), mac)
	if err != nil {
		if _, known := s.cfg.Redirects.Config(c.Request.Context(), c.Param("name")); known != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusBadGateway, apiError{Error: "the redirect service did not answer: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"mac": mac, "points_at": where})
}

// redirectExport answers Gigaset's or Cisco's import file: the MACs in
// ?macs= (comma-separated), else every assigned device of that vendor.
func (s *Server) redirectExport(c *gin.Context) {
	name := c.Param("name")
	var macs []string
	if q := c.Query("macs"); q != "" {
		for _, m := range strings.Split(q, ",") {
			cm, err := autoprov.ParseMAC(m)
			if err != nil {
				s.fail(c, autoprov.Invalid("macs", "%v", err))
				return
			}
			macs = append(macs, cm)
		}
	} else {
		ds, err := provision.AllDevices(c.Request.Context(), s.cfg.Inventory.Devices, autoprov.DeviceFilter{Vendor: name, State: autoprov.StateAssigned})
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, d := range ds {
			macs = append(macs, d.MAC)
		}
	}
	var b bytes.Buffer
	ct, err := s.cfg.Redirects.Export(name, macs, c.DefaultQuery("provider", "autoprov"), &b)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`-redirect.csv"`)
	c.Data(http.StatusOK, ct, b.Bytes())
}

type redirectRuleJSON struct {
	ID        int64     `json:"id"`
	Match     []string  `json:"match"`
	Target    string    `json:"target"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

func redirectRuleOut(r autoprov.RedirectRule) redirectRuleJSON {
	return redirectRuleJSON{ID: r.ID, Match: r.Match, Target: r.Target, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
}

type redirectRuleInputJSON struct {
	Match  []string `json:"match"`
	Target string   `json:"target"`
}

func (s *Server) listRedirectRules(c *gin.Context) {
	rs, err := s.cfg.Redirects.Rules(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, rs, redirectRuleOut, len(rs), len(rs), 0)
}

func (s *Server) createRedirectRule(c *gin.Context) {
	var in redirectRuleInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.cfg.Redirects.CreateRule(c.Request.Context(), in.Match, in.Target, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, redirectRuleOut(r))
}

func (s *Server) deleteRedirectRule(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, autoprov.Invalid("id", "id must be a number"))
		return
	}
	if err := s.cfg.Redirects.DeleteRule(c.Request.Context(), id, actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
