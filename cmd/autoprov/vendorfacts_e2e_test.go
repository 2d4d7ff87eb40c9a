package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/internal/testlog"
	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// An OpenStage in Vienna gets its DST amount as daylight-save-minutes and
// automatic DST on; daylight-save itself is a flag (DST in force now),
// never the minutes. GS3 (amooma/GS3 prov-settings.php), Gemeinschaft 5
// and a German OpenStage deployment's settings all write
// daylight-save=true|false and daylight-save-minutes=60; the server wrote
// daylight-save=60.
func TestOpenStageDaylightSaveItems(t *testing.T) {
	s := start(t, "--wpi", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="autoprov started".* wpi=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no wpi address in the start-up log:\n%s", s.log.String())
	}
	setup(s, "00:1A:E8:12:34:57", "OpenStage 60")
	s.must(200, "PUT", "/api/v1/settings", map[string]any{"timezone": "Europe/Vienna", "language": "de", "tone_scheme": "AT"}, nil)
	p := wpitest.New("https://"+m[1]+"/DeploymentService/LoginService", "00:1A:E8:12:34:57", "OpenStage 60")
	rs, err := p.Session("start-up", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := wpitest.Written(rs)
	for k, want := range map[string]string{"sntp-tz-offset": "60", "daylight-save-minutes": "60",
		"auto-daylight-save": "true", "language-iso": "de", "country-iso": "AT"} {
		if w[k] != want {
			t.Errorf("%s = %q, want %q", k, w[k], want)
		}
	}
	if v, ok := w["daylight-save"]; ok && v != "true" && v != "false" {
		t.Errorf("daylight-save = %q, want a flag (or left to the phone)", v)
	}
}

// w60bUA is a Yealink W60B base as WAZO's plugin lists it.
const w60bUA = "Yealink W60B 77.81.0.35 80:5e:c0:09:ab:dc"

// setupW60B puts a W60B base with accounts 201 and 202 on the server,
// German and Berlin as the settings.
func setupW60B(s *server) {
	setup(s, "80:5E:C0:AA:BB:09", "T54W") // settings and account 201
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Jürgen Groß", "password": "Sip-Pass-202-xyz"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5e:c0:09:ab:dc", "model": "W60B", "accounts": []string{"201", "202"}}, nil)
}

// A German office's Yealink DECT base gets its handsets' language: a
// W-series base has no screen, lang.gui does not reach the handsets; WAZO
// writes custom.handset.language (2 = German) for them, in the per-device
// and the common file alike.
func TestYealinkDECTHandsetLanguage(t *testing.T) {
	s := start(t)
	setupW60B(s)
	for _, path := range []string{"/prov/805ec009abdc.cfg", "/prov/y000000000077.cfg"} {
		code, body, _ := s.get(path, w60bUA)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		for _, want := range []string{"\ncustom.handset.language = 2\n", "\nstatic.auto_provision.handset_configured.enable = 1\n", "\nlang.gui = German\n"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s lacks %q:\n%s", path, strings.TrimSpace(want), body)
			}
		}
	}
	// A desk phone has its own screen: no handset settings.
	if _, body, _ := s.get("/prov/805ec0aabb09.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:09"); strings.Contains(string(body), "custom.handset.") {
		t.Errorf("a T54W gets handset settings:\n%s", body)
	}
}

// Each account of a Yealink DECT base is its handset's line, in and out,
// as the Gigaset Nx70 maps them: handset N rings for account N only and
// calls out on it (handset.N.incoming_lines, dial_out_lines,
// dial_out_default_line; WAZO's W52P templates write the same). Without
// them every handset keeps the base's own assignment, so a second
// user's handset may ring for, and call out as, the first. The common
// file, shared by every W60B, carries no such line.
func TestYealinkDECTHandsetAccounts(t *testing.T) {
	s := start(t)
	setupW60B(s)
	_, body, _ := s.get("/prov/805ec009abdc.cfg", w60bUA)
	for _, n := range []string{"1", "2"} {
		for _, k := range []string{"incoming_lines", "dial_out_lines", "dial_out_default_line"} {
			if want := "\nhandset." + n + "." + k + " = " + n + "\n"; !strings.Contains(string(body), want) {
				t.Errorf("lacks %q:\n%s", strings.TrimSpace(want), body)
			}
		}
	}
	if strings.Contains(string(body), "handset.3.") {
		t.Errorf("a handset without an account is mapped:\n%s", body)
	}
	if _, common, _ := s.get("/prov/y000000000077.cfg", w60bUA); strings.Contains(string(common), "handset.1.") {
		t.Errorf("the common file maps handsets:\n%s", common)
	}
}

