// Command autoprov is the auto-provisioning server for SIP desk phones and
// DECT bases. "autoprov" and "autoprov serve" run the server; see README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones resolve on hosts without /usr/share/zoneinfo

	"golang.org/x/sync/errgroup"

	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/server/phonecache"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/resync"
	"github.com/autoprov/autoprov/server/sippnp"
	"github.com/autoprov/autoprov/server/sniff"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/server/tftpd"
	"github.com/autoprov/autoprov/vendors/all"
	"github.com/autoprov/autoprov/web"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "autoprov:", err)
		os.Exit(1)
	}
}

// config is the server's configuration from flags and environment.
type config struct {
	data, http, tftp, publicURL, db, logLevel string
	argvSecrets                               []string // flags given a secret on the command line (argvsecrets.go)
	https, tlsCert, tlsKey                    string   // --https listen address (empty: off) and its PEM files
	wpi                                       string   // --wpi: the OpenStage Workpoint Interface listen address (empty: off)
	pnp, pnpInterface                         string   // --pnp SIP plug-and-play address (empty: off), --pnp-interface
	pnpMode                                   string   // --pnp-mode: auto, shared or capture
	sniff                                     string   // --sniff interfaces to watch for DHCP (empty: off)
	window                                    time.Duration
	phoneCache                                int                               // --phone-cache: devices (each with up to four files) and common files the phone cache keeps
	phoneNets, adminNets                      netlist.List                      // --phone-networks, --admin-networks (empty: everyone)
	phoneCAs                                  []phoneCASpec                     // --phone-ca <vendor>=<pem file>
	secretKey                                 string                            // AUTOPROV_SECRET_KEY: the keyring, when not <data>/secret.key
	firmwareMax                               int64                             // --firmware-max-bytes
	redirectCA                                string                            // --redirect-ca: extra CA (PEM) the redirect services' TLS may chain to
	redirectRetry                             time.Duration                     // --redirect-retry: first retry delay of a redirect service call
	central                                   centralConfig                     // --central ...: this server is a site of a central one (central.go)
	pprof                                     string                            // --pprof: loopback address of Go's profiler (empty: off)
	ready                                     func(httpAddr, tftpAddr net.Addr) // tests learn the bound ports
}

