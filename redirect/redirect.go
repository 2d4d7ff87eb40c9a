// Package redirect gets phones to this server from anywhere: it registers
// devices with the vendors' redirect services (Yealink RPS, Snom SRAPS)
// through a persistent queue retried with backoff, exports what the
// portals without an API take (Gigaset, Cisco), keeps each device's
// onboarding state, and holds the rules that send phones this server does
// not know on to another provisioning server. See README.md.
package redirect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/redirect/cisco"
	"github.com/autoprov/autoprov/redirect/gigaset"
	"github.com/autoprov/autoprov/redirect/snomsraps"
	"github.com/autoprov/autoprov/redirect/xmlrpc"
	"github.com/autoprov/autoprov/redirect/yealinkrps"
	"github.com/autoprov/autoprov/vendors"
)

// Service names: the two with a machine API (configured, queued) and the
// two exports.
const (
	YealinkRPS = "yealink-rps"
	SnomSRAPS  = "snom-sraps"
	Gigaset    = "gigaset"
	Cisco      = "cisco"
)

// services are the connectors: the vendor whose devices each registers
// and its documented endpoint.
var services = map[string]struct{ vendor, url string }{
	YealinkRPS: {"yealink", yealinkrps.DefaultURL},
	SnomSRAPS:  {"snom", snomsraps.DefaultURL},
}

// Services lists the configurable services.
func Services() []string { return []string{YealinkRPS, SnomSRAPS} }

// markers are the services whose registered URLs carry a marker path
// segment (Via).
var markers = map[string]bool{YealinkRPS: true, SnomSRAPS: true, Gigaset: true, Cisco: true}

// MarkerPrefix starts the path segment a redirect service's URL carries:
// <base>/r/<service>/..., which the core strips (Via) and records.
const MarkerPrefix = "r/"

// Store is what the service keeps in the database (server/store).
type Store interface {
	// SetOnboarding stores a device's onboarding state unless its stored
	// state is one of unless, audited; false when nothing changed (or no
	// such device).
	SetOnboarding(ctx context.Context, mac string, o autoprov.Onboarding, unless []string, actor string) (bool, error)
	RedirectService(ctx context.Context, name string) (autoprov.RedirectService, error)
	PutRedirectService(ctx context.Context, c autoprov.RedirectService, actor string) error
	EnqueueRedirect(ctx context.Context, jobs []autoprov.RedirectJob) error
	ClaimRedirectJobs(ctx context.Context, now, leaseUntil time.Time, limit int) ([]autoprov.RedirectJob, error)
	FinishRedirectJob(ctx context.Context, j autoprov.RedirectJob) error
	RetryRedirectJob(ctx context.Context, j autoprov.RedirectJob, next time.Time, lastErr string) error
	RedirectJobs(ctx context.Context, service string, limit, offset int) ([]autoprov.RedirectJob, int, error)
	CreateRedirectRule(ctx context.Context, r autoprov.RedirectRule) (autoprov.RedirectRule, error)
	RedirectRules(ctx context.Context) ([]autoprov.RedirectRule, error)
	DeleteRedirectRule(ctx context.Context, id int64, actor string) error
}

// Connector is one redirect service's API for one account.
type Connector interface {
	Register(ctx context.Context, mac string) error
	Deregister(ctx context.Context, mac string) error
	Lookup(ctx context.Context, mac string) (string, error)
}

// Options configures a Service.
type Options struct {
	Store Store
	// PublicURL is --public-url ("https://prov.example.com/"): the
	// default provisioning URL registered is PublicURL + "prov/".
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time
	// HTTP is the client connectors use (nil: 30 s timeout).
	HTTP *http.Client
	// Backoff is the first retry's delay, doubled per attempt up to
	// MaxBackoff (10 s and 1 h by default).
	Backoff, MaxBackoff time.Duration
	// Poll is how often the worker looks for due jobs (5 s by default); it
	// also wakes at once when a job is queued.
	Poll time.Duration
	// CallTimeout bounds one call to a service (30 s by default).
	CallTimeout time.Duration
	// Connect overrides how a connector is built (tests); nil builds the
	// real ones.
	Connect func(c autoprov.RedirectService, target string) (Connector, error)
}

