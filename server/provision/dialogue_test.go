package provision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// talker is a dialogue driver whose phones take a provisioning credential:
// it POSTs "hello mac=<MAC>" to talk/login and answers what it knows.
type talker struct{}

func (talker) Name() string { return "talker" }
func (talker) Models() []vendors.Model {
	return []vendors.Model{{Vendor: "talker", Name: "T1", Kind: "desk", Lines: 1, Keys: 2, KeyTypes: []vendors.KeyType{vendors.KeyLine}}}
}
func (talker) Identify(req vendors.Request) vendors.Identity {
	if req.Path != "talk/login" {
		return vendors.Identity{}
	}
	id := vendors.Identity{Vendor: "talker", Model: "T1", Kind: vendors.FileCommon, Score: vendors.ScorePath}
	if _, rest, ok := strings.Cut(string(req.Body), "mac="); ok {
		id.MAC, _ = vendors.ParseMAC(rest)
	}
	return id
}
func (talker) Files(*vendors.Device) []string { return nil }
func (talker) Render(name string, _ *vendors.Device) (*vendors.File, error) {
	return nil, fmt.Errorf("%s: %w", name, vendors.ErrNotFound)
}
func (talker) Answers(path string) bool { return path == "talk/login" }
func (talker) Respond(_ vendors.Request, d *vendors.Device) (*vendors.File, error) {
	who := "stranger"
	if d != nil {
		who = d.Label
	}
	return &vendors.File{Name: "answer", ContentType: "text/plain", Body: []byte("welcome " + who)}, nil
}
func (talker) ProvisioningAuth() []vendors.AuthScheme {
	return []vendors.AuthScheme{vendors.AuthDigest}
}

// A device whose credential is applied answers a dialogue message without
// proof exactly as an unknown MAC: no device for the driver, no report
// written. Before the credential is applied it gets its own answer.
func TestDialogueFollowsTheCredential(t *testing.T) {
	st := newMemStore()
	clk := testclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	p, inv := provision.New(provision.Options{Registry: vendors.NewRegistry(talker{}), Now: clk.Now}, st)
	ctx := context.Background()
	const mac = "00aabbccdd07"
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(mac), Vendor: ptr("talker"), Model: ptr("T1"), Label: ptr("Front desk")}, "t"); err != nil {
		t.Fatal(err)
	}
	say := func(m string) string {
		t.Helper()
		res, err := p.Provide(ctx, vendors.Request{Path: "talk/login", Method: vendors.MethodPost, Body: []byte("hello mac=" + m),
			RemoteAddr: "192.0.2.44", UserAgent: "forged/1.0", Transport: "http"})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.File.Body)
	}
	if got := say(mac); got != "welcome Front desk" {
		t.Fatalf("before the credential is applied: %q", got)
	}
	// The secrets transfer issued the credential (the fake's state, as
	// IssueCredential leaves it under a claim), then the phone applied it.
	st.mu.Lock()
	d := st.devices[mac]
	issued := clk.Now()
	d.Credential = autoprov.Credential{State: autoprov.CredentialIssued, Password: "Talker-cred-pass", IssuedAt: &issued}
	st.devices[mac] = d
	st.mu.Unlock()
	if ok, err := st.ApplyCredential(ctx, mac, issued, clk.Now()); err != nil || !ok {
		t.Fatalf("apply: %v %v", ok, err)
	}
	before, _ := st.Device(ctx, mac)
	if got, unknown := say(mac), say("00aabbccdd08"); got != unknown || got != "welcome stranger" {
		t.Fatalf("applied device without proof: %q; unknown MAC: %q; want both the stranger's answer", got, unknown)
	}
	after, _ := st.Device(ctx, mac)
	if after.UserAgent != before.UserAgent || after.LastSeen != before.LastSeen {
		t.Fatalf("a message without proof updated the applied device's report: %+v -> %+v", before, after)
	}
}
