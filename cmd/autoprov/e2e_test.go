package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

const (
	yealinkUA = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"
	snomUA    = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 000413AABB02 SXM:0 UXM:0 UXMC:0)"
	n870UA    = "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABB03"
	maxwellUA = "Gigaset Maxwell 3 2.41.0 7C:2F:80:AA:BB:04"
	sipPass   = "Sip-Pass-201-xyz"
)

var settings = map[string]any{"sip_server": "pbx.example.com", "sip_port": 5060, "sip_transport": "udp",
	"outbound_proxy": "", "ntp_server": "pool.ntp.org", "timezone": "Europe/Berlin", "language": "de"}

// waitComplete waits until the end of the transfer that consumed the
// device's window is recorded (disclosure.complete not null) and returns it.
func waitComplete(t *testing.T, s *server, mac string) bool {
	t.Helper()
	var dev struct{ Disclosure struct{ Complete *bool } }
	waitFor(t, 30*time.Second, func() (bool, string) {
		s.must(200, "GET", "/api/v1/devices/"+mac, nil, &dev)
		return dev.Disclosure.Complete != nil, "complete is null"
	}, "the end of the transfer that consumed the window is not recorded")
	return *dev.Disclosure.Complete
}

// setup puts the settings, account 201 and a device of the model on the server.
func setup(s *server, mac, model string) {
	s.must(200, "PUT", "/api/v1/settings", settings, nil)
	if code, _ := s.api("GET", "/api/v1/accounts/201", nil); code == 404 {
		s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice Example", "password": sipPass}, nil)
	}
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": mac, "model": model, "accounts": []string{"201"}}, nil)
}

