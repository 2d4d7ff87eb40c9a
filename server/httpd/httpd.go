// Package httpd is the HTTP edge: the phone-facing routes under /prov/, the
// admin REST API under /api/v1, and /healthz. It is the only package (with
// web/) that imports gin. Phone-facing errors say nothing but "not found";
// the core logs why.
package httpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/apispec"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// Phones is what the phone routes call: the phone side of the core
// (*provision.Phones).
type Phones interface {
	Provide(ctx context.Context, req vendors.Request) (*provision.Result, error)
	// ProvideBorrowed is Provide for a request whose Path, UserAgent,
	// Authorization and Target are views of the phone lane's read buffer,
	// valid during the call only.
	ProvideBorrowed(ctx context.Context, req vendors.Request) (*provision.Result, error)
}

// Health is what /healthz calls (*provision.Phones).
type Health interface {
	Ready(ctx context.Context) error
}

// Inbox is what GET /api/v1/inbox/stats calls (*provision.Phones): the
// inbox's bounds and what they dropped.
type Inbox interface {
	InboxStats(ctx context.Context) (provision.InboxStats, error)
}

// Resyncer serves the resync routes: the phone is told, over SIP, to
// fetch its configuration now (provision.Inventory).
type Resyncer interface {
	ResyncDevice(ctx context.Context, mac string, reboot bool, actor string) (autoprov.ResyncResult, error)
	Resync(ctx context.Context, macs []string, reboot bool, actor string) ([]autoprov.ResyncResult, error)
}

// Inventory is what the REST API calls: the admin side of the core
// (*provision.Inventory).
type Inventory interface {
	Models() []vendors.Model

	Settings(ctx context.Context) (autoprov.Settings, error)
	PutSettings(ctx context.Context, in autoprov.SettingsPatch, actor string) (autoprov.Settings, error)

	CreateAccount(ctx context.Context, in autoprov.AccountInput, actor string) (autoprov.Account, error)
	ListAccounts(ctx context.Context, f autoprov.AccountFilter) ([]autoprov.Account, int, error)
	Account(ctx context.Context, ext string) (autoprov.Account, error)
	UpdateAccount(ctx context.Context, ext string, in autoprov.AccountInput, actor string) (autoprov.Account, error)
	DeleteAccount(ctx context.Context, ext, actor string) error

	CreateDevice(ctx context.Context, in autoprov.DeviceInput, actor string) (autoprov.Device, error)
	Devices(ctx context.Context, f autoprov.DeviceFilter) ([]autoprov.Device, int, error)
	Device(ctx context.Context, mac string) (autoprov.Device, error)
	UpdateDevice(ctx context.Context, mac string, in autoprov.DeviceInput, actor string) (autoprov.Device, error)
	DeleteDevice(ctx context.Context, mac, actor string) error
	SetKeys(ctx context.Context, mac string, keys []autoprov.KeySpec, actor string) (autoprov.Device, error)
	OpenDisclosure(ctx context.Context, mac, actor string) (autoprov.Disclosure, error)
	Preview(ctx context.Context, mac, name, base string) (*vendors.File, error)
	PreviewFiles(ctx context.Context, mac string) ([]string, error)

	ModelParams(ctx context.Context, vendor, model string) (vendors.Model, []autoprov.Param, error)
	SetModelParams(ctx context.Context, vendor, model string, ps []autoprov.Param, actor string) (vendors.Model, []string, error)

	SaveKeyProfile(ctx context.Context, p autoprov.KeyProfile, create bool, actor string) (autoprov.KeyProfile, error)
	ListKeyProfiles(ctx context.Context, limit, offset int) ([]autoprov.KeyProfile, int, error)
	KeyProfile(ctx context.Context, name string) (autoprov.KeyProfile, error)
	DeleteKeyProfile(ctx context.Context, name, actor string) error

	ListAudit(ctx context.Context, f autoprov.AuditFilter) ([]autoprov.AuditEvent, int, error)
	Bulk(ctx context.Context, in autoprov.BulkInput, dryRun bool, actor string) (autoprov.BulkResult, error)
}

