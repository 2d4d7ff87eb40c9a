package provision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testclock"
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
	clk := testclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
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

// hangupStore is a store whose caller hangs up (its context is cancelled)
// right after a change is made; like server/store, it writes nothing on a
// cancelled context.
type hangupStore struct {
	memStore
	hangup context.CancelFunc
}

func (s *hangupStore) UpdateAccount(ctx context.Context, a autoprov.Account) (autoprov.Account, error) {
	a, err := s.memStore.UpdateAccount(ctx, a)
	s.hangup()
	return a, err
}

func (s *hangupStore) AppendAudit(ctx context.Context, e autoprov.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memStore.AppendAudit(ctx, e)
}

// A change made before the caller hung up is still audited.
func TestChangeIsAuditedWhenTheCallerHangsUp(t *testing.T) {
	st := &hangupStore{memStore: *newMemStore()}
	c, _ := newCoreOn(t, st)
	if _, err := c.CreateAccount(context.Background(), autoprov.AccountInput{Extension: ptr("201")}, "t"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st.hangup = cancel
	if _, err := c.UpdateAccount(ctx, "201", autoprov.AccountInput{DisplayName: ptr("Alice")}, "api@192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("the caller did not hang up")
	}
	evs, err := c.Audit(context.Background(), "", 10)
	if err != nil || len(evs) == 0 || evs[0].Event != autoprov.EventAccountUpdated || evs[0].Detail != "extension 201: changed: display_name" {
		t.Fatalf("the change is not audited: %v %+v", err, evs)
	}
}

// leakyResponder answers phones' POSTs with every secret of the device it
// is given, whatever WithSecrets says: a dialogue driver with a bug.
type leakyResponder struct{ leakyDriver }

func (leakyResponder) Answers(path string) bool { return path == "dialogue" }
func (leakyResponder) Respond(req vendors.Request, d *vendors.Device) (*vendors.File, error) {
	body := "stranger"
	if d != nil {
		body = "menu=" + d.MenuPassword + "\nweb=" + d.WebPassword + "\n"
		for _, l := range d.Lines {
			body += "sip=" + l.Password + "\n"
		}
	}
	return &vendors.File{Name: "answer", ContentType: "text/plain", Body: []byte(body)}, nil
}

// A dialogue driver gets the device without its secrets: an answer has no
// safety net like a rendered file's, so no secret may reach it.
func TestResponderGetsNoSecrets(t *testing.T) {
	reg := vendors.NewRegistry(leakyResponder{})
	p, inv := provision.New(provision.Options{Registry: reg}, newMemStore())
	ctx := context.Background()
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201"), Password: ptr("Leaky-pass-201")}, "t"); err != nil {
		t.Fatal(err)
	}
	d, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("00aabbccdd02"), Vendor: ptr("leaky"), Model: ptr("L1"),
		Accounts: &[]string{"201"}, MenuPassword: ptr("24681357"), WebPassword: ptr("Leaky-web-pass")}, "t")
	if err != nil || d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("device: %v %+v", err, d)
	}
	res, err := p.Provide(ctx, vendors.Request{Path: "dialogue", MAC: "00aabbccdd02", Method: vendors.MethodPost, Transport: "http", Body: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
	body := string(res.File.Body)
	if !strings.HasPrefix(body, "menu=") || res.Secret {
		t.Fatalf("the driver did not get the device: %q", body)
	}
	for _, secret := range []string{"Leaky-pass-201", "24681357", "Leaky-web-pass"} {
		if strings.Contains(body, secret) {
			t.Errorf("the answer carries a secret: %q", body)
		}
	}
}

// Text stored before the one text rule (a display name with U+FFFD or a
// noncharacter, which inputs refuse now) still renders after an upgrade:
// the phone gets its file with the rune left out, not a 404.
func TestTextStoredBeforeTheRuleStillRenders(t *testing.T) {
	st := newMemStore()
	c, _ := newCoreOn(t, st)
	ctx := context.Background()
	if _, err := st.CreateAccount(ctx, autoprov.Account{Extension: "201", DisplayName: "M\ufffdller\ufffe", AuthUser: "201", Password: "Legacy-pass-201"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	body, _ := fetch(t, c, "805ec0aabb01.cfg", yua, true)
	if !bytes.Contains(body, []byte("account.1.display_name = Mller\n")) {
		t.Fatalf("legacy display name not rendered without its unsafe runes:\n%s", body)
	}
}

// A client forging a new path for every request cannot flood the log:
// past the budget, misses are counted and the count is logged once the
// budget allows again.
func TestMissLogHasABudget(t *testing.T) {
	logs := &testlog.Buffer{}
	reg, _ := all.Registry("")
	clk := testclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	p, _ := provision.New(provision.Options{Registry: reg, Now: clk.Now, Log: slog.New(slog.NewTextHandler(logs, nil))}, newMemStore())
	for i := range 500 {
		if _, err := p.Provide(context.Background(), vendors.Request{Path: fmt.Sprintf("forged-%d.bin", i), RemoteAddr: "192.0.2.66"}); !errors.Is(err, autoprov.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "msg=miss"); n != 50 {
		t.Fatalf("%d miss lines for 500 forged paths at once, want the budget of 50", n)
	}
	clk.Add(time.Second)
	if _, err := p.Provide(context.Background(), vendors.Request{Path: "forged-late.bin"}); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `msg="misses not logged: too many at once" component=provision count=450`) {
		t.Fatalf("the left-out misses are not counted in the log:\n%s", logs.String())
	}
}

// A change already stored opens its window even when the caller hangs up
// right after it: the window is part of the change, not of the request.
func TestWindowOpensWhenTheCallerHangsUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := &cancelOnUpdate{memStore: newMemStore(), cancel: cancel}
	c2, _ := newCoreOn(t, st)
	if _, err := c2.PutSettings(context.Background(), autoprov.SettingsPatch{SIPServer: ptr("pbx")}, "t"); err != nil {
		t.Fatal(err)
	}
	mustAccount(t, c2, "201", "Alice")
	if _, err := c2.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W")}, "t"); err != nil {
		t.Fatal(err)
	}
	// The update is stored, then the caller is gone.
	_, _ = c2.UpdateDevice(ctx, "805ec0aabb01", autoprov.DeviceInput{Accounts: &[]string{"201"}}, "t")
	d, err := c2.Device(context.Background(), "805ec0aabb01")
	if err != nil || len(d.Accounts) != 1 || d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("after the caller hung up: %+v, %v; want the account and an open window", d, err)
	}
}

