package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/metrics"
)

// scrape GETs /metrics without a token and returns the sample of name
// with labels (summed over the series that match), failing the test
// unless the answer parses with Prometheus' text parser.
func scrape(t *testing.T, s *server, name string, labels map[string]string) float64 {
	t.Helper()
	code, body, _ := s.get("/metrics", "")
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	v, err := metrics.Sample(body, name, labels)
	if err != nil {
		t.Fatalf("%v\n%.2000s", err, body)
	}
	return v
}

// TestMetrics: /metrics answers in the Prometheus text format, without a
// token, and counts what the phones did: a fetch with secrets by vendor,
// file kind, transport and outcome, a miss by reason, the disclosure, a
// TFTP transfer and its bytes, the phone route's latency, the inbox.
// Metrics are per process (tests run several servers), so the test
// compares before and after.
func TestMetrics(t *testing.T) {
	s := start(t)
	setup(s, "80:5E:C0:AA:BB:01", "T54W")
	fetch := map[string]string{"vendor": "yealink", "kind": "device", "transport": "http", "outcome": "secrets"}
	miss := map[string]string{"reason": "unknown_file", "transport": "http"}
	consumed := map[string]string{"event": "consumed", "transport": "http"}
	route := map[string]string{"route": "/prov/*file", "method": "GET"}
	f0 := scrape(t, s, "autoprov_fetches_total", fetch)
	m0 := scrape(t, s, "autoprov_misses_total", miss)
	d0 := scrape(t, s, "autoprov_disclosures_total", consumed)
	r0 := scrape(t, s, "autoprov_http_request_duration_seconds", route)

	if code, _, _ := s.get("/prov/805ec0aabb01.cfg", yealinkUA); code != 200 {
		t.Fatalf("fetch: %d", code)
	}
	if code, _, _ := s.get("/prov/no-such-file.bin", ""); code != 404 {
		t.Fatalf("miss: %d", code)
	}
	if got := scrape(t, s, "autoprov_fetches_total", fetch); got < f0+1 {
		t.Errorf("autoprov_fetches_total%v = %v after a fetch with secrets, was %v", fetch, got, f0)
	}
	if got := scrape(t, s, "autoprov_misses_total", miss); got < m0+1 {
		t.Errorf("autoprov_misses_total%v = %v after a miss, was %v", miss, got, m0)
	}
	if got := scrape(t, s, "autoprov_disclosures_total", consumed); got < d0+1 {
		t.Errorf("autoprov_disclosures_total%v = %v after the secrets went out, was %v", consumed, got, d0)
	}
	if got := scrape(t, s, "autoprov_http_request_duration_seconds", route); got < r0+2 {
		t.Errorf("autoprov_http_request_duration_seconds%v counts %v after two phone requests, was %v", route, got, r0)
	}
	// An unknown phone lands in the inbox.
	if code, _, _ := s.get("/prov/805ec0aabb77.cfg", "Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:bb:77"); code == 0 {
		t.Fatal("no answer")
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		v := scrape(t, s, "autoprov_inbox_size", nil)
		return v >= 1, "inbox size 0"
	}, "autoprov_inbox_size does not count the new phone")

	if s.tftpPort != "" {
		tftpClient(t)
		t0 := scrape(t, s, "autoprov_tftp_transfers_total", map[string]string{"outcome": "complete"})
		b0 := scrape(t, s, "autoprov_tftp_bytes_total", nil)
		body, ok := s.tftp("y000000000096.cfg")
		if !ok {
			t.Fatalf("tftp: %s", body)
		}
		// The server counts a transfer when its last ACK arrives, which can
		// be after the client has returned: wait for it.
		waitFor(t, 30*time.Second, func() (bool, string) {
			got := scrape(t, s, "autoprov_tftp_transfers_total", map[string]string{"outcome": "complete"})
			return got >= t0+1, fmt.Sprintf("autoprov_tftp_transfers_total{outcome=complete} = %v after a transfer, was %v", got, t0)
		}, "the TFTP transfer is not counted")
		waitFor(t, 30*time.Second, func() (bool, string) {
			got := scrape(t, s, "autoprov_tftp_bytes_total", nil)
			return got >= b0+float64(len(body)), fmt.Sprintf("autoprov_tftp_bytes_total = %v after %d bytes, was %v", got, len(body), b0)
		}, "the TFTP bytes are not counted")
	}
}

// TestMetricsBehindAdminNetworks: /metrics follows --admin-networks like
// the API (403 from elsewhere), not the phone networks.
func TestMetricsBehindAdminNetworks(t *testing.T) {
	s := start(t, "--admin-networks", "10.99.0.0/16")
	if code, body, _ := s.get("/metrics", ""); code != 403 {
		t.Fatalf("GET /metrics from outside the admin networks: %d %.200s", code, body)
	}
	s2 := start(t, "--phone-networks", "10.99.0.0/16", "--admin-networks", "127.0.0.0/8")
	if code, _, _ := s2.get("/metrics", ""); code != 200 {
		t.Fatalf("GET /metrics from the admin networks: %d", code)
	}
}