// TestYealinkOverHTTPAndTFTP is the first acceptance of issue 1 and 2 for Yealink.
func TestYealinkOverHTTPAndTFTP(t *testing.T) {
	s := start(t)
	if code, body, _ := s.get("/healthz", ""); code != 200 || !bytes.Contains(body, []byte("ok")) {
		t.Fatalf("healthz: %d %s", code, body)
	}
	setup(s, "80:5E:C0:AA:BB:01", "T54W")

	code, first, hdr := s.get("/prov/805ec0aabb01.cfg", yealinkUA)
	if code != 200 || !bytes.HasPrefix(first, []byte("#!version:1.0.0.1\n")) {
		t.Fatalf("first fetch: %d\n%s", code, first)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{"account.1.user_name = 201", "account.1.auth_name = 201",
		"account.1.sip_server.1.address = pbx.example.com", "account.1.password = " + sipPass, "static.security.user_password = admin:"} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("first fetch lacks %q", want)
		}
	}
	web := regexp.MustCompile(`static.security.user_password = admin:(\S+)`).FindSubmatch(first)
	pin := regexp.MustCompile(`unlock_pin = (\S+)`).FindSubmatch(first)

	type device struct {
		State      string `json:"state"`
		Disclosure struct {
			State       string `json:"state"`
			DisclosedTo struct {
				IP string `json:"ip"`
			} `json:"disclosed_to"`
			Complete *bool `json:"complete"`
		} `json:"disclosure"`
		UserAgent string `json:"user_agent"`
		LastFile  string `json:"last_file"`
		Firmware  string `json:"firmware"`
	}
	// The server commits the claim before it writes the body and records
	// the completion after, so the client may read the body first: wait
	// for the completion.
	var dev device
	waitFor(t, 30*time.Second, func() (bool, string) {
		dev = device{}
		s.must(200, "GET", "/api/v1/devices/80-5e-c0-aa-bb-01", nil, &dev)
		// The sighting (User-Agent, file, firmware) is written in the
		// background, within a second (server/phonecache).
		return dev.Disclosure.State == "consumed" && dev.Disclosure.Complete != nil && dev.UserAgent != "", fmt.Sprintf("%+v", dev)
	}, "the first HTTP fetch did not consume the disclosure window with a recorded end and its sighting")
	if dev.Disclosure.DisclosedTo.IP != "127.0.0.1" || !*dev.Disclosure.Complete || dev.UserAgent != yealinkUA || dev.LastFile != "805ec0aabb01.cfg" || dev.Firmware != "96.86.0.100" {
		t.Fatalf("device after fetches: %+v", dev)
	}
	// The transfer is complete, so the phone holds the credential it
	// carried: without it the file is refused with a challenge; the phone
	// answers it and gets the file without secrets.
	if code, b, h := s.get("/prov/805ec0aabb01.cfg", yealinkUA); code != 401 || bytes.Contains(b, []byte("account.")) || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("second fetch without the credential: %d %q\n%s", code, h.Values("WWW-Authenticate"), b)
	}
	code, second, _ := s.getAs("/prov/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", credentialOf(t, first))
	if code != 200 || bytes.Contains(second, []byte("account.1.password")) || bytes.Contains(second, []byte("user_password")) || !bytes.Contains(second, []byte("account.1.user_name = 201")) {
		t.Fatalf("second fetch, with the credential: %d, carries secrets:\n%s", code, second)
	}

	// TFTP cannot authenticate: the per-device file only once the admin
	// allows TFTP for the device. TFTP (tftp-hpa) then gets the same bytes;
	// after a re-arm the secrets come back once, over TFTP this time.
	if got, ok := s.tftp("805ec0aabb01.cfg"); ok || bytes.Contains(got, []byte("account.")) {
		t.Fatalf("TFTP without tftp_allowed got the per-device file:\n%s", got)
	}
	s.must(200, "PATCH", "/api/v1/devices/805ec0aabb01", map[string]any{"tftp_allowed": true}, nil)
	got, ok := s.tftp("805ec0aabb01.cfg")
	if !ok || !bytes.Equal(got, second) {
		t.Fatalf("TFTP body differs from HTTP body (ok=%v):\n%s\n---\n%s", ok, got, second)
	}
	if got, ok := s.tftp("prov/805ec0aabb01.cfg"); !ok || !bytes.Equal(got, second) {
		t.Fatal("TFTP prov/ prefix")
	}
	var disc struct {
		State     string    `json:"state"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	s.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, &disc)
	if disc.State != "open" || time.Until(disc.ExpiresAt) < 9*time.Minute {
		t.Fatalf("re-arm: %+v", disc)
	}
	got, ok = s.tftp("805ec0aabb01.cfg")
	// Each secrets transfer carries a new provisioning password; the rest
	// is the same file.
	if !ok || !bytes.Equal(withoutCredential(got), withoutCredential(first)) || bytes.Equal(got, first) {
		t.Fatalf("TFTP after re-arm differs from the first HTTP body (or has the same credential):\n%s", got)
	}
	// The TFTP claim is committed at block 1; its completion is recorded
	// on the last ACK, which tftp-hpa may send after it has written the
	// file and exited: wait for it.
	var audit []struct{ Event, Detail string }
	waitFor(t, 30*time.Second, func() (bool, string) {
		audit = nil
		s.must(200, "GET", "/api/v1/audit?mac=805ec0aabb01", nil, items(&audit))
		return len(audit) > 1 && audit[0].Event == "disclosure.transfer_ended" && audit[1].Event == "disclosure.consumed", fmt.Sprintf("%+v", audit)
	}, "the TFTP fetch after the re-arm is not audited as disclosure.consumed and disclosure.transfer_ended")
	if len(audit) != 8 || audit[0].Detail != "complete: true" || audit[3].Event != "device.updated" || audit[7].Event != "device.created" {
		t.Fatalf("audit: %+v", audit)
	}
	// Over HTTP, with the new credential the TFTP transfer carried: the
	// file without secrets.
	if code, again, _ := s.getAs("/prov/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", credentialOf(t, got)); code != 200 || bytes.Contains(again, []byte(sipPass)) {
		t.Fatalf("HTTP fetch after the TFTP secrets: %d, secret went out twice: %v", code, bytes.Contains(again, []byte(sipPass)))
	}
	// Preview masks.
	code, prev := s.api("GET", "/api/v1/devices/805ec0aabb01/files/805ec0aabb01.cfg", nil)
	if code != 200 || !bytes.Contains(prev, []byte("account.1.password = ********")) {
		t.Fatalf("preview: %d\n%s", code, prev)
	}
	s.leaks(sipPass, string(web[1]), string(pin[1]))
}

func xmlText(t *testing.T, body []byte) string {
	t.Helper()
	if err := vendortest.WellFormed(body); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, body)
	}
	return string(body)
}

// TestSnomFollowsSettingFiles: the D785 walks snomD785.htm, then the
// per-phone .htm whose <setting-files> link leads to <MAC>.xml.
func TestSnomFollowsSettingFiles(t *testing.T) {
	s := start(t)
	setup(s, "00:04:13:AA:BB:02", "D785")
	code, general, _ := s.get("/prov/snomD785.htm", snomUA)
	if code != 200 || strings.Contains(xmlText(t, general), sipPass) {
		t.Fatalf("general file: %d\n%s", code, general)
	}
	code, index, _ := s.get("/prov/snomD785-000413AABB02.htm", snomUA)
	if code != 200 {
		t.Fatalf("per-phone index: %d", code)
	}
	var files struct {
		Files []struct {
			URL string `xml:"url,attr"`
		} `xml:"file"`
	}
	if err := xml.Unmarshal(index, &files); err != nil || len(files.Files) == 0 {
		t.Fatalf("setting-files: %v\n%s", err, index)
	}
	link := files.Files[0].URL
	if !strings.HasPrefix(link, s.base+"/prov/") {
		t.Fatalf("link %q does not point at this server", link)
	}
	code, body, hdr := s.get(strings.TrimPrefix(link, s.base), snomUA)
	text := xmlText(t, body)
	if code != 200 || !strings.Contains(hdr.Get("Content-Type"), "xml") {
		t.Fatalf("%s: %d %s", link, code, hdr.Get("Content-Type"))
	}
	for _, re := range []string{`<user_name idx="1"[^>]*>201</user_name>`, `<user_host idx="1"[^>]*>pbx.example.com`, `<user_pass idx="1"[^>]*>` + sipPass + `</user_pass>`} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("D785 file lacks %s", re)
		}
	}
	// Once that transfer is complete the file needs the credential it
	// carried (http_client_user/_pass): the phone answers the challenge.
	waitComplete(t, s, "000413aabb02")
	if code, b, _ := s.get(strings.TrimPrefix(link, s.base), snomUA); code != 401 || strings.Contains(string(b), "user_name") {
		t.Fatalf("second fetch without the credential: %d\n%s", code, b)
	}
	code, again, _ := s.getAs(strings.TrimPrefix(link, s.base), snomUA, "000413aabb02", credentialOf(t, body))
	if code != 200 || !strings.Contains(string(again), "user_name") || strings.Contains(string(again), "user_pass") || strings.Contains(string(again), "http_pass") ||
		strings.Contains(string(again), "http_client_pass") {
		t.Fatalf("second fetch with the credential: %d, carries secrets:\n%s", code, again)
	}
	s.leaks(sipPass)
}

func TestGigasetN870AndMaxwell(t *testing.T) {
	s := start(t)
	setup(s, "7C2F80AABB03", "N870")
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "7c:2f:80:aa:bb:04", "vendor": "gigaset", "model": "Maxwell 3", "accounts": []string{"201"}}, nil)

	code, body, _ := s.get("/prov/7C2F80AABB03.xml", n870UA)
	text := xmlText(t, body)
	for _, want := range []string{`"SipAccount.00001.UserName" value="201"`, `"SipAccount.00001.AuthPassword" value="` + sipPass + `"`, `"SipProvider.0.RegServerAddress" value="pbx.example.com"`} {
		if code != 200 || !strings.Contains(text, want) {
			t.Errorf("N870 file lacks %s", want)
		}
	}
	// provisioning.xml with the MAC in the User-Agent is the same file;
	// the window is consumed, so no password now.
	code, prov, _ := s.get("/prov/provisioning.xml", n870UA)
	if code != 200 || strings.Contains(string(prov), "AuthPassword") {
		t.Fatalf("provisioning.xml: %d\n%s", code, prov)
	}
	code, body, _ = s.get("/prov/7c2f80aabb04.xml", maxwellUA)
	text = xmlText(t, body)
	for _, want := range []string{`"SIP.Account.0.Username" value="201"`, `"SIP.Account.0.AuthPassword" value="` + sipPass + `"`, `"SIP.Account.0.RegistrationServer.Address" value="pbx.example.com"`} {
		if code != 200 || !strings.Contains(text, want) {
			t.Errorf("Maxwell 3 file lacks %s", want)
		}
	}
	s.leaks(sipPass)
}

// TestInboxAndErrors: unknown MACs land unassigned; bad input gets the
// documented errors; traversal and TFTP writes are refused.
func TestInboxAndErrors(t *testing.T) {
	s := start(t)
	// A Yealink takes a provisioning credential: an unassigned MAC's
	// per-device file is challenged as an applied phone's is (README).
	if code, _, _ := s.get("/prov/001565ABCDEF.cfg", "Yealink SIP-T46S 66.86.0.15 00:15:65:ab:cd:ef"); code != 401 {
		t.Fatalf("unassigned per-device file: %d, want 401", code)
	}
	var list []struct{ MAC, State, Model, Vendor string }
	s.must(200, "GET", "/api/v1/devices?state=unassigned", nil, items(&list))
	if len(list) != 1 || list[0].MAC != "001565abcdef" || list[0].State != "unassigned" || list[0].Model != "T46S" {
		t.Fatalf("inbox: %+v", list)
	}
	if !strings.Contains(s.log.String(), "device is unassigned") {
		t.Error("the miss is not logged with its reason")
	}

	check := func(method, path string, body any, want int, field string) {
		t.Helper()
		code, out := s.api(method, path, body)
		var e struct{ Error, Field string }
		json.Unmarshal(out, &e)
		if code != want || e.Error == "" || field != "" && e.Field != field {
			t.Errorf("%s %s: %d %s; want %d field %q", method, path, code, out, want, field)
		}
	}
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "A"}, nil)
	check("POST", "/api/v1/accounts", map[string]any{"extension": "201"}, 409, "")
	check("POST", "/api/v1/accounts", map[string]any{"extension": "2 01"}, 400, "extension")
	check("POST", "/api/v1/devices", map[string]any{"mac": "nonsense", "model": "T54W"}, 400, "mac")
	check("POST", "/api/v1/devices", map[string]any{"mac": "805ec0000001", "model": "X1"}, 400, "model")
	check("POST", "/api/v1/devices", map[string]any{"mac": "805ec0000001", "model": "T54W", "colour": "red"}, 400, "colour")
	check("POST", "/api/v1/devices", `{"mac":`, 400, "")
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "805ec0000001", "model": "T54W"}, nil)
	check("POST", "/api/v1/devices", map[string]any{"mac": "80:5e:c0:00:00:01", "model": "T54W"}, 409, "")
	check("GET", "/api/v1/devices/805ec0000099", nil, 404, "")
	check("GET", "/api/v1/accounts/999", nil, 404, "")
	check("PUT", "/api/v1/settings", map[string]any{"sip_transport": "carrier-pigeon"}, 400, "sip_transport")
	check("PUT", "/api/v1/settings", map[string]any{"timezone": "Mars/Olympus"}, 400, "timezone")
	check("POST", "/api/v1/accounts", `{"extension":"3","display_name":"`+strings.Repeat("x", 2<<20)+`"}`, 413, "")
	_, models := s.api("POST", "/api/v1/devices", map[string]any{"mac": "805ec0000002", "model": "X1"})
	if !bytes.Contains(models, []byte("T54W")) || !bytes.Contains(models, []byte("D785")) {
		t.Errorf("unknown-model error does not list the supported models: %s", models)
	}

	// 401 without or with a wrong token.
	for _, tok := range []string{"", "wrong"} {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/devices", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("token %q: %d, want 401", tok, resp.StatusCode)
		}
	}

	// Traversal over HTTP, sent raw so no client cleans the path.
	for _, p := range []string{"/prov/../admin-token", "/prov/%2e%2e/admin-token", "/prov/..%2fadmin-token", "/prov/a/../../admin-token"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", p)
		buf := new(bytes.Buffer)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf.ReadFrom(conn)
		conn.Close()
		if strings.Contains(buf.String(), testToken) || !strings.Contains(strings.SplitN(buf.String(), "\r\n", 2)[0], "404") && !strings.Contains(strings.SplitN(buf.String(), "\r\n", 2)[0], "400") && !strings.Contains(strings.SplitN(buf.String(), "\r\n", 2)[0], "301") {
			t.Errorf("%s: %q", p, strings.SplitN(buf.String(), "\r\n", 2)[0])
		}
	}
	// Traversal and writes over TFTP.
	for _, p := range []string{"../admin-token", "prov/../../admin-token", "/etc/passwd"} {
		if out, ok := s.tftp(p); ok || strings.Contains(string(out), testToken) {
			t.Errorf("TFTP %s: served %q", p, out)
		}
	}
	bin := tftpClient(t)
	local := t.TempDir() + "/up.cfg"
	writeFile(t, local, "evil = 1\n")
	out, _ := runCmd(bin, "127.0.0.1", s.tftpPort, "-m", "binary", "-c", "put", local, "805ec0000001.cfg")
	if !strings.Contains(strings.ToLower(out), "error") {
		t.Errorf("TFTP put was not refused: %q", out)
	}
	// A Yealink upload over HTTP is refused too.
	req, _ := http.NewRequest("PUT", s.base+"/prov/805ec0000001-local.cfg", strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("HTTP upload: %d, want 403", resp.StatusCode)
	}
}

// TestConcurrentFetchesOneSecret: 200 parallel fetches of one MAC in an
// open window, per vendor: exactly one body carries the secret.
func TestConcurrentFetchesOneSecret(t *testing.T) {
	s := start(t)
	cases := []struct{ mac, model, path, ua string }{
		{"805ec0aabb01", "T54W", "/prov/805ec0aabb01.cfg", yealinkUA},
		{"000413aabb02", "D785", "/prov/000413AABB02.xml", snomUA},
		{"7c2f80aabb03", "N870", "/prov/7C2F80AABB03.xml", n870UA},
	}
	for _, c := range cases {
		setup(s, c.mac, c.model)
		served, challenged, with := race(t, []string{s.base}, c.path, c.ua, 200, sipPass)
		if served+challenged != 200 || served == 0 || with != 1 {
			t.Errorf("%s: of 200 fetches %d served, %d challenged, %d carried the secret; want all answered and exactly 1; the server's warnings:\n%s", c.model, served, challenged, with, problems(s.log))
		}
		// Once the transfer is complete, a vendor that takes a credential
		// (Yealink, Snom) challenges a fetch without it; the N870 takes none.
		waitComplete(t, s, c.mac)
		if code, _, _ := s.get(c.path, c.ua); code != map[string]int{"T54W": 401, "D785": 401, "N870": 200}[c.model] {
			t.Errorf("%s: a fetch without credentials after the race: %d", c.model, code)
		}
	}
	s.leaks(sipPass)
}

// TestWindowExpires: with a 2 s window, a fetch after 3 s carries nothing.
func TestWindowExpires(t *testing.T) {
	s := start(t)
	setup(s, "805ec0aabb01", "T54W")
	s.must(200, "PUT", "/api/v1/settings", map[string]any{"disclosure_window_seconds": 2}, nil)
	s.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, nil)
	time.Sleep(3 * time.Second)
	if _, body, _ := s.get("/prov/805ec0aabb01.cfg", yealinkUA); bytes.Contains(body, []byte(sipPass)) || bytes.Contains(body, []byte("account.1.password")) {
		t.Fatal("fetch after the window carries the secret")
	}
	var dev struct{ Disclosure struct{ State string } }
	s.must(200, "GET", "/api/v1/devices/805ec0aabb01", nil, &dev)
	if dev.Disclosure.State != "expired" {
		t.Fatalf("state = %s, want expired", dev.Disclosure.State)
	}
}

// TestUnacknowledgedTFTPConsumesTheWindow: a client that takes every
// block of the secret-bearing file and never acknowledges the last one, one
// that never acknowledges block 1 and one that acknowledges block 1 and
// then goes away: once block 1 has left, the window is consumed, with the
// transfer recorded as incomplete (API, audit, log), and the next fetch
// gets no secret.
func TestUnacknowledgedTFTPConsumesTheWindow(t *testing.T) {
	s := start(t)
	cases := []struct {
		mac  string
		acks int // -1: all but the last block
	}{{"805ec0aabb01", -1}, {"805ec0aabb11", 0}, {"805ec0aabb21", 1}}
	// The three transfers run at once: the server gives each up after
	// (retries+1) x timeout, 18 s.
	for _, tc := range cases {
		setup(s, tc.mac, "T54W")
		c := looptest.DialTFTP(t, "127.0.0.1:"+s.tftpPort)
		c.Send(t, looptest.RRQ(tc.mac+".cfg", "octet"))
		got := c.Data(t, 1)
		for block := uint16(1); tc.acks < 0 || block <= uint16(tc.acks); block++ {
			if len(got) < 512*int(block) {
				break // the last block: never acknowledged
			}
			c.Send(t, looptest.ACK(block))
			got = append(got, c.Data(t, block+1)...)
		}
		if tc.acks < 0 && !bytes.Contains(got, []byte("account.1.password = "+sipPass)) {
			t.Fatalf("the whole file without the last ACK lacks the secret:\n%s", got)
		}
	}
	for _, tc := range cases {
		var dev struct {
			Disclosure struct {
				State    string
				Complete *bool
			}
		}
		waitFor(t, 40*time.Second, func() (bool, string) {
			s.must(200, "GET", "/api/v1/devices/"+tc.mac, nil, &dev)
			return dev.Disclosure.Complete != nil, dev.Disclosure.State
		}, "the end of the unacknowledged TFTP transfer is not recorded")
		if dev.Disclosure.State != "consumed" || *dev.Disclosure.Complete {
			t.Fatalf("%d ACKs: disclosure %s, complete %v; want consumed, false", tc.acks, dev.Disclosure.State, *dev.Disclosure.Complete)
		}
		var audit []struct{ Event, Detail string }
		s.must(200, "GET", "/api/v1/audit?mac="+tc.mac, nil, items(&audit))
		if len(audit) < 2 || audit[0].Event != "disclosure.transfer_ended" || !strings.HasPrefix(audit[0].Detail, "complete: false (") ||
			audit[1].Event != "disclosure.consumed" {
			t.Fatalf("audit after %d ACKs: %+v", tc.acks, audit[:min(len(audit), 3)])
		}
		if got, ok := s.tftp(tc.mac + ".cfg"); !ok || bytes.Contains(got, []byte(sipPass)) || bytes.Contains(got, []byte("account.1.password")) {
			t.Fatalf("%d ACKs: the next TFTP fetch: ok %v, carries the secret %v", tc.acks, ok, bytes.Contains(got, []byte(sipPass)))
		}
	}
	if n := strings.Count(s.log.String(), "secrets sent, transfer did not complete"); n != len(cases) || strings.Contains(s.log.String(), "stays open") {
		t.Fatalf("the log says %d times that a window is consumed by an incomplete transfer, want %d:\n%s", n, len(cases), s.log.String())
	}
	s.leaks(sipPass)
}

// TestWebUIMounted: the binary serves the admin UI: / leads to the login page.
func TestWebUIMounted(t *testing.T) {
	s := start(t)
	code, body, _ := s.get("/", "")
	if code != 200 || !bytes.Contains(body, []byte("<form")) || !bytes.Contains(bytes.ToLower(body), []byte("token")) {
		t.Fatalf("GET / = %d:\n%.400s", code, body)
	}
}

// withoutCredential drops the provisioning password line of a Yealink file.
func withoutCredential(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("static.auto_provision.server.password = ")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
