package provision_test

import (
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testlog"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// leakyDriver renders every secret whatever WithSecrets says, as an
// admin's template override that lost its guard would.
type leakyDriver struct{}

func (leakyDriver) Name() string { return "leaky" }
func (leakyDriver) Models() []vendors.Model {
	return []vendors.Model{{Vendor: "leaky", Name: "L1", Kind: "desk", Lines: 1, Keys: 2, KeyTypes: []vendors.KeyType{vendors.KeyLine}}}
}
func (leakyDriver) Identify(req vendors.Request) vendors.Identity {
	name, ok := strings.CutSuffix(req.Path, ".leak")
	mac, err := vendors.ParseMAC(name)
	if !ok || err != nil {
		return vendors.Identity{}
	}
	return vendors.Identity{Vendor: "leaky", Model: "L1", MAC: mac, Kind: vendors.FileDevice, Score: vendors.ScorePath}
}
func (leakyDriver) Files(d *vendors.Device) []string { return []string{d.MAC + ".leak"} }
func (leakyDriver) Render(name string, d *vendors.Device) (*vendors.File, error) {
	body := "web=" + d.WebPassword + "\n"
	for _, l := range d.Lines {
		body += "sip=" + l.Password + "\n"
	}
	return &vendors.File{Name: name, ContentType: "text/plain", Body: []byte(body)}, nil
}

// The safety net under drivers and template overrides: a per-device file
// rendered outside the window that still holds a password is refused
// (a miss, logged with the reason), while inside the window it goes out.
func TestFileHoldingASecretOutsideTheWindowIsRefused(t *testing.T) {
	logs := &testlog.Buffer{}
	reg := vendors.NewRegistry(leakyDriver{})
	st := newMemStore()
	clk := &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	p, inv := provision.New(provision.Options{Registry: reg, Now: clk.Now, Log: slog.New(slog.NewTextHandler(logs, nil))}, st)
	ctx := context.Background()
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201"), Password: ptr("Leaky-pass-201")}, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("00aabbccdd02"), Vendor: ptr("leaky"), Model: ptr("L1"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	req := vendors.Request{Path: "00aabbccdd02.leak", RemoteAddr: "192.0.2.3", Transport: "http"}
	res, err := p.Provide(ctx, req)
	if err != nil || !res.Secret || !bytes.Contains(res.File.Body, []byte("Leaky-pass-201")) {
		t.Fatalf("inside the window: %v %+v", err, res)
	}
	res.Sending()
	res.Finish(true)
	res, err = p.Provide(ctx, req)
	if !errors.Is(err, autoprov.ErrNotFound) || res != nil {
		t.Fatalf("outside the window a file holding the password went out: %v %+v", err, res)
	}
	if err != nil && strings.Contains(err.Error(), "Leaky-pass-201") {
		t.Fatal("the error names the secret")
	}
	if !strings.Contains(logs.String(), "missing WithSecrets guard") || strings.Contains(logs.String(), "Leaky-pass-201") {
		t.Fatalf("log does not say why, or names the secret:\n%s", logs)
	}
}

// A database that is down fails every path with its error, never with a
// phone-facing detail and never as a served file.
func TestBrokenStore(t *testing.T) {
	c, _ := newCoreOn(t, &brokenStore{memStore: *newMemStore()})
	ctx := context.Background()
	if _, err := c.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua}); !errors.Is(err, errBroken) {
		t.Errorf("Provide: %v, want the store's error", err)
	}
	if _, err := c.Provide(ctx, vendors.Request{Path: "y000000000000.boot", UserAgent: "Yealink SIP-T54W 96.86.0.100"}); !errors.Is(err, errBroken) {
		t.Errorf("common file: %v, want the store's error", err)
	}
	if err := c.Ready(ctx); !errors.Is(err, errBroken) {
		t.Errorf("Ready: %v", err)
	}
	if _, err := c.Settings(ctx); !errors.Is(err, errBroken) {
		t.Errorf("Settings: %v", err)
	}
	if _, err := c.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201")}, "t"); !errors.Is(err, errBroken) {
		t.Errorf("CreateAccount: %v", err)
	}
	if _, err := c.Discovered(ctx, vendors.Request{MAC: "805ec0aabb01", Transport: "sip"}); !errors.Is(err, errBroken) {
		t.Errorf("Discovered: %v", err)
	}
}

