package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/server/metrics"
)

// TestGrafanaDashboard: docs/grafana/autoprov.json is valid JSON, every
// panel queries something, and every metric a query names is one this
// package exports (a histogram's _bucket, _sum and _count series count
// as the histogram).
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/autoprov.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("the dashboard is not valid JSON: %v", err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	names := metrics.Names()
	used := map[string]bool{}
	re := regexp.MustCompile(`\b` + metrics.Namespace + `_[a-z0-9_]+`)
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			found := re.FindAllString(q.Expr, -1)
			if len(found) == 0 {
				t.Errorf("panel %q: query %q names no autoprov metric", p.Title, q.Expr)
			}
			for _, m := range found {
				base := m
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if s, ok := strings.CutSuffix(m, suf); ok && slices.Contains(names, s) {
						base = s
					}
				}
				if !slices.Contains(names, base) {
					t.Errorf("panel %q: metric %s does not exist (metrics.Names: %v)", p.Title, m, names)
				}
				used[base] = true
			}
		}
	}
	for _, n := range names {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

// TestNamesAreExported: every name Names lists is one the handler
// describes, so the dashboard's test checks against real metrics.
func TestNamesAreExported(t *testing.T) {
	metrics.Fetch("yealink", "device", "http", "served", 0)
	metrics.Miss("other", "http")
	metrics.Disclosure("consumed", "http")
	metrics.TFTPTransfer("complete", 1)
	metrics.HTTPRequest("/x", "GET", 200, 0)
	metrics.HTTPConnsShed("refused", 0)
	metrics.DBError("query")
	metrics.SiteLink("test-site", true)
	defer metrics.ForgetSite("test-site")
	metrics.SetVersion("test")
	metrics.Inbox(func() (int, int, bool) { return 3, 10, true })
	metrics.CentralLink(func() (string, int) { return "connected", 0 })
	defer metrics.CentralLink(nil)
	text := gather(t)
	for _, n := range metrics.Names() {
		if !strings.Contains(text, "# TYPE "+n+" ") {
			t.Errorf("%s is not exported", n)
		}
	}
	if v, err := metrics.Sample([]byte(text), "autoprov_inbox_size", nil); err != nil || v != 3 {
		t.Errorf("autoprov_inbox_size = %v, %v; want 3", v, err)
	}
	if v, err := metrics.Sample([]byte(text), "autoprov_site_link_up", map[string]string{"site": "test-site"}); err != nil || v != 1 {
		t.Errorf("autoprov_site_link_up{site=test-site} = %v, %v; want 1", v, err)
	}
}
