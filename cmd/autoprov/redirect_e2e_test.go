package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/looptest"
)

// rpcFake is Yealink RPS (POST /xmlrpc) and Snom SRAPS (POST /xmlrpc/)
// on loopback TLS: it checks Basic auth, records every call's body and
// answers with reply (default: the documented success answer).
type rpcFake struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string // "<path> <body>"
	reply func(path, body string) (int, string)
}

const rpcOK = `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value><string>Ok</string></value></data></array></value></param></params></methodResponse>`

func rpcRefused(text string) string {
	return `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><boolean>0</boolean></value><value><string>` + text + `</string></value></data></array></value></param></params></methodResponse>`
}

func newRPCFake(t *testing.T) (*rpcFake, string) {
	f := &rpcFake{}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "acme" || p != "vendor-Secret-77" || r.Header.Get("Content-Type") != "text/xml" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.calls = append(f.calls, r.URL.Path+" "+string(b))
		reply := f.reply
		f.mu.Unlock()
		code, body := 200, rpcOK
		if reply != nil {
			code, body = reply(r.URL.Path, string(b))
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	ca := filepath.Join(t.TempDir(), "fake-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f, ca
}

func (f *rpcFake) called(sub string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.Contains(c, sub) {
			n++
		}
	}
	return n
}

type onboardingOut struct {
	MAC        string `json:"mac"`
	Onboarding struct {
		State, Service, Detail string
	} `json:"onboarding"`
}

func (s *server) onboarding(mac string) onboardingOut {
	var d onboardingOut
	s.must(200, "GET", "/api/v1/devices/"+mac, nil, &d)
	return d
}

func (s *server) waitOnboarding(mac, state string) onboardingOut {
	s.t.Helper()
	var d onboardingOut
	waitFor(s.t, 20*time.Second, func() (bool, string) {
		d = s.onboarding(mac)
		return d.Onboarding.State == state, fmt.Sprintf("%+v", d.Onboarding)
	}, mac+" onboarding "+state)
	return d
}

func configureServices(s *server, fakeURL string) {
	var out map[string]any
	s.must(200, "PUT", "/api/v1/redirect-services/yealink-rps", map[string]any{"enabled": true, "url": fakeURL + "/xmlrpc",
		"username": "acme", "password": "vendor-Secret-77", "server_name": "autoprov"}, &out)
	if out["password_set"] != true || out["registers"] != "https://prov.example.com/prov/r/yealink-rps/" {
		s.t.Fatalf("PUT yealink-rps = %v", out)
	}
	s.must(200, "PUT", "/api/v1/redirect-services/snom-sraps", map[string]any{"enabled": true, "url": fakeURL + "/xmlrpc/",
		"username": "acme", "password": "vendor-Secret-77"}, nil)
	code, body := s.api("GET", "/api/v1/redirect-services/snom-sraps", nil)
	if code != 200 || strings.Contains(string(body), "vendor-Secret-77") || !strings.Contains(string(body), `"registers":"https://prov.example.com/prov/r/snom-sraps/{mac}.xml"`) {
		s.t.Fatalf("GET snom-sraps = %d %s", code, body)
	}
}

// TestRedirectServicesOnboarding: adopting a Yealink and a Snom phone
// registers each with its vendor's service (the documented XML-RPC call,
// Basic auth over TLS), the device shows registered; a fetch through the
// registered URL turns it redirected, its first secret-bearing fetch
// provisioned, its credential applied; SRAPS answering
// Error:owned_by_other_user shows unavailable with that answer.
func TestRedirectServicesOnboarding(t *testing.T) {
	fake, ca := newRPCFake(t)
	fake.reply = func(path, body string) (int, string) {
		if strings.Contains(body, "000413AABB03") {
			return 200, rpcRefused("Error:owned_by_other_user")
		}
		return 200, rpcOK
	}
	s := start(t, "--redirect-ca", ca, "--redirect-retry", "100ms", "--public-url", "https://prov.example.com/")
	configureServices(s, fake.srv.URL)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice"}, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:01", "model": "T54W", "accounts": []string{"201"}}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "00:04:13:AA:BB:02", "model": "D785", "accounts": []string{"202"}}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "00:04:13:AA:BB:03", "model": "D785"}, nil)

	y := s.waitOnboarding("805ec0aabb01", "registered")
	if y.Onboarding.Service != "yealink-rps" {
		t.Fatalf("yealink onboarding %+v", y.Onboarding)
	}
	wantY := "/xmlrpc <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>redirect.registerDevice</methodName><params>" +
		"<param><value><string>805EC0AABB01</string></value></param><param><value><string>autoprov</string></value></param>" +
		"<param><value><string>1</string></value></param></params></methodCall>\n"
	s.waitOnboarding("000413aabb02", "registered")
	wantS := "/xmlrpc/ <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>redirect.registerPhone</methodName><params>" +
		"<param><value><string>000413AABB02</string></value></param>" +
		"<param><value><string>https://prov.example.com/prov/r/snom-sraps/{mac}.xml</string></value></param></params></methodCall>\n"
	fake.mu.Lock()
	calls := append([]string(nil), fake.calls...)
	fake.mu.Unlock()
	var sawY, sawS bool
	for _, c := range calls {
		sawY = sawY || c == wantY
		sawS = sawS || c == wantS
	}
	if !sawY || !sawS {
		t.Fatalf("calls = %q\nwant %q and %q", calls, wantY, wantS)
	}

	u := s.waitOnboarding("000413aabb03", "unavailable")
	if u.Onboarding.Service != "snom-sraps" || !strings.Contains(u.Onboarding.Detail, "owned_by_other_user") || !strings.Contains(u.Onboarding.Detail, "Error:owned_by_other_user") {
		t.Fatalf("unavailable: %+v", u.Onboarding)
	}
	var page struct{ Total int }
	s.must(200, "GET", "/api/v1/devices?onboarding=unavailable", nil, &page)
	if page.Total != 1 {
		t.Fatalf("?onboarding=unavailable total %d, want 1", page.Total)
	}

	// Through the registered URL: a common file first (no secret).
	if code, _, _ := s.get("/prov/r/yealink-rps/y000000000096.cfg", yealinkUA); code != 200 {
		t.Fatalf("common file through the marker: %d", code)
	}
	s.waitOnboarding("805ec0aabb01", "redirected")
	// Its first secret-bearing fetch, through the same URL.
	code, body, _ := s.get("/prov/r/yealink-rps/805ec0aabb01.cfg", yealinkUA)
	if code != 200 || !strings.Contains(string(body), "static.auto_provision.server.password") {
		t.Fatalf("device file through the marker: %d %.200s", code, body)
	}
	cred := credentialOf(t, body)
	s.waitOnboarding("805ec0aabb01", "provisioned")
	if code, _, _ := s.getAs("/prov/r/yealink-rps/805ec0aabb01.cfg", yealinkUA, "805ec0aabb01", cred); code != 200 {
		t.Fatalf("fetch with the credential: %d", code)
	}
	s.waitOnboarding("805ec0aabb01", "applied")
	s.must(200, "GET", "/api/v1/devices?onboarding=applied", nil, &page)
	if page.Total != 1 {
		t.Fatalf("?onboarding=applied total %d", page.Total)
	}
	// Each change is audited.
	var audit struct {
		Items []struct{ Event, Detail string }
	}
	s.must(200, "GET", "/api/v1/audit?mac=805ec0aabb01", nil, &audit)
	events := map[string]bool{}
	for _, e := range audit.Items {
		events[e.Event] = true
	}
	for _, e := range []string{"onboarding.pending", "onboarding.registered", "onboarding.redirected", "disclosure.consumed"} {
		if !events[e] {
			t.Errorf("audit lacks %s: %v", e, events)
		}
	}

	// Deleting with ?deregister=true queues the deregistration.
	s.must(204, "DELETE", "/api/v1/devices/000413aabb02?deregister=true", nil, nil)
	waitFor(t, 20*time.Second, func() (bool, string) {
		return fake.called("<methodName>redirect.deregisterPhone</methodName><params><param><value><string>000413AABB02</string>") == 1, ""
	}, "deregisterPhone sent")
	s.leaks("vendor-Secret-77")
}