func parse(args []string, lookupEnv func(string) (string, bool), out io.Writer) (config, error) {
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return config{}, fmt.Errorf("unknown command %q (commands: %s; autoprov help)", args[0], commandNames())
	}
	env := func(name, def string) string {
		// An empty AUTOPROV_TFTP disables TFTP; other empty variables are unset.
		if v, ok := lookupEnv(name); ok && (v != "" || name == "AUTOPROV_TFTP") {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("autoprov serve", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: autoprov [serve] [flags]\n\n%s; other commands: autoprov help\n\nflags:\n", summaries["serve"])
		fs.PrintDefaults()
	}
	fs.StringVar(&c.data, "data", env("AUTOPROV_DATA", "./data"), "data directory: database, admin token, template overrides (AUTOPROV_DATA)")
	fs.StringVar(&c.http, "http", env("AUTOPROV_HTTP", ":8080"), "HTTP listen address for phones and the admin API (AUTOPROV_HTTP)")
	fs.StringVar(&c.https, "https", env("AUTOPROV_HTTPS", ""), "HTTPS listen address for phones and the admin API; empty disables HTTPS (AUTOPROV_HTTPS)")
	fs.StringVar(&c.wpi, "wpi", env("AUTOPROV_WPI", ""), "HTTPS listen address of the OpenStage Workpoint Interface, normally :18443 (TLS with the --https certificate); empty disables it (AUTOPROV_WPI)")
	fs.StringVar(&c.tlsCert, "tls-cert", env("AUTOPROV_TLS_CERT", ""), "PEM certificate (chain) for --https (default: a self-signed one generated into <data>/tls) (AUTOPROV_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", env("AUTOPROV_TLS_KEY", ""), "PEM private key of --tls-cert (AUTOPROV_TLS_KEY)")
	fs.StringVar(&c.tftp, "tftp", env("AUTOPROV_TFTP", ":69"), "TFTP listen address; empty disables TFTP (AUTOPROV_TFTP)")
	fs.StringVar(&c.pnp, "pnp", env("AUTOPROV_PNP", ""), "SIP multicast plug-and-play: the group to answer on, normally "+sippnp.Group+"; empty disables it (AUTOPROV_PNP)")
	fs.StringVar(&c.pnpMode, "pnp-mode", env("AUTOPROV_PNP_MODE", sippnp.ModeAuto), "how --pnp receives the group: shared (bind it with SO_REUSEADDR beside a SIP server that allows it), capture (never bind port 5060: capture the SUBSCRIBEs; root or CAP_NET_RAW), or auto: shared, else capture (AUTOPROV_PNP_MODE)")
	fs.StringVar(&c.pnpInterface, "pnp-interface", env("AUTOPROV_PNP_INTERFACE", ""), "interfaces (comma-separated) to join the --pnp group on (default: every interface that is up and multicast-capable) (AUTOPROV_PNP_INTERFACE)")
	fs.StringVar(&c.sniff, "sniff", env("AUTOPROV_SNIFF", ""), "interfaces (comma-separated) to watch for phones asking for a DHCP lease, passively; empty disables it; Linux only, needs root or CAP_NET_RAW (AUTOPROV_SNIFF)")
	fs.StringVar(&c.publicURL, "public-url", env("AUTOPROV_PUBLIC_URL", ""), "base URL written into phone configs, e.g. https://prov.example.com/ (default: the address the phone reached) (AUTOPROV_PUBLIC_URL)")
	fs.StringVar(&c.db, "db", env("AUTOPROV_DB", ""), "database: a SQLite file path (default <data>/autoprov.db) or a PostgreSQL DSN such as postgres://user:pass@host/db (AUTOPROV_DB)")
	fs.StringVar(&c.logLevel, "log-level", env("AUTOPROV_LOG_LEVEL", "info"), "log level: debug, info, warn, error (AUTOPROV_LOG_LEVEL)")
	var phoneNets, adminNets string
	fs.StringVar(&phoneNets, "phone-networks", env("AUTOPROV_PHONE_NETWORKS", ""), "networks (CIDR, comma-separated, IPv4 and IPv6) phones may be in: HTTP(S) /prov/, TFTP, plug-and-play and sniffed DHCP from elsewhere are treated as misses; empty allows every address (AUTOPROV_PHONE_NETWORKS)")
	fs.StringVar(&adminNets, "admin-networks", env("AUTOPROV_ADMIN_NETWORKS", ""), "networks (CIDR, comma-separated, IPv4 and IPv6) the admin API and web UI may be used from; others get 403; empty allows every address (AUTOPROV_ADMIN_NETWORKS)")
	phoneCA := &phoneCAFlag{fromEnv: true}
	if v := env("AUTOPROV_PHONE_CA", ""); v != "" {
		if err := phoneCA.Set(v); err != nil {
			return config{}, fmt.Errorf("--phone-ca (AUTOPROV_PHONE_CA): %v", err)
		}
		phoneCA.fromEnv = true
	}
	fs.Var(phoneCA, "phone-ca", "<vendor>=<PEM file>: per-device files of that vendor's phones go only over HTTPS to a client certificate that chains to this CA and names the file's MAC; repeatable or comma-separated; needs --https (AUTOPROV_PHONE_CA)")
	fwMax, err := strconv.ParseInt(env("AUTOPROV_FIRMWARE_MAX_BYTES", strconv.FormatInt(firmware.DefaultMaxBytes, 10)), 10, 64)
	if err != nil {
		return config{}, fmt.Errorf("AUTOPROV_FIRMWARE_MAX_BYTES: %v", err)
	}
	fs.StringVar(&c.redirectCA, "redirect-ca", env("AUTOPROV_REDIRECT_CA", ""), "PEM file of a CA the redirect services' certificates may chain to besides the system's, e.g. behind a TLS-inspecting proxy (AUTOPROV_REDIRECT_CA)")
	rr, err := time.ParseDuration(env("AUTOPROV_REDIRECT_RETRY", "10s"))
	if err != nil {
		return config{}, fmt.Errorf("AUTOPROV_REDIRECT_RETRY: %v", err)
	}
	fs.DurationVar(&c.redirectRetry, "redirect-retry", rr, "first retry delay of a redirect service that is down; doubled per attempt up to 1h (AUTOPROV_REDIRECT_RETRY)")
	fs.Int64Var(&c.firmwareMax, "firmware-max-bytes", fwMax, "the largest firmware image an upload may carry, in bytes (AUTOPROV_FIRMWARE_MAX_BYTES)")
	win, err := time.ParseDuration(env("AUTOPROV_DISCLOSURE_WINDOW", "10m"))
	if err != nil {
		return config{}, fmt.Errorf("AUTOPROV_DISCLOSURE_WINDOW: %v", err)
	}
	fs.DurationVar(&c.window, "disclosure-window", win, "default length of the one-time secret window, until settings set disclosure_window_seconds (AUTOPROV_DISCLOSURE_WINDOW)")
	cacheSize, err := strconv.Atoi(env("AUTOPROV_PHONE_CACHE", strconv.Itoa(phonecache.DefaultSize)))
	if err != nil {
		return config{}, fmt.Errorf("AUTOPROV_PHONE_CACHE: %v", err)
	}
	fs.IntVar(&c.phoneCache, "phone-cache", cacheSize, "devices whose snapshot, and rendered files, the phone cache keeps in memory (least recently used go first) (AUTOPROV_PHONE_CACHE)")
	if err := addCentralFlags(fs, env, &c.central); err != nil {
		return config{}, err
	}
	fs.StringVar(&c.pprof, "pprof", env("AUTOPROV_PPROF", ""), "loopback address (e.g. 127.0.0.1:6060) to serve Go's profiler on, for measuring; empty disables it (AUTOPROV_PPROF)")
	hideSecretDefaults(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	c.argvSecrets = argvSecrets(fs)
	if err := c.central.check(); err != nil {
		return config{}, err
	}
	if c.phoneCache < 1 {
		return config{}, errors.New("--phone-cache must be at least 1")
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.phoneNets, err = netlist.Parse(phoneNets); err != nil {
		return config{}, fmt.Errorf("--phone-networks (AUTOPROV_PHONE_NETWORKS): %v", err)
	}
	if c.adminNets, err = netlist.Parse(adminNets); err != nil {
		return config{}, fmt.Errorf("--admin-networks (AUTOPROV_ADMIN_NETWORKS): %v", err)
	}
	if c.firmwareMax < 1 {
		return config{}, errors.New("--firmware-max-bytes must be at least 1")
	}
	if c.window < time.Second {
		return config{}, errors.New("--disclosure-window must be at least 1s")
	}
	if c.db == "" {
		c.db = filepath.Join(c.data, "autoprov.db")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return config{}, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.tlsCert != "" && c.https == "" && c.wpi == "" {
		return config{}, errors.New("--tls-cert and --tls-key need --https (the HTTPS listen address) or --wpi")
	}
	c.phoneCAs = phoneCA.specs
	if len(c.phoneCAs) > 0 && c.https == "" {
		return config{}, errPhoneCANeedsHTTPS
	}
	if c.publicURL != "" && !strings.HasPrefix(c.publicURL, "http://") && !strings.HasPrefix(c.publicURL, "https://") {
		return config{}, errors.New("--public-url must start with http:// or https://")
	}
	return c, nil
}

// run parses args and serves until ctx is done or a signal arrives. ready,
// when not nil, is told the bound addresses (tests listen on port 0).
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer, ready func(httpAddr, tftpAddr net.Addr)) error {
	if len(args) > 0 {
		if cmd := command(args[0]); cmd != nil {
			return cmd(ctx, args[1:], lookupEnv, stderr)
		}
	}
	c, err := parse(args, lookupEnv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	c.ready = ready
	c.secretKey, _ = lookupEnv("AUTOPROV_SECRET_KEY")
	token, _ := lookupEnv("AUTOPROV_ADMIN_TOKEN")
	return serve(ctx, c, token, stderr)
}

func serve(ctx context.Context, c config, envToken string, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	warnArgvSecrets(log, c.argvSecrets)

	if err := secureDataDir(c.data, log); err != nil {
		return err
	}
	unlock, err := lockData(c.data, false)
	if errors.Is(err, errServerRunning) {
		return fmt.Errorf("data directory %s (--data): %w", c.data, err)
	}
	if err != nil {
		return err // names --data
	}
	defer unlock()
	token, tokenPath, err := adminToken(c.data, envToken)
	if err != nil {
		return err
	}

	reg, err := all.Registry(filepath.Join(c.data, "templates"))
	if err != nil {
		return err
	}
	phoneCAs, phoneCAPool, err := loadPhoneCAs(c.phoneCAs, reg)
	if err != nil {
		return err
	}

	// Bind every port before anything else, so a taken or privileged port
	// fails start-up at once with the flag to change.
	httpLn, err := net.Listen("tcp", c.http)
	if err != nil {
		return fmt.Errorf("cannot listen for HTTP on %q: %v (change --http or AUTOPROV_HTTP)", c.http, err)
	}
	defer httpLn.Close()
	var httpsLn net.Listener
	if c.https != "" {
		httpsLn, err = net.Listen("tcp", c.https)
		if err != nil {
			return fmt.Errorf("cannot listen for HTTPS on %q: %v (change --https or AUTOPROV_HTTPS; empty disables HTTPS)", c.https, err)
		}
		defer httpsLn.Close()
	}
	var wpiLn net.Listener
	if c.wpi != "" {
		wpiLn, err = net.Listen("tcp", c.wpi)
		if err != nil {
			return fmt.Errorf("cannot listen for the Workpoint Interface on %q: %v (change --wpi or AUTOPROV_WPI; empty disables it)", c.wpi, err)
		}
		defer wpiLn.Close()
	}
	var tftpConn net.PacketConn
	if c.tftp != "" {
		tftpConn, err = net.ListenPacket("udp", c.tftp)
		if err != nil {
			return fmt.Errorf("cannot listen for TFTP on %q: %v (change --tftp or AUTOPROV_TFTP; empty disables TFTP; port 69 needs root or CAP_NET_BIND_SERVICE)", c.tftp, err)
		}
		defer tftpConn.Close()
	}
	pnp, err := listenPnP(c)
	if err != nil {
		return err
	}
	if pnp != nil {
		defer pnp.Close()
	}
	capt, err := openSniff(c)
	if err != nil {
		return err
	}
	if capt != nil {
		defer capt.Close()
	}
	pprofLn, err := listenPprof(c.pprof)
	if err != nil {
		return err
	}
	if pprofLn != nil {
		defer pprofLn.Close()
	}
	var cert *serverCert
	if httpsLn != nil || wpiLn != nil {
		if cert, err = loadServerCert(c, time.Now()); err != nil {
			return err
		}
	}

	keys, err := loadKeyring(c.data, c.secretKey, true)
	if err != nil {
		return err
	}
	st, err := openStore(c.db, keys)
	if err != nil {
		return fmt.Errorf("database (--db): %w", err)
	}
	defer st.Close()
	schema, err := st.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("database (--db): %w", err)
	}

	redir, err := newRedirects(c, st, log)
	if err != nil {
		return err
	}
	// Sites (central.go): with --https this server is a central one; with
	// --central it is a site of one. The site's link reaches the edge and
	// the core built below.
	hub, err := newHub(c, log, st)
	if err != nil {
		return err
	}
	var (
		edge      *httpd.Server
		phones    *provision.Phones
		inventory *provision.Inventory
	)
	site, err := newSite(c, log, st, func() http.Handler { return edge.Handler() },
		func() *provision.Inventory { return inventory }, func() *provision.Phones { return phones }, func() int64 { return schema })
	if err != nil {
		return err
	}
	var unsupervised func() error
	if site != nil {
		unsupervised = site.Unsupervised
	}
	// The phone side reads through the cache (server/phonecache), which
	// follows the store's change log; sightings are written in batches.
	cache := phonecache.New(st, phonecache.Options{Size: c.phoneCache, Log: log})
	if err := cache.Start(ctx); err != nil {
		return fmt.Errorf("database (--db): %w", err)
	}
	sightings := phonecache.NewSightings(st, phonecache.SightingOptions{Log: log})
	dialogues := provision.NewStoredDialogues(st, nil) // kept in the store: restarts and instances share them
	phones, inventory = phonecache.Wire(provision.Options{
		Dialogues: dialogues, DialogueAddr: dialogueAddr(c.publicURL, wpiLn),
		Registry: reg, Log: log, PublicURL: c.publicURL,
		FallbackURL: fallbackURL(httpLn.Addr()), DisclosureWindow: c.window,
		ClientCertVendors: phoneCAVendors(phoneCAs),
		// Instances sharing the keyring accept each other's Digest nonces.
		NonceKey:     keys.src.Ring().Derive("digest nonce"),
		Resync:       &resync.Sender{},
		Onboarding:   redir,
		Unsupervised: unsupervised,
	}, st, cache, sightings)
	metrics.SetVersion(version())
	metrics.Inbox(func() (int, int, bool) {
		ictx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := phones.InboxStats(ictx)
		return st.Unassigned, st.Cap, err == nil
	})
	fw, err := firmware.Open(ctx, filepath.Join(c.data, "firmware"), queuedAddresses{st, sightings}, reg, firmware.WithMaxBytes(c.firmwareMax), firmware.WithLog(log))
	if err != nil {
		return err
	}
	ui, err := web.New(inventory, log, token, web.WithFirmware(fw, inventory), web.WithSites(sitesOf(hub), linkOf(site)), web.WithMisses(phones.RecentMisses))
	if err != nil {
		return fmt.Errorf("web UI: %w", err)
	}
	hcfg := httpd.Config{Phones: phones, Health: phones, Inventory: inventory, Inbox: phones, Resync: inventory, Log: log, AdminToken: token, Mount: ui.Mount,
		PhoneNetworks: c.phoneNets, AdminNetworks: c.adminNets, PhoneCAs: phoneCAs, Firmware: fw, Redirects: redir, Rollout: inventory,
		Dialogues: dialogues}
	if hub != nil {
		hcfg.Sites, hcfg.SiteLink = hub.Handler(), hub.LinkHandler()
	}
	if site != nil {
		hcfg.Central = site
	}
	if edge, err = httpd.New(hcfg); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return edge.Serve(gctx, httpLn) })
	if httpsLn != nil {
		g.Go(func() error { return edge.ServeTLS(gctx, httpsLn, cert.tlsConfig(phoneCAPool, hub)) })
	}
	if wpiLn != nil {
		g.Go(func() error { return edge.ServeWPI(gctx, wpiLn, cert.tlsConfig(nil, nil)) })
	}
	if tftpConn != nil {
		srv := tftpd.New(phones, log, tftpd.WithNetworks(c.phoneNets), tftpd.WithFirmware(fw))
		g.Go(func() error { return srv.Serve(gctx, tftpConn) })
	}
	if pnp != nil {
		srv := sippnp.New(sippnp.Config{Recorder: phones, Log: log, Networks: c.phoneNets})
		g.Go(func() error { return srv.Serve(gctx, pnp) })
	}
	if capt != nil {
		srv := sniff.New(sniff.Config{Recorder: phones, Log: log, Networks: c.phoneNets})
		g.Go(func() error { return srv.Serve(gctx, capt) }) // closes capt when gctx ends, which ends its reads
	}
	if pprofLn != nil {
		g.Go(func() error { return servePprof(gctx, pprofLn, log) })
	}
	g.Go(func() error { return sweep(gctx, inventory, log) })
	g.Go(func() error { cache.Watch(gctx); return nil })
	g.Go(func() error { return redir.Run(gctx) })
	if hub != nil {
		g.Go(func() error { hub.Run(gctx); return nil })
	}
	if site != nil {
		g.Go(func() error { site.Run(gctx); return nil })
	}
	// Counting the sealed secrets per key reads every secret column: off
	// the start path, while the edges already serve.
	g.Go(func() error { logSealing(gctx, log, st, keys); return nil })
	// The queue is written once more after the edges stopped (Run's last
	// flush), before the database is closed.
	sctx, stopSightings := context.WithCancel(context.WithoutCancel(ctx))
	sightingsDone := make(chan struct{})
	go func() { defer close(sightingsDone); sightings.Run(sctx) }()

	attrs := []any{"http", httpLn.Addr().String()}
	if httpsLn != nil {
		attrs = append(attrs, "https", httpsLn.Addr().String())
		logCert(log, cert, c.publicURL)
	}
	if wpiLn != nil {
		attrs = append(attrs, "wpi", wpiLn.Addr().String())
		if httpsLn == nil {
			logCert(log, cert, c.publicURL)
		}
	}
	attrs = append(attrs, "http_conns_max", edge.MaxConns(), "data", c.data, "db", store.Describe(c.db), "schema_version", schema, "admin_token_file", tokenPath)
	if tftpConn != nil {
		attrs = append(attrs, "tftp", tftpConn.LocalAddr().String())
	}
	if pnp != nil {
		attrs = append(attrs, "pnp", pnp.Recv.LocalAddr().String())
		logPnP(log, pnp)
	}
	if capt != nil {
		attrs = append(attrs, "sniff", strings.Join(capt.Interfaces, ","))
		logSniff(log, capt)
	}
	if len(phoneCAs) > 0 {
		attrs = append(attrs, "phone_ca", strings.Join(phoneCAVendors(phoneCAs), ","))
	}
	if !c.phoneNets.Empty() {
		attrs = append(attrs, "phone_networks", c.phoneNets.String())
	}
	if !c.adminNets.Empty() {
		attrs = append(attrs, "admin_networks", c.adminNets.String())
	}
	if hub != nil {
		attrs = append(attrs, "site_ca", hub.CAPath())
	}
	if site != nil {
		attrs = append(attrs, "central", c.central.url)
	}
	log.Info("autoprov started", attrs...)
	if c.ready != nil {
		var ta net.Addr
		if tftpConn != nil {
			ta = tftpConn.LocalAddr()
		}
		c.ready(httpLn.Addr(), ta)
	}
	err = g.Wait()
	stopSightings()
	<-sightingsDone
	log.Info("autoprov stopped")
	return err
}

// sweep records expired disclosure windows in the audit log.
func sweep(ctx context.Context, inv *provision.Inventory, log *slog.Logger) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := inv.ExpireDisclosures(ctx); err != nil {
				log.Error("expire disclosure windows", "err", err)
			}
		}
	}
}

