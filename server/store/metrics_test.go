package store

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/autoprov/autoprov/server/metrics"
)

func dbErrors(t *testing.T) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	v, err := metrics.Sample(b, "autoprov_db_errors_total", nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDBErrorsCounted: a statement that fails (here: on a closed
// database) counts in autoprov_db_errors_total; a not-found answer does
// not.
func TestDBErrorsCounted(t *testing.T) {
	ctx := context.Background()
	st, err := Open(filepath.Join(t.TempDir(), "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	before := dbErrors(t)
	if _, err := st.Account(ctx, "no-such-account"); err == nil {
		t.Fatal("an absent account was found")
	}
	if got := dbErrors(t); got != before {
		t.Errorf("a not-found answer counted as a database error (%v -> %v)", before, got)
	}
	st.Close()
	if _, err := st.Settings(ctx); err == nil {
		t.Fatal("a closed database answered")
	}
	if got := dbErrors(t); got < before+1 {
		t.Errorf("autoprov_db_errors_total = %v after a failed statement, was %v", got, before)
	}
}