// TestRedirectServiceDown: a service that hangs does not hold the
// admin's request; the registration stays queued (visible in the queue)
// and is retried with backoff until the service answers.
func TestRedirectServiceDown(t *testing.T) {
	fake, ca := newRPCFake(t)
	release := make(chan struct{})
	var n int
	var mu sync.Mutex
	fake.reply = func(path, body string) (int, string) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		switch {
		case k == 1:
			<-release // hangs until the test has seen the admin's answer
			return 503, "down"
		case k <= 3:
			return 503, "down"
		}
		return 200, rpcOK
	}
	s := start(t, "--redirect-ca", ca, "--redirect-retry", "100ms", "--public-url", "https://prov.example.com/")
	configureServices(s, fake.srv.URL)
	began := time.Now()
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "00:04:13:AA:BB:05", "model": "D785"}, nil)
	// The service hangs until release, so a create that waited on it would
	// take the call's timeout (30 s); 20 s leaves a loaded machine room.
	if d := time.Since(began); d > 20*time.Second {
		t.Fatalf("the admin's create took %v while the service hangs", d)
	}
	var q struct {
		Items []struct {
			MAC, Op string
		}
		Total int
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		return fake.called("registerPhone") == 1, ""
	}, "the worker called the hanging service")
	s.must(200, "GET", "/api/v1/redirect-services/snom-sraps/queue", nil, &q)
	if q.Total != 1 || q.Items[0].MAC != "000413aabb05" || q.Items[0].Op != "register" {
		t.Fatalf("queue = %+v", q)
	}
	if d := s.onboarding("000413aabb05"); d.Onboarding.State != "pending" {
		t.Fatalf("onboarding while queued: %+v", d.Onboarding)
	}
	close(release)
	s.waitOnboarding("000413aabb05", "registered")
	if c := fake.called("registerPhone"); c != 4 {
		t.Fatalf("registerPhone sent %d times, want 4 (hang, 503, 503, ok)", c)
	}
	s.must(200, "GET", "/api/v1/redirect-services/snom-sraps/queue", nil, &q)
	if q.Total != 0 {
		t.Fatalf("queue after success = %+v", q)
	}
	// Bulk registration of MACs goes through the same queue.
	var r struct{ Queued int }
	s.must(202, "POST", "/api/v1/redirect-services/snom-sraps/register", map[string]any{"macs": []string{"00:04:13:AA:BB:06", "000413aabb07"}}, &r)
	if r.Queued != 2 {
		t.Fatalf("queued %d", r.Queued)
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		return fake.called("000413AABB06") == 1 && fake.called("000413AABB07") == 1, ""
	}, "bulk registrations sent")
	// And the CLI, through the API.
	var stdout, stderr bytes.Buffer
	env := func(k string) (string, bool) {
		if k == "AUTOPROV_ADMIN_TOKEN" {
			return testToken, true
		}
		return "", false
	}
	if err := redirectCommand(context.Background(), []string{"register", "--service", "snom-sraps", "--server", s.base, "000413aabb08"}, env, &stdout, &stderr); err != nil {
		t.Fatalf("redirect register: %v %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "queued 1 registration(s) with snom-sraps") {
		t.Fatalf("stdout %q", stdout.String())
	}
	waitFor(t, 20*time.Second, func() (bool, string) { return fake.called("000413AABB08") == 1, "" }, "CLI registration sent")
}