// A store that waits for its context stops when the caller's does: the
// context reaches the store.
type slowStore struct{ memStore }

func (s *slowStore) Seen(ctx context.Context, _ autoprov.Sighting) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func TestContextReachesTheStore(t *testing.T) {
	c, _ := newCoreOn(t, &slowStore{memStore: *newMemStore()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Provide on a hung store: %v, want the deadline", err)
	}
}

// PUT with some fields leaves the others unset: a default that applies to
// an unset field (the window from --disclosure-window, the tone scheme
// from the time zone) keeps applying.
func TestSettingsLeftOutStayUnset(t *testing.T) {
	st := newMemStore()
	c, _ := newCoreOn(t, st)
	ctx := context.Background()
	got, err := c.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com")}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if got.DisclosureWindowSeconds != 600 || got.SIPServer != "pbx.example.com" {
		t.Fatalf("effective settings: %+v", got)
	}
	stored, _ := st.Settings(ctx)
	if stored.DisclosureWindowSeconds != 0 || stored.ToneScheme != "" {
		t.Fatalf("fields left out were stored: %+v", stored)
	}
	// The same store under another --disclosure-window follows it.
	_, inv2 := provision.New(provision.Options{Registry: c.Registry(), DisclosureWindow: 3 * time.Minute}, st)
	if s2, _ := inv2.Settings(ctx); s2.DisclosureWindowSeconds != 180 {
		t.Fatalf("window = %d, want the new default 180", s2.DisclosureWindowSeconds)
	}
	// Once set, it stays set.
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{DisclosureWindowSeconds: ptr(900)}, "t"); err != nil {
		t.Fatal(err)
	}
	if s2, _ := inv2.Settings(ctx); s2.DisclosureWindowSeconds != 900 {
		t.Fatalf("window = %d, want the stored 900", s2.DisclosureWindowSeconds)
	}
	if _, err := c.PutSettings(ctx, autoprov.SettingsPatch{DisclosureWindowSeconds: ptr(0)}, "t"); err == nil {
		t.Fatal("a window of 0 seconds was accepted")
	}
}

// With no tone scheme set it follows the time zone's country, for the
// fleet and for a device whose own time zone differs; an explicit one wins.
func TestToneSchemeFollowsTheTimeZone(t *testing.T) {
	c, _ := newCoreOn(t, newMemStore())
	ctx := context.Background()
	st, err := c.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx"), Timezone: ptr("Europe/Berlin"), Language: ptr("de")}, "t")
	if err != nil || st.ToneScheme != "DE" {
		t.Fatalf("Europe/Berlin: tone %q, %v", st.ToneScheme, err)
	}
	mustAccount(t, c, "201", "Alice")
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"},
		Overrides: &autoprov.Overrides{Timezone: "Europe/Vienna"}}, "t"); err != nil {
		t.Fatal(err)
	}
	f, err := c.Preview(ctx, "805ec0aabb01", "805ec0aabb01.cfg", "")
	if err != nil || !bytes.Contains(f.Body, []byte("voice.tone.country = Austria")) {
		t.Fatalf("device in Vienna without a tone scheme: %v\n%s", err, f.Body)
	}
	if st, _ = c.PutSettings(ctx, autoprov.SettingsPatch{Timezone: ptr("UTC")}, "t"); st.ToneScheme != "US" {
		t.Fatalf("UTC: tone %q, want US", st.ToneScheme)
	}
	if st, _ = c.PutSettings(ctx, autoprov.SettingsPatch{ToneScheme: ptr("CH")}, "t"); st.ToneScheme != "CH" {
		t.Fatalf("explicit CH: tone %q", st.ToneScheme)
	}
}