// Config configures the HTTP edge.
type Config struct {
	Phones    Phones
	Health    Health
	Inventory Inventory
	// Inbox serves GET /api/v1/inbox/stats; the route answers 404 when nil.
	Inbox Inbox
	// Resync serves POST /api/v1/devices/{mac}/resync and /api/v1/resync;
	// the routes answer 404 when nil.
	Resync Resyncer
	Log    *slog.Logger
	// AdminToken is the bearer token of the admin API.
	AdminToken string
	// PhoneNetworks and AdminNetworks are the allow-lists of the phone
	// routes (/prov/) and of the admin API and UI (everything else but
	// /healthz); empty lists allow everyone. See access.go.
	PhoneNetworks, AdminNetworks netlist.List
	// PhoneCAs are the vendors' device-certificate CAs (--phone-ca): a
	// phone's client certificate on HTTPS is verified against each and
	// passed to the core (vendors.Request.ClientCerts), which decides what
	// it opens. The TLS configuration given to ServeTLS must request client
	// certificates (tls.RequestClientCert) for them to arrive.
	PhoneCAs []PhoneCA
	// Firmware serves the firmware routes (uploads and the catalogue under
	// /api/v1/firmware, downloads under /firmware/ and /prov/firmware/);
	// they answer 404 when nil. A firmware upload is bounded by its
	// MaxBytes, not by MaxBody.
	Firmware Firmware
	// Redirects serves /api/v1/redirect-services and /api/v1/redirect-rules
	// (redirect.go); they answer 404 when nil.
	Redirects Redirects
	// Rollout serves the firmware targets and status
	// (/api/v1/models/{vendor}/{model}/firmware, /api/v1/firmware/status,
	// /api/v1/firmware/targets, "firmware" of a device); they answer 404
	// when nil.
	Rollout Rollout
	// Sites serves the central's admin API under /api/v1/sites and
	// SiteLink the sites' enrolment and link under /central/
	// (central.Hub); both answer 404 when nil. Central tells a site's
	// state with its central server (GET /api/v1/central; "none" when
	// nil). See sites.go.
	Sites, SiteLink http.Handler
	Central         CentralStatus
	// MaxBody bounds admin request bodies (default 1 MiB).
	MaxBody int64
	// MaxBulkBody bounds the body of POST /api/v1/bulk (default 64 MiB:
	// 100,000 devices with an account each take about 25 MiB).
	MaxBulkBody int64
	// TrustedProxies lists proxies (addresses or CIDR networks) whose
	// X-Forwarded-For is believed; none by default. They speak for many
	// phones: the connection bound's fairness never takes their
	// connections (conns.go).
	TrustedProxies []string
	// Mount, when set, adds routes (the web UI) to the engine.
	Mount func(*gin.Engine)
	// ShutdownGrace bounds how long Serve waits for requests in flight
	// once its context is done (default 10 s); then their contexts are
	// cancelled, which ends any database call they wait on, and their
	// connections are closed.
	ShutdownGrace time.Duration
	// ProvideTimeout bounds the core's work for one phone request (default
	// 10 s): a slow or hung database answers the phone 503 with
	// Retry-After instead of holding it.
	ProvideTimeout time.Duration
	// Dialogues answers DCMP polls (/dcmp/contact-me, wpi.go); every poll
	// is answered 200 when nil.
	Dialogues Dialogues
	// MaxConns bounds the connections open on all the server's HTTP
	// listeners together (Serve, ServeTLS, ServeWPI); at the bound a new
	// one closes the oldest idle ones, or is closed itself when none is
	// idle (conns.go). 0: DefaultMaxConns.
	MaxConns int
}

// Server is the HTTP edge.
type Server struct {
	cfg    Config
	log    *slog.Logger
	engine *gin.Engine
	h      http.Handler     // engine behind the phone files' fast path (fastpath.go)
	quiet  *ratelimit.Keyed // the edge's own refusals of phones, in the log
	// failLog limits the phone paths' failure lines (logFailure) and the
	// access log's errors (accessLog).
	failLog *ratelimit.Keyed
	access  *access // failed-authentication throttle and log limiter
	// lastBase is the phone path's last base URL (phone.go).
	lastBase atomic.Pointer[baseURLMemo]
	// laneAnswered counts the requests the phone lane answered (lane.go).
	laneAnswered atomic.Int64
	// conns are the open connections of every listener, and their bound
	// (conns.go).
	conns *connSet
}

// New builds the HTTP edge.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxBulkBody <= 0 {
		cfg.MaxBulkBody = 64 << 20
	}
	if cfg.ProvideTimeout <= 0 {
		cfg.ProvideTimeout = 10 * time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns()
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log.With("component", "http"), engine: e, access: newAccess(),
		quiet: ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: 4096}), failLog: newFailLog(nil)}
	proxies, err := netlist.Parse(strings.Join(cfg.TrustedProxies, ","))
	if err != nil {
		return nil, fmt.Errorf("httpd: trusted proxies: %w", err)
	}
	s.conns = newConnSet(cfg.MaxConns, s.log, proxies)
	e.Use(s.recover, s.accessLog, s.allowList)
	e.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, apiError{Error: "not found"}) })
	e.NoMethod(func(c *gin.Context) { c.JSON(http.StatusMethodNotAllowed, apiError{Error: "method not allowed"}) })

	e.GET("/healthz", s.healthz)
	// Prometheus metrics: behind the admin networks (access.go), no token,
	// as scrapers expect.
	e.GET("/metrics", gin.WrapH(metrics.Handler()))
	prov := e.Group("/prov")
	prov.GET("/*file", s.phoneGet)
	prov.HEAD("/*file", s.phoneGet)
	prov.PUT("/*file", s.phoneUpload)
	prov.POST("/*file", s.phonePost)
	e.GET("/firmware/*file", s.firmwareFile)
	e.GET("/dcmp/contact-me", s.dcmp)
	e.HEAD("/firmware/*file", s.firmwareFile)

	// The API's OpenAPI document (server/apispec): admin networks, no
	// token, so tools can read it.
	e.GET("/api/v1/openapi.json", s.openAPI)
	api := e.Group("/api/v1", s.auth, s.limitBody)
	s.routes(api)
	// Firmware uploads are streamed to disk up to their own cap.
	s.firmwareRoutes(api, e.Group("/api/v1", s.auth))
	s.rolloutRoutes(api)
	s.siteRoutes(e, api)
	if cfg.Mount != nil {
		cfg.Mount(e)
	}
	s.h = s.fastPath(e)
	return s, nil
}

