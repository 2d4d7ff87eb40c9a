// Package metrics is autoprov's Prometheus instrumentation: the one
// package that imports github.com/prometheus/client_golang. The rest of
// the server records through the small functions here (Fetch, Miss,
// Disclosure, TFTPTransfer, HTTPRequest, DBError, SiteLink, ...), which
// never fail and cost a map lookup and an atomic add; Handler serves the
// text exposition format at GET /metrics (server/httpd mounts it behind
// the admin networks).
//
// Every metric lives in one process-wide registry, like Prometheus' own
// default registry: counters count since the process started, across
// every server the process runs (tests run several; they compare before
// and after). Label values come from small fixed sets (vendors, file
// kinds, transports, outcomes, miss reasons, routes), never from a MAC,
// a path or an address, so the number of series stays bounded.
package metrics

import (
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "autoprov"

var (
	registry = prometheus.NewRegistry()

	fetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "fetches_total",
		Help: "Phone requests answered by the core, by vendor, file kind (device, common, directory, post, dialogue: a WPI session's message, ...), transport (http, https, tftp) and outcome (served, secrets, miss, refused, error).",
	}, []string{"vendor", "kind", "transport", "outcome"})
	fetchSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "fetch_duration_seconds",
		Help:    "Time the core took to answer a phone request (before the body is sent), by transport.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"transport"})
	misses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "misses_total",
		Help: "Phone requests answered as not found (or refused), by reason and transport; the log has the details.",
	}, []string{"reason", "transport"})
	disclosures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "disclosures_total",
		Help: "Secret transfers by event: consumed (the first byte of the secrets left), complete, incomplete (broke off after the secrets started to leave).",
	}, []string{"event", "transport"})
	tftpTransfers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "tftp_transfers_total",
		Help: "TFTP read requests by outcome (complete, failed, miss).",
	}, []string{"outcome"})
	tftpBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "tftp_bytes_total",
		Help: "Bytes sent in TFTP transfers.",
	})
	httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "HTTP requests by route (the pattern, e.g. /api/v1/devices/:mac; \"unmatched\" for none), method and status class (2xx, 3xx, 4xx, 5xx).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method", "code"})
	httpShed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_connections_shed_total",
		Help: "HTTP connections closed at the bound on open connections, by action: closed_idle (an idle one closed to admit a new one), closed_busiest (none idle: the oldest of the source holding the most closed to admit a new one from a source holding at least two fewer), refused (a new one closed at once: none was idle, and no source held two more than its own).",
	}, []string{"action"})
	dbErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "db_errors_total",
		Help: "Database statements that failed (not-found answers and cancelled requests are not errors), by operation.",
	}, []string{"op"})
	siteLinks = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "site_link_up",
		Help: "On a central server: 1 when the link to an enrolled site is up, 0 when down, by site id; revoked sites are dropped.",
	}, []string{"site"})
	build = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; the version autoprov was built as.",
	}, []string{"version"})
)

