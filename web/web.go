// Package web is the admin web UI: server-rendered html/template pages under
// /ui/ that server/httpd mounts (httpd.Config.Mount). Its focus is
// zero-touch provisioning: phones that fetched from the server wait in an
// inbox (state "unassigned") and an admin adopts one with one form.
//
// Everything is embedded (templates, one CSS file, two small scripts that
// only add to pages which work without them), nothing is loaded from
// elsewhere. Pages are German or English (i18n.go, catalog_de.go) and show
// times in the fleet's time zone. An admin logs in with the
// admin API token and gets a session cookie; every POST carries a CSRF
// token tied to the session. The UI calls the core (*provision.Inventory)
// through the Core interface and never shows a secret.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/vendors"
)

// Core is what the UI calls: the admin side of the core
// (*provision.Inventory).
type Core interface {
	Registry() *vendors.Registry
	Settings(ctx context.Context) (autoprov.Settings, error)
	PutSettings(ctx context.Context, in autoprov.SettingsPatch, actor string) (autoprov.Settings, error)

	Accounts(ctx context.Context) ([]autoprov.Account, error)
	ListAccounts(ctx context.Context, f autoprov.AccountFilter) ([]autoprov.Account, int, error)
	Account(ctx context.Context, ext string) (autoprov.Account, error)
	CreateAccount(ctx context.Context, in autoprov.AccountInput, actor string) (autoprov.Account, error)
	UpdateAccount(ctx context.Context, ext string, in autoprov.AccountInput, actor string) (autoprov.Account, error)
	DeleteAccount(ctx context.Context, ext, actor string) error
	Bulk(ctx context.Context, in autoprov.BulkInput, dryRun bool, actor string) (autoprov.BulkResult, error)
	Resync(ctx context.Context, macs []string, reboot bool, actor string) ([]autoprov.ResyncResult, error)

	Devices(ctx context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, int, error)
	Device(ctx context.Context, mac string) (autoprov.Device, error)
	CreateDevice(ctx context.Context, in autoprov.DeviceInput, actor string) (autoprov.Device, error)
	UpdateDevice(ctx context.Context, mac string, in autoprov.DeviceInput, actor string) (autoprov.Device, error)
	SetKeys(ctx context.Context, mac string, keys []autoprov.KeySpec, actor string) (autoprov.Device, error)
	DeleteDevice(ctx context.Context, mac, actor string) error
	OpenDisclosure(ctx context.Context, mac, actor string) (autoprov.Disclosure, error)
	ResyncDevice(ctx context.Context, mac string, reboot bool, actor string) (autoprov.ResyncResult, error)
	PreviewFiles(ctx context.Context, mac string) ([]string, error)
	Preview(ctx context.Context, mac, name, base string) (*vendors.File, error)
	Layout(ctx context.Context, mac string) ([]autoprov.LayoutKey, error)

	KeyProfiles(ctx context.Context) ([]autoprov.KeyProfile, error)
	KeyProfile(ctx context.Context, name string) (autoprov.KeyProfile, error)
	SaveKeyProfile(ctx context.Context, p autoprov.KeyProfile, create bool, actor string) (autoprov.KeyProfile, error)
	DeleteKeyProfile(ctx context.Context, name, actor string) error

	Audit(ctx context.Context, mac string, limit int) ([]autoprov.AuditEvent, error)
}

//go:embed templates/*.html static/*
var assets embed.FS

// Limits of the UI.
const (
	sessionTTL   = 12 * time.Hour
	cookieName   = "autoprov_session"
	maxForm      = 64 << 10 // bytes of a form body
	pageSize     = 50       // devices per page by default
	maxPageSize  = 500      // largest page a URL may ask for
	loginFails   = 5        // wrong tokens per client IP ...
	loginWindow  = time.Minute
	loginClients = 10000 // client IPs remembered by the login limiter
	emptyKeyRows = 4     // blank rows the key editor offers for new keys
	auditLimit   = 100   // audit events shown by default
	auditMax     = 1000  // most audit events a page may ask for
)

// UI is the admin web UI. It is safe for concurrent use.
type UI struct {
	core     Core
	log      *slog.Logger
	tokenSum [32]byte                                 // SHA-256 of the admin token
	pages    map[string]map[string]*template.Template // by language, then page
	zone     zones                                    // the fleet's time zone, for every time shown
	static   fs.FS
	sessions *sessions
	logins   *ratelimit.Keyed // login guesses per client IP
	quiet    *ratelimit.Keyed // "throttled" log lines per client IP
	now      func() time.Time
	fw       Firmware // nil: no Firmware page
	ro       Rollout
	sites    Sites                       // nil: not a central server (sites.go)
	link     Link                        // nil: not a site
	misses   func(n int) []autoprov.Miss // nil: the dashboard lists no misses
}

