package provision_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// core is both services of the core over one store, as main wires them.
type core struct {
	*provision.Phones
	*provision.Inventory
}

// newCore returns the core over an in-memory fake store, with fleet
// settings in place.
func newCore(t testing.TB) (*core, *testclock.Clock) {
	t.Helper()
	c, clk := newCoreOn(t, newMemStore())
	if _, err := c.PutSettings(context.Background(), autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com"), SIPPort: ptr(5060), SIPTransport: ptr("udp"),
		NTPServer: ptr("pool.ntp.org"), Timezone: ptr("Europe/Berlin"), Language: ptr("de"), ToneScheme: ptr("DE"), DisclosureWindowSeconds: ptr(600)}, "test"); err != nil {
		t.Fatal(err)
	}
	return c, clk
}

// newCoreOn returns the core over the given store, settings untouched.
func newCoreOn(t testing.TB, b provision.Backend) (*core, *testclock.Clock) {
	t.Helper()
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	p, inv := provision.New(provision.Options{Registry: reg, Now: clk.Now, PublicURL: "http://prov.example.com/"}, b)
	return &core{p, inv}, clk
}

func ptr[T any](v T) *T { return &v }

func mustAccount(t testing.TB, core *core, ext, name string) autoprov.Account {
	t.Helper()
	if _, err := core.CreateAccount(context.Background(), autoprov.AccountInput{Extension: &ext, DisplayName: &name}, "test"); err != nil {
		t.Fatal(err)
	}
	full, err := core.Account(context.Background(), ext)
	if err != nil {
		t.Fatal(err)
	}
	return full
}

// fetch is a transfer as an edge makes it: Provide, Sending right before
// the first byte, Finish(deliver) at the end.
func fetch(t *testing.T, core *core, path, ua string, deliver bool) ([]byte, bool) {
	t.Helper()
	return fetchReq(t, core, vendors.Request{Path: path, UserAgent: ua, RemoteAddr: "192.0.2.9", Transport: "http"}, deliver)
}

// fetchAs is fetch presenting the provisioning credential mac:pass (Basic
// over HTTPS), as a phone must once the transfer that gave it the
// credential is complete.
func fetchAs(t *testing.T, core *core, path, ua, mac, pass string, deliver bool) ([]byte, bool) {
	t.Helper()
	return fetchReq(t, core, vendors.Request{Path: path, UserAgent: ua, RemoteAddr: "192.0.2.9", Transport: "https", Target: "/prov/" + path,
		Authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte(mac+":"+pass))}, deliver)
}

// credentialIn returns the provisioning password a Yealink file carries.
func credentialIn(t *testing.T, body []byte) string {
	t.Helper()
	m := provPass.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the file carries no provisioning credential:\n%s", body)
	}
	return string(m[1])
}

func fetchReq(t *testing.T, core *core, req vendors.Request, deliver bool) ([]byte, bool) {
	t.Helper()
	path := req.Path
	res, err := core.Provide(context.Background(), req)
	if err != nil {
		t.Fatalf("Provide(%s): %v", path, err)
	}
	if err := res.Sending(); err != nil {
		t.Fatalf("Sending(%s): %v", path, err)
	}
	res.Finish(deliver)
	return res.File.Body, res.Secret
}

const yua = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01"