// An office in Liechtenstein (Europe/Vaduz, German-speaking, on the Swiss
// network's 425 Hz tones) that sets no tone scheme gets Switzerland's,
// not the United States' 350+440 Hz dial tone.
func TestToneSchemeFollowsVaduz(t *testing.T) {
	s := start(t)
	s.must(200, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com", "timezone": "Europe/Vaduz", "language": "de"}, nil)
	var st struct {
		ToneScheme string `json:"tone_scheme"`
	}
	s.must(200, "GET", "/api/v1/settings", nil, &st)
	if st.ToneScheme != "CH" {
		t.Errorf("tone_scheme %q, want CH", st.ToneScheme)
	}
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Anna Büchel"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:0A", "model": "T46S", "accounts": []string{"201"}}, nil)
	_, body, _ := s.get("/prov/805ec0aabb0a.cfg", "Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:bb:0a")
	if !strings.Contains(string(body), "\nvoice.tone.country = Switzerland\n") {
		t.Errorf("file:\n%s", body)
	}
}

// An account taken off a Gigaset Maxwell stops registering: its
// SIP.Account.<n>.Active goes to 0, as Yealink (enable = 0), Snom
// (user_active off) and Cisco (Line_Enable No) switch theirs off. Before,
// the file just left the account out, and a flat parameter file keeps
// what it does not mention: the phone went on registering the old
// account with its stored password.
func TestMaxwellRemovedAccountStops(t *testing.T) {
	s := start(t)
	setup(s, "80:5E:C0:AA:BB:0B", "T54W") // settings and account 201
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "7C:2F:80:AA:BB:0C", "model": "Maxwell 3", "accounts": []string{"201", "202"}}, nil)
	const ua = "Gigaset Maxwell 3 2.41.0 7C:2F:80:AA:BB:0C"
	if _, body, _ := s.get("/prov/7C2F80AABB0C.xml", ua); !strings.Contains(string(body), `<param name="SIP.Account.1.Active" value="1"/>`) {
		t.Fatalf("account 2 not active:\n%s", body)
	}
	s.must(200, "PATCH", "/api/v1/devices/7c2f80aabb0c", map[string]any{"accounts": []string{"201"}}, nil)
	_, body, _ := s.get("/prov/7C2F80AABB0C.xml", ua)
	for _, want := range []string{`<param name="SIP.Account.0.Active" value="1"/>`, `<param name="SIP.Account.1.Active" value="0"/>`, `<param name="SIP.Account.5.Active" value="0"/>`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), `SIP.Account.1.Username`) {
		t.Errorf("the removed account is still written:\n%s", body)
	}
}

// A key taken off a Yealink expansion module goes away: the phone keeps
// every parameter its file does not name, so the file clears every
// module position without a key (type = 0), as it already does for the
// phone's own line keys and as WAZO writes every EXP position.
func TestYealinkRemovedModuleKeyCleared(t *testing.T) {
	s := start(t)
	setup(s, "80:5E:C0:AA:BB:0D", "T46S")
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob"}, nil)
	s.must(200, "PUT", "/api/v1/devices/805ec0aabb0d/keys", []map[string]any{
		{"module": 1, "position": 5, "type": "blf", "value": "202"},
		{"module": 2, "position": 1, "type": "speed_dial", "value": "0043"}}, nil)
	const ua = "Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:bb:0d"
	_, body, _ := s.get("/prov/805ec0aabb0d.cfg", ua)
	if !strings.Contains(string(body), "\nexpansion_module.2.key.1.type = 13\n") {
		t.Fatalf("module 2 key 1 not written:\n%s", body)
	}
	cred := credentialOf(t, body)
	s.must(200, "PUT", "/api/v1/devices/805ec0aabb0d/keys", []map[string]any{
		{"module": 1, "position": 5, "type": "blf", "value": "202"}}, nil)
	code, body, _ := s.getAs("/prov/805ec0aabb0d.cfg", ua, "805ec0aabb0d", cred)
	if code != 200 {
		t.Fatalf("fetch with the credential: %d", code)
	}
	for _, want := range []string{"\nexpansion_module.1.key.5.type = 16\n", "\nexpansion_module.2.key.1.type = 0\n", "\nexpansion_module.6.key.40.type = 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(string(body), "expansion_module.2.key.1.value") {
		t.Errorf("the removed key's value is still written")
	}
}

