package httpd_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// echoDriver is a driver whose phones talk by POSTing messages
// (vendors.Responder), as OpenStage phones do: "hello mac=<MAC>" to
// dialogue/login. It answers with what it knows of the phone. It lives
// here, not in the core: the core and the edge know no vendor by name.
type echoDriver struct{}

func (echoDriver) Name() string { return "echo" }

func (echoDriver) Models() []vendors.Model {
	return []vendors.Model{{Vendor: "echo", Name: "E1", Kind: "desk", Lines: 2, Keys: 4, KeyTypes: []vendors.KeyType{vendors.KeyLine}}}
}

func (echoDriver) Identify(req vendors.Request) vendors.Identity {
	if req.Path != "dialogue/login" || req.Method != vendors.MethodPost {
		return vendors.Identity{}
	}
	id := vendors.Identity{Vendor: "echo", Model: "E1", Kind: vendors.FileCommon, Score: vendors.ScorePath}
	if _, rest, ok := strings.Cut(string(req.Body), "mac="); ok {
		if mac, err := vendors.ParseMAC(strings.Fields(rest + " ")[0]); err == nil {
			id.MAC = mac
		}
	}
	return id
}

func (echoDriver) Files(*vendors.Device) []string { return nil }

func (echoDriver) Render(name string, _ *vendors.Device) (*vendors.File, error) {
	return nil, fmt.Errorf("%s: %w", name, vendors.ErrNotFound)
}

func (echoDriver) Answers(path string) bool { return path == "dialogue/login" }

func (echoDriver) Respond(req vendors.Request, d *vendors.Device) (*vendors.File, error) {
	if !strings.HasPrefix(string(req.Body), "hello") {
		return nil, fmt.Errorf("not a greeting: %w", vendors.ErrUnsupported)
	}
	who := "stranger"
	if d != nil {
		who = fmt.Sprintf("%s %s on %s lines=%d secrets=%v", d.Label, d.Model, d.Settings.SIPServer, len(d.Lines), d.WithSecrets)
	}
	return &vendors.File{Name: "answer", ContentType: "text/plain", Body: []byte("welcome " + who + " ct=" + req.HeaderValue("content-type"))}, nil
}

// A driver that answers POSTs serves its phones end to end through the
// HTTP edge: the unknown phone lands in the inbox, the adopted one gets
// its device (without secrets); every other POST stays 403.
func TestPostToResponderThroughTheEdge(t *testing.T) {
	e := newEnv(t, options{drivers: []vendors.Vendor{echoDriver{}}})
	ts := e.serve()
	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(ts.URL+path, "text/x-greeting", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	const mac = "00aabbccdd01"
	if code, body := post("/prov/dialogue/login", "hello mac=00:AA:BB:CC:DD:01"); code != 200 || body != "welcome stranger ct=text/x-greeting" {
		t.Fatalf("unknown phone: %d %q", code, body)
	}
	if d := e.device(mac); d.State != "unassigned" {
		t.Fatalf("unknown phone not in the inbox: %+v", d)
	}

	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"extension": "301", "password": "Dialogue-pass-301"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"mac": mac, "vendor": "echo", "model": "E1", "label": "Front desk", "accounts": []string{"301"}}, nil)
	code, body := post("/prov/dialogue/login", "hello mac="+mac)
	if code != 200 || body != "welcome Front desk E1 on pbx.example.com lines=1 secrets=false ct=text/x-greeting" {
		t.Fatalf("adopted phone: %d %q", code, body)
	}
	if strings.Contains(body, "Dialogue-pass-301") {
		t.Fatal("a dialogue answer carried a secret")
	}

	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"a message the driver refuses", "/prov/dialogue/login", "goodbye", http.StatusNotFound},
		{"a path no driver answers", "/prov/dialogue/other", "hello", http.StatusForbidden},
		{"a GET-only vendor's file", "/prov/805ec0aabb01.cfg", "x", http.StatusForbidden},
		{"a path the edge refuses", "/prov/../etc/passwd", "x", http.StatusNotFound},
		{"a body over the bound", "/prov/dialogue/login", "hello " + strings.Repeat("x", vendors.MaxRequestBody), http.StatusRequestEntityTooLarge},
	} {
		if code, body := post(tc.path, tc.body); code != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, code, body, tc.want)
		}
	}
	req, _ := http.NewRequest("PUT", ts.URL+"/prov/dialogue/login", strings.NewReader("hello"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT to a dialogue path: %v %v, want 403", resp.StatusCode, err)
	}
	if resp, err := http.Get(ts.URL + "/prov/dialogue/login"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a dialogue path: %v %v, want 404", resp.StatusCode, err)
	}
}