// Service is the redirect part of the server; safe for concurrent use.
type Service struct {
	o       Options
	log     *slog.Logger
	wake    chan struct{}
	seen    chan [2]string // mac, service: phones that came through a marker
	seenLim *ratelimit.Keyed
	dropped atomic.Int64
	rules   atomic.Pointer[[]autoprov.RedirectRule]
	ruleMu  sync.Mutex
}

// New returns the service; call Run for its worker and LoadRules once.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff <= 0 {
		o.Backoff = 10 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	s := &Service{o: o, log: o.Log.With("component", "redirect"), wake: make(chan struct{}, 1),
		seen:    make(chan [2]string, 1024),
		seenLim: ratelimit.New(ratelimit.Config{Every: 10 * time.Minute, Burst: 1, MaxKeys: 100000, Now: o.Now})}
	s.rules.Store(&[]autoprov.RedirectRule{})
	return s
}

// ServiceInput changes a service's configuration; nil fields keep their value.
type ServiceInput struct {
	Enabled                                      *bool
	URL, Username, Password, ServerName, ProvURL *string
}

// Config returns a service's configuration (the password included: the
// caller must not show it); an unconfigured one is disabled with the
// documented endpoint.
func (s *Service) Config(ctx context.Context, name string) (autoprov.RedirectService, error) {
	def, ok := services[name]
	if !ok {
		return autoprov.RedirectService{}, unknownService(name)
	}
	c, err := s.o.Store.RedirectService(ctx, name)
	if errors.Is(err, autoprov.ErrNotFound) {
		return autoprov.RedirectService{Name: name, URL: def.url}, nil
	}
	return c, err
}

// Configure changes a service's configuration (audited, password sealed).
func (s *Service) Configure(ctx context.Context, name string, in ServiceInput, actor string) (autoprov.RedirectService, error) {
	c, err := s.Config(ctx, name)
	if err != nil {
		return c, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	set(&c.URL, in.URL)
	set(&c.Username, in.Username)
	set(&c.ServerName, in.ServerName)
	set(&c.ProvisionURL, in.ProvURL)
	if in.Password != nil {
		c.Password = *in.Password
	}
	if c.URL == "" {
		c.URL = services[name].url
	}
	if err := checkURL("url", c.URL); err != nil {
		return c, err
	}
	if c.ProvisionURL != "" {
		if err := checkURL("provision_url", c.ProvisionURL); err != nil {
			return c, err
		}
		if !strings.HasSuffix(c.ProvisionURL, "/") {
			c.ProvisionURL += "/"
		}
	}
	for f, v := range map[string]string{"username": c.Username, "password": c.Password, "server_name": c.ServerName} {
		if !vendors.SafeText(v) {
			return c, autoprov.Invalid(f, "%s must be one line of text", f)
		}
	}
	if c.Enabled {
		switch {
		case c.Username == "" || c.Password == "":
			return c, autoprov.Invalid("username", "an enabled service needs username and password")
		case name == YealinkRPS && c.ServerName == "":
			return c, autoprov.Invalid("server_name", "yealink-rps needs server_name: the RPS server definition devices are registered to")
		case s.provisionURL(c) == "":
			return c, autoprov.Invalid("provision_url", "set provision_url (or start the server with --public-url): the URL phones outside reach this server at")
		}
	}
	c.Name, c.UpdatedAt = name, s.o.Now()
	if err := s.o.Store.PutRedirectService(ctx, c, actor); err != nil {
		return c, err
	}
	return c, nil
}

func checkURL(field, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return autoprov.Invalid(field, "%s must be an http(s) URL without credentials in it", field)
	}
	return nil
}

// provisionURL is the provisioning base URL registered for c: its own,
// else --public-url + "prov/"; "" when neither is set.
func (s *Service) provisionURL(c autoprov.RedirectService) string {
	if c.ProvisionURL != "" {
		return c.ProvisionURL
	}
	if s.o.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.o.PublicURL, "/") + "/prov/"
}

