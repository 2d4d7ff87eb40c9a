package metrics_test

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/autoprov/autoprov/server/metrics"
)

func gather(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("metrics: %d %s", rec.Code, b)
	}
	return string(b)
}
