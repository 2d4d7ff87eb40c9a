package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	inboxMu    sync.Mutex
	inboxStats func() (size, limit int, ok bool)

	inboxSizeDesc = prometheus.NewDesc(Namespace+"_inbox_size", "Unassigned devices in the inbox.", nil, nil)
	inboxCapDesc  = prometheus.NewDesc(Namespace+"_inbox_cap", "The inbox's cap (inbox_cap of the settings).", nil, nil)
)

// inboxCollector reads the inbox's size at each scrape.
type inboxCollector struct{}

func (inboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inboxSizeDesc
	ch <- inboxCapDesc
}

func (inboxCollector) Collect(ch chan<- prometheus.Metric) {
	inboxMu.Lock()
	f := inboxStats
	inboxMu.Unlock()
	if f == nil {
		return
	}
	size, limit, ok := f()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(inboxSizeDesc, prometheus.GaugeValue, float64(size))
	ch <- prometheus.MustNewConstMetric(inboxCapDesc, prometheus.GaugeValue, float64(limit))
}

func init() { registry.MustRegister(inboxCollector{}) }
