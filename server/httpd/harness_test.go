package httpd_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/apispec"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"

	"github.com/autoprov/autoprov/internal/netlist"
	"github.com/autoprov/autoprov/internal/testlog"
)

const (
	token = "tok"
	// yealinkUA carries the phone's MAC, as Yealink firmware sends it.
	yealinkUA = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"
	// yealinkNoMAC is the same phone's User-Agent without the MAC.
	yealinkNoMAC = "Yealink SIP-T54W 96.86.0.100"
	snomUA       = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 000413AABB02 SXM:0 UXM:0 UXMC:0)"
	devMAC       = "805ec0aabb01"
	sipPass      = "Sip-Pass-201-xyz"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer = testlog.Buffer

// env is the HTTP edge over a real core and a real SQLite file.
type env struct {
	t   *testing.T
	srv *httpd.Server
	log *syncBuffer
	st  *store.Store // the core's store (nil for a fake core)
}

// options adjust the core's and the edge's configuration before New.
type options struct {
	publicURL      string
	maxBody        int64
	trustedProxies []string
	adminToken     *string
	drivers        []vendors.Vendor // added after the shipped ones
	phoneNetworks  netlist.List
	adminNetworks  netlist.List
	log            *slog.Logger // instead of the text log into env.log
	mount          func(*gin.Engine)
	maxConns       int // Config.MaxConns
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	st, err := store.Open(t.TempDir() + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logBuf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.log != nil {
		log = o.log
	}
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.drivers) > 0 {
		reg = vendors.NewRegistry(append(reg.Drivers(), o.drivers...)...)
	}
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log, PublicURL: o.publicURL}, st)
	tok := token
	if o.adminToken != nil {
		tok = *o.adminToken
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Inbox: phones, Log: log, AdminToken: tok, MaxBody: o.maxBody, TrustedProxies: o.trustedProxies,
		PhoneNetworks: o.phoneNetworks, AdminNetworks: o.adminNetworks, Mount: o.mount, MaxConns: o.maxConns})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, log: logBuf, st: st}
}

// newFakeEnv builds the edge over a hand-written fake core.
func newFakeEnv(t *testing.T, core *fakeCore) *env {
	t.Helper()
	logBuf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := httpd.New(httpd.Config{Phones: core, Health: core, Inventory: core, Log: log, AdminToken: token})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, log: logBuf}
}

// serve starts a real HTTP server on loopback for the edge.
func (e *env) serve() *httptest.Server {
	ts := httptest.NewServer(apispec.Handler(e.t, e.srv.Handler()))
	e.t.Cleanup(ts.Close)
	return ts
}

// do sends req to the handler in process and returns the recorder.
func (e *env) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	apispec.Handler(e.t, e.srv.Handler()).ServeHTTP(rec, req)
	return rec
}

// api calls the admin API with the right token. body is nil, a string
// (sent as is) or a value marshalled to JSON.
func (e *env) api(method, path string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bodyReader(e.t, body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// must calls the API, fails unless the status is want and decodes into v.
func (e *env) must(want int, method, path string, body, v any) {
	e.t.Helper()
	rec := e.api(method, path, body)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
		}
	}
}

// phone fetches a file under /prov/ in process, as a phone would.
func (e *env) phone(method, path, ua string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

func bodyReader(t *testing.T, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(j)
	}
}

// apiErr is the JSON body of an API error.
type apiErr struct {
	Error   string   `json:"error"`
	Field   string   `json:"field"`
	Details []string `json:"details"`
}

// wantErr checks an API error answer: status, JSON content type, a
// non-empty message and the field (when field is not "-").
func wantErr(t *testing.T, rec *httptest.ResponseRecorder, status int, field string) apiErr {
	t.Helper()
	return checkErr(t, rec.Code, rec.Header(), rec.Body.Bytes(), status, field)
}

func checkErr(t *testing.T, code int, h http.Header, body []byte, status int, field string) apiErr {
	t.Helper()
	if code != status {
		t.Errorf("status %d, want %d: %s", code, status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q, want application/json", ct)
	}
	var e apiErr
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("error body is not JSON: %v: %q", err, body)
		return e
	}
	if e.Error == "" {
		t.Errorf("error body without a message: %s", body)
	}
	if field != "-" && e.Field != field {
		t.Errorf("field %q, want %q (%s)", e.Field, field, body)
	}
	return e
}

// device is the part of GET /api/v1/devices/{mac} the tests read.
type device struct {
	MAC        string `json:"mac"`
	State      string `json:"state"`
	RemoteIP   string `json:"remote_ip"`
	UserAgent  string `json:"user_agent"`
	Disclosure struct {
		State       string `json:"state"`
		DisclosedTo *struct {
			IP string `json:"ip"`
		} `json:"disclosed_to"`
		Complete *bool `json:"complete"`
	} `json:"disclosure"`
	Keys []key `json:"keys"`
}

// key is a key as the API shows it.
type key struct {
	Position   int    `json:"position"`
	Module     int    `json:"module,omitempty"`
	Type       string `json:"type"`
	Account    string `json:"account,omitempty"`
	Line       int    `json:"line,omitempty"`
	Value      string `json:"value,omitempty"`
	Label      string `json:"label,omitempty"`
	PickupCode string `json:"pickup_code,omitempty"`
}

func (e *env) device(mac string) device {
	e.t.Helper()
	var d device
	e.must(http.StatusOK, "GET", "/api/v1/devices/"+mac, nil, &d)
	return d
}

// settled returns the device once its disclosure is in state: over a
// real socket the edge settles the transfer just after the phone has the
// last byte, so the API may show the old state for a moment.
func (e *env) settled(mac, state string) device {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := e.device(mac)
		if d.Disclosure.State == state || time.Now().After(deadline) {
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// completed returns the device once the end of its consuming transfer is
// recorded (disclosure.complete not null), or as it is after 30 s.
func (e *env) completed(mac string) device {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := e.device(mac)
		if d.Disclosure.Complete != nil || time.Now().After(deadline) {
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// setup stores the settings, account 201 and the T54W 805ec0aabb01
// carrying it; creating the device opens its disclosure window.
func (e *env) setup() {
	e.t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com", "sip_port": 5060,
		"sip_transport": "udp", "timezone": "Europe/Berlin", "language": "de", "tone_scheme": "DE"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice", "password": sipPass}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:01", "model": "T54W", "accounts": []string{"201"}}, nil)
	if d := e.device(devMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		e.t.Fatalf("new device's window is %q, want open", d.Disclosure.State)
	}
}
