package httpd_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestZoneWarningsThroughTheAPI is issue [14]'s acceptance: Asia/Kolkata
// on an N870 and on a Maxwell renders the nearest zone, and the device's
// API answer, its file list and its preview carry a warning naming the
// 30-minute difference; a zone the model carries exactly says nothing.
func TestZoneWarningsThroughTheAPI(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	type dev struct {
		Warnings []string `json:"warnings"`
	}
	for _, c := range []struct{ mac, model, file, value string }{
		{"7c2f80aabb10", "N870", "7C2F80AABB10.xml", `"DmGlobal.0.TimeZone" value="Asia/Karachi"`},
		{"7c2f80aabb11", "Maxwell 3", "7C2F80AABB11.xml", `"System.DateAndTime.TimeZone" value="GMT+5.Asia/Karachi"`},
	} {
		var d dev
		e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": c.mac, "vendor": "gigaset", "model": c.model,
			"accounts": []string{"201"}, "overrides": map[string]string{"timezone": "Asia/Kolkata"}}, &d)
		want := "Asia/Kolkata is +5:30; the " + c.model + " has no such zone: Asia/Karachi (+5:00) written, 30 minutes off"
		if len(d.Warnings) != 1 || d.Warnings[0] != want {
			t.Errorf("%s: POST answer warnings %q, want %q", c.model, d.Warnings, want)
		}
		d = dev{}
		e.must(http.StatusOK, "GET", "/api/v1/devices/"+c.mac, nil, &d)
		if len(d.Warnings) != 1 || d.Warnings[0] != want {
			t.Errorf("%s: GET warnings %q", c.model, d.Warnings)
		}
		var files struct {
			Files    []string `json:"files"`
			Warnings []string `json:"warnings"`
		}
		e.must(http.StatusOK, "GET", "/api/v1/devices/"+c.mac+"/files", nil, &files)
		if len(files.Warnings) != 1 || files.Warnings[0] != want {
			t.Errorf("%s: file list warnings %q", c.model, files.Warnings)
		}
		rec := e.api("GET", "/api/v1/devices/"+c.mac+"/files/"+c.file, nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), c.value) {
			t.Errorf("%s preview: %d\n%s", c.model, rec.Code, rec.Body)
		}
		if got := rec.Header().Values("X-Autoprov-Warning"); len(got) != 1 || got[0] != want {
			t.Errorf("%s preview warning headers %q", c.model, got)
		}
		// Back to the fleet's Europe/Berlin: exact, no warning.
		d = dev{}
		e.must(http.StatusOK, "PATCH", "/api/v1/devices/"+c.mac, map[string]any{"overrides": map[string]string{}}, &d)
		if len(d.Warnings) != 0 {
			t.Errorf("%s in Berlin: warnings %q", c.model, d.Warnings)
		}
	}
}

// TestReservedModuleKeyRefused: a key on module 1, position 21 of a T27G
// is refused with the reason (the EXP40's page key); position 22 is fine.
func TestReservedModuleKeyRefused(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	body := func(pos int) map[string]any {
		return map[string]any{"mac": "80:5e:c0:aa:bb:21", "model": "T27G", "accounts": []string{"201"},
			"keys": []map[string]any{{"module": 1, "position": pos, "type": "speed_dial", "value": "100"}}}
	}
	rec := e.api("POST", "/api/v1/devices", body(21))
	er := wantErr(t, rec, http.StatusBadRequest, "keys")
	if !strings.Contains(er.Error, "position 21 of a EXP40 on the T27G cannot be configured") || !strings.Contains(er.Error, "switches the module's pages") {
		t.Errorf("refusal: %s", rec.Body)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/devices", body(22), nil)
	rec = e.api("PUT", "/api/v1/devices/805ec0aabb21/keys", []map[string]any{{"module": 1, "position": 21, "type": "blf", "value": "201"}})
	wantErr(t, rec, http.StatusBadRequest, "keys")
}
