package main

import (
	"fmt"
	"net/http"
	"testing"
)

// TestDeviceListPages: a large fleet lists page by page, in MAC order, with
// the number of all matches in X-Total-Count; filters apply before paging.
func TestDeviceListPages(t *testing.T) {
	s := start(t)
	for i := range 5 {
		s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": fmt.Sprintf("805ec00000%02d", 5-i), "model": "T54W"}, nil)
	}
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "000413000001", "model": "D785"}, nil)

	page := func(query string) ([]string, string) {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/devices"+query, nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list []struct{ MAC string }
		if resp.StatusCode != 200 {
			return nil, resp.Status
		}
		decodeJSON(t, resp, items(&list))
		var macs []string
		for _, d := range list {
			macs = append(macs, d.MAC)
		}
		return macs, resp.Header.Get("X-Total-Count")
	}
	if macs, total := page("?vendor=yealink&limit=2&offset=1"); fmt.Sprint(macs) != "[805ec0000002 805ec0000003]" || total != "5" {
		t.Errorf("page 2 of yealink: %v, total %s", macs, total)
	}
	if macs, total := page("?limit=10"); len(macs) != 6 || macs[0] != "000413000001" || total != "6" {
		t.Errorf("all: %v, total %s", macs, total)
	}
	if macs, total := page("?offset=6"); len(macs) != 0 || total != "6" {
		t.Errorf("past the end: %v, total %s", macs, total)
	}
	for _, q := range []string{"?limit=-1", "?offset=x"} {
		if _, status := page(q); status != "400 Bad Request" {
			t.Errorf("%s: %s, want 400", q, status)
		}
	}
}

// items decodes the page of a list endpoint, {"items": [...], "total":
// n, ...}, into out, a pointer to a slice.
func items(out any) any {
	return &struct {
		Items any `json:"items"`
	}{out}
}