// Target is the URL a service hands phones: the provisioning base URL
// with the service's marker (and, for SRAPS, the file name with {mac}).
func (s *Service) Target(c autoprov.RedirectService) string {
	base := s.provisionURL(c)
	if base == "" {
		return ""
	}
	base += MarkerPrefix + c.Name + "/"
	if c.Name == SnomSRAPS {
		base += "{mac}.xml"
	}
	return base
}

// MarkerBase is the provisioning base URL with the marker of an export
// service (gigaset, cisco), or "" without a public URL.
func (s *Service) MarkerBase(name string) string {
	if s.o.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.o.PublicURL, "/") + "/prov/" + MarkerPrefix + name + "/"
}

// serviceFor is the enabled service that registers a vendor's devices.
func (s *Service) serviceFor(ctx context.Context, vendor string) (autoprov.RedirectService, bool) {
	for name, def := range services {
		if def.vendor != vendor {
			continue
		}
		c, err := s.o.Store.RedirectService(ctx, name)
		if err == nil && c.Enabled {
			return c, true
		}
		if err != nil && !errors.Is(err, autoprov.ErrNotFound) {
			s.log.Error("read redirect service", "service", name, "err", err)
		}
	}
	return autoprov.RedirectService{}, false
}

// Adopted queues the registration of a device an admin created or adopted
// when its vendor's service is enabled. It never calls the service (the
// worker does): errors are logged, the admin's change stands.
func (s *Service) Adopted(ctx context.Context, d autoprov.Device, actor string) {
	c, ok := s.serviceFor(ctx, d.Vendor)
	if !ok {
		return
	}
	if err := s.enqueue(ctx, c.Name, []string{d.MAC}, autoprov.RedirectRegister, actor); err != nil {
		s.log.Error("queue redirect registration", "mac", d.MAC, "service", c.Name, "err", err)
	}
}

// Register queues the registration of macs with a configured service
// (bulk); it answers how many were queued.
func (s *Service) Register(ctx context.Context, name string, macs []string, actor string) (int, error) {
	c, err := s.Config(ctx, name)
	if err != nil {
		return 0, err
	}
	if !c.Enabled {
		return 0, autoprov.Invalid("service", "%s is not enabled: PUT /api/v1/redirect-services/%s first", name, name)
	}
	if len(macs) == 0 || len(macs) > 10000 {
		return 0, autoprov.Invalid("macs", "give 1 to 10,000 MACs")
	}
	canon := make([]string, 0, len(macs))
	seen := map[string]bool{}
	for i, m := range macs {
		cm, err := autoprov.ParseMAC(m)
		if err != nil {
			return 0, autoprov.Invalid("macs", "macs[%d]: %v", i, err)
		}
		if !seen[cm] {
			seen[cm] = true
			canon = append(canon, cm)
		}
	}
	return len(canon), s.enqueue(ctx, name, canon, autoprov.RedirectRegister, actor)
}

// Deregister queues the removal of a device's MAC from its vendor's
// service (when that service is configured and enabled); false when there
// is none.
func (s *Service) Deregister(ctx context.Context, d autoprov.Device, actor string) (bool, error) {
	c, ok := s.serviceFor(ctx, d.Vendor)
	if !ok {
		return false, nil
	}
	return true, s.enqueue(ctx, c.Name, []string{d.MAC}, autoprov.RedirectDeregister, actor)
}

func (s *Service) enqueue(ctx context.Context, name string, macs []string, op, actor string) error {
	now := s.o.Now()
	jobs := make([]autoprov.RedirectJob, len(macs))
	for i, m := range macs {
		jobs[i] = autoprov.RedirectJob{Service: name, MAC: m, Op: op, NextAt: now, Actor: actor, CreatedAt: now}
	}
	// "pending" first, the job after: a worker that takes the job at once
	// (another instance, or this one woken by an earlier job) records its
	// outcome after this, never under it.
	if op == autoprov.RedirectRegister {
		for _, m := range macs {
			o := autoprov.Onboarding{State: autoprov.OnboardingPending, Service: name, Detail: "registration queued", At: &now}
			if _, err := s.o.Store.SetOnboarding(ctx, m, o, []string{autoprov.OnboardingPending}, actor); err != nil {
				return err
			}
		}
	}
	if err := s.o.Store.EnqueueRedirect(ctx, jobs); err != nil {
		return err
	}
	s.poke()
	return nil
}

