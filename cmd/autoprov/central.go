package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/web"
)

// centralConfig is a site's link to its central server (--central ...).
type centralConfig struct {
	url, siteID, enrollToken, ports, ca string
	enrollEnv                           string // AUTOPROV_ENROLL_TOKEN, taken when --enroll-token is not given
	heartbeat, grace                    time.Duration
	eventsMax                           int64 // on a central: the disk each site's events may take
	// clockOffset moves the link's clock (AUTOPROV_TEST_CLOCK_OFFSET,
	// for tests only: a test moves a site past its grace period without
	// waiting 30 days).
	clockOffset time.Duration
}

// addCentralFlags registers the site's flags on fs.
func addCentralFlags(fs *flag.FlagSet, env func(name, def string) string, c *centralConfig) error {
	fs.StringVar(&c.url, "central", env("AUTOPROV_CENTRAL", ""), "run as a site of this central server, e.g. https://central.example.com: the site links out to it (AUTOPROV_CENTRAL)")
	fs.StringVar(&c.siteID, "site-id", env("AUTOPROV_SITE_ID", ""), "the site's ID from the central (POST /api/v1/sites); first start only (AUTOPROV_SITE_ID)")
	// The token from the environment is no flag default: the usage a
	// flag error or -h prints shows defaults (check takes it).
	fs.StringVar(&c.enrollToken, "enroll-token", "", "the site's one-time enrolment token from the central; first start only (AUTOPROV_ENROLL_TOKEN)")
	c.enrollEnv = env("AUTOPROV_ENROLL_TOKEN", "")
	fs.StringVar(&c.ports, "central-ports", env("AUTOPROV_CENTRAL_PORTS", "443,8443"), "ports of --central to try in turn (AUTOPROV_CENTRAL_PORTS)")
	fs.StringVar(&c.ca, "central-ca", env("AUTOPROV_CENTRAL_CA", ""), "PEM file of the CA (or the certificate) the central's HTTPS certificate must chain to (default: the system's CAs) (AUTOPROV_CENTRAL_CA)")
	hb, err := time.ParseDuration(env("AUTOPROV_CENTRAL_HEARTBEAT", "30s"))
	if err != nil {
		return fmt.Errorf("AUTOPROV_CENTRAL_HEARTBEAT: %v", err)
	}
	fs.DurationVar(&c.heartbeat, "central-heartbeat", hb, "heartbeat interval of the link to --central (AUTOPROV_CENTRAL_HEARTBEAT)")
	grace, err := time.ParseDuration(env("AUTOPROV_CENTRAL_GRACE", "720h"))
	if err != nil {
		return fmt.Errorf("AUTOPROV_CENTRAL_GRACE: %v", err)
	}
	fs.DurationVar(&c.grace, "central-grace", grace, "how long a site cut off from --central keeps opening secret windows and adopting phones (AUTOPROV_CENTRAL_GRACE)")
	evMax, err := strconv.ParseInt(env("AUTOPROV_CENTRAL_EVENTS_MAX_BYTES", strconv.Itoa(central.DefaultMaxEventsBytes)), 10, 64)
	if err != nil {
		return fmt.Errorf("AUTOPROV_CENTRAL_EVENTS_MAX_BYTES: %v", err)
	}
	fs.Int64Var(&c.eventsMax, "central-events-max-bytes", evMax, "on a central (--https): the disk each site's delivered events may take; the oldest are dropped past it (AUTOPROV_CENTRAL_EVENTS_MAX_BYTES)")
	if v := env("AUTOPROV_TEST_CLOCK_OFFSET", ""); v != "" {
		if c.clockOffset, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("AUTOPROV_TEST_CLOCK_OFFSET: %v", err)
		}
	}
	return nil
}

// check validates the site's flags once parsed.
func (c *centralConfig) check() error {
	if c.enrollToken == "" {
		c.enrollToken = c.enrollEnv
	}
	if c.eventsMax < 64<<10 {
		return errors.New("--central-events-max-bytes must be at least 65536")
	}
	if c.url == "" {
		if c.siteID != "" || c.enrollToken != "" {
			return errors.New("--site-id and --enroll-token need --central")
		}
		return nil
	}
	if c.heartbeat < 100*time.Millisecond {
		return errors.New("--central-heartbeat must be at least 100ms")
	}
	if c.grace <= 0 {
		return errors.New("--central-grace must be positive")
	}
	if _, err := c.portList(); err != nil {
		return err
	}
	return nil
}