// TestRedirectRules: a rule for a MAC prefix sends a Yealink phone the
// server does not know to the other server in its own format; a phone
// outside the rule, and a device of this server inside it, are served as
// always.
func TestRedirectRules(t *testing.T) {
	s := start(t)
	var rule struct {
		ID     int64
		Match  []string
		Target string
	}
	s.must(201, "POST", "/api/v1/redirect-rules", map[string]any{"match": []string{"80:5e:c0:aa", "00:04:13:11:22:33", "00:56:2b:04"}, "target": "https://other.example.com/prov"}, &rule)
	if rule.Target != "https://other.example.com/prov/" || len(rule.Match) != 3 || rule.Match[0] != "805ec0aa" {
		t.Fatalf("rule = %+v", rule)
	}
	code, body, _ := s.get("/prov/805ec0aabb09.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:09")
	if code != 200 || string(body) != "#!version:1.0.0.1\nstatic.auto_provision.server.url = https://other.example.com/prov/\n" {
		t.Fatalf("matched phone: %d %q", code, body)
	}
	code, body, _ = s.get("/prov/000413112233.xml", "")
	if code != 200 || !strings.Contains(string(body), "<setting_server perm=\"RW\">https://other.example.com/prov/</setting_server>") {
		t.Fatalf("matched Snom phone: %d %q", code, body)
	}
	code, body, _ = s.get("/prov/Cisco/CP-8851-3PCC/00562b0429da.cfg", "Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)")
	if code != 200 || !strings.Contains(string(body), `<Profile_Rule ua="na">https://other.example.com/prov/$MA.xml</Profile_Rule>`) {
		t.Fatalf("matched Cisco phone: %d %q", code, body)
	}
	// Outside the rule: the unknown-MAC answer, and the normal common file.
	if code, _, _ := s.get("/prov/805ec0cc0001.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:cc:00:01"); code != 401 {
		t.Fatalf("phone outside the rule: %d, want the unknown MAC's 401", code)
	}
	code, body, _ = s.get("/prov/y000000000096.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:cc:00:01")
	if code != 200 || strings.Contains(string(body), "other.example.com") {
		t.Fatalf("common file outside the rule: %d %.200s", code, body)
	}
	// A device of this server inside the prefix is served here.
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:01", "model": "T54W"}, nil)
	code, body, _ = s.get("/prov/805ec0aabb01.cfg", yealinkUA)
	if code != 200 || strings.Contains(string(body), "other.example.com") {
		t.Fatalf("own device: %d %.200s", code, body)
	}
	var rules struct{ Total int }
	s.must(200, "GET", "/api/v1/redirect-rules", nil, &rules)
	if rules.Total != 1 {
		t.Fatalf("rules total %d", rules.Total)
	}
	s.must(204, "DELETE", fmt.Sprintf("/api/v1/redirect-rules/%d", rule.ID), nil, nil)
	if code, _, _ := s.get("/prov/805ec0aabb09.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:09"); code != 401 {
		t.Fatalf("after delete: %d", code)
	}
}

