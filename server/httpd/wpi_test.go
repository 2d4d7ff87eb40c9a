package httpd_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// wpiEnv is the edge with its WPI listener (TLS, loopback) over a real
// core and SQLite file, and the API on plain HTTP.
type wpiEnv struct {
	*env
	wpi, http string // base URLs
}

const (
	osMAC     = "001ae8123456"
	osMACWire = "00:1A:E8:12:34:56" // as the phone reports it
	osPass    = "Sip-Pass-201-openstage"
)

func newWPIEnv(t *testing.T) *wpiEnv { return newWPIEnvWith(t, "", false) }

// newWPIEnvWith is newWPIEnv with a public URL and, when fw, the
// firmware store and rollout routes.
func newWPIEnvWith(t *testing.T, publicURL string, fw bool) *wpiEnv {
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
	dl := provision.NewStoredDialogues(st, nil)
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log, Dialogues: dl, DialogueAddr: "127.0.0.1:18443", PublicURL: publicURL}, st)
	cfg := httpd.Config{Phones: phones, Health: phones, Inventory: inv, Resync: inv, Log: log, AdminToken: token, Dialogues: dl}
	if fw {
		store, err := firmware.Open(context.Background(), dir+"/firmware", st, reg, firmware.WithLog(log))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Firmware, cfg.Rollout = store, inv
	}
	srv, err := httpd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewUnstartedServer(srv.WPIHandler())
	w.StartTLS()
	t.Cleanup(w.Close)
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return &wpiEnv{env: &env{t: t, srv: srv, log: logBuf}, wpi: w.URL, http: h.URL}
}

// setupOpenStage is the acceptance's first step: settings, account 201
// with its password, and the OpenStage 40 carrying it (window open).
func (e *wpiEnv) setupOpenStage(keys ...map[string]any) {
	e.t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com", "sip_port": 5060,
		"sip_transport": "udp", "timezone": "Europe/Berlin", "language": "de", "tone_scheme": "DE"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice Example", "password": osPass}, nil)
	dev := map[string]any{"mac": osMACWire, "model": "OpenStage 40", "accounts": []string{"201"}}
	if len(keys) > 0 {
		dev["keys"] = keys
	}
	e.must(http.StatusCreated, "POST", "/api/v1/devices", dev, nil)
	if d := e.device(osMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		e.t.Fatalf("new device's window is %q, want open", d.Disclosure.State)
	}
}

func (e *wpiEnv) phone() *wpitest.Phone {
	return wpitest.New(e.wpi+"/DeploymentService/LoginService", osMACWire, "OpenStage 40")
}

// session plays a session and checks every answer echoes the nonce.
func session(t *testing.T, p *wpitest.Phone, reason string, answer func(r *wpitest.Reply) (string, []wpitest.Item)) []*wpitest.Reply {
	t.Helper()
	rs, err := p.Session(reason, answer)
	if err != nil {
		t.Fatalf("%s session: %v", reason, err)
	}
	for _, r := range rs[1:] {
		if r.Nonce != rs[0].Nonce {
			t.Fatalf("nonce changed within the session: %q then %q", rs[0].Nonce, r.Nonce)
		}
	}
	return rs
}

func actions(rs []*wpitest.Reply) string {
	var a []string
	for _, r := range rs {
		a = append(a, r.Action)
	}
	return strings.Join(a, " ")
}