// New builds the UI. adminToken is the admin API's bearer token, which is
// also what an admin types to log in; it must not be empty. All templates
// are parsed here, so a broken one fails start-up.
func New(core Core, log *slog.Logger, adminToken string, opts ...Option) (*UI, error) {
	if core == nil {
		return nil, errors.New("web: no core")
	}
	if adminToken == "" {
		return nil, errors.New("web: empty admin token")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &UI{core: core, log: log.With("component", "web"), tokenSum: sha256.Sum256([]byte(adminToken)), now: time.Now}
	for _, o := range opts {
		o(u)
	}
	u.sessions = newSessions(u.now)
	u.logins = newLoginLimiter(u.now)
	u.quiet = ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: loginClients, Now: u.now})
	var err error
	u.pages = map[string]map[string]*template.Template{}
	for _, l := range uiLangs {
		if u.pages[l], err = parsePages(u.funcs(l)); err != nil {
			return nil, err
		}
	}
	if u.static, err = fs.Sub(assets, "static"); err != nil {
		return nil, err
	}
	return u, nil
}

// parsePages parses every page template together with the layout, once.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Option("missingkey=error").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") { // the layout and partials
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// Mount adds the UI's routes to e: everything under /ui/, and GET /
// redirecting to /ui/.
func (u *UI) Mount(e *gin.Engine) {
	e.GET("/", u.headers, func(c *gin.Context) { c.Redirect(http.StatusFound, "/ui/") })
	g := e.Group("/ui", u.headers)
	g.GET("/static/*file", u.serveStatic)
	g.GET("/lang/:lang", u.setLang)
	g.GET("/login", u.loginPage)
	g.POST("/login", u.limitBody, u.sameOrigin, u.login)

	a := g.Group("", u.requireSession)
	a.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/ui/dashboard") })
	a.GET("/dashboard", u.dashboard)
	a.GET("/inbox", u.inbox)
	a.GET("/devices", u.devices)
	a.GET("/devices/:mac", u.device)
	a.GET("/devices/:mac/files/*name", u.preview)
	a.GET("/accounts", u.accounts)
	a.GET("/accounts/:ext", u.account)
	a.GET("/accounts/:ext/delete", u.confirmDeleteAccount)
	a.GET("/devices/:mac/delete", u.confirmDeleteDevice)
	a.GET("/settings", u.settings)
	a.GET("/profiles", u.profiles)
	a.GET("/profiles/:name", u.profile)
	a.GET("/profiles/:name/delete", u.confirmDeleteProfile)
	a.GET("/audit", u.auditPage)
	a.GET("/firmware", u.firmwarePage)
	// The upload is larger than any form: no limitBody; its CSRF token
	// comes in the query.
	a.POST("/firmware/upload", u.sameOrigin, u.uploadFirmware)
	u.mountSites(a)

	p := a.Group("", u.limitBody, u.sameOrigin, u.checkCSRF)
	p.POST("/logout", u.logout)
	p.POST("/devices/:mac/adopt", u.adopt)
	p.POST("/devices/:mac/disclosure", u.reopen)
	p.POST("/devices/:mac/resync", u.resync)
	p.POST("/accounts", u.createAccount)
	p.POST("/accounts/:ext", u.saveAccount)
	p.POST("/accounts/:ext/delete", u.deleteAccount)
	p.POST("/devices/bulk", u.bulk)
	p.POST("/devices/:mac/edit", u.editDevice)
	p.POST("/devices/:mac/keys", u.saveDeviceKeys)
	p.POST("/devices/:mac/delete", u.deleteDevice)
	p.POST("/settings", u.saveSettings)
	p.POST("/profiles", u.createProfile)
	p.POST("/profiles/:name", u.saveProfile)
	p.POST("/profiles/:name/delete", u.deleteProfile)
	p.POST("/firmware/targets", u.saveTarget)
	p.POST("/firmware/targets/delete", u.deleteTarget)
	p.POST("/firmware/window", u.saveWindow)
	u.mountTools(a, p) // tools.go
}

// headers sets the security headers every UI response carries.
func (u *UI) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}

// limitBody bounds a form body.
func (u *UI) limitBody(c *gin.Context) {
	if c.Request.ContentLength > maxForm {
		u.fail(c, http.StatusRequestEntityTooLarge, "The form is too large.")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxForm)
	c.Next()
}

// sameOrigin refuses a POST a browser says came from another site. (The
// CSRF token is the real check; this also covers the login form, which has
// no session yet.)
func (u *UI) sameOrigin(c *gin.Context) {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		u.fail(c, http.StatusForbidden, "Cross-site request refused.")
		return
	}
	// With Referrer-Policy no-referrer a browser sends "Origin: null" even
	// for a same-origin form; the CSRF token covers that case.
	if o := c.GetHeader("Origin"); o != "" && o != "null" {
		if ou, err := url.Parse(o); err != nil || ou.Host != c.Request.Host {
			u.fail(c, http.StatusForbidden, "Cross-site request refused.")
			return
		}
	}
	c.Next()
}

