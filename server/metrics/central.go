package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// CentralStates are the states of a site's link to its central server
// (server/central's Status.State but "none"), one series each.
var CentralStates = []string{"connected", "grace", "expired"}

var (
	centralMu     sync.Mutex
	centralStatus func() (state string, alarms int)

	centralStateDesc = prometheus.NewDesc(Namespace+"_central_link_state",
		"A site's link to its central server: 1 for the state it is in (connected, grace: down within the grace period, expired: down past it), 0 for the others; absent without --central.",
		[]string{"state"}, nil)
	centralAlarmsDesc = prometheus.NewDesc(Namespace+"_central_alarms_total",
		"Alarms a site raised because its link to the central server was down (after three missed heartbeats, then daily); absent without --central.",
		nil, nil)
)

// CentralLink registers the site's link gauges (autoprov_central_link_state
// and autoprov_central_alarms_total), read from status at each scrape: the
// state (one of CentralStates) and the alarms raised since the process
// started. A later call replaces the earlier source (tests start several
// sites); nil removes it. status must be quick and safe for concurrent
// use.
func CentralLink(status func() (state string, alarms int)) {
	centralMu.Lock()
	centralStatus = status
	centralMu.Unlock()
}

// centralCollector reads the site's link state at each scrape.
type centralCollector struct{}

func (centralCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- centralStateDesc
	ch <- centralAlarmsDesc
}

func (centralCollector) Collect(ch chan<- prometheus.Metric) {
	centralMu.Lock()
	f := centralStatus
	centralMu.Unlock()
	if f == nil {
		return
	}
	state, alarms := f()
	for _, s := range CentralStates {
		v := 0.0
		if s == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(centralStateDesc, prometheus.GaugeValue, v, s)
	}
	ch <- prometheus.MustNewConstMetric(centralAlarmsDesc, prometheus.CounterValue, float64(alarms))
}

func init() { registry.MustRegister(centralCollector{}) }