// The acceptance: start-up gets WriteItems with the registrar, identity
// and password items and the phone's nonce, the password in the last
// WriteItems only after the others were accepted; a second session gets
// the same items without sip-pwd; a BLF key on position 3 is
// function-key-def[3] = 59 with its stimulus-led-control-uri[3].
func TestWPIStartUpSecretsOnce(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage(map[string]any{"position": 3, "type": "blf", "value": "1002", "label": "Bob"})
	p := e.phone()
	rs := session(t, p, "start-up", nil)
	if got := actions(rs); got != "WriteItems WriteItems CleanUp" {
		t.Fatalf("start-up session: %s", got)
	}
	w := wpitest.Written(rs)
	for k, want := range map[string]string{"reg-addr": "pbx.example.com", "sip-user-id": "201", "sip-pwd": osPass,
		"display-id-unicode": "Alice Example", "function-key-def[3]": "59", "stimulus-led-control-uri[3]": "1002",
		"key-label-unicode[3]": "Bob", "e164": "201", "sip-transport-user": "0", "language-iso": "de"} {
		if w[k] != want {
			t.Errorf("%s = %q, want %q", k, w[k], want)
		}
	}
	if _, ok := rs[0].Value("sip-pwd"); ok {
		t.Error("sip-pwd in the first WriteItems: it must wait until the phone accepted the rest")
	}
	if v, _ := rs[1].Value("sip-pwd"); v != osPass {
		t.Errorf("last WriteItems: %s", rs[1].Body)
	}
	if a, ok := rs[1].Value("admin-pwd"); !ok || len(a) != 6 {
		t.Errorf("admin-pwd missing or not six digits in the last WriteItems: %q", a)
	}
	if d := e.settled(osMAC, autoprov.DisclosureConsumed); d.Disclosure.State != autoprov.DisclosureConsumed {
		t.Fatalf("window after the secrets went out: %q", d.Disclosure.State)
	}
	if strings.Contains(e.log.String(), osPass) {
		t.Error("the SIP password is in the log")
	}

	rs2 := session(t, p, "start-up", func(*wpitest.Reply) (string, []wpitest.Item) {
		return "failed", []wpitest.Item{{Name: "function-key-def", Index: "3", Status: "invalid index"}}
	})
	var dd struct {
		Dialogue *struct {
			Pending     bool              `json:"pending"`
			Reported    map[string]string `json:"reported"`
			FailedItems []string          `json:"failed_items"`
		} `json:"dialogue"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/devices/"+osMAC, nil, &dd)
	if dd.Dialogue == nil || dd.Dialogue.Pending || dd.Dialogue.Reported["device-type"] != "OpenStage 40" ||
		len(dd.Dialogue.FailedItems) != 1 || dd.Dialogue.FailedItems[0] != "function-key-def[3]: invalid index" {
		t.Errorf("the device's dialogue: %+v", dd.Dialogue)
	}
	if got := actions(rs2); got != "WriteItems CleanUp" {
		t.Fatalf("second session: %s", got)
	}
	w2 := wpitest.Written(rs2)
	if _, ok := w2["sip-pwd"]; ok {
		t.Fatal("second session got sip-pwd")
	}
	if _, ok := w2["admin-pwd"]; ok {
		t.Fatal("second session got admin-pwd")
	}
	for k, v := range w {
		if k != "sip-pwd" && k != "admin-pwd" && w2[k] != v {
			t.Errorf("second session: %s = %q, first %q", k, w2[k], v)
		}
	}
}

// maxItems="5": the configuration arrives in WriteItems of at most 5
// items, each answered, the password still last.
func TestWPIFragments(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage(map[string]any{"position": 3, "type": "blf", "value": "1002", "label": "Bob"},
		map[string]any{"position": 4, "type": "speed_dial", "value": "1003", "label": "Carol"})
	p := e.phone()
	p.MaxItems = 5
	rs := session(t, p, "start-up", nil)
	if len(rs) < 5 {
		t.Fatalf("only %d answers for maxItems=5: %s", len(rs), actions(rs))
	}
	for i, r := range rs {
		if len(r.Items) > 5 {
			t.Errorf("answer %d (%s) has %d items", i, r.Action, len(r.Items))
		}
	}
	last := rs[len(rs)-2]
	if v, _ := last.Value("sip-pwd"); v != osPass {
		t.Errorf("the last WriteItems does not carry the password: %s", last.Body)
	}
	w := wpitest.Written(rs)
	if w["function-key-def[4]"] != "1" || w["select-dial[4]"] != "1003" || w["reg-addr"] != "pbx.example.com" {
		t.Errorf("fragments lost items: %v", w)
	}
}

// busy: CleanUp with send-solicited, nothing secret spent, DCMP says
// come in; the solicited session gets the pending items and the job is
// done (DCMP 200).
func TestWPIBusyThenSolicited(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage()
	p := e.phone()
	rs := session(t, p, "start-up", func(*wpitest.Reply) (string, []wpitest.Item) { return "busy", nil })
	if got := actions(rs); got != "WriteItems CleanUp" {
		t.Fatalf("busy session: %s", got)
	}
	if v, _ := rs[1].Value("send-solicited"); v != "true" {
		t.Fatalf("CleanUp after busy: %s", rs[1].Body)
	}
	if d := e.device(osMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("a busy phone spent the window: %q", d.Disclosure.State)
	}
	for _, base := range []string{e.http, e.wpi} {
		if code, err := wpitest.Poll(p.Client(), base, osMACWire); err != nil || code != http.StatusAccepted {
			t.Fatalf("DCMP at %s while the job waits: %d %v", base, code, err)
		}
	}
	rs = session(t, p, "solicited", nil)
	if w := wpitest.Written(rs); w["sip-pwd"] != osPass || w["reg-addr"] != "pbx.example.com" {
		t.Fatalf("solicited session: %s %v", actions(rs), w)
	}
	for _, base := range []string{e.http, e.wpi} {
		if code, err := wpitest.Poll(p.Client(), base, osMACWire); err != nil || code != http.StatusOK {
			t.Fatalf("DCMP at %s after the job: %d %v", base, code, err)
		}
	}
}

// Resync sends a contact-me to the URI the phone reported (a listener the
// test runs, answering 204 as the phone does), the job waits (DCMP 202),
// and the solicited session gets the change; DCMP 200 after.
func TestWPIContactMe(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage()
	l, err := wpitest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := e.phone()
	p.ContactURI = l.URL
	session(t, p, "start-up", nil)
	if code, _ := wpitest.Poll(http.DefaultClient, e.http, osMACWire); code != http.StatusOK {
		t.Fatalf("DCMP with nothing pending: %d", code)
	}

	var res struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/devices/"+osMAC, map[string]any{"label": "Reception"}, nil)
	// The change itself queued the job and sent a contact-me.
	body, err := l.Wait(10e9)
	if err != nil {
		t.Fatal(err)
	}
	if body != "ContactMe=true&dls_ip_addr=127.0.0.1&dls_ip_port=18443" {
		t.Fatalf("contact-me body %q", body)
	}
	if code, _ := wpitest.Poll(http.DefaultClient, e.http, osMACWire); code != http.StatusAccepted {
		t.Fatalf("DCMP while the job waits: %d", code)
	}
	// A resync inside the contact gap is queued, not sent, and says why.
	e.must(http.StatusOK, "POST", "/api/v1/devices/"+osMAC+"/resync", nil, &res)
	if res.Status != autoprov.ResyncQueued || !strings.Contains(res.Detail, "contact gap") || len(l.Bodies()) != 1 {
		t.Fatalf("resync inside the contact gap: %+v, %d contact-me sent", res, len(l.Bodies()))
	}
	rs := session(t, p, "solicited", nil)
	if w := wpitest.Written(rs); w["display-id-unicode"] != "Alice Example" || w["reg-addr"] != "pbx.example.com" {
		t.Fatalf("solicited session: %v", w)
	}
	if code, _ := wpitest.Poll(http.DefaultClient, e.http, osMACWire); code != http.StatusOK {
		t.Fatalf("DCMP after the job: %d", code)
	}
}

// A reply-to whose nonce belongs to no open session, one without the
// session cookie, and replays of a closed session's messages change
// nothing and consume no window; an unknown phone gets CleanUp only.
func TestWPIForgedAndReplayed(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage()
	p := e.phone()

	if r, err := p.ReplyTo(wpitest.Nonce(), "WriteItems", "accepted"); err == nil || r.Status != http.StatusNotFound {
		t.Fatalf("reply-to with a forged nonce: %v", err)
	}
	open, err := p.Open("start-up")
	if err != nil || open.Action != "WriteItems" {
		t.Fatalf("start-up: %v", err)
	}
	startUp := p.Body(open.Nonce, "start-up", "", "", p.BasicItems())
	thief := e.phone() // knows the nonce (it saw the start-up) but not the cookie
	if r, err := thief.ReplyTo(open.Nonce, "WriteItems", "accepted"); err == nil || r.Status != http.StatusNotFound {
		t.Fatalf("reply-to without the session cookie: %v", err)
	}
	if _, err := thief.Post(startUp); err == nil {
		t.Fatal("a replayed start-up (open session's nonce) was answered")
	}
	if d := e.device(osMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("window after forged messages: %q", d.Disclosure.State)
	}
	// The phone goes on: the secrets go out once.
	r, err := p.ReplyTo(open.Nonce, "WriteItems", "accepted")
	if err != nil || r.Action != "WriteItems" {
		t.Fatalf("secrets message: %v %s", err, r.Body)
	}
	last := p.Body(open.Nonce, "reply-to", "WriteItems", "accepted", nil)
	if r, err = p.Post(last); err != nil || r.Action != "CleanUp" {
		t.Fatalf("end: %v", err)
	}
	e.settled(osMAC, autoprov.DisclosureConsumed)
	e.must(http.StatusOK, "POST", "/api/v1/devices/"+osMAC+"/disclosure", nil, nil)
	for name, body := range map[string][]byte{"start-up": startUp, "reply-to": last} {
		if r, err := p.Post(body); err == nil || r.Status != http.StatusNotFound {
			t.Errorf("replayed %s of a closed session: %v", name, err)
		}
	}
	if d := e.device(osMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("replays consumed the re-opened window: %q", d.Disclosure.State)
	}

	stranger := wpitest.New(e.wpi+"/DeploymentService/LoginService", "00:1A:E8:00:00:99", "OpenScape Desk Phone CP710")
	rs := session(t, stranger, "start-up", nil)
	if got := actions(rs); got != "CleanUp" {
		t.Fatalf("unknown phone: %s", got)
	}
	if d := e.device("001ae8000099"); d.State != "unassigned" {
		t.Fatalf("unknown phone not in the inbox: %+v", d)
	}
}

// Firmware of the rollout goes out as SoftwareDeployment after the
// configuration when the phone reports another version; the start-up
// after the update reports the target and the status says on target.
func TestWPIFirmware(t *testing.T) {
	const public = "http://prov.example.com:8080/"
	e := newWPIEnvWith(t, public, true)
	e.setupOpenStage()
	req := httptest.NewRequest("POST", "/api/v1/firmware?vendor=openstage&models=OpenStage%2040&version=V3R5.7.0&name=os40.img", bytes.NewReader(bytes.Repeat([]byte{7}, 4096)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	if rec := e.do(req); rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/models/openstage/OpenStage%2040/firmware", map[string]any{"version": "V3R5.7.0", "stage": 100}, nil)
	p := e.phone()
	rs := session(t, p, "start-up", nil)
	if got := actions(rs); got != "WriteItems WriteItems SoftwareDeployment CleanUp" {
		t.Fatalf("session with firmware due: %s", got)
	}
	sd := rs[2]
	u, _ := sd.Value("file-https-base-url")
	if !strings.HasPrefix(u, public+"prov/firmware/") || !strings.HasSuffix(u, "/os40.img") {
		t.Errorf("file-https-base-url %q", u)
	}
	// The URL the phone is given is one the download endpoint serves:
	// the same path on this server answers the uploaded image.
	if r, err := http.Get(e.http + "/" + strings.TrimPrefix(u, public)); err != nil {
		t.Errorf("download: %v", err)
	} else {
		got, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !bytes.Equal(got, bytes.Repeat([]byte{7}, 4096)) {
			t.Errorf("download of %s: %d, %d bytes", u, r.StatusCode, len(got))
		}
	}
	if v, _ := sd.Value("file-sw-version"); v != "V3 R5.7.0" {
		t.Errorf("file-sw-version %q", v)
	}
	var d struct {
		FirmwareStatus struct{ Status string } `json:"firmware_status"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/devices/"+osMAC, nil, &d)
	if d.FirmwareStatus.Status != "upgrading" {
		t.Errorf("status while the phone upgrades: %q", d.FirmwareStatus.Status)
	}
	// The phone reports the deployment, then starts on the new image.
	r, err := p.Post(p.Body(wpitest.Nonce(), "status", "", "", append(p.BasicItems(), wpitest.Item{Name: "file-deployment-status", Value: "ok"})))
	if err != nil || r.Action != "CleanUp" {
		t.Fatalf("status contact: %v %s", err, r.Action)
	}
	p.Software = "V3 R5.7.0"
	if got := actions(session(t, p, "start-up", nil)); got != "WriteItems CleanUp" {
		t.Fatalf("session on the target: %s", got)
	}
	e.must(http.StatusOK, "GET", "/api/v1/devices/"+osMAC, nil, &d)
	if d.FirmwareStatus.Status != "on target" {
		t.Errorf("status after the update: %q", d.FirmwareStatus.Status)
	}
}

// A phone unknown at its start-up lands in the inbox with its
// contact-me-uri; adopting it asks it to call, and its solicited session
// gets the configuration.
func TestWPIAdoptionContactsThePhone(t *testing.T) {
	e := newWPIEnv(t)
	l, err := wpitest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := e.phone()
	p.ContactURI = l.URL
	if got := actions(session(t, p, "start-up", nil)); got != "CleanUp" {
		t.Fatalf("unknown phone: %s", got)
	}
	if d := e.device(osMAC); d.State != "unassigned" {
		t.Fatalf("not in the inbox: %+v", d)
	}
	e.setupOpenStage()
	if _, err := l.Wait(10e9); err != nil {
		t.Fatal("adoption sent no contact-me: ", err)
	}
	if w := wpitest.Written(session(t, p, "solicited", nil)); w["sip-pwd"] != osPass || w["reg-addr"] != "pbx.example.com" {
		t.Fatalf("solicited session after adoption: %v", w)
	}
}

// A key profile update, a bulk change and a settings change each ask the
// OpenStage phones they touch to call (each phone's contact-me listener
// gets one request, its DCMP poll answers 202), and a phone asked less
// than 300 s ago is not asked again: its job is queued.
func TestWPIChangesContactPhones(t *testing.T) {
	e := newWPIEnv(t)
	e.setupOpenStage()
	e.must(http.StatusCreated, "POST", "/api/v1/key-profiles", `{"name":"desk","keys":[]}`, nil)
	macs := []string{osMACWire, "00:1A:E8:12:34:57", "00:1A:E8:12:34:58"}
	e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": macs[1], "model": "OpenStage 40", "accounts": []string{"201"}, "key_profile": "desk"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": macs[2], "model": "OpenStage 40", "accounts": []string{"201"}}, nil)
	var ls []*wpitest.ContactListener
	for _, mac := range macs {
		l, err := wpitest.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ls = append(ls, l)
		p := wpitest.New(e.wpi+"/DeploymentService/LoginService", mac, "OpenStage 40")
		p.ContactURI = l.URL
		session(t, p, "start-up", nil)
	}
	contacted := func(i int, why string) {
		t.Helper()
		if _, err := ls[i].Wait(10e9); err != nil {
			t.Fatalf("%s: no contact-me to %s: %v", why, macs[i], err)
		}
		if code, _ := wpitest.Poll(http.DefaultClient, e.http, macs[i]); code != http.StatusAccepted {
			t.Fatalf("%s: DCMP poll of %s: %d", why, macs[i], code)
		}
	}
	e.must(http.StatusOK, "PUT", "/api/v1/key-profiles/desk", `{"name":"desk","description":"front desk","keys":[]}`, nil)
	contacted(1, "key profile update")
	e.must(http.StatusOK, "POST", "/api/v1/bulk", map[string]any{"devices": []map[string]any{{"mac": macs[2], "label": "Lobby"}}}, nil)
	contacted(2, "bulk change")
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx2.example.com"}, nil)
	contacted(0, "settings change")
	// Phones 1 and 2 were asked moments ago: queued, not asked again.
	for _, i := range []int{1, 2} {
		mac := strings.ToLower(strings.ReplaceAll(macs[i], ":", ""))
		waitFor(t, func() bool {
			var page struct{ Items []struct{ Detail string } }
			e.must(http.StatusOK, "GET", "/api/v1/audit?mac="+mac, nil, &page)
			for _, ev := range page.Items {
				if strings.Contains(ev.Detail, "configuration changed: queued") && strings.Contains(ev.Detail, "contact gap") {
					return true
				}
			}
			return false
		}, "the settings change is not audited as queued by the contact gap for "+mac)
		if n := len(ls[i].Bodies()); n != 1 {
			t.Fatalf("%s got %d contact-me within the contact gap", macs[i], n)
		}
	}
	rs := session(t, wpitest.New(e.wpi+"/DeploymentService/LoginService", macs[1], "OpenStage 40"), "solicited", nil)
	if w := wpitest.Written(rs); w["reg-addr"] != "pbx2.example.com" {
		t.Fatalf("the solicited session after the settings change wrote %v", w)
	}
}

// waitFor polls cond every 5 ms for up to 30 s and fails with why.
func waitFor(t *testing.T, cond func() bool, why string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(why)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
