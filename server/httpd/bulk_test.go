package httpd_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBulkAPI: POST /api/v1/bulk answers what it did (or, with dry_run,
// would do) without any secret; a refused one is 400 listing every bad
// row; the lists answer pages with their total.
func TestBulkAPI(t *testing.T) {
	e := newEnv(t, options{})
	body := `{"accounts":[{"extension":"201","display_name":"Alice","password":"Bulk-secret-201"}],
	  "devices":[{"mac":"80:5E:C0:AA:BB:01","model":"T54W","accounts":["201"],"web_password":"Web-secret-201"}]}`
	var dry struct {
		DryRun   bool `json:"dry_run"`
		Accounts struct {
			Created     int
			CreatedKeys []string `json:"created_keys"`
		}
	}
	rec := e.api("POST", "/api/v1/bulk?dry_run=true", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("dry run: %d %s", rec.Code, rec.Body)
	}
	e.must(http.StatusOK, "POST", "/api/v1/bulk?dry_run=true", body, &dry)
	if !dry.DryRun || dry.Accounts.Created != 1 || len(dry.Accounts.CreatedKeys) != 1 {
		t.Errorf("dry run answer %+v", dry)
	}
	var page struct {
		Items                []struct{ MAC string }
		Total, Limit, Offset int
	}
	e.must(http.StatusOK, "GET", "/api/v1/devices", nil, &page)
	if page.Total != 0 || page.Limit != 100 || len(page.Items) != 0 {
		t.Errorf("after a dry run: %+v", page)
	}
	rec = e.api("POST", "/api/v1/bulk", body)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("bulk: %d %s", rec.Code, rec.Body)
	}
	e.must(http.StatusOK, "GET", "/api/v1/devices?q=80:5e:c0:aa&limit=1000", nil, &page)
	if page.Total != 1 || page.Limit != 1000 || len(page.Items) != 1 || page.Items[0].MAC != "805ec0aabb01" {
		t.Errorf("search after the bulk: %+v", page)
	}
	for _, q := range []string{"limit=0", "limit=1001", "offset=-1", "seen_before=yesterday"} {
		if rec := e.api("GET", "/api/v1/devices?"+q, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, rec.Code)
		}
	}

	// An unknown field or a wrong type in a row is that row's error, for
	// every such row; one outside the rows is the body's.
	rec = e.api("POST", "/api/v1/bulk", `{"accounts":[{"extension":"600"},{"extension":"601","bogus":1}],"devices":[{"mac":"805ec0aabb09","accounts":"201"}]}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `{"kind":"account","index":1,"field":"bogus"`) ||
		!strings.Contains(rec.Body.String(), `{"kind":"device","index":0,"field":"accounts"`) || strings.Contains(rec.Body.String(), `"index":0,"field":"extension"`) {
		t.Errorf("rows with an unknown field and a wrong type: %d %s", rec.Code, rec.Body)
	}
	if rec := e.api("POST", "/api/v1/bulk", `{"accounts":[],"extra":true}`); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"extra"`) {
		t.Errorf("an unknown field outside the rows: %d %s", rec.Code, rec.Body)
	}

	bad := `{"accounts":[{"extension":"202","password":"Bad-secret<"}],"devices":[{"mac":"nope"},{"mac":"805ec0aabb02","model":"T54W","accounts":["999"]}]}`
	rec = e.api("POST", "/api/v1/bulk", bad)
	want := `"errors":[{"kind":"account","index":0,"field":"password","error":`
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) ||
		!strings.Contains(rec.Body.String(), `{"kind":"device","index":0,"field":"mac"`) ||
		!strings.Contains(rec.Body.String(), `{"kind":"device","index":1,"field":"accounts"`) || strings.Contains(rec.Body.String(), "Bad-secret") {
		t.Errorf("refused bulk: %d %s", rec.Code, rec.Body)
	}
}
