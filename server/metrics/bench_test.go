package metrics_test

import (
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/metrics"
)

// BenchmarkFetch is what the metrics add to one phone fetch: the fetch
// counter and latency histogram (Provide), and the HTTP route's histogram
// (the edge's access log).
func BenchmarkFetch(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			metrics.Fetch("yealink", "device", "http", "served", 300*time.Microsecond)
			metrics.HTTPRequest("/prov/*file", "GET", 200, 400*time.Microsecond)
		}
	})
}