func TestDisclosureOnceThenWithout(t *testing.T) {
	core, clk := newCore(t)
	a := mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	// A transfer that ends before its first byte left does not consume
	// the window.
	res, err := core.Provide(context.Background(), vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.8", Transport: "tftp"})
	if err != nil || !res.Secret || !bytes.Contains(res.File.Body, []byte(a.Password)) {
		t.Fatalf("first fetch lacks the secret (%v)", err)
	}
	res.Finish(false)
	if d, _ := core.Device(context.Background(), "805ec0aabb01"); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("state after a transfer that sent nothing = %s, want open", d.Disclosure.State)
	}
	// Once a byte has left, the window is consumed, complete or not.
	body, secret := fetch(t, core, "805ec0aabb01.cfg", yua, false)
	if !secret || !bytes.Contains(body, []byte("account.1.password = "+a.Password)) {
		t.Fatal("second fetch lacks the secret")
	}
	body, secret = fetch(t, core, "805ec0aabb01.cfg", yua, true)
	if secret || bytes.Contains(body, []byte("account.1.password")) || bytes.Contains(body, []byte("static.security.user_password")) {
		t.Fatalf("third fetch carries secrets:\n%s", body)
	}
	d, _ := core.Device(context.Background(), "805ec0aabb01")
	if d.Disclosure.State != autoprov.DisclosureConsumed || d.Disclosure.DisclosedTo.IP != "192.0.2.9" || d.Disclosure.Complete == nil || *d.Disclosure.Complete {
		t.Fatalf("disclosure = %+v, want consumed by 192.0.2.9, complete false", d.Disclosure)
	}
	// Re-armed, a complete transfer is recorded as complete.
	if _, err := core.OpenDisclosure(context.Background(), "805ec0aabb01", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, secret := fetch(t, core, "805ec0aabb01.cfg", yua, true); !secret {
		t.Fatal("fetch in the re-opened window lacks the secret")
	}
	if d, _ := core.Device(context.Background(), "805ec0aabb01"); d.Disclosure.Complete == nil || !*d.Disclosure.Complete {
		t.Fatalf("disclosure = %+v, want complete", d.Disclosure)
	}
	// Re-arm, then let it expire without a fetch.
	if _, err := core.OpenDisclosure(context.Background(), "805ec0aabb01", "admin"); err != nil {
		t.Fatal(err)
	}
	clk.Add(601 * time.Second)
	if _, secret := fetch(t, core, "805ec0aabb01.cfg", yua, true); secret {
		t.Fatal("fetch after the window ended carries secrets")
	}
	if d, _ := core.Device(context.Background(), "805ec0aabb01"); d.Disclosure.State != autoprov.DisclosureExpired {
		t.Fatalf("state = %s, want expired", d.Disclosure.State)
	}
	if err := core.ExpireDisclosures(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, _ := core.Audit(context.Background(), "805ec0aabb01", 10)
	var names []string
	for _, e := range evs {
		names = append(names, e.Event)
		if e.Event == autoprov.EventDisclosureTransferEnded && e.Detail != "complete: true" && e.Detail != "complete: false (the transfer did not complete)" {
			t.Errorf("transfer_ended detail %q", e.Detail)
		}
		if strings.Contains(e.Detail, a.Password) {
			t.Fatal("audit detail holds a secret")
		}
	}
	want := "disclosure.expired,disclosure.opened," +
		"disclosure.transfer_ended,disclosure.consumed,disclosure.opened," +
		"disclosure.transfer_ended,disclosure.consumed,disclosure.opened,device.created"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("audit = %s", got)
	}
}

func TestUnknownMACLandsInInbox(t *testing.T) {
	core, _ := newCore(t)
	_, err := core.Provide(context.Background(), vendors.Request{Path: "001565123456.cfg", UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:12:34:56", RemoteAddr: "192.0.2.3"})
	if !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("unassigned per-device file: err = %v, want not found", err)
	}
	d, err := core.Device(context.Background(), "001565123456")
	if err != nil || d.State != autoprov.StateUnassigned || d.Vendor != "yealink" || d.Model != "T46S" || d.Firmware != "66.86.0.15" || d.RemoteIP != "192.0.2.3" {
		t.Fatalf("inbox device = %+v, %v", d, err)
	}
	// Adopting it takes what the phone told us.
	mustAccount(t, core, "201", "Alice")
	got, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("00-15-65-12-34-56"), Accounts: &[]string{"201"}}, "test")
	if err != nil || got.State != autoprov.StateAssigned || got.Model != "T46S" || got.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("adopt = %+v, %v", got, err)
	}
}