func init() {
	registry.MustRegister(fetches, fetchSeconds, misses, disclosures, tftpTransfers, tftpBytes, httpSeconds, httpShed, dbErrors, siteLinks, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Names lists the names of autoprov's own metric families (without the
// _bucket, _sum and _count series of a histogram), for the dashboard's
// test and the README.
func Names() []string {
	return []string{
		Namespace + "_fetches_total", Namespace + "_fetch_duration_seconds", Namespace + "_misses_total",
		Namespace + "_disclosures_total", Namespace + "_tftp_transfers_total", Namespace + "_tftp_bytes_total",
		Namespace + "_http_request_duration_seconds", Namespace + "_http_connections_shed_total", Namespace + "_db_errors_total", Namespace + "_site_link_up",
		Namespace + "_build_info", Namespace + "_inbox_size", Namespace + "_inbox_cap",
		Namespace + "_central_link_state", Namespace + "_central_alarms_total",
	}
}

// Handler serves every metric in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry})
}

// Fetch records the core's answer to one phone request and how long it
// took.
func Fetch(vendor, kind, transport, outcome string, took time.Duration) {
	fetchChildren.get([4]string{vendor, kind, transport, outcome}, func(l [4]string) fetchMetrics {
		return fetchMetrics{fetches.WithLabelValues(orNone(l[0]), orNone(l[1]), orNone(l[2]), l[3]),
			fetchSeconds.WithLabelValues(orNone(l[2]))}
	}).observe(took)
}

// fetchMetrics are one label set's series of Fetch.
type fetchMetrics struct {
	count   prometheus.Counter
	seconds prometheus.Observer
}

func (m fetchMetrics) observe(took time.Duration) {
	m.count.Inc()
	m.seconds.Observe(took.Seconds())
}

// children keeps the series of each label set a hot path has used, so
// that a phone's fetch finds its series with one map read instead of the
// vector's hashing and lookup (the label values come from small fixed
// sets: vendors, kinds, transports, outcomes, routes). The map is copied
// on the rare write, so a read takes no lock: every fetch reads it twice,
// and a read lock's counter is one cache line both cores write.
type children[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex // one writer at a time
}

func (c *children[K, V]) get(k K, newSeries func(K) V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	var m map[K]V
	if old != nil {
		m = maps.Clone(*old)
	} else {
		m = map[K]V{}
	}
	v := newSeries(k)
	m[k] = v
	c.m.Store(&m)
	return v
}

var (
	fetchChildren children[[4]string, fetchMetrics]
	httpChildren  children[httpLabels, prometheus.Observer]
)

type httpLabels struct {
	route, method string
	class         int
}

// Miss counts a phone request answered as a miss for reason, one of a
// fixed set of short words (see provision's missReason).
func Miss(reason, transport string) {
	misses.WithLabelValues(reason, orNone(transport)).Inc()
}

// Disclosure counts an event of a secrets transfer: "consumed",
// "complete" or "incomplete".
func Disclosure(event, transport string) {
	disclosures.WithLabelValues(event, orNone(transport)).Inc()
}

// TFTPTransfer counts a TFTP read request by outcome and the bytes it
// sent.
func TFTPTransfer(outcome string, bytes int64) {
	tftpTransfers.WithLabelValues(outcome).Inc()
	if bytes > 0 {
		tftpBytes.Add(float64(bytes))
	}
}

// HTTPRequest observes one HTTP request's duration. route is the matched
// pattern ("" when none matched).
func HTTPRequest(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // any token is a method: a client's own would each make a series
	}
	class := status / 100
	if status < 100 || status > 599 {
		class = 0
	}
	httpChildren.get(httpLabels{route, method, class}, func(l httpLabels) prometheus.Observer {
		return httpSeconds.WithLabelValues(l.route, l.method, statusClass(status))
	}).Observe(took.Seconds())
}

// HTTPConnsShed counts n HTTP connections closed at the bound on open
// connections; action is closed_idle, closed_busiest or refused.
func HTTPConnsShed(action string, n int) {
	httpShed.WithLabelValues(action).Add(float64(n))
}

// DBError counts a failed database statement of the operation op
// (create, query, update, delete, row, raw).
func DBError(op string) {
	dbErrors.WithLabelValues(op).Inc()
}

// SiteLink sets the state of the link to site, on a central server
// (server/central's hub: down when the site enrols or the central starts,
// up while its link is, down when the link ends); ForgetSite when the site
// is revoked.
func SiteLink(site string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	siteLinks.WithLabelValues(site).Set(v)
}

// ForgetSite removes a site's link gauge.
func ForgetSite(site string) { siteLinks.DeleteLabelValues(site) }

// SetVersion records the version autoprov runs as (autoprov_build_info).
func SetVersion(v string) {
	build.Reset()
	build.WithLabelValues(v).Set(1)
}

// Inbox registers the inbox gauges (autoprov_inbox_size and
// autoprov_inbox_cap), read from stats at each scrape. A later call
// replaces the earlier source (tests start several servers); stats must
// be quick and safe for concurrent use.
func Inbox(stats func() (size, limit int, ok bool)) {
	inboxMu.Lock()
	inboxStats = stats
	inboxMu.Unlock()
}

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return statusClasses[code/100-1]
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