// MaxConns is the bound on open HTTP connections (Config.MaxConns).
func (s *Server) MaxConns() int { return s.cfg.MaxConns }

// Handler returns the http.Handler of the edge.
func (s *Server) Handler() http.Handler { return s.h }

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully,
// letting in-flight requests finish for up to Config.ShutdownGrace.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, nil)
}

// ServeTLS is Serve over TLS with cfg, which must hold the certificate
// (Certificates or GetCertificate). Phones reaching the server this way get
// https URLs in their files.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	if cfg == nil {
		return errors.New("httpd: ServeTLS needs a TLS configuration")
	}
	return s.serve(ctx, ln, cfg)
}

func (s *Server) serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	// The phone lane (lane.go), unless gin must read the client's address
	// from X-Forwarded-For (trusted proxies): one rule, one place.
	lanes := len(s.cfg.TrustedProxies) == 0
	return s.serveWith(ctx, ln, tlsCfg, s.h, lanes)
}

func (s *Server) serveWith(ctx context.Context, ln net.Listener, tlsCfg *tls.Config, h http.Handler, lanes bool) error {
	// Requests run under base, not under ctx: a shutdown first lets them
	// finish, and cancels them only when the grace period is over.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		TLSConfig:         tlsCfg,
		Handler:           h,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: readTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState:         connState,
	}
	if lanes {
		return s.serveLanes(ctx, ln, srv, base, cancelBase, tlsCfg)
	}
	ln = trackListener{Listener: ln, set: s.conns}
	// HTTP/1.1 only, as on the phone lane: an HTTP/2 connection's frames
	// between requests (a SETTINGS acknowledgement, a PING) would mark it
	// busy with nothing to mark it idle again, so a few thousand of them
	// could hold the connection bound for everyone.
	srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("requests still running after the shutdown grace period; cancelling them", "grace", s.cfg.ShutdownGrace)
		cancelBase()
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) healthz(c *gin.Context) {
	if err := s.cfg.Health.Ready(c.Request.Context()); err != nil {
		s.log.Error("health check", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) openAPI(c *gin.Context) {
	b, err := apispec.JSON()
	if err != nil {
		s.log.Error("openapi document", "err", err)
		c.JSON(http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "path", c.Request.URL.Path, "panic", r)
			c.AbortWithStatusJSON(http.StatusInternalServerError, apiError{Error: "internal error"})
		}
	}()
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	metrics.HTTPRequest(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	lvl, attrs := s.accessLevel(c.Writer.Status(), c.FullPath())
	if !s.log.Enabled(c.Request.Context(), lvl) {
		return // the steady state: no client IP parsed, no attribute boxed
	}
	s.log.Log(c.Request.Context(), lvl, "request", append([]any{"method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "bytes", c.Writer.Size(), "remote", c.ClientIP(), "duration", time.Since(start)}, attrs...)...)
}

// accessLevel is the level of an access log line, and what it adds: an
// answer below 500 is logged at debug level; a 5xx is an error, at most
// once a minute per route and status, saying how many it left out (those
// are logged at debug level): during a database outage every phone's
// request is answered 503, and its reason is logged apart (logFailure).
func (s *Server) accessLevel(status int, route string) (slog.Level, []any) {
	if status < 500 {
		return slog.LevelDebug, nil
	}
	if ok, suppressed := s.failLog.AllowCounted("request\x00" + strconv.Itoa(status) + "\x00" + route); ok {
		return slog.LevelError, []any{"suppressed", suppressed}
	}
	return slog.LevelDebug, nil
}

func (s *Server) limitBody(c *gin.Context) {
	limit := s.cfg.MaxBody
	if c.FullPath() == "/api/v1/bulk" {
		limit = s.cfg.MaxBulkBody
	}
	if c.Request.ContentLength > limit {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, apiError{Error: "request body too large"})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}