func TestKeysValidatedAtSave(t *testing.T) {
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	mustAccount(t, core, "202", "Bob")
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0000031"), Model: ptr("T31G"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	_, err := core.SetKeys(context.Background(), "805ec0000031", []autoprov.KeySpec{{Position: 40, Type: vendors.KeySpeedDial, Value: "123"}}, "t")
	var inv *autoprov.InvalidError
	if !errors.As(err, &inv) || !strings.Contains(inv.Message, "position") || !strings.Contains(inv.Message, "key 1") {
		t.Fatalf("position 40 on a T31G: err = %v", err)
	}
	if d, _ := core.Device(context.Background(), "805ec0000031"); len(d.Keys) != 0 {
		t.Fatalf("refused keys were stored: %+v", d.Keys)
	}
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("7c2f80000870"), Model: ptr("N870"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	_, err = core.SetKeys(context.Background(), "7c2f80000870", []autoprov.KeySpec{{Position: 1, Type: vendors.KeyBLF, Value: "202"}}, "t")
	if !errors.As(err, &inv) || !strings.Contains(inv.Message, "N870") {
		t.Fatalf("BLF on an N870: err = %v", err)
	}
	_, err = core.SetKeys(context.Background(), "805ec0000031", []autoprov.KeySpec{{Position: 2, Type: vendors.KeyBLF, Value: "202", Account: "999"}}, "t")
	if !errors.As(err, &inv) || !strings.Contains(inv.Message, "999") {
		t.Fatalf("account not on device: err = %v", err)
	}
}

func TestBLFLabelFollowsRename(t *testing.T) {
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	mustAccount(t, core, "202", "Bob Builder")
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"},
		Keys: &[]autoprov.KeySpec{{Position: 2, Type: vendors.KeyBLF, Value: "202", PickupCode: "*8"}}}, "t"); err != nil {
		t.Fatal(err)
	}
	body, _ := fetch(t, core, "805ec0aabb01.cfg", yua, true)
	if !bytes.Contains(body, []byte("linekey.2.label = Bob Builder")) {
		t.Fatalf("BLF label missing:\n%s", body)
	}
	if _, err := core.UpdateAccount(context.Background(), "202", autoprov.AccountInput{DisplayName: ptr("Robert")}, "t"); err != nil {
		t.Fatal(err)
	}
	body, _ = fetchAs(t, core, "805ec0aabb01.cfg", yua, "805ec0aabb01", credentialIn(t, body), true)
	if !bytes.Contains(body, []byte("linekey.2.label = Robert")) {
		t.Fatalf("BLF label did not follow the rename:\n%s", body)
	}
}

func TestKeyProfileSharedAndChecked(t *testing.T) {
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	var keys []autoprov.KeySpec
	for i := 1; i <= 10; i++ {
		keys = append(keys, autoprov.KeySpec{Position: i + 1, Type: vendors.KeyBLF, Value: "2" + strings.Repeat("0", 1) + string(rune('0'+i%10))})
	}
	if _, err := core.SaveKeyProfile(context.Background(), autoprov.KeyProfile{Name: "reception", Keys: keys}, true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}, KeyProfile: ptr("reception")}, "t"); err != nil {
		t.Fatal(err)
	}
	body, _ := fetch(t, core, "805ec0aabb01.cfg", yua, true)
	if !bytes.Contains(body, []byte("linekey.11.type = 16")) || !bytes.Contains(body, []byte("linekey.1.type = 15")) {
		t.Fatalf("profile keys not rendered:\n%s", body)
	}
	// A profile change that a device using it cannot take is refused whole.
	bad := append(keys, autoprov.KeySpec{Position: 99, Type: vendors.KeyBLF, Value: "201"})
	if _, err := core.SaveKeyProfile(context.Background(), autoprov.KeyProfile{Name: "reception", Keys: bad}, false, "test"); err == nil {
		t.Fatal("profile with a key beyond the T54W was saved")
	}
	p, _ := core.KeyProfile(context.Background(), "reception")
	if len(p.Keys) != 10 {
		t.Fatalf("profile half-saved: %d keys", len(p.Keys))
	}
}

