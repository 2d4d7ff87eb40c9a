package httpd_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov"
)

const (
	ciscoMAC = "00562b0429da"
	ciscoUA  = "Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)"
	pass201  = "Sip-Pass-201-xyz"
	pass202  = "Sip-Pass-202-xyz"
)

// flatProfile parses a Cisco flat profile into element name -> text,
// failing unless it is one <flat-profile> document.
func flatProfile(t *testing.T, body string) map[string]string {
	t.Helper()
	var doc struct {
		XMLName xml.Name
		Params  []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil || doc.XMLName.Local != "flat-profile" {
		t.Fatalf("not a flat profile (%v, root %q):\n%s", err, doc.XMLName.Local, body)
	}
	out := map[string]string{}
	for _, p := range doc.Params {
		out[p.XMLName.Local] = p.Value
	}
	return out
}

// ciscoGet fetches url as the 8851 does (its User-Agent, and auth when
// not "") and returns the status and body.
func ciscoGet(t *testing.T, c *http.Client, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", ciscoUA)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ciscoSetup stores the settings and accounts 201 and 202, and creates
// the 8851 of the acceptance through the API (model only: the vendor
// follows from it).
func (e *env) ciscoSetup() {
	e.t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com", "sip_port": 5060,
		"sip_transport": "udp", "timezone": "Europe/Berlin", "language": "de"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice", "password": pass201}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob", "password": pass202}, nil)
	var d struct {
		Vendor string `json:"vendor"`
		Model  string `json:"model"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": "00:56:2b:04:29:da", "model": "8851", "accounts": []string{"201", "202"}}, &d)
	if d.Vendor != "cisco" || d.Model != "8851" {
		e.t.Fatalf("device %+v, want cisco 8851", d)
	}
}

var pwdOption = regexp.MustCompile(`^\[--uid (\S+) --pwd (\S+)\](\S+)$`)

// TestCiscoAcceptance is issue 12's acceptance over the real API, edge,
// core and SQLite: the bootstrap's Profile_Rule points at this server's
// per-device URL; that URL gives lines 1 and 2 with their passwords the
// first time inside the window, and the fallback name gives them without
// any after, to the phone presenting the credential its Profile_Rule
// carries (Basic over HTTPS, as it answers a challenge), which applies
// it: from then on an unauthenticated fetch gets a 401 challenge.
func TestCiscoAcceptance(t *testing.T) {
	e := newEnv(t, options{})
	e.ciscoSetup()
	ts := e.serve()

	code, body := ciscoGet(t, http.DefaultClient, ts.URL+"/prov/8851-3PCC.xml", "")
	if code != 200 {
		t.Fatalf("bootstrap: %d\n%s", code, body)
	}
	boot := flatProfile(t, body)
	wantRule := ts.URL + "/prov/$MA.xml"
	if boot["Profile_Rule"] != wantRule || boot["Profile_Rule_B"] != wantRule {
		t.Fatalf("bootstrap rules %q, %q; want %q", boot["Profile_Rule"], boot["Profile_Rule_B"], wantRule)
	}
	for _, s := range []string{pass201, pass202, "User_ID_1_"} {
		if strings.Contains(body, s) {
			t.Errorf("bootstrap carries %q", s)
		}
	}
	if d := e.device(ciscoMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("window %q after the bootstrap, want open", d.Disclosure.State)
	}

	// The phone expands $MA and fetches its own file: lines and passwords.
	deviceURL := strings.ReplaceAll(wantRule, "$MA", ciscoMAC)
	code, body = ciscoGet(t, http.DefaultClient, deviceURL, "")
	if code != 200 {
		t.Fatalf("per-device file: %d\n%s", code, body)
	}
	first := flatProfile(t, body)
	for k, v := range map[string]string{"User_ID_1_": "201", "Password_1_": pass201, "User_ID_2_": "202", "Password_2_": pass202,
		"Display_Name_2_": "Bob", "Proxy_1_": "pbx.example.com:5060", "Resync_From_SIP": "Yes", "Webex_Onboard_Enable": "No",
		"Time_Zone": "GMT+01:00", "Extension_1_": "1", "Extension_2_": "2", "Extension_3_": "Disabled"} {
		if first[k] != v {
			t.Errorf("first fetch: %s = %q, want %q", k, first[k], v)
		}
	}
	if first["Admin_Password"] == "" || first["User_Password"] == "" {
		t.Error("first fetch lacks the admin or user password")
	}
	m := pwdOption.FindStringSubmatch(first["Profile_Rule"])
	if m == nil || m[1] != ciscoMAC || m[3] != wantRule {
		t.Fatalf("first fetch's Profile_Rule %q: want the credential before %s", first["Profile_Rule"], wantRule)
	}
	cred := m[2]
	e.settled(ciscoMAC, autoprov.DisclosureConsumed)
	e.completed(ciscoMAC)

	// After the window: the fallback name, same file without any secret,
	// to the phone answering with the credential of its rule (as it does
	// a challenge: Basic over HTTPS here).
	tlsSrv := httptest.NewTLSServer(e.srv.Handler())
	t.Cleanup(tlsSrv.Close)
	for _, p := range []string{"/prov/Cisco/CP-8851-3PCC/" + ciscoMAC + ".cfg", "/prov/" + ciscoMAC + ".xml"} {
		code, body = ciscoGet(t, tlsSrv.Client(), tlsSrv.URL+p, basic(ciscoMAC, cred))
		if code != 200 {
			t.Fatalf("%s after the window: %d", p, code)
		}
		after := flatProfile(t, body)
		if after["User_ID_1_"] != "201" || after["User_ID_2_"] != "202" {
			t.Errorf("%s: lines missing", p)
		}
		for _, s := range []string{pass201, pass202, cred, first["Admin_Password"], "Password_", "Profile_Rule>"} {
			if strings.Contains(body, s) {
				t.Errorf("%s after the window carries %q", p, s)
			}
		}
	}
	if got := e.cred(ciscoMAC).Credential.State; got != "applied" {
		t.Fatalf("credential %q after presenting it, want applied", got)
	}
	resp, err := http.Get(ts.URL + "/prov/" + ciscoMAC + ".xml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), " "), "Digest") {
		t.Errorf("applied, without the credential: %d %v; want a 401 Digest challenge", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
}

// TestCiscoKeys: a BLF key on position 3 renders as Extended_Function_3_
// with fnc=blf; a position the 8851 lacks (11), a module it does not take
// (3) and a key type the driver does not map are refused at save.
func TestCiscoKeys(t *testing.T) {
	e := newEnv(t, options{})
	e.ciscoSetup()
	e.must(http.StatusOK, "PUT", "/api/v1/devices/"+ciscoMAC+"/keys", []map[string]any{
		{"position": 3, "type": "blf", "value": "202", "label": "Bob"},
		{"module": 1, "position": 36, "type": "speed_dial", "value": "300"},
	}, nil)
	rec := e.phone("GET", "/prov/"+ciscoMAC+".xml", ciscoUA)
	if rec.Code != 200 {
		t.Fatalf("fetch: %d", rec.Code)
	}
	p := flatProfile(t, rec.Body.String())
	if p["Extended_Function_3_"] != "fnc=blf+sd+cp;sub=202@$PROXY;vid=1;nme=Bob" || p["Extension_3_"] != "Disabled" {
		t.Errorf("position 3: %q %q", p["Extension_3_"], p["Extended_Function_3_"])
	}
	if p["Unit_1_Key_36_"] != "fnc=sd;ext=300@$PROXY;vid=1" || p["Number_of_Units"] != "1" {
		t.Errorf("module key: %q, units %q", p["Unit_1_Key_36_"], p["Number_of_Units"])
	}
	for _, bad := range []map[string]any{
		{"position": 11, "type": "blf", "value": "202"},
		{"module": 3, "position": 1, "type": "blf", "value": "202"},
		{"position": 4, "type": "intercom", "value": "202"},
	} {
		wantErr(t, e.api("PUT", "/api/v1/devices/"+ciscoMAC+"/keys", []map[string]any{bad}), http.StatusBadRequest, "-")
	}
}

// TestCiscoFallbackWalk walks the order an 8851 follows from a DHCP URL
// (cisco-mpp.md §2.1): the URL itself, then /8851-3PCC.xml, then
// /Cisco/CP-8851-3PCC/<mac>.cfg, taking the first that answers 200; a
// bootstrap then leads, through its Profile_Rule_B in the same resync, to
// the per-device file. Both walks end with the file that carries the
// phone's lines and, the first time, its passwords: one where the
// bootstrap answers, and one behind a front end that routes only /Cisco/
// (Cisco's advice for DNS SRV).
func TestCiscoFallbackWalk(t *testing.T) {
	for _, c := range []struct {
		name      string
		cisconly  bool
		wantSteps []string
	}{
		{"bootstrap", false, []string{"404 /prov", "200 /prov/8851-3PCC.xml", "200 /prov/" + ciscoMAC + ".xml"}},
		{"cisco-dir-only", true, []string{"404 /prov", "404 /prov/8851-3PCC.xml", "200 /prov/Cisco/CP-8851-3PCC/" + ciscoMAC + ".cfg"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, options{})
			e.ciscoSetup()
			h := e.srv.Handler()
			if c.cisconly {
				inner := h
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/prov" && !strings.HasPrefix(r.URL.Path, "/prov/Cisco/") {
						http.NotFound(w, r)
						return
					}
					inner.ServeHTTP(w, r)
				})
			}
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)

			option := ts.URL + "/prov" // what DHCP option 160 carries
			var steps []string
			var final map[string]string
			for _, url := range []string{option, option + "/8851-3PCC.xml", option + "/Cisco/CP-8851-3PCC/" + ciscoMAC + ".cfg"} {
				code, body := ciscoGet(t, http.DefaultClient, url, "")
				steps = append(steps, strconv.Itoa(code)+" "+strings.TrimPrefix(url, ts.URL))
				if code != 200 {
					continue
				}
				final = flatProfile(t, body)
				if rule := final["Profile_Rule_B"]; rule != "" { // a bootstrap: the same resync goes on
					next := strings.ReplaceAll(rule, "$MA", ciscoMAC)
					code, body = ciscoGet(t, http.DefaultClient, next, "")
					steps = append(steps, strconv.Itoa(code)+" "+strings.TrimPrefix(next, ts.URL))
					final = flatProfile(t, body)
				}
				break
			}
			if strings.Join(steps, ", ") != strings.Join(c.wantSteps, ", ") {
				t.Errorf("walk %q, want %q", steps, c.wantSteps)
			}
			if final["User_ID_1_"] != "201" || final["Password_1_"] != pass201 || final["Password_2_"] != pass202 {
				t.Errorf("the walk ended without the phone's lines and passwords: %v", final)
			}
			if d := e.settled(ciscoMAC, autoprov.DisclosureConsumed); d.Disclosure.State != autoprov.DisclosureConsumed {
				t.Errorf("window %q, want consumed", d.Disclosure.State)
			}
		})
	}
}

// TestCiscoModelsAndInbox: GET /api/v1/models lists the Cisco models
// with their capabilities; an SPA and an unsupported MPP model that fetch
// land in the inbox with the model they report.
func TestCiscoModelsAndInbox(t *testing.T) {
	e := newEnv(t, options{})
	var models []struct {
		Vendor   string   `json:"vendor"`
		Model    string   `json:"model"`
		Lines    int      `json:"lines"`
		Keys     int      `json:"keys"`
		KeyTypes []string `json:"key_types"`
		Modules  []struct {
			Name string `json:"name"`
			Keys int    `json:"keys"`
			Max  int    `json:"max"`
		} `json:"modules"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/models", nil, &models)
	got := map[string]int{}
	for _, m := range models {
		if m.Vendor != "cisco" {
			continue
		}
		got[m.Model] = m.Keys
		if m.Model == "8861" && (m.Lines != 10 || len(m.Modules) != 1 || m.Modules[0].Max != 3 || m.Modules[0].Keys != 36 || len(m.KeyTypes) == 0) {
			t.Errorf("8861: %+v", m)
		}
	}
	for _, name := range []string{"6821", "6841", "6851", "6861", "6871", "7811", "7821", "7832", "7841", "7861",
		"8811", "8832", "8841", "8845", "8851", "8861", "8865"} {
		if _, ok := got[name]; !ok {
			t.Errorf("model %s not listed", name)
		}
	}

	for _, c := range []struct{ path, ua, mac, model string }{
		{"/prov/spa508G.cfg", "Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)", "0002fdff2103", "SPA508G"},
		{"/prov/9861-3PCC.xml", "Cisco-CP-9861-3PCC/12.0.1 (00562b001122)", "00562b001122", "9861"},
	} {
		rec := e.phone("GET", c.path, c.ua)
		if rec.Code != 200 {
			t.Errorf("%s: %d", c.path, rec.Code)
		}
		var d struct {
			State  string `json:"state"`
			Vendor string `json:"vendor"`
			Model  string `json:"model"`
		}
		e.must(http.StatusOK, "GET", "/api/v1/devices/"+c.mac, nil, &d)
		if d.State != autoprov.StateUnassigned || d.Vendor != "cisco" || d.Model != c.model {
			t.Errorf("%s: inbox device %+v, want unassigned cisco %s", c.path, d, c.model)
		}
	}
}