// minTokenLen is the shortest admin token accepted: a token an attacker
// might guess is refused at start-up (the generated one has 48 hex digits).
const minTokenLen = 24

// adminToken returns the admin API token: AUTOPROV_ADMIN_TOKEN when set,
// else the one in <data>/admin-token, generated (mode 0600) at first start.
// A token shorter than minTokenLen is refused.
func adminToken(data, fromEnv string) (token, path string, err error) {
	if fromEnv != "" {
		if len(fromEnv) < minTokenLen {
			return "", "", fmt.Errorf("AUTOPROV_ADMIN_TOKEN is %d characters long; it must have at least %d (random ones, e.g. from: openssl rand -hex 24), or unset it to use a generated token", len(fromEnv), minTokenLen)
		}
		return fromEnv, "(AUTOPROV_ADMIN_TOKEN)", nil
	}
	path = filepath.Join(data, "admin-token")
	b, err := os.ReadFile(path)
	if err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			if len(t) < minTokenLen {
				return "", "", fmt.Errorf("the admin token in %s is %d characters long; it must have at least %d (random ones, e.g. from: openssl rand -hex 24), or delete the file to have one generated", path, len(t), minTokenLen)
			}
			return t, path, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("admin token: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	token = hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("admin token: %w", err)
	}
	return token, path, nil
}

// fallbackURL is the base URL for phones whose edge cannot tell which
// address they reached (TFTP): the HTTP listener's address, with an
// unspecified host replaced by this machine's first non-loopback IPv4.
func fallbackURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
					host = n.IP.String()
					break
				}
			}
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// queuedAddresses is the store as the firmware store uses it, with the
// device at an address looked up in the queued sightings first: a phone
// typically downloads its image right after the fetch that told it to,
// before that fetch's report is written.
type queuedAddresses struct {
	*store.Store
	q *phonecache.Sightings
}

func (a queuedAddresses) DeviceAt(ctx context.Context, ip string) (string, error) {
	if mac, ok := a.q.At(ip); ok {
		return mac, nil
	}
	return a.Store.DeviceAt(ctx, ip)
}

// dialogueAddr is the host and port OpenStage phones are told to call
// back on after a contact-me: the host of --public-url (else the WPI
// listener's own address, when it names one) and the WPI listener's
// port; "" without --wpi or without a host to name.
func dialogueAddr(publicURL string, wpi net.Listener) string {
	if wpi == nil {
		return ""
	}
	host, port, err := net.SplitHostPort(wpi.Addr().String())
	if err != nil {
		return ""
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return ""
	}
	return net.JoinHostPort(host, port)
}
