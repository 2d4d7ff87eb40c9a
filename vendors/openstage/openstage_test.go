package openstage

import (
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

func driver(t testing.TB) *Driver {
	t.Helper()
	tm, err := templates.Load("openstage", "")
	if err != nil {
		t.Fatal(err)
	}
	return New(tm)
}

func post(body []byte) vendors.Request {
	return vendors.Request{Path: LoginPath, Method: vendors.MethodPost, Body: body, Transport: "https"}
}

func startUp(mac, model string) []byte {
	p := wpitest.New("", mac, model)
	p.ContactURI = "http://192.0.2.61:8085/contact_dls.html/ContactDLS"
	return p.Body("6A1F0C33D2B84E9F8C1D2E3F40516273", "start-up", "", "", p.BasicItems())
}

func TestIdentify(t *testing.T) {
	d := driver(t)
	for _, tc := range []struct {
		name string
		req  vendors.Request
		want vendors.Identity
	}{
		{"start-up", post(startUp("00:1A:E8:12:34:56", "OpenStage 40")),
			vendors.Identity{Vendor: Name, Model: "OpenStage 40", MAC: "001ae8123456", Firmware: "V3 R5.6.0", Kind: vendors.FileDevice, Score: vendors.ScorePath + vendors.ScoreOUI}},
		{"CP model", post(startUp("00:1A:E8:12:34:57", "OpenScape Desk Phone CP210")),
			vendors.Identity{Vendor: Name, Model: "OpenScape Desk Phone CP210", MAC: "001ae8123457", Firmware: "V3 R5.6.0", Kind: vendors.FileDevice, Score: vendors.ScorePath + vendors.ScoreOUI}},
		{"unknown device-type is kept as free text", post(startUp("00:01:E3:00:A9:F3", "OpenStage 55 G")),
			vendors.Identity{Vendor: Name, Model: "OpenStage 55 G", MAC: "0001e300a9f3", Firmware: "V3 R5.6.0", Kind: vendors.FileDevice, Score: vendors.ScorePath + vendors.ScoreOUI}},
		{"DHCP option 60", vendors.Request{Transport: "dhcp", MAC: "0013a9010203", VendorClass: "OptiIpPhone"},
			vendors.Identity{Vendor: Name, MAC: "0013a9010203", Score: vendors.ScoreOUI + vendors.ScoreVendorClass}},
		{"option 60 from a laptop's MAC", vendors.Request{Transport: "dhcp", MAC: "3c22fb010203", VendorClass: "OptiIpPhone"}, vendors.Identity{}},
		{"a GET", vendors.Request{Path: LoginPath, Transport: "http"}, vendors.Identity{}},
		{"another vendor's file", vendors.Request{Path: "y000000000096.cfg", Transport: "http"}, vendors.Identity{}},
	} {
		if got := d.Identify(tc.req); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzIdentify(f *testing.F) {
	d := driver(f)
	f.Add(startUp("00:1A:E8:12:34:56", "OpenStage 40"), "OptiIpPhone", "001ae8123456")
	f.Add([]byte(`<WorkpointMessage><Message nonce="zz"/></WorkpointMessage>`), "", "")
	f.Fuzz(func(t *testing.T, body []byte, class, mac string) {
		req := post(body)
		req.VendorClass, req.MAC = class, mac
		d.Identify(req)
		if _, err := d.Peek(req); err == nil {
			_, _ = d.Converse(req, sample(), vendors.Session{Messages: 1})
		}
	})
}

func sample() *vendors.Device {
	zone, _ := vendors.ResolveZone("Europe/Berlin", 2026)
	return &vendors.Device{MAC: "001ae8123456", Vendor: Name, Model: "OpenStage 60",
		Lines:    []vendors.Line{{Extension: "201", DisplayName: "Alice <&> Example", Password: "Sip-Pass-201"}},
		Settings: vendors.Settings{SIPServer: "pbx.example.com", SIPPort: 5060, SIPTransport: "tls", OutboundProxy: "sbc.example.com:5070", NTPServer: "pool.ntp.org", Language: "de", ToneScheme: "DE"},
		Zone:     zone,
		Keys: []vendors.Key{{Position: 3, Type: vendors.KeyBLF, Value: "1002", Label: "Bob"},
			{Position: 2, Module: 1, Type: vendors.KeyDTMF, Value: "*8"}, {Position: 12, Module: 2, Type: vendors.KeyURL, Value: "http://x/"}},
		MenuPassword: "123456", WithSecrets: true,
	}
}

func items(f *vendors.File) map[string]string {
	out := map[string]string{}
	m, _ := parseDLS(f.Body)
	for _, it := range m {
		out[it.ref()] = it.Value
	}
	return out
}

func TestItems(t *testing.T) {
	d := sample()
	var all []item
	for _, g := range configGroups(d) {
		all = append(all, g...)
	}
	got := map[string]string{}
	for _, x := range all {
		got[x.ref()] = x.Value
	}
	for k, want := range map[string]string{
		"display-id-unicode": "Alice + Example", "sip-transport-user": "2", "reg-port": "5060",
		"sgnl-gateway-addr-user": "sbc.example.com", "sgnl-gateway-port-user": "5070", "outbound-proxy-user": "true",
		"sntp-tz-offset": "60", "daylight-save-minutes": "60", "auto-daylight-save": "true", "country-iso": "DE",
		"function-key-def[3]": "59", "stimulus-led-control-uri[3]": "1002", "key-label-unicode[3]": "Bob",
		"function-key-def[302]": "54", "stimulus-DTMF-sequence[302]": "*8",
		"function-key-def[412]": "63", "send-url-address[412]": "http://x/",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	for _, x := range all {
		if x.Name == "sip-pwd" || x.Name == "admin-pwd" || strings.Contains(x.Value, "Sip-Pass") {
			t.Errorf("a configuration item carries a secret: %s", x.ref())
		}
	}
	sec := secretItems(d, 0)
	if len(sec) != 3 || sec[1].Name != "sip-pwd" || sec[2].Value != "123456" {
		t.Errorf("secret items: %+v", sec)
	}
	if sec := secretItems(d, 2); len(sec) != 2 || sec[0].Name != "sip-pwd" || sec[1].Name != "admin-pwd" {
		t.Errorf("secret items for maxItems=2: %+v", sec)
	}
}

// TestBLFCode: a BLF key's pickup code is the phone's blf-code (one per
// phone: the first BLF key's); without one nothing is written.
func TestBLFCode(t *testing.T) {
	refs := func(d *vendors.Device) map[string]string {
		got := map[string]string{}
		for _, g := range configGroups(d) {
			for _, x := range g {
				got[x.ref()] = x.Value
			}
		}
		return got
	}
	d := sample()
	if _, ok := refs(d)["blf-code"]; ok {
		t.Error("blf-code written without a pickup code")
	}
	d.Keys = append(d.Keys, vendors.Key{Position: 4, Type: vendors.KeySpeedDial, Value: "5", PickupCode: "*7"},
		vendors.Key{Position: 5, Type: vendors.KeyBLF, Value: "1003", PickupCode: "*8"},
		vendors.Key{Position: 6, Type: vendors.KeyBLF, Value: "1004", PickupCode: "*9"})
	if got := refs(d)["blf-code"]; got != "*8" {
		t.Errorf("blf-code = %q, want *8", got)
	}
}

// daylight-save is a flag and the amount daylight-save-minutes (README.md):
// a zone with DST leaves the flag to the phone's automatic DST, one
// without says false.
func TestItemsDaylightSave(t *testing.T) {
	for zone, want := range map[string]map[string]string{
		"Europe/Zurich": {"daylight-save-minutes": "60", "auto-daylight-save": "true", "daylight-save": ""},
		"Asia/Kolkata":  {"daylight-save": "false", "auto-daylight-save": "false", "daylight-save-minutes": "", "sntp-tz-offset": "330"},
	} {
		d := sample()
		d.Zone, _ = vendors.ResolveZone(zone, 2026)
		got := map[string]string{}
		for _, g := range configGroups(d) {
			for _, x := range g {
				got[x.ref()] = x.Value
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", zone, k, got[k], v)
			}
		}
	}
}

// Groups stay whole in a fragment unless larger than maxItems.
func TestFragments(t *testing.T) {
	gs := []group{{it("a", ""), it("b", "")}, {it("c", ""), it("d", ""), it("e", "")}, {it("f", "")}}
	got := fragments(gs, 4)
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 4 {
		t.Errorf("fragments(4): %v", got)
	}
	if got := fragments(gs, 2); len(got) != 3 || len(got[2]) != 2 { // a split group's tail may share
		t.Errorf("fragments(2): %v", got)
	}
	if got := fragments(gs, 0); len(got) != 1 || len(got[0]) != 6 {
		t.Errorf("unlimited: %v", got)
	}
}

func converse(t *testing.T, d *Driver, body []byte, dev *vendors.Device, s vendors.Session) vendors.Turn {
	t.Helper()
	turn, err := d.Converse(post(body), dev, s)
	if err != nil {
		t.Fatal(err)
	}
	return turn
}

func action(t *testing.T, f *vendors.File) string {
	t.Helper()
	_, a := parseDLSAction(f.Body)
	return a
}

// local-changes and inventory-changes are never answered with a write
// (no loop); what they report is kept; status reports the deployment.
func TestNoLoopAndReports(t *testing.T) {
	d := driver(t)
	p := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 60")
	for _, reason := range []string{"local-changes", "inventory-changes"} {
		body := p.Body("AB12", reason, "", "", append(p.BasicItems(), wpitest.Item{Name: "key-module", Index: "1", Value: "Key Module 60"},
			wpitest.Item{Name: "admin-pwd", Value: "999999"}))
		turn := converse(t, d, body, sample(), vendors.Session{Messages: 1})
		if a := action(t, turn.File); a != actionCleanUp || !turn.Close {
			t.Errorf("%s answered %s", reason, a)
		}
		if turn.Reported["key-module[1]"] != "Key Module 60" || turn.Reported["device-type"] != "OpenStage 60" {
			t.Errorf("%s: reported %v", reason, turn.Reported)
		}
		if _, ok := turn.Reported["admin-pwd"]; ok {
			t.Errorf("a secret item was kept as reported")
		}
	}
	body := p.Body("AB13", "status", "", "", []wpitest.Item{{Name: "file-deployment-status", Value: "ok"}})
	if turn := converse(t, d, body, sample(), vendors.Session{Messages: 1}); turn.Firmware != "ok" || !turn.Close {
		t.Errorf("status: %+v", turn)
	}
}

// Failed items are listed per item; firmware goes out after the
// configuration when the core offers it; the loop guard ends the session.
func TestFailedItemsFirmwareAndCap(t *testing.T) {
	d := driver(t)
	dev := sample()
	dev.WithSecrets = false
	dev.FirmwareURL, dev.FirmwareVersion = "https://prov.example.com/prov/firmware/os60.img", "V3 R5.7.0"
	p := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 60")
	turn := converse(t, d, p.Body("AB14", "start-up", "", "", p.BasicItems()), dev, vendors.Session{Messages: 1})
	s := vendors.Session{Messages: 2, State: turn.State}
	reply := p.Body("AB14", "reply-to", "WriteItems", "failed", []wpitest.Item{{Name: "function-key-def", Index: "302", Status: "invalid index"}})
	turn = converse(t, d, reply, dev, s)
	if !turn.WantSecrets || len(turn.Failed) != 1 || turn.Failed[0] != "function-key-def[302]: invalid index" {
		t.Fatalf("after a failed item: %+v", turn)
	}
	s.SecretsOffered = true
	turn = converse(t, d, reply, dev, s)
	if a := action(t, turn.File); a != actionSoftware || turn.Secret || turn.Close {
		t.Fatalf("firmware: %s %+v", a, turn)
	}
	if m := items(turn.File); m["file-https-base-url"] != dev.FirmwareURL || m["file-type"] != "APP" || m["file-sw-version"] != "V3 R5.7.0" {
		t.Errorf("SoftwareDeployment items: %v", m)
	}
	turn = converse(t, d, p.Body("AB14", "reply-to", "SoftwareDeployment", "accepted", nil), dev, vendors.Session{Messages: 4, State: turn.State})
	if a := action(t, turn.File); a != actionCleanUp || !turn.JobDone {
		t.Errorf("after the firmware: %s %+v", a, turn)
	}
	// A reply-to for an action we did not send ends the session.
	turn = converse(t, d, p.Body("AB15", "reply-to", "Restart", "accepted", nil), dev, vendors.Session{Messages: 2, State: &state{action: actionWriteItems}})
	if a := action(t, turn.File); a != actionCleanUp {
		t.Errorf("unexpected reply-to: %s", a)
	}
	turn = converse(t, d, p.Body("AB16", "start-up", "", "", p.BasicItems()), dev, vendors.Session{Messages: vendors.MaxDialogueMessages - 1})
	if a := action(t, turn.File); a != actionCleanUp {
		t.Errorf("at the cap: %s", a)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, body := range []string{
		``, `<x/>`, `<WorkpointMessage><Message nonce=""><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>`,
		`<WorkpointMessage><Message nonce="zz"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>`,
		`<WorkpointMessage><Message nonce="AB"><ReasonForContact>hello</ReasonForContact></Message></WorkpointMessage>`,
		`<WorkpointMessage><Message nonce="AB" maxItems="0"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>`,
		`<WorkpointMessage><Message nonce="AB" maxItems="x"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>`,
	} {
		if _, err := parse([]byte(body)); err == nil {
			t.Errorf("parsed %q", body)
		}
	}
}

func TestCheckParam(t *testing.T) {
	d := driver(t)
	for name, want := range map[string]bool{"vlan-id": true, "function-key-def[5]": true, "dcmp-url": true, "sip-pwd": false,
		"admin-pwd": false, "dls-mode-secure": false, "file-https-base-url": false, "made-up": false} {
		if ok, _ := d.CheckParam("OpenStage 40", name); ok != want {
			t.Errorf("%s: %v", name, ok)
		}
	}
	if _, why := d.CheckParam("OpenStage 40", "admin-pwd"); why == "" {
		t.Error("admin-pwd refused without a reason")
	}
}

func TestContactMe(t *testing.T) {
	d := driver(t)
	r, err := d.ContactMe(map[string]string{"contact-me-uri": "http://192.0.2.61:8085/contact_dls.html/ContactDLS"}, "192.0.2.10", 18443)
	if err != nil || r.Method != "POST" || string(r.Body) != "ContactMe=true&dls_ip_addr=192.0.2.10&dls_ip_port=18443" || r.Want != 204 ||
		r.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("%+v %v", r, err)
	}
	if _, err := d.ContactMe(map[string]string{"contact-me-uri": "ftp://x"}, "", 0); err == nil {
		t.Error("a contact-me to a non-HTTP URI")
	}
}

func TestFirmwareSpelling(t *testing.T) {
	d := driver(t)
	if !vendors.SameFirmware(d, "V3 R5.7.0", "V3R5.7.0") || vendors.SameFirmware(d, "V3 R5.6.0", "V3R5.7.0") {
		t.Error("NormaliseFirmware")
	}
	for in, want := range map[string]string{"V3R5.7.0": "V3 R5.7.0", "v1r5.6.53": "V1 R5.6.53", "V3 R5.7.0": "V3 R5.7.0", "2.1": "2.1"} {
		if got := phoneVersion(in); got != want {
			t.Errorf("phoneVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