// poke wakes the worker (it never blocks).
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Queue lists a service's queue.
func (s *Service) Queue(ctx context.Context, name string, limit, offset int) ([]autoprov.RedirectJob, int, error) {
	if _, ok := services[name]; !ok {
		return nil, 0, unknownService(name)
	}
	return s.o.Store.RedirectJobs(ctx, name, limit, offset)
}

// Lookup asks a configured service where a MAC points.
func (s *Service) Lookup(ctx context.Context, name, mac string) (string, error) {
	c, err := s.Config(ctx, name)
	if err != nil {
		return "", err
	}
	conn, err := s.connect(c)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.CallTimeout)
	defer cancel()
	return conn.Lookup(ctx, mac)
}

func (s *Service) connect(c autoprov.RedirectService) (Connector, error) {
	target := s.Target(c)
	if s.o.Connect != nil {
		return s.o.Connect(c, target)
	}
	switch c.Name {
	case YealinkRPS:
		return yealinkrps.New(c.URL, c.Username, c.Password, c.ServerName, target, s.o.HTTP), nil
	case SnomSRAPS:
		return snomsraps.New(c.URL, c.Username, c.Password, target, s.o.HTTP), nil
	}
	return nil, unknownService(c.Name)
}

// unknownService is ErrNotFound for a service name that is none of
// Services, naming those: "yealink" is not "yealink-rps".
func unknownService(name string) error {
	return fmt.Errorf("redirect service %q (known: %s): %w", name, strings.Join(Services(), ", "), autoprov.ErrNotFound)
}

// Run is the worker: it takes due jobs from the queue (at once when one is
// queued, else every Poll), calls the services, records the outcome, and
// records the phones that came through a marker. It returns when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	rules := time.NewTicker(30 * time.Second)
	defer rules.Stop()
	for {
		s.work(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		case <-rules.C:
			if err := s.LoadRules(ctx); err != nil {
				s.log.Error("reload redirect rules", "err", err)
			}
		case v := <-s.seen:
			s.markRedirected(ctx, v[0], v[1])
		}
	}
}

func (s *Service) work(ctx context.Context) {
	for ctx.Err() == nil {
		now := s.o.Now()
		jobs, err := s.o.Store.ClaimRedirectJobs(ctx, now, now.Add(s.o.CallTimeout+time.Minute), 16)
		if err != nil {
			s.log.Error("read redirect queue", "err", err)
			return
		}
		if len(jobs) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.process(ctx, j)
			}()
		}
		wg.Wait()
	}
}

func (s *Service) process(ctx context.Context, j autoprov.RedirectJob) {
	log := s.log.With("service", j.Service, "mac", j.MAC, "op", j.Op, "attempt", j.Attempts+1)
	actor := "redirect@" + j.Service
	c, err := s.Config(ctx, j.Service)
	if err == nil && !c.Enabled {
		err = errors.New("the service is not enabled")
	}
	var conn Connector
	if err == nil {
		conn, err = s.connect(c)
	}
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, s.o.CallTimeout)
		if j.Op == autoprov.RedirectDeregister {
			err = conn.Deregister(cctx, j.MAC)
		} else {
			err = conn.Register(cctx, j.MAC)
		}
		cancel()
	}
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the job is taken again
	}
	now := s.o.Now()
	var refused *xmlrpc.Refused
	switch {
	case err == nil:
		log.Info("redirect service call done")
		o := autoprov.Onboarding{State: autoprov.OnboardingRegistered, Service: j.Service, Detail: "points at " + s.Target(c), At: &now}
		if j.Op == autoprov.RedirectDeregister {
			o = autoprov.Onboarding{State: autoprov.OnboardingLocal, Service: j.Service, Detail: "deregistered", At: &now}
		}
		s.finish(ctx, j, o, actor)
	case errors.As(err, &refused):
		log.Warn("redirect service refused", "reason", refused.Reason, "answer", refused.Answer)
		o := autoprov.Onboarding{State: autoprov.OnboardingUnavailable, Service: j.Service, Detail: refused.Reason + ": " + refused.Answer, At: &now}
		if j.Op == autoprov.RedirectDeregister {
			o = autoprov.Onboarding{}
		}
		s.finish(ctx, j, o, actor)
	default:
		delay := s.o.Backoff << min(j.Attempts, 20)
		if delay > s.o.MaxBackoff || delay <= 0 {
			delay = s.o.MaxBackoff
		}
		next := now.Add(delay)
		log.Warn("redirect service call failed; retrying", "err", err, "next", next)
		if err := s.o.Store.RetryRedirectJob(ctx, j, next, err.Error()); err != nil {
			log.Error("record redirect retry", "err", err)
		}
		time.AfterFunc(delay, s.poke) // the worker wakes when the retry is due
		if j.Attempts == 0 && j.Op == autoprov.RedirectRegister {
			o := autoprov.Onboarding{State: autoprov.OnboardingPending, Service: j.Service, Detail: "retrying: " + err.Error(), At: &now}
			if _, err := s.o.Store.SetOnboarding(ctx, j.MAC, o, nil, actor); err != nil {
				log.Error("record onboarding", "err", err)
			}
		}
	}
}