func TestPreviewMasksSecrets(t *testing.T) {
	core, _ := newCore(t)
	a := mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("000413aabbcc"), Model: ptr("D785"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	f, err := core.Preview(context.Background(), "000413aabbcc", "000413AABBCC.xml", "")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(f.Body, []byte(a.Password)) || !bytes.Contains(f.Body, []byte("********")) {
		t.Fatalf("preview not masked:\n%s", f.Body)
	}
	// The preview does not consume the window.
	if d, _ := core.Device(context.Background(), "000413aabbcc"); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("state = %s", d.Disclosure.State)
	}
}

func TestBadInput(t *testing.T) {
	core, _ := newCore(t)
	var inv *autoprov.InvalidError
	for _, tc := range []struct {
		name  string
		in    autoprov.DeviceInput
		field string
	}{
		{"bad mac", autoprov.DeviceInput{MAC: ptr("80:5e:c0:zz:bb:01"), Model: ptr("T54W")}, "mac"},
		{"locally administered mac", autoprov.DeviceInput{MAC: ptr("02:00:00:00:00:01"), Model: ptr("T54W")}, "mac"},
		{"multicast mac", autoprov.DeviceInput{MAC: ptr("01:00:5e:00:00:95"), Model: ptr("T54W")}, "mac"},
		{"all-zero mac", autoprov.DeviceInput{MAC: ptr("00:00:00:00:00:00"), Model: ptr("T54W")}, "mac"},
		{"unknown model", autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Model: ptr("T99X")}, "model"},
		{"unknown vendor", autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Vendor: ptr("acme"), Model: ptr("T54W")}, "vendor"},
		{"missing account", autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Model: ptr("T54W"), Accounts: &[]string{"404"}}, "accounts"},
		{"bad time zone", autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Model: ptr("T54W"), Overrides: &autoprov.Overrides{Timezone: "Mars/Olympus"}}, "timezone"},
		{"bad language", autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Model: ptr("T54W"), Overrides: &autoprov.Overrides{Language: "xx"}}, "language"},
	} {
		_, err := core.CreateDevice(context.Background(), tc.in, "t")
		if !errors.As(err, &inv) || inv.Field != tc.field {
			t.Errorf("%s: err = %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb09"), Model: ptr("T99X")}, "t"); !strings.Contains(err.Error(), "T54W") {
		t.Errorf("unknown model error does not list supported models: %v", err)
	}
	if _, err := core.Device(context.Background(), "805ec0aabb09"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Error("a refused device was stored")
	}
	// Through a bulk change too: a MAC no phone ships with is that row's error.
	var be *autoprov.BulkError
	_, err := core.Bulk(context.Background(), autoprov.BulkInput{Devices: []autoprov.DeviceInput{
		{MAC: ptr("80:5e:c0:aa:bb:0a"), Model: ptr("T54W")}, {MAC: ptr("01:00:5e:00:00:95"), Model: ptr("T54W")}}}, false, "t")
	if !errors.As(err, &be) || len(be.Errors) != 1 || be.Errors[0].Index != 1 || be.Errors[0].Field != "mac" {
		t.Errorf("bulk with a multicast MAC: %v, want that row's mac error", err)
	}
	// A device naming an account refused in the same request is told so,
	// not that the account does not exist.
	_, err = core.Bulk(context.Background(), autoprov.BulkInput{
		Accounts: []autoprov.AccountInput{{Extension: ptr("263"), DisplayName: ptr("bad\x01name")}},
		Devices:  []autoprov.DeviceInput{{MAC: ptr("80:5e:c0:aa:bb:0b"), Model: ptr("T54W"), Accounts: &[]string{"263"}}}}, false, "t")
	if !errors.As(err, &be) || len(be.Errors) != 2 || be.Errors[0].Kind != "account" || be.Errors[1].Field != "accounts" ||
		!strings.Contains(be.Errors[1].Message, "account 263 is refused in this request (account 0)") {
		t.Errorf("bulk with a device on a refused account: %v", err)
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a.cfg", "a.cfg"},
		{"/a.cfg", "a.cfg"},
		{"prov/a.cfg", "a.cfg"},
		{"/prov/a.cfg", "a.cfg"},
		{"prov/prov/a.cfg", "prov/a.cfg"}, // only one prefix
		{"/etc/passwd", "etc/passwd"},     // virtual root: relative
		{"dir//a.cfg", "dir/a.cfg"},
		{"./a.cfg", "a.cfg"},
		{"dir/", "dir"},
		{strings.Repeat("a", 255), strings.Repeat("a", 255)},
		{"../a", ""},
		{"a/../../b", ""},
		{"a..b", ""},
		{"//a", ""},
		{"D:x", ""},
		{`a\b`, ""},
		{"a\x00b", ""},
		{"a\tb", ""},
		{"a\u0085b", ""}, // C1 control
		{"", ""},
		{".", ""},
		{strings.Repeat("a", 256), ""},
	} {
		got, err := provision.CleanPath(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("provision.CleanPath(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("provision.CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestAdminChangesAudited: admin changes are in the audit log with who and
// which fields, and a changed secret is named but never shown.
func TestAdminChangesAudited(t *testing.T) {
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "api@192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := core.UpdateAccount(context.Background(), "201", autoprov.AccountInput{Password: ptr("New-Secret-Pw-201")}, "api@192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	if _, err := core.UpdateDevice(context.Background(), "805ec0aabb01", autoprov.DeviceInput{Label: ptr("Desk 4"), WebPassword: ptr("New-Web-Pw-4711")}, "api@192.0.2.3"); err != nil {
		t.Fatal(err)
	}
	if err := core.DeleteDevice(context.Background(), "805ec0aabb01", "api@192.0.2.4"); err != nil {
		t.Fatal(err)
	}
	evs, err := core.Audit(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"device.created":  "api@192.0.2.1|yealink T54W, accounts 201",
		"account.updated": "api@192.0.2.2|extension 201: changed: password",
		"device.updated":  "api@192.0.2.3|changed: label, web_password",
		"device.deleted":  "api@192.0.2.4|",
	}
	got := map[string]string{}
	for _, e := range evs {
		got[e.Event] = e.Actor + "|" + e.Detail
		if strings.Contains(e.Detail, "New-Secret-Pw-201") || strings.Contains(e.Detail, "New-Web-Pw-4711") {
			t.Errorf("audit detail holds a secret: %+v", e)
		}
	}
	for ev, w := range want {
		if got[ev] != w {
			t.Errorf("%s: got %q, want %q", ev, got[ev], w)
		}
	}
}

// TestLayout: the effective layout is what renders: defaults, then the
// profile, then the device's own keys, each with its source and label.
func TestLayout(t *testing.T) {
	core, _ := newCore(t)
	mustAccount(t, core, "201", "Alice")
	mustAccount(t, core, "202", "Bob")
	if _, err := core.SaveKeyProfile(context.Background(), autoprov.KeyProfile{Name: "desk", Keys: []autoprov.KeySpec{
		{Position: 2, Type: vendors.KeyBLF, Value: "202"}, {Position: 3, Type: vendors.KeyDND}}}, true, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: ptr("805ec0aabb01"), Model: ptr("T54W"), Accounts: &[]string{"201"},
		KeyProfile: ptr("desk"), Keys: &[]autoprov.KeySpec{{Position: 3, Type: vendors.KeySpeedDial, Value: "5551234", Label: "Shop"}}}, "t"); err != nil {
		t.Fatal(err)
	}
	got, err := core.Layout(context.Background(), "805ec0aabb01")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, k := range got {
		rows = append(rows, fmt.Sprintf("%d %s %s %s %q %s", k.Position, k.Type, k.Account, k.Value, k.Label, k.Source))
	}
	want := []string{
		`1 line 201  "201" model default`,
		`2 blf 201 202 "Bob" profile desk`,
		`3 speed_dial 201 5551234 "Shop" device`,
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("layout:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// TestSendingAfterTheClaimWasLost: a transfer whose claim is lost between
// Provide and its first byte (the window re-armed, or its lease lapsed
// and another transfer took it) is refused by Sending and sends nothing;
// the window goes to the transfer that holds it.
func TestSendingAfterTheClaimWasLost(t *testing.T) {
	ctx := context.Background()
	core, clk := newCore(t)
	mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	req := vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "tftp"}
	provide := func() *provision.Result {
		t.Helper()
		res, err := core.Provide(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// Re-armed meanwhile.
	stale := provide()
	if !stale.Secret {
		t.Fatal("the first fetch has no secret")
	}
	if _, err := core.OpenDisclosure(ctx, "805ec0aabb01", "admin"); err != nil {
		t.Fatal(err)
	}
	if err := stale.Sending(); err == nil {
		t.Fatal("Sending after the window was re-armed succeeded")
	}
	stale.Finish(false)
	if d, _ := core.Device(ctx, "805ec0aabb01"); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("window %s after a refused transfer, want open", d.Disclosure.State)
	}

	// Lease lapsed (2 minutes by default) and another transfer took it.
	slow := provide()
	clk.Add(3 * time.Minute)
	fast := provide()
	if !slow.Secret || !fast.Secret {
		t.Fatal("a claim did not lapse after its lease")
	}
	if err := slow.Sending(); err == nil {
		t.Fatal("the transfer whose lease lapsed was let send")
	}
	if err := fast.Sending(); err != nil {
		t.Fatalf("the transfer holding the claim: %v", err)
	}
	fast.Finish(true)
	slow.Finish(false)
	d, _ := core.Device(ctx, "805ec0aabb01")
	if d.Disclosure.State != autoprov.DisclosureConsumed || d.Disclosure.Complete == nil || !*d.Disclosure.Complete {
		t.Fatalf("disclosure = %+v, want consumed and complete", d.Disclosure)
	}
}

// TestSecretFreeRequestsNeverClaim: a request the edge marks SecretFree
// (HEAD, a conditional GET) gets the file without secrets and leaves the
// window as it was; the same file a GET after the window gets.
func TestSecretFreeRequestsNeverClaim(t *testing.T) {
	ctx := context.Background()
	core, _ := newCore(t)
	a := mustAccount(t, core, "201", "Alice")
	if _, err := core.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr("80:5E:C0:AA:BB:01"), Model: ptr("T54W"), Accounts: &[]string{"201"}}, "test"); err != nil {
		t.Fatal(err)
	}
	req := vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "http", SecretFree: true}
	var etag string
	for range 3 {
		res, err := core.Provide(ctx, req)
		if err != nil || res.Secret || bytes.Contains(res.File.Body, []byte(a.Password)) {
			t.Fatalf("SecretFree request: %v, secret %v", err, res.Secret)
		}
		etag = res.ETag
		if err := res.Sending(); err != nil {
			t.Fatal(err)
		}
		res.Finish(true)
	}
	if d, _ := core.Device(ctx, "805ec0aabb01"); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("window %s after SecretFree requests, want open", d.Disclosure.State)
	}
	body, secret := fetch(t, core, "805ec0aabb01.cfg", yua, true)
	if !secret {
		t.Fatal("the GET after them lacks the secrets")
	}
	// The transfer is complete: the phone presents its credential.
	res, err := core.Provide(ctx, vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: yua, RemoteAddr: "192.0.2.9", Transport: "https", Target: "/prov/805ec0aabb01.cfg",
		Authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte("805ec0aabb01:"+credentialIn(t, body)))})
	if err != nil || res.Secret || res.ETag != etag {
		t.Fatalf("the GET after the window: %v, ETag %s, want the SecretFree one %s", err, res.ETag, etag)
	}
}