// Every bad key is listed, whatever its fault: a bad type and an account
// not on the device in one request are both reported.
func TestEveryBadKeyListed(t *testing.T) {
	c, _ := newCore(t)
	ctx := context.Background()
	mustAccount(t, c, "201", "Alice")
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	_, err := c.SetKeys(ctx, "805ec0aabb01", []autoprov.KeySpec{
		{Position: 2, Type: "teleport", Value: "1"},
		{Position: 3, Type: vendors.KeyBLF, Account: "999", Value: "202"},
		{Position: 4, Type: vendors.KeyDND},
		{Position: 999, Type: vendors.KeyDND},
	}, "t")
	var inv *autoprov.InvalidError
	if !errors.As(err, &inv) || len(inv.Details) != 3 {
		t.Fatalf("got %v, want 3 details", err)
	}
	for i, want := range []string{"key 1 (teleport", "key 2 (blf at position 3): account 999 is not on the device", "key 4 (dnd at position 999)"} {
		if !strings.HasPrefix(inv.Details[i], want) {
			t.Errorf("detail %d = %q, want it to start %q", i, inv.Details[i], want)
		}
	}
}

// No vendor is named in the code of the core or the phone-facing edges:
// what differs per vendor lives in its driver.
func TestNoVendorNamesInTheCoreOrEdges(t *testing.T) {
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	names := reg.VendorNames()
	for _, dir := range []string{".", "../httpd", "../tftpd"} {
		fset := token.NewFileSet()
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution) // comments left out
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				var text string
				switch x := n.(type) {
				case *ast.BasicLit:
					text = x.Value
				case *ast.Ident:
					text = x.Name
				default:
					return true
				}
				for _, v := range names {
					if strings.Contains(strings.ToLower(text), v) {
						t.Errorf("%s: %s names vendor %q", fset.Position(n.Pos()), text, v)
					}
				}
				return true
			})
		}
	}
	if len(names) < 3 {
		t.Fatalf("vendor names: %v", names)
	}
}

// Every interface an edge declares lists only methods that edge calls:
// a method no non-test code of its package selects is a dependency on the
// core the edge does not have.
func TestEdgeInterfacesListOnlyWhatTheyCall(t *testing.T) {
	for _, dir := range []string{"../httpd", "../tftpd", "../sippnp", "../sniff", "../../web"} {
		fset := token.NewFileSet()
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		declared := map[string]string{} // method -> interface
		called := map[string]bool{}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.TypeSpec:
					if it, ok := x.Type.(*ast.InterfaceType); ok {
						for _, m := range it.Methods.List {
							for _, name := range m.Names {
								declared[name.Name] = x.Name.Name
							}
						}
					}
				case *ast.SelectorExpr:
					called[x.Sel.Name] = true
				}
				return true
			})
		}
		for m, iface := range declared {
			if !called[m] {
				t.Errorf("%s: interface %s lists %s, which the package never calls", dir, iface, m)
			}
		}
	}
}

// Admin text follows the one text-safety rule: a C1 control, a line
// separator and a noncharacter are refused alike in every free-text field.
func TestAdminTextFollowsTheOneRule(t *testing.T) {
	c, _ := newCore(t)
	ctx := context.Background()
	mustAccount(t, c, "201", "Alice")
	for _, bad := range []string{"A\u0085B", "A\u2028B", "A\ufffeB", "A\tB", "A\xffB"} {
		var inv *autoprov.InvalidError
		if _, err := c.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("202"), DisplayName: ptr(bad)}, "t"); !errors.As(err, &inv) || inv.Field != "display_name" {
			t.Errorf("display_name %q: %v", bad, err)
		}
		if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Model: ptr("T54W"), Label: ptr(bad)}, "t"); !errors.As(err, &inv) || inv.Field != "label" {
			t.Errorf("label %q: %v", bad, err)
		}
		if _, err := c.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "p", Description: bad}, true, "t"); !errors.As(err, &inv) || inv.Field != "description" {
			t.Errorf("description %q: %v", bad, err)
		}
	}
	if _, err := c.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("203"), DisplayName: ptr("Jürgen Groß 😀")}, "t"); err != nil {
		t.Errorf("ordinary German text refused: %v", err)
	}
}
