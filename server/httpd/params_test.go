package httpd_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestRawParams: raw vendor parameters per model, key profile and device
// through the real API: refused names (secrets, the provisioning server's
// settings) are 400s naming the reason; an unknown name is kept with a
// warning; the preview writes them last, the device's winning over its
// profile's and its model's, and the profile's only for its vendor.
func TestRawParams(t *testing.T) {
	e := newEnv(t, options{})
	e.setup() // T54W 805ec0aabb01 with account 201
	type param = map[string]string
	put := func(path string, ps ...param) *http.Response {
		rec := e.api("PUT", path, map[string]any{"params": ps})
		return rec.Result()
	}

	// Refusals, on every layer.
	for _, c := range []struct {
		name, why string
	}{
		{"account.1.password", "secret"},
		{"static.auto_provision.server.url", "provisioning server"},
		{"static.security.user_password", "secret"},
		{"bad name", "must be a letter"},
	} {
		rec := e.api("PUT", "/api/v1/models/yealink/T54W/params", map[string]any{"params": []param{{"name": c.name, "value": "x"}}})
		er := wantErr(t, rec, http.StatusBadRequest, "params")
		if !strings.Contains(er.Error, c.why) {
			t.Errorf("model param %s: %s", c.name, rec.Body)
		}
		rec = e.api("PATCH", "/api/v1/devices/"+devMAC, map[string]any{"params": []param{{"name": c.name, "value": "x"}}})
		wantErr(t, rec, http.StatusBadRequest, "params")
	}
	rec := e.api("POST", "/api/v1/key-profiles", map[string]any{"name": "p", "keys": []any{},
		"params": []param{{"vendor": "snom", "name": "setting_server", "value": "http://evil/"}}})
	if er := wantErr(t, rec, http.StatusBadRequest, "params"); !strings.Contains(er.Error, "provisioning URL") {
		t.Errorf("profile refusal: %s", rec.Body)
	}
	rec = e.api("POST", "/api/v1/key-profiles", map[string]any{"name": "p", "keys": []any{},
		"params": []param{{"name": "features.dnd.enable", "value": "1"}}})
	wantErr(t, rec, http.StatusBadRequest, "params")

	// Accepted layers.
	var mp struct {
		Params   []param  `json:"params"`
		Warnings []string `json:"warnings"`
	}
	e.must(http.StatusOK, "PUT", "/api/v1/models/yealink/SIP-T54W/params", map[string]any{"params": []param{
		{"name": "static.network.vlan.internet_port_enable", "value": "1"},
		{"name": "features.dnd.enable", "value": "model"},
	}}, &mp)
	if len(mp.Params) != 2 || len(mp.Warnings) != 0 {
		t.Errorf("model params answer: %+v", mp)
	}
	e.must(http.StatusOK, "GET", "/api/v1/models/yealink/T54W/params", nil, &mp)
	if len(mp.Params) != 2 || mp.Params[0]["name"] != "static.network.vlan.internet_port_enable" {
		t.Errorf("model params: %+v", mp)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/key-profiles", map[string]any{"name": "p", "keys": []any{}, "params": []param{
		{"vendor": "yealink", "name": "features.dnd.enable", "value": "profile"},
		{"vendor": "yealink", "name": "static.network.vlan.internet_port_vid", "value": "20"},
		{"vendor": "snom", "name": "vlan_id", "value": "99"},
	}}, nil)
	var d struct {
		Params   []param  `json:"params"`
		Warnings []string `json:"warnings"`
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/devices/"+devMAC, map[string]any{"key_profile": "p", "params": []param{
		{"name": "features.dnd.enable", "value": "device"},
		{"name": "vendor_specific.thing", "value": "42"},
	}}, &d)
	if len(d.Params) != 2 {
		t.Errorf("device params: %+v", d.Params)
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "vendor_specific.thing") || !strings.Contains(d.Warnings[0], "written as given") {
		t.Errorf("device warnings: %q", d.Warnings)
	}

	rec = e.api("GET", "/api/v1/devices/"+devMAC+"/files/"+devMAC+".cfg", nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("preview: %d %s", rec.Code, body)
	}
	raw := body[strings.Index(body, "## Raw parameters"):]
	want := "static.network.vlan.internet_port_enable = 1\nstatic.network.vlan.internet_port_vid = 20\nfeatures.dnd.enable = device\nvendor_specific.thing = 42\n"
	if !strings.HasSuffix(raw, want) || strings.Count(body, "features.dnd.enable") != 1 || strings.Contains(body, "vlan_id") {
		t.Errorf("preview's raw parameters:\n%s", raw)
	}
	if got := rec.Header().Values("X-Autoprov-Warning"); len(got) != 1 || !strings.Contains(got[0], "vendor_specific.thing") {
		t.Errorf("preview warnings: %q", got)
	}
	// Clearing the model's leaves the others.
	put("/api/v1/models/yealink/T54W/params")
	e.must(http.StatusOK, "GET", "/api/v1/models/yealink/T54W/params", nil, &mp)
	if len(mp.Params) != 0 {
		t.Errorf("cleared model params: %+v", mp.Params)
	}
	rec = e.api("GET", "/api/v1/models/yealink/T99/params", nil)
	if rec.Code != http.StatusNotFound && rec.Code != http.StatusBadRequest {
		t.Errorf("unknown model: %d", rec.Code)
	}
}
