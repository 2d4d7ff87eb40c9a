package httpd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/server/apispec"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// rolloutEnv is the HTTP edge over a real core (injected clock), a real
// SQLite file and a real firmware store, served on a loopback socket.
type rolloutEnv struct {
	t     *testing.T
	ts    *httptest.Server
	clock *testclock.Clock
	log   *syncBuffer
	st    *store.Store // the SQLite file, for rows the API would refuse
}

func newRolloutEnv(t *testing.T) *rolloutEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logBuf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.New(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC))
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log, Now: clk.Now}, st)
	fw, err := firmware.Open(context.Background(), dir+"/firmware", st, reg, firmware.WithLog(log))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Inbox: phones, Log: log, AdminToken: token,
		Firmware: fw, Rollout: inv})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(apispec.Handler(t, srv.Handler()))
	t.Cleanup(ts.Close)
	return &rolloutEnv{t: t, ts: ts, clock: clk, log: logBuf, st: st}
}

// api calls the admin API over the socket and decodes a JSON answer into v.
func (e *rolloutEnv) api(want int, method, path string, body any, v any) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.ts.URL+"/api/v1"+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	if v != nil {
		if err := json.Unmarshal(got, v); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, got)
		}
	}
}

type fwEntry struct {
	ID     int64  `json:"id"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
}

// upload streams a random image for vendor/models at version.
func (e *rolloutEnv) upload(vendor, models, version, name string) (fwEntry, []byte) {
	e.t.Helper()
	img := make([]byte, 200_000)
	rand.Read(img)
	return e.uploadBytes(vendor, models, version, name, img), img
}

// uploadBytes streams img for vendor/models at version: a new entry.
func (e *rolloutEnv) uploadBytes(vendor, models, version, name string, img []byte) fwEntry {
	e.t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/firmware?vendor=%s&models=%s&version=%s&name=%s", e.ts.URL, vendor, models, version, name), bytes.NewReader(img))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var f fwEntry
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &f) != nil {
		e.t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	return f
}

// fetch GETs a phone file as the phone with ua (with the Digest
// credential when pass is set).
func (e *rolloutEnv) fetch(path, ua, user, pass string) string {
	e.t.Helper()
	c := e.ts.Client()
	if pass != "" {
		c = &http.Client{Transport: &httpauth.DigestTransport{Base: e.ts.Client().Transport, User: user, Password: pass}}
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/prov/"+path, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s as %q: %d %s\n%s", path, ua, resp.StatusCode, b, e.log.String())
	}
	return string(b)
}

type fwStatus struct {
	MAC          string `json:"mac"`
	Reported     string `json:"reported"`
	Target       string `json:"target"`
	InStage      bool   `json:"in_stage"`
	Status       string `json:"status"`
	LastDownload *struct {
		Outcome   string `json:"outcome"`
		Completed int    `json:"completed"`
	} `json:"last_download"`
}

func (e *rolloutEnv) deviceStatus(mac string) fwStatus {
	e.t.Helper()
	var d struct {
		FirmwareStatus *fwStatus `json:"firmware_status"`
	}
	e.api(200, "GET", "/devices/"+mac, nil, &d)
	if d.FirmwareStatus == nil {
		e.t.Fatalf("device %s has no firmware_status", mac)
	}
	return *d.FirmwareStatus
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// download GETs an absolute firmware URL and checks its bytes.
func (e *rolloutEnv) download(url, ua string, want []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || sha(got) != sha(want) {
		e.t.Fatalf("download %s: %d, %d bytes, sha %s want %s", url, resp.StatusCode, len(got), sha(got), sha(want))
	}
}

// TestFirmwareSharedFile: two entries naming the same bytes under the
// same name (one image for two models) share one download path, and the
// downloads are recorded against the entry that path finds first; a
// device whose target is the other entry has them counted all the same:
// three whole downloads that leave it on its old version make it failed,
// on its own status and on the fleet's.
func TestFirmwareSharedFile(t *testing.T) {
	e := newRolloutEnv(t)
	a, img := e.upload("yealink", "T54W", "96.86.0.100", "T5x-96.86.0.100.rom")
	b := e.uploadBytes("yealink", "T57W", "96.86.0.100", "T5x-96.86.0.100.rom", img)
	if a.ID == b.ID || a.Path != b.Path {
		t.Fatalf("entries %+v and %+v: want two entries on one path", a, b)
	}
	const mac = "805ec0000a01"
	e.api(201, "POST", "/devices", map[string]any{"mac": mac, "model": "T57W"}, nil)
	e.clock.Set(noon)
	e.api(200, "PUT", "/models/yealink/T57W/firmware", map[string]any{"version": "96.86.0.100", "now": true}, nil)
	ua := "Yealink SIP-T57W 96.85.0.5 " + vendorsColon(mac)
	for i := range 3 {
		e.download(e.ts.URL+"/prov"+b.Path, ua, img)
		if st := e.deviceStatus(mac); st.LastDownload == nil || st.LastDownload.Completed != i+1 {
			t.Fatalf("after %d downloads of its target's file: %+v", i+1, st)
		}
	}
	if st := e.deviceStatus(mac); st.Status != "failed" {
		t.Fatalf("after 3 downloads, still on the old version: %+v, want failed", st)
	}
	var page struct {
		Items []fwStatus `json:"items"`
	}
	e.api(200, "GET", "/firmware/status?vendor=yealink&model=T57W", nil, &page)
	if len(page.Items) != 1 || page.Items[0].Status != "failed" || page.Items[0].LastDownload == nil || page.Items[0].LastDownload.Completed != 3 {
		t.Fatalf("the fleet's status: %+v", page.Items)
	}
}

// Berlin is UTC+1 in March 2026: 11:00 UTC is noon there (outside
// 22:00-05:00), 22:30 UTC is 23:30 (inside), 04:30 UTC is 05:30 (outside).
var (
	noon      = time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	lateNight = time.Date(2026, 3, 2, 22, 30, 0, 0, time.UTC)
	morning   = time.Date(2026, 3, 3, 4, 30, 0, 0, time.UTC)
)

// TestFirmwareRolloutPerVendor is the acceptance of the rollout for a
// Yealink T54W, a Snom D785 and a Gigaset N870: upload and pin a version;
// a phone that reports another version gets its vendor's firmware
// parameter pointing at our /firmware/... inside the maintenance window
// (the core's clock) and not outside it; once its User-Agent reports the
// target the parameter is gone and its status says "on target".
func TestFirmwareRolloutPerVendor(t *testing.T) {
	e := newRolloutEnv(t)
	e.api(200, "PUT", "/settings", map[string]any{"timezone": "Europe/Berlin", "firmware_window": "22:00-05:00"}, nil)
	e.api(201, "POST", "/accounts", map[string]any{"extension": "201", "display_name": "Alice", "password": "Sip-Pass-201-xyz"}, nil)

	cases := []struct {
		vendor, model, version, name string
		mac, file                    string
		oldUA, newUA                 string
		param                        func(url, version string) string
		account                      bool
	}{
		{vendor: "yealink", model: "T54W", version: "96.86.0.100", name: "T54W-96.86.0.100.rom",
			mac: "805ec0aabb01", file: "805ec0aabb01.cfg", account: true,
			oldUA: "Yealink SIP-T54W 96.85.0.5 80:5e:c0:aa:bb:01", newUA: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01",
			param: func(url, _ string) string { return "static.firmware.url = " + url }},
		{vendor: "snom", model: "D785", version: "10.1.215.13", name: "snomD785-10.1.215.13-SIP-r.bin",
			mac: "000413aabb02", file: "000413AABB02.xml",
			oldUA: snomUA, newUA: strings.Replace(snomUA, "10.1.169.16", "10.1.215.13", 1),
			param: func(url, _ string) string { return `<firmware perm="R">` + url + `</firmware>` }},
		{vendor: "gigaset", model: "N870", version: "2.43.0", name: "Gigaset-Nx70-V2.43.0-build.5f0a106.bin",
			mac: "7c2f80aabb03", file: "7C2F80AABB03.xml",
			oldUA: "Gigaset N870 IP PRO/83.V2.40.0+build.1234567;7C2F80AABB03",
			newUA: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABB03",
			param: func(url, v string) string { return `<file version="` + v + `" url="` + url + `"/>` }},
		// Cisco: the load name is the version (vendors/cisco/README.md);
		// the rule's condition quotes it, the URL follows "? ".
		{vendor: "cisco", model: "8851", version: "sip88xx.12-0-7MPP0201-66", name: "sip88xx.12-0-7MPP0201-66.loads",
			mac: "00562b0429da", file: "00562b0429da.xml",
			oldUA: "Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)", newUA: "Cisco-CP-8851-3PCC/12.0.7 (00562b0429da)",
			param: func(url, _ string) string { return `)? ` + url + `</Upgrade_Rule>` }},
	}
	for _, c := range cases {
		t.Run(c.vendor, func(t *testing.T) {
			e.t = t
			f, img := e.upload(c.vendor, c.model, c.version, c.name)
			dev := map[string]any{"mac": c.mac, "vendor": c.vendor, "model": c.model}
			if c.account {
				dev["accounts"] = []string{"201"}
			}
			e.api(201, "POST", "/devices", dev, nil)
			if st := e.deviceStatus(c.mac); st.Status != "none" {
				t.Errorf("before a target: %+v", st)
			}
			e.api(200, "PUT", "/models/"+c.vendor+"/"+c.model+"/firmware", map[string]any{"version": c.version, "stage": 100, "now": false}, nil)
			url := e.ts.URL + "/prov" + f.Path
			if !strings.HasSuffix(url, "/firmware/"+f.SHA256[:16]+"/"+c.name) {
				t.Fatalf("path %s", f.Path)
			}
			want := c.param(url, c.version)

			// Outside the window (noon in Berlin): nothing. The Yealink's
			// first fetch carries its secrets and credential; from then on
			// it presents the credential.
			e.clock.Set(noon)
			body := e.fetch(c.file, c.oldUA, "", "")
			pass := ""
			if c.account {
				if pass = fileValue("static.auto_provision.server.password", body); pass == "" {
					t.Fatalf("the first fetch carries no credential:\n%s", body)
				}
			}
			if strings.Contains(body, c.name) {
				t.Errorf("outside the window the file names the firmware:\n%s", body)
			}
			if st := e.deviceStatus(c.mac); st.Status != "upgrading" || !st.InStage || st.Target != c.version {
				t.Errorf("status outside the window: %+v", st)
			}
			// Inside (23:30): the parameter, pointing at our file.
			e.clock.Set(lateNight)
			body = e.fetch(c.file, c.oldUA, c.mac, pass)
			if !strings.Contains(body, want) {
				t.Fatalf("inside the window the file lacks %q:\n%s", want, body)
			}
			e.download(url, c.oldUA, img)
			// 05:30: outside again.
			e.clock.Set(morning)
			if body := e.fetch(c.file, c.oldUA, c.mac, pass); strings.Contains(body, c.name) {
				t.Errorf("after the window the file names the firmware:\n%s", body)
			}
			// The phone reports the target: no parameter, even inside.
			e.clock.Set(lateNight)
			body = e.fetch(c.file, c.newUA, c.mac, pass)
			if strings.Contains(body, c.name) || strings.Contains(body, "firmware/") {
				t.Errorf("a phone on target still gets firmware:\n%s", body)
			}
			st := e.deviceStatus(c.mac)
			if st.Status != "on target" || st.LastDownload == nil || st.LastDownload.Outcome != "completed" {
				t.Errorf("status on target: %+v", st)
			}
			// A targeted version cannot be deleted.
			e.api(409, "DELETE", fmt.Sprintf("/firmware/%d", f.ID), nil, nil)
		})
	}
}

var firmwareURL = regexp.MustCompile(`static\.firmware\.url = (\S+)`)

// TestFirmwareStages: 25% of 400 devices is about a quarter, the same
// ones on every render; widening to 50% keeps every one of them; "now"
// offers the firmware outside the window; an explicit list and a
// device's own target and exclusion win.
func TestFirmwareStages(t *testing.T) {
	e := newRolloutEnv(t)
	e.api(200, "PUT", "/settings", map[string]any{"firmware_window": "22:00-05:00"}, nil)
	f, img := e.upload("yealink", "T54W", "96.86.0.100", "T54W-96.86.0.100.rom")
	var devs []map[string]any
	macs := make([]string, 400)
	for i := range macs {
		macs[i] = fmt.Sprintf("805ec0%06x", i+1)
		devs = append(devs, map[string]any{"mac": macs[i], "model": "T54W"})
	}
	e.api(200, "POST", "/bulk", map[string]any{"devices": devs}, nil)
	e.clock.Set(noon) // outside the window: only "now" offers it
	e.api(200, "PUT", "/models/yealink/T54W/firmware", map[string]any{"version": "96.86.0.100", "stage": 25, "now": true}, nil)

	render := func() map[string]bool {
		got := map[string]bool{}
		for _, mac := range macs {
			ua := "Yealink SIP-T54W 96.85.0.5 " + vendorsColon(mac)
			if m := firmwareURL.FindStringSubmatch(e.fetch(mac+".cfg", ua, "", "")); m != nil {
				if !strings.HasSuffix(m[1], f.Path) {
					t.Fatalf("%s: url %s", mac, m[1])
				}
				got[mac] = true
			}
		}
		return got
	}
	first := render()
	if n := len(first); n < 70 || n > 130 {
		t.Fatalf("25%% of 400 picked %d", n)
	}
	again := render()
	if fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatal("a second render picked other devices")
	}
	var page struct {
		Items  []fwStatus `json:"items"`
		Total  int        `json:"total"`
		Models []struct {
			Model   string `json:"model"`
			Devices int    `json:"devices"`
			Pending int    `json:"pending"`
		} `json:"models"`
	}
	e.api(200, "GET", "/firmware/status?vendor=yealink&model=T54W&limit=1000", nil, &page)
	if page.Total != 400 || len(page.Items) != 400 || len(page.Models) != 1 || page.Models[0].Pending != 400 {
		t.Fatalf("status: total %d items %d models %+v", page.Total, len(page.Items), page.Models)
	}
	for _, it := range page.Items {
		if it.InStage != first[it.MAC] || (it.InStage && it.Status != "upgrading") || (!it.InStage && it.Status != "waiting") {
			t.Fatalf("status of %s: %+v, rendered %v", it.MAC, it, first[it.MAC])
		}
	}

	e.api(200, "PUT", "/models/yealink/T54W/firmware", map[string]any{"version": "96.86.0.100", "stage": 50, "now": true}, nil)
	wide := render()
	if n := len(wide); n < 160 || n > 240 {
		t.Errorf("50%% of 400 picked %d", n)
	}
	for mac := range first {
		if !wide[mac] {
			t.Errorf("widening dropped %s", mac)
		}
	}

	// Without "now", outside the window: nobody.
	e.api(200, "PUT", "/models/yealink/T54W/firmware", map[string]any{"version": "96.86.0.100", "stage": 50}, nil)
	if got := render(); len(got) != 0 {
		t.Errorf("outside the window %d devices got firmware", len(got))
	}
	// An explicit list, inside the window.
	e.clock.Set(lateNight)
	e.api(200, "PUT", "/models/yealink/T54W/firmware", map[string]any{"version": "96.86.0.100", "stage": map[string]any{"macs": []string{"80:5E:C0:00:00:01", macs[1]}}}, nil)
	if got := render(); len(got) != 2 || !got[macs[0]] || !got[macs[1]] {
		t.Errorf("explicit stage picked %v", got)
	}
	// A device's own target puts it in; an exclusion takes it out.
	e.api(200, "PATCH", "/devices/"+macs[5], map[string]any{"firmware": map[string]any{"version": "96.86.0.100"}}, nil)
	e.api(200, "PATCH", "/devices/"+macs[0], map[string]any{"firmware": map[string]any{"exclude": true}, "label": "kept back"}, nil)
	if got := render(); len(got) != 2 || !got[macs[1]] || !got[macs[5]] {
		t.Errorf("override and exclusion: %v", got)
	}
	if st := e.deviceStatus(macs[0]); st.Status != "excluded" {
		t.Errorf("excluded device: %+v", st)
	}
	var d struct {
		Label string `json:"label"`
	}
	e.api(200, "GET", "/devices/"+macs[0], nil, &d)
	if d.Label != "kept back" {
		t.Errorf("the rest of the PATCH was lost: %+v", d)
	}
	// null clears it: back to the model's target (in the list).
	e.api(200, "PATCH", "/devices/"+macs[0], `{"firmware": null}`, nil)
	if st := e.deviceStatus(macs[0]); st.Status != "upgrading" {
		t.Errorf("cleared exclusion: %+v", st)
	}
	// Three whole downloads and still on the old version: failed.
	for range 3 {
		e.download(e.ts.URL+"/prov"+f.Path, "Yealink SIP-T54W 96.85.0.5 "+vendorsColon(macs[1]), img)
	}
	if st := e.deviceStatus(macs[1]); st.Status != "failed" || st.LastDownload == nil || st.LastDownload.Completed != 3 {
		t.Errorf("after 3 downloads: %+v", st)
	}
	// Bad input.
	e.api(400, "PUT", "/models/yealink/T54W/firmware", map[string]any{"version": "1.2.3"}, nil)
	e.api(400, "PUT", "/models/yealink/T54W/firmware", map[string]any{"version": "96.86.0.100", "stage": 0}, nil)
	e.api(400, "PUT", "/models/yealink/T99/firmware", map[string]any{"version": "96.86.0.100"}, nil)
	e.api(400, "PUT", "/settings", map[string]any{"firmware_window": "22:00"}, nil)
	e.api(400, "PATCH", "/devices/"+macs[0], map[string]any{"firmware": map[string]any{"version": "x", "bogus": 1}}, nil)
	// The targets are audited.
	var audit struct {
		Items []struct {
			Event string `json:"event"`
		} `json:"items"`
	}
	e.api(200, "GET", "/audit?limit=1000", nil, &audit)
	n := 0
	for _, a := range audit.Items {
		if strings.HasPrefix(a.Event, "firmware.target") {
			n++
		}
	}
	if n != 7 { // 4 model PUTs, override, exclusion, its removal
		t.Errorf("%d firmware.target audit rows, want 7", n)
	}
	e.api(204, "DELETE", "/models/yealink/T54W/firmware", nil, nil)
	e.api(404, "GET", "/models/yealink/T54W/firmware", nil, nil)
}

// vendorsColon writes a MAC with colons, as Yealink User-Agents do.
func vendorsColon(mac string) string {
	var b strings.Builder
	for i := 0; i < len(mac); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(mac[i : i+2])
	}
	return b.String()
}

// TestFirmwareTargetRefusedWithoutFirmwareSupport: a Snom M-series DECT
// base's files carry no firmware setting (vendors.Model.NoFirmware), so
// a target for its model or for one base is a 400 naming the model and
// nothing is stored (its status stays "none", not "upgrading" for
// ever); a desk phone of the same vendor takes both as before.
func TestFirmwareTargetRefusedWithoutFirmwareSupport(t *testing.T) {
	e := newRolloutEnv(t)
	e.upload("snom", "M700", "530.1", "m700-530.1.bin") // the store may keep it
	e.upload("snom", "D785", "10.1.215.13", "snomD785-10.1.215.13-SIP-r.bin")
	var models []struct {
		Vendor     string `json:"vendor"`
		Model      string `json:"model"`
		NoFirmware bool   `json:"no_firmware"`
	}
	e.api(200, "GET", "/models", nil, &models)
	marked := map[string]bool{}
	for _, m := range models {
		if m.NoFirmware {
			marked[m.Vendor+" "+m.Model] = true
		}
	}
	if len(marked) != 4 || !marked["snom M700"] || marked["snom D785"] {
		t.Errorf("models marked no_firmware: %v", marked)
	}
	e.api(201, "POST", "/devices", map[string]any{"mac": "000413aabb07", "vendor": "snom", "model": "M700"}, nil)
	e.api(201, "POST", "/devices", map[string]any{"mac": "000413aabb08", "vendor": "snom", "model": "D785"}, nil)

	type apiErr struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	check := func(what string, got apiErr, field string) {
		t.Helper()
		if got.Field != field || !strings.Contains(got.Error, "snom M700 cannot get firmware from autoprov") {
			t.Errorf("%s: %+v", what, got)
		}
	}
	var got apiErr
	// The model's target, under any spelling of the model.
	for _, m := range []string{"M700", "snomM700"} {
		got = apiErr{}
		e.api(400, "PUT", "/models/snom/"+m+"/firmware", map[string]any{"version": "530.1"}, &got)
		check("model target "+m, got, "model")
	}
	e.api(404, "GET", "/models/snom/M700/firmware", nil, nil)
	// One base's own target.
	got = apiErr{}
	e.api(400, "PATCH", "/devices/000413aabb07", map[string]any{"firmware": map[string]any{"version": "530.1"}}, &got)
	check("device target", got, "firmware")
	if st := e.deviceStatus("000413aabb07"); st.Status != "none" || st.Target != "" {
		t.Errorf("refused base's status: %+v", st)
	}
	// Excluding a base promises nothing: still allowed.
	e.api(200, "PATCH", "/devices/000413aabb07", map[string]any{"firmware": map[string]any{"exclude": true}}, nil)

	// A desk phone is unaffected.
	e.api(200, "PUT", "/models/snom/D785/firmware", map[string]any{"version": "10.1.215.13"}, nil)
	if st := e.deviceStatus("000413aabb08"); st.Status != "upgrading" || st.Target != "10.1.215.13" {
		t.Errorf("desk phone's status with a model target: %+v", st)
	}
	e.api(200, "PATCH", "/devices/000413aabb08", map[string]any{"firmware": map[string]any{"version": "10.1.215.13", "now": true}}, nil)
	if st := e.deviceStatus("000413aabb08"); st.Status != "upgrading" || st.Target != "10.1.215.13" {
		t.Errorf("desk phone's status with its own target: %+v", st)
	}
}

// TestFirmwareStaleTargetUnsupported: a target for a Snom M700 base
// written straight into the SQLite file (as a release before the API
// refused them stored it), the model's and one base's own, is reported,
// not offered: the bases' status is "unsupported" (with the target, not
// "upgrading" for ever), the model's counts say so, the base's file is
// byte for byte what it is without the target, and removing the targets
// through the API brings back "none".
func TestFirmwareStaleTargetUnsupported(t *testing.T) {
	e := newRolloutEnv(t)
	ctx := context.Background()
	f, _ := e.upload("snom", "M700", "530.1", "m700-530.1.bin")
	const modelMAC, ownMAC = "000413b60681", "000413b60682"
	for _, mac := range []string{modelMAC, ownMAC} {
		e.api(201, "POST", "/devices", map[string]any{"mac": mac, "vendor": "snom", "model": "M700"}, nil)
	}
	// The base reports a version other than the target's.
	const ua = "Mozilla/4.0 (compatible; Snom M700 05.20.0001 000413b60681)"
	e.fetch("000413B60681.xml", ua, "", "")
	without := e.fetch("000413B60681.xml", ua, "", "")

	fw := &autoprov.Firmware{ID: f.ID}
	if _, err := e.st.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "snom", Model: "M700", Firmware: fw, Stage: 100, Now: true}, "old release"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PutFirmwareTarget(ctx, autoprov.FirmwareTarget{Vendor: "snom", MAC: ownMAC, Firmware: fw, Stage: 100, Now: true}, "old release"); err != nil {
		t.Fatal(err)
	}
	if with := e.fetch("000413B60681.xml", ua, "", ""); with != without {
		t.Errorf("the base's file changed with a target it cannot take:\n%s\nwithout it:\n%s", with, without)
	}
	for mac, source := range map[string]string{modelMAC: "model", ownMAC: "device"} {
		st := e.deviceStatus(mac)
		if st.Status != "unsupported" || st.Target != "530.1" || st.InStage {
			t.Errorf("%s (%s target): %+v, want unsupported with target 530.1", mac, source, st)
		}
	}
	var page struct {
		Items  []fwStatus `json:"items"`
		Models []struct {
			Model       string `json:"model"`
			Target      string `json:"target"`
			Devices     int    `json:"devices"`
			Pending     int    `json:"pending"`
			Unsupported int    `json:"unsupported"`
		} `json:"models"`
	}
	e.api(200, "GET", "/firmware/status?vendor=snom&model=M700", nil, &page)
	if len(page.Items) != 2 || len(page.Models) != 1 || page.Models[0].Target != "530.1" || page.Models[0].Devices != 2 ||
		page.Models[0].Pending != 0 || page.Models[0].Unsupported != 2 {
		t.Errorf("the fleet's status: items %+v, models %+v", page.Items, page.Models)
	}
	for _, it := range page.Items {
		if it.Status != "unsupported" {
			t.Errorf("the fleet's status of %s: %+v", it.MAC, it)
		}
	}

	// The admin removes them; nothing was removed behind their back.
	e.api(200, "GET", "/models/snom/M700/firmware", nil, nil)
	e.api(204, "DELETE", "/models/snom/M700/firmware", nil, nil)
	e.api(200, "PATCH", "/devices/"+ownMAC, map[string]any{"firmware": nil}, nil)
	for _, mac := range []string{modelMAC, ownMAC} {
		if st := e.deviceStatus(mac); st.Status != "none" || st.Target != "" {
			t.Errorf("%s after removing the targets: %+v", mac, st)
		}
	}
}