func (c *centralConfig) portList() ([]string, error) {
	var ports []string
	for p := range strings.SplitSeq(c.ports, ",") {
		p = strings.TrimSpace(p)
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("--central-ports: %q is not a port", p)
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// clock is the link's clock: the real one, moved by the test-only
// AUTOPROV_TEST_CLOCK_OFFSET.
func (c *centralConfig) clock(log *slog.Logger) func() time.Time {
	if c.clockOffset == 0 {
		return time.Now
	}
	log.Warn("AUTOPROV_TEST_CLOCK_OFFSET moves the clock of the central link (for tests only)", "offset", c.clockOffset)
	off := c.clockOffset
	return func() time.Time { return time.Now().Add(off) }
}

// newSite sets up the site's side of the link when --central is given.
// The handler, summary and event functions reach the edge and the core,
// which are built after it (the core needs the site's refusal).
func newSite(c config, log *slog.Logger, st *store.Store, handler func() http.Handler, inv func() *provision.Inventory, phones func() *provision.Phones, schema func() int64) (*central.Site, error) {
	cc := c.central
	if cc.url == "" {
		return nil, nil
	}
	ports, _ := cc.portList()
	var roots *x509.CertPool
	if cc.ca != "" {
		b, err := os.ReadFile(cc.ca)
		if err != nil {
			return nil, fmt.Errorf("--central-ca: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--central-ca %s: no PEM certificate found", cc.ca)
		}
	}
	now := cc.clock(log)
	site, err := central.NewSite(central.SiteConfig{
		Dir: filepath.Join(c.data, "central"), URL: cc.url, Ports: ports, RootCAs: roots,
		SiteID: cc.siteID, EnrollToken: cc.enrollToken, Heartbeat: cc.heartbeat, Grace: cc.grace, Now: now,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler().ServeHTTP(w, r) }),
		Summary: func(ctx context.Context) (central.Summary, error) {
			return siteSummary(ctx, inv(), phones(), st, now, schema())
		},
		Events: func(ctx context.Context, after uint, limit int) ([]autoprov.AuditEvent, error) {
			return auditAfter(ctx, inv(), after, limit)
		},
		Latest: func(ctx context.Context) (uint, error) {
			evs, _, err := inv().ListAudit(ctx, autoprov.AuditFilter{Limit: 1})
			if err != nil || len(evs) == 0 {
				return 0, err
			}
			return evs[0].ID, nil
		},
		Arrivals: func(ctx context.Context, since time.Time) ([]autoprov.Device, error) {
			devs, _, err := inv().Devices(ctx, autoprov.DeviceFilter{State: autoprov.StateUnassigned, SeenAfter: since, NewestFirst: true, Limit: autoprov.MaxPageLimit})
			return devs, err
		},
		Audit: st, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("--central: %w", err)
	}
	metrics.CentralLink(func() (string, int) {
		st := site.Status()
		return st.State, st.Alarms
	})
	return site, nil
}

// siteSummary is what the site's heartbeat reports.
func siteSummary(ctx context.Context, inv *provision.Inventory, phones *provision.Phones, st *store.Store, now func() time.Time, schema int64) (central.Summary, error) {
	s := central.Summary{Version: versionWithSchema(schema), Phones: map[string]int{}, Alarms: []string{}}
	for _, state := range []string{autoprov.StateAssigned, autoprov.StateUnassigned} {
		_, n, err := inv.Devices(ctx, autoprov.DeviceFilter{State: state, Limit: 1})
		if err != nil {
			return s, err
		}
		s.Phones[state] = n
	}
	in, err := phones.InboxStats(ctx)
	if err != nil {
		return s, err
	}
	s.Inbox = in.Unassigned
	if s.OpenWindows, err = st.OpenWindows(ctx, now()); err != nil {
		return s, err
	}
	return s, nil
}

// versionWithSchema names the build (version.go) and the database schema.
func versionWithSchema(schema int64) string {
	return fmt.Sprintf("autoprov %s, schema %d", version(), schema)
}

// auditAfter returns up to limit audit events with an ID above after,
// oldest first, reading the log newest first a page at a time.
func auditAfter(ctx context.Context, inv *provision.Inventory, after uint, limit int) ([]autoprov.AuditEvent, error) {
	var newer []autoprov.AuditEvent
	const pageSize = 1000
	for offset := 0; ; offset += pageSize {
		evs, _, err := inv.ListAudit(ctx, autoprov.AuditFilter{Limit: pageSize, Offset: offset})
		if err != nil {
			return nil, err
		}
		done := len(evs) < pageSize
		for _, e := range evs {
			if e.ID <= after {
				done = true
				break
			}
			newer = append(newer, e)
		}
		if done {
			break
		}
	}
	slices.Reverse(newer)
	return newer[:min(len(newer), limit)], nil
}

// newHub sets up the central's side when --https is on: the site CA in
// <data>/central, the sites' admin API and their link.
func newHub(c config, log *slog.Logger, st *store.Store) (*central.Hub, error) {
	if c.https == "" {
		return nil, nil
	}
	hub, err := central.NewHub(central.HubConfig{Dir: filepath.Join(c.data, "central"), Audit: st, Log: log,
		Now: c.central.clock(slog.New(slog.DiscardHandler)), Heartbeat: c.central.heartbeat, MaxEventsBytes: c.central.eventsMax})
	if err != nil {
		return nil, fmt.Errorf("sites (central): %w", err)
	}
	return hub, nil
}

// sitesOf and linkOf pass the hub and the site to the web UI as
// interfaces that are nil when they are (a nil pointer in an interface is
// not).
func sitesOf(h *central.Hub) web.Sites {
	if h == nil {
		return nil
	}
	return h
}

func linkOf(s *central.Site) web.Link {
	if s == nil {
		return nil
	}
	return s
}