func (s *Service) finish(ctx context.Context, j autoprov.RedirectJob, o autoprov.Onboarding, actor string) {
	if err := s.o.Store.FinishRedirectJob(ctx, j); err != nil {
		s.log.Error("finish redirect job", "mac", j.MAC, "err", err)
	}
	if o.State == "" {
		return
	}
	if _, err := s.o.Store.SetOnboarding(ctx, j.MAC, o, nil, actor); err != nil {
		s.log.Error("record onboarding", "mac", j.MAC, "err", err)
	}
}

// Via reads the marker of a redirect service's URL off a phone's path
// ("r/yealink-rps/805ec0aabb01.cfg"): the service and the path behind it.
func (s *Service) Via(path string) (service, rest string, ok bool) {
	p, found := strings.CutPrefix(path, MarkerPrefix)
	if !found {
		return "", path, false
	}
	name, rest, found := strings.Cut(p, "/")
	if !found || !markers[name] {
		return "", path, false
	}
	return name, rest, true
}

// Redirected notes that a known phone came through a service's marker; it
// never blocks (the worker records it, at most every 10 minutes per MAC).
func (s *Service) Redirected(mac, service string) {
	if !s.seenLim.Allow(mac) {
		return
	}
	select {
	case s.seen <- [2]string{mac, service}:
	default:
		s.dropped.Add(1)
	}
}

func (s *Service) markRedirected(ctx context.Context, mac, service string) {
	now := s.o.Now()
	o := autoprov.Onboarding{State: autoprov.OnboardingRedirected, Service: service, Detail: "the phone came through the " + service + " URL", At: &now}
	if _, err := s.o.Store.SetOnboarding(ctx, mac, o, []string{autoprov.OnboardingRedirected}, "phone"); err != nil {
		s.log.Error("record onboarding", "mac", mac, "err", err)
	}
}

// Export writes what a portal without an API takes: Gigaset's MAC-ID list
// (CSV: mac_id, url with %MACD, provider) or Cisco's CDA MAC list (CSV).
// It returns the file's content type.
func (s *Service) Export(name string, macs []string, provider string, w io.Writer) (string, error) {
	base := s.MarkerBase(name)
	switch name {
	case Gigaset:
		if base == "" {
			return "", autoprov.Invalid("public_url", "start the server with --public-url: the export names the URL phones outside reach it at")
		}
		es := make([]gigaset.Entry, len(macs))
		for i, m := range macs {
			es[i] = gigaset.Entry{MAC: m}
		}
		return "text/csv; charset=utf-8", gigaset.Export(w, es, base, provider)
	case Cisco:
		return "text/csv; charset=utf-8", cisco.Export(w, macs)
	}
	return "", fmt.Errorf("export %q: %w", name, autoprov.ErrNotFound)
}