// TestRedirectExports: the Gigaset portal's list (MAC-ID, URL with %MACD,
// provider) and the Cisco CDA MAC list.
func TestRedirectExports(t *testing.T) {
	s := start(t, "--public-url", "https://prov.example.com/")
	code, body := s.api("GET", "/api/v1/redirect-services/gigaset/export?macs=7c:2f:80:aa:bb:01&provider=Example", nil)
	if want := "mac_id,url,provider\n7C2F80AABB01-,https://prov.example.com/prov/r/gigaset/%MACD.xml,Example\n"; code != 200 || string(body) != want {
		t.Fatalf("gigaset export: %d %q, want %q", code, body, want)
	}
	code, body = s.api("GET", "/api/v1/redirect-services/cisco/export?macs=00562b0a0b0c", nil)
	if want := "MAC Address\n00562B0A0B0C\n"; code != 200 || string(body) != want {
		t.Fatalf("cisco export: %d %q", code, body)
	}
	var e map[string]any
	code, body = s.api("GET", "/api/v1/redirect-services/nope/export", nil)
	if code != 404 || json.Unmarshal(body, &e) != nil {
		t.Fatalf("unknown export: %d %s", code, body)
	}
}

// TestRedirectExportWholeFleet: a vendor's export without ?macs= lists
// every adopted phone of that vendor, not the core's default page of 100.
func TestRedirectExportWholeFleet(t *testing.T) {
	s := start(t, "--public-url", "https://prov.example.com/")
	var devices []map[string]any
	for i := range 150 {
		devices = append(devices, map[string]any{"mac": fmt.Sprintf("7c2f80aa%04x", i), "model": "N870"})
	}
	s.must(200, "POST", "/api/v1/bulk", map[string]any{"devices": devices}, nil)
	code, body := s.api("GET", "/api/v1/redirect-services/gigaset/export", nil)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if code != 200 || len(lines) != 151 || !strings.HasPrefix(lines[150], "7C2F80AA0095-,") {
		t.Fatalf("gigaset export: %d, %d lines (want a header and 150 phones), last %q", code, len(lines), lines[len(lines)-1])
	}
}

// TestCLINoServerSaysSo: a CLI command that talks to a running server
// (redirect register, import --server) says that no server answers at the
// URL it tried and names --server, where it used to print only "connection
// refused"; the admin token is in no message.
func TestCLINoServerSaysSo(t *testing.T) {
	const token = "cli-token-0123456789abcdef"
	server := "http://127.0.0.1:" + looptest.FreePort(t, "tcp")
	env := map[string]string{"AUTOPROV_ADMIN_TOKEN": token}
	csv := filepath.Join(t.TempDir(), "phones.csv")
	if err := os.WriteFile(csv, []byte("mac,model\n001565aabbcc,T54W\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"redirect", "register", "--service", "yealink-rps", "--server", server, "001565aabbcc"},
		{"import", csv, "--server", server},
	} {
		log, err := runAutoprov(t, env, args...)
		if err == nil {
			t.Fatalf("%v: no error with no server at %s", args[:2], server)
		}
		msg := err.Error()
		if !strings.Contains(msg, "no autoprov server answers at "+server) || !strings.Contains(msg, "--server") {
			t.Errorf("%v: %q, want it to say no server answers at %s and name --server", args[:2], msg, server)
		}
		if strings.Contains(msg+log, token) {
			t.Errorf("%v: the admin token is in the output", args[:2])
		}
	}
}

// TestCLIUnknownRedirectService: "redirect register --service yealink"
// (the vendor, not the service) is refused with the services there are.
func TestCLIUnknownRedirectService(t *testing.T) {
	s := start(t)
	_, err := runAutoprov(t, map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken},
		"redirect", "register", "--service", "yealink", "--server", s.base, "001565aabbcc")
	if err == nil || !strings.Contains(err.Error(), "known: yealink-rps, snom-sraps") {
		t.Fatalf("--service yealink: %v, want a refusal naming the known services", err)
	}
}