// cancelOnUpdate cancels the caller's context as soon as a device write
// is stored, as a client hanging up at that moment would: the window is
// part of that one write.
type cancelOnUpdate struct {
	*memStore
	cancel func()
}

func (s *cancelOnUpdate) WriteDevice(ctx context.Context, w autoprov.DeviceWrite) error {
	err := s.memStore.WriteDevice(ctx, w)
	s.cancel()
	return err
}

func (s *cancelOnUpdate) OpenDisclosure(ctx context.Context, mac string, now time.Time, window time.Duration, actor string) (autoprov.Disclosure, error) {
	if err := ctx.Err(); err != nil {
		return autoprov.Disclosure{}, err
	}
	return s.memStore.OpenDisclosure(ctx, mac, now, window, actor)
}

// cancelOnAccountUpdate cancels the caller's context as soon as an
// account change is stored.
type cancelOnAccountUpdate struct {
	*memStore
	cancel func()
}

func (s *cancelOnAccountUpdate) UpdateAccount(ctx context.Context, a autoprov.Account) (autoprov.Account, error) {
	a, err := s.memStore.UpdateAccount(ctx, a)
	s.cancel()
	return a, err
}

func (s *cancelOnAccountUpdate) OpenDisclosure(ctx context.Context, mac string, now time.Time, window time.Duration, actor string) (autoprov.Disclosure, error) {
	if err := ctx.Err(); err != nil {
		return autoprov.Disclosure{}, err
	}
	return s.memStore.OpenDisclosure(ctx, mac, now, window, actor)
}

// An account's new password, once stored, opens the window of every
// device carrying it even when the caller hangs up right after the store
// write: the windows belong to the change, not to the request.
func TestAccountChangeOpensWindowsWhenTheCallerHangsUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := &cancelOnAccountUpdate{memStore: newMemStore(), cancel: cancel}
	c, _ := newCoreOn(t, st)
	bg := context.Background()
	if _, err := c.PutSettings(bg, autoprov.SettingsPatch{SIPServer: ptr("pbx")}, "t"); err != nil {
		t.Fatal(err)
	}
	mustAccount(t, c, "201", "Alice")
	if _, err := c.CreateDevice(bg, autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	fetch(t, c, "805ec0aabb01.cfg", yua, true) // the window is used up
	if d, _ := c.Device(bg, "805ec0aabb01"); d.Disclosure.State != autoprov.DisclosureConsumed {
		t.Fatalf("window %s, want consumed before the change", d.Disclosure.State)
	}
	if _, err := c.UpdateAccount(ctx, "201", autoprov.AccountInput{Password: ptr("A-new-password-201")}, "t"); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Device(bg, "805ec0aabb01"); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("after the caller hung up: window %s, want open", d.Disclosure.State)
	}
}