func (u *UI) serveStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	b, err := fs.ReadFile(u.static, name)
	switch {
	case err == nil && strings.HasSuffix(name, ".css"):
		c.Data(http.StatusOK, "text/css; charset=utf-8", b)
	case err == nil && strings.HasSuffix(name, ".js"):
		c.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
	case err == nil && strings.HasSuffix(name, ".svg"):
		c.Data(http.StatusOK, "image/svg+xml", b)
	default:
		c.String(http.StatusNotFound, "not found")
	}
}

// tokenOK compares a typed token with the admin token in constant time
// (hashed first, so not even the length leaks).
func (u *UI) tokenOK(typed string) bool {
	sum := sha256.Sum256([]byte(typed))
	return subtle.ConstantTimeCompare(sum[:], u.tokenSum[:]) == 1
}

// actor names who made an admin change, for the audit log.
func actor(c *gin.Context) string { return "ui@" + c.ClientIP() }

// view is what every page template gets.
type view struct {
	Lang  string // the page's language
	Zone  string // the IANA name of the zone its times are in
	Path  string // the page's own path and query, for the language switch
	Title string
	Nav   string // which menu entry is current
	CSRF  string // empty when logged out
	Flash string
	Error string
	Data  any
	// Set by render for a logged-in page: which optional nav links mean
	// something here, and this site's link to its central server when it
	// is down (grace or expired), shown as a banner on every page.
	Tools  bool
	Sites  bool
	Banner *central.Status
}

// render writes a page. A template error is logged and answered 500.
func (u *UI) render(c *gin.Context, status int, page string, v view) {
	lang := u.lang(c)
	t, ok := u.pages[lang][page]
	if !ok {
		u.log.Error("no such page template", "page", page)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if s, ok := c.Get(sessionKey); ok {
		sess := s.(*session)
		v.CSRF = sess.csrf
		if v.Flash == "" {
			v.Flash = u.sessions.takeFlash(sess)
		}
		_, v.Tools = u.core.(Tools)
		v.Sites = u.sites != nil || u.link != nil
		if u.link != nil {
			if st := u.link.Status(); st.State == central.StateGrace || st.State == central.StateExpired {
				v.Banner = &st
			}
		}
	}
	v.Lang, v.Title = lang, translate(lang, v.Title)
	if c.Request.Method == http.MethodGet {
		v.Path = c.Request.URL.RequestURI()
	}
	v.Zone = u.zone.current().String()
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		u.log.Error("render page", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}

// fail answers with the error page.
func (u *UI) fail(c *gin.Context, status int, msg string) {
	u.render(c, status, "error", view{Title: http.StatusText(status), Error: u.tr(c, msg)})
	c.Abort()
}

// failErr maps a core error to a page: not found, conflict and invalid
// input say what the core said; anything else is logged and "internal".
func (u *UI) failErr(c *gin.Context, err error) {
	status, msg := u.explain(c, err)
	u.fail(c, status, msg)
}

// conflictWhy is what a conflict error says, in the request's language
// when the core worded it as a Text, without the sentinel's ": conflict"
// (the core wraps it: "...: conflict" would say it twice).
func (u *UI) conflictWhy(c *gin.Context, err error) string {
	return strings.TrimSuffix(errText(u.lang(c), err), ": "+autoprov.ErrConflict.Error())
}

// notFoundWhat is what the core says was not found ("device ..." of
// "device ...: not found"), in the request's language, when it worded
// that as a Text (a *vendors.TextError of ErrNotFound that no English
// context wraps, as the store's are); else "".
func (u *UI) notFoundWhat(c *gin.Context, err error) string {
	var te *vendors.TextError
	if !errors.As(err, &te) || te.Error() != err.Error() || te.Err != autoprov.ErrNotFound {
		return ""
	}
	return translateText(u.lang(c), te.Text)
}

// explain maps a core error to a status and a message for the admin.
func (u *UI) explain(c *gin.Context, err error) (int, string) {
	var inv *autoprov.InvalidError
	switch {
	case errors.As(err, &inv):
		return http.StatusBadRequest, u.invalid(c, inv)
	case errors.Is(err, autoprov.ErrNotFound):
		if what := u.notFoundWhat(c, err); what != "" {
			return http.StatusNotFound, u.tr(c, "Not found: %s.", what)
		}
		return http.StatusNotFound, u.tr(c, "Not found.")
	case errors.Is(err, autoprov.ErrConflict):
		return http.StatusConflict, u.tr(c, "Conflict: %s", u.conflictWhy(c, err))
	default:
		u.log.Error("ui request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		return http.StatusInternalServerError, u.tr(c, "Internal error; the server log says why.")
	}
}