// A key taken off a Snom expansion module goes away: every position of
// every module the model takes is written, free ones as "none", not only
// the modules up to the highest one in use.
func TestSnomRemovedModuleKeyCleared(t *testing.T) {
	s := start(t)
	setup(s, "00:04:13:AA:BB:02", "D785")
	s.must(200, "PUT", "/api/v1/devices/000413aabb02/keys", []map[string]any{
		{"module": 2, "position": 3, "type": "speed_dial", "value": "0043"}}, nil)
	_, body, _ := s.get("/prov/000413AABB02.xml", snomUA)
	// D785: 24 phone keys, then D7C modules of 18: module 2 key 3 is idx 44.
	if !strings.Contains(string(body), `<fkey idx="44" context="active" label="" perm="R">speed 0043</fkey>`) {
		t.Fatalf("module 2 key 3 not written:\n%s", body)
	}
	cred := credentialOf(t, body)
	s.must(200, "PUT", "/api/v1/devices/000413aabb02/keys", []map[string]any{}, nil)
	code, body, _ := s.getAs("/prov/000413AABB02.xml", snomUA, "000413aabb02", cred)
	if code != 200 {
		t.Fatalf("fetch with the credential: %d", code)
	}
	for _, want := range []string{`<fkey idx="44" context="active" label="" perm="R">none</fkey>`, `<fkey idx="95" context="active" label="" perm="R">none</fkey>`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("lacks %s", want)
		}
	}
	if strings.Contains(string(body), `idx="96"`) {
		t.Errorf("a key beyond the D785's four modules is written")
	}
}

// A key taken off a Cisco 8800 key expansion module goes away: every
// Unit_<u>_Key_<k>_ of every module the model takes is written, free ones
// empty, not only the keys configured.
func TestCiscoRemovedModuleKeyCleared(t *testing.T) {
	s := start(t)
	setup(s, "00:56:2B:AA:BB:0E", "8851")
	s.must(200, "PUT", "/api/v1/devices/00562baabb0e/keys", []map[string]any{
		{"module": 2, "position": 3, "type": "speed_dial", "value": "0043"}}, nil)
	const ua = "Cisco-CP-8851-3PCC/11.3.7 (00562baabb0e)"
	_, body, _ := s.get("/prov/00562baabb0e.xml", ua)
	if !strings.Contains(string(body), `<Unit_2_Key_3_ ua="na">fnc=sd;ext=0043@$PROXY;vid=1</Unit_2_Key_3_>`) {
		t.Fatalf("unit 2 key 3 not written:\n%s", body)
	}
	cred := regexp.MustCompile(`--pwd ([A-Za-z0-9]+)\]`).FindStringSubmatch(string(body))
	if cred == nil {
		t.Fatalf("no credential in the profile rule")
	}
	s.must(200, "PUT", "/api/v1/devices/00562baabb0e/keys", []map[string]any{}, nil)
	code, body, _ := s.getAs("/prov/00562baabb0e.xml", ua, "00562baabb0e", cred[1])
	if code != 200 {
		t.Fatalf("fetch with the credential: %d", code)
	}
	for _, want := range []string{`<Unit_2_Key_3_ ua="na"></Unit_2_Key_3_>`, `<Unit_1_Key_1_ ua="na"></Unit_1_Key_1_>`, `<Unit_2_Key_36_ ua="na"></Unit_2_Key_36_>`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("lacks %s", want)
		}
	}
	if strings.Contains(string(body), "Unit_3_") {
		t.Errorf("a third unit on an 8851 (two modules)")
	}
}

// m700UA is an M700 base's HTTP User-Agent (the shape of snom.md §2's
// M900, WAZO common_dect).
const m700UA = "Mozilla/4.0 (compatible; Snom M700 05.20.0001 000413b60680)"

// A German office adopts its Snom M700 DECT base with two handsets' accounts:
// before, POST /api/v1/devices answered 400 "unknown model". Account n is
// extension n on handset n, with the one SIP server; the secrets (SIP,
// web password, handset registration code) leave once, in the per-device
// file; the common files and a second fetch carry none, and the base gets
// no provisioning credential (none documented).
func TestSnomM700HandsetAccounts(t *testing.T) {
	s := start(t)
	s.must(200, "PUT", "/api/v1/settings", settings, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Anna Groß", "password": sipPass}, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Jürgen Weiß", "password": "Sip-Pass-202-xyz"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "00:04:13:b6:06:80", "model": "M700", "accounts": []string{"201", "202"},
		"web_password": webPass, "menu_password": "4711"}, nil)

	// The base fetches its container first (WAZO common_dect), then what
	// it names.
	code, container, _ := s.get("/prov/snomM700.htm", m700UA)
	if code != 200 || !strings.Contains(string(container), "/prov/snomM700.xml\"") {
		t.Fatalf("snomM700.htm: %d\n%s", code, container)
	}
	code, index, _ := s.get("/prov/snomM700-000413B60680.htm", m700UA)
	if code != 200 || !strings.Contains(string(index), "/prov/000413B60680.xml\"") {
		t.Fatalf("snomM700-<MAC>.htm: %d\n%s", code, index)
	}
	code, body, _ := s.get("/prov/000413B60680.xml", m700UA)
	if code != 200 {
		t.Fatalf("per-device file: %d\n%s", code, body)
	}
	for _, want := range []string{
		`<user_host idx="1">pbx.example.com:5060</user_host>`, `<srv_sip_transport idx="1">udp</srv_sip_transport>`,
		`<user_name idx="1">201</user_name>`, `<user_realname idx="1">Anna Groß</user_realname>`, `<user_pass idx="1">` + sipPass + `</user_pass>`,
		`<subscr_sip_hs_idx idx="1">1</subscr_sip_hs_idx>`, `<subscr_sip_ua_data_server_id idx="1">1</subscr_sip_ua_data_server_id>`,
		`<user_name idx="2">202</user_name>`, `<user_realname idx="2">Jürgen Weiß</user_realname>`, `<user_pass idx="2">Sip-Pass-202-xyz</user_pass>`,
		`<subscr_sip_hs_idx idx="2">2</subscr_sip_hs_idx>`, `<subscr_dect_ac_code idx="2">4711</subscr_dect_ac_code>`,
		`<user_active idx="3">off</user_active>`, `<http_pass>` + webPass + `</http_pass>`,
		`<timezone>GER+1</timezone>`, `<language>Deutsch</language>`, `<tone_scheme>GER</tone_scheme>`, `<ntp_server>pool.ntp.org</ntp_server>`,
		`<pnp_config>off</pnp_config>`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("per-device file lacks %s", want)
		}
	}
	if strings.Contains(string(body), "http_client") {
		t.Errorf("the base got a provisioning credential no source documents:\n%.600s", body)
	}
	secrets := []string{sipPass, "Sip-Pass-202-xyz", webPass, "4711"}
	_, common, _ := s.get("/prov/snomM700.xml", m700UA)
	_, again, _ := s.get("/prov/000413B60680.xml", m700UA)
	if !strings.Contains(string(common), `<language>Deutsch</language>`) || strings.Contains(string(common), "user_name") {
		t.Errorf("common file:\n%s", common)
	}
	if !strings.Contains(string(again), `<user_name idx="2">202</user_name>`) {
		t.Errorf("second fetch lost the accounts:\n%.600s", again)
	}
	// The files name the server's URL with its port (any one the kernel
	// gave, 34711 too): the PIN counts where it stands as a number of its
	// own (testlog.Holds).
	for _, sec := range secrets {
		for name, f := range map[string][]byte{"snomM700.htm": container, "snomM700-<MAC>.htm": index, "snomM700.xml": common, "second fetch": again} {
			if testlog.Holds(string(f), sec) {
				t.Errorf("%s carries a secret (%.3s...)", name, sec)
			}
		}
	}
	s.leaks(secrets...)
}

// TestSnomDeskAndDECTByDevice: a Snom's <MAC>.xml asked for without a
// User-Agent that names the model (TFTP, a proxy) goes to the driver of
// the device's own model: the desk driver for a D785, the DECT driver for
// an M700. Both share the vendor, the MAC range and the path, so nothing
// but the device may decide.
func TestSnomDeskAndDECTByDevice(t *testing.T) {
	s := start(t)
	s.must(200, "PUT", "/api/v1/settings", settings, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Desk"}, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Handset"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "00:04:13:aa:bb:01", "model": "D785", "accounts": []string{"201"}}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "00:04:13:aa:bb:02", "model": "M700", "accounts": []string{"202"}}, nil)
	for _, tc := range []struct{ path, want, not string }{
		{"/prov/000413AABB01.xml", "<phone-settings", "subscr_sip_hs_idx"},
		{"/prov/000413AABB02.xml", `<subscr_sip_hs_idx idx="1">1</subscr_sip_hs_idx>`, "<functionKeys"},
	} {
		code, body, _ := s.get(tc.path, "")
		if code != 200 || !strings.Contains(string(body), tc.want) || strings.Contains(string(body), tc.not) {
			t.Errorf("%s without a User-Agent: %d, want %q and no %q:\n%.400s", tc.path, code, tc.want, tc.not, body)
		}
	}
}
