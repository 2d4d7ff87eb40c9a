package provision_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// fakeSIP records what the core asks to send and answers with code.
type fakeSIP struct {
	mu       sync.Mutex
	sent     []sentSIP
	code     int
	reason   string
	err      error
	release  chan struct{} // when set, every send waits for it
	inflight int
	max      int
}

type sentSIP struct {
	to  netip.AddrPort
	req vendors.SIPRequest
}

func (f *fakeSIP) SendSIP(_ context.Context, to netip.AddrPort, req vendors.SIPRequest) (int, string, error) {
	f.mu.Lock()
	f.sent = append(f.sent, sentSIP{to, req})
	f.inflight++
	f.max = max(f.max, f.inflight)
	f.mu.Unlock()
	if f.release != nil {
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inflight--
	return f.code, f.reason, f.err
}

func (f *fakeSIP) snapshot() (sent []sentSIP, inflight, maxInflight int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentSIP(nil), f.sent...), f.inflight, f.max
}

// plain is a driver without vendors.Resyncer: the Yealink driver under
// another name, its capabilities hidden by the embedding.
type plain struct{ vendors.Vendor }

func (plain) Name() string { return "plain" }
func (p plain) Models() []vendors.Model {
	ms := p.Vendor.Models()
	for i := range ms {
		ms[i].Vendor = "plain"
	}
	return ms
}

func newResyncCore(t *testing.T, sip *fakeSIP) *core {
	t.Helper()
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	y, _ := reg.ByName("yealink")
	reg = vendors.NewRegistry(append(reg.Drivers(), plain{y})...)
	p, inv := provision.New(provision.Options{Registry: reg, PublicURL: "http://prov.example.com/", Resync: sip}, newMemStore())
	c := &core{p, inv}
	if _, err := c.PutSettings(context.Background(), autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com")}, "test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// seen creates a device and has it fetch its per-device file from ip.
func seen(t *testing.T, c *core, vendor, model, mac, file, ip string, accounts ...string) {
	t.Helper()
	ctx := context.Background()
	in := autoprov.DeviceInput{MAC: &mac, Vendor: &vendor, Model: &model, Accounts: &accounts}
	if _, err := c.CreateDevice(ctx, in, "test"); err != nil {
		t.Fatal(err)
	}
	if ip == "" {
		return
	}
	res, err := c.Provide(ctx, vendors.Request{Path: file, RemoteAddr: ip, Transport: "http"})
	if err != nil {
		t.Fatalf("fetch %s: %v", file, err)
	}
	if err := res.Sending(); err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
}

func TestResyncDevice(t *testing.T) {
	ctx := context.Background()
	sip := &fakeSIP{code: 200, reason: "OK"}
	c := newResyncCore(t, sip)
	mustAccount(t, c, "201", "Alice")
	seen(t, c, "yealink", "T54W", "805ec0aabb01", "805ec0aabb01.cfg", "192.0.2.9", "201")
	seen(t, c, "yealink", "T54W", "805ec0aabb02", "", "")
	seen(t, c, "gigaset", "N870", "7c2f80aabb03", "7C2F80AABB03.xml", "192.0.2.10")
	seen(t, c, "plain", "T54W", "805ec0aabb04", "805ec0aabb04.cfg", "192.0.2.11")

	r, err := c.ResyncDevice(ctx, "80:5E:C0:AA:BB:01", false, "api@test")
	if err != nil || r.MAC != "805ec0aabb01" || r.Status != "sent" || r.Detail != "200 OK" {
		t.Fatalf("ResyncDevice = %+v, %v", r, err)
	}
	sent, _, _ := sip.snapshot()
	if len(sent) != 1 || sent[0].to.String() != "192.0.2.9:5060" ||
		sent[0].req.Method != "NOTIFY" || sent[0].req.User != "201" || sent[0].req.Event != "check-sync;reboot=false" || sent[0].req.Body != nil {
		t.Fatalf("sent %+v", sent)
	}
	if r, err := c.ResyncDevice(ctx, "805ec0aabb01", true, "api@test"); err != nil || r.Status != "sent" {
		t.Fatalf("reboot: %+v, %v", r, err)
	}
	if sent, _, _ := sip.snapshot(); len(sent) != 2 || sent[1].req.Event != "check-sync;reboot=true" {
		t.Fatalf("reboot sent %+v", sent)
	}
	// Never seen: 409 with a clear message, nothing sent.
	r, err = c.ResyncDevice(ctx, "805ec0aabb02", false, "api@test")
	if !errors.Is(err, autoprov.ErrConflict) || r.Status != "no_address" || !strings.Contains(err.Error(), "no address of the phone is known") {
		t.Fatalf("never seen: %+v, %v", r, err)
	}
	if _, err := c.ResyncDevice(ctx, "805ec0aabb99", false, "api@test"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("unknown MAC: %v", err)
	}
	// A vendor without the capability, a reboot the vendor does not document.
	if r, err := c.ResyncDevice(ctx, "805ec0aabb04", false, "api@test"); err != nil || r.Status != "unsupported" {
		t.Fatalf("plain: %+v, %v", r, err)
	}
	if r, err := c.ResyncDevice(ctx, "7c2f80aabb03", true, "api@test"); err != nil || r.Status != "unsupported" || !strings.Contains(r.Detail, "reboot") {
		t.Fatalf("gigaset reboot: %+v, %v", r, err)
	}
	if sent, _, _ := sip.snapshot(); len(sent) != 2 {
		t.Fatalf("unsupported resyncs sent something: %+v", sent)
	}
	// The phone refuses; the phone does not answer; nothing can be sent.
	for _, c2 := range []struct {
		code   int
		reason string
		err    error
		status string
		detail string
	}{
		{489, "Bad Event", nil, "failed", "489 Bad Event"},
		{0, "", nil, "sent", "no answer from 192.0.2.10:5060 within 2 s"},
		{0, "", errors.New("network unreachable"), "failed", "could not send to 192.0.2.10:5060"},
	} {
		sip.mu.Lock()
		sip.code, sip.reason, sip.err = c2.code, c2.reason, c2.err
		sip.mu.Unlock()
		if r, err := c.ResyncDevice(ctx, "7c2f80aabb03", false, "api@test"); err != nil || r.Status != c2.status || r.Detail != c2.detail {
			t.Errorf("answer %d %v: %+v, %v", c2.code, c2.err, r, err)
		}
	}
	// Audited, every attempt on a known device.
	evs, err := c.Audit(ctx, "805ec0aabb01", 10)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, e := range evs {
		if e.Event == autoprov.EventDeviceResync {
			rows = append(rows, e.Actor+" "+e.Detail)
		}
	}
	if strings.Join(rows, "|") != "api@test reboot=true: sent (200 OK)|api@test reboot=false: sent (200 OK)" {
		t.Errorf("audit rows: %q", rows)
	}
}

// TestResyncBulk: one result per MAC in order, statuses mixed, unknown
// MACs not_found, a bad MAC refuses the call.
func TestResyncBulk(t *testing.T) {
	ctx := context.Background()
	sip := &fakeSIP{code: 200, reason: "OK"}
	c := newResyncCore(t, sip)
	seen(t, c, "yealink", "T54W", "805ec0aabb01", "805ec0aabb01.cfg", "192.0.2.9")
	seen(t, c, "yealink", "T54W", "805ec0aabb02", "", "")
	seen(t, c, "plain", "T54W", "805ec0aabb04", "805ec0aabb04.cfg", "192.0.2.11")
	got, err := c.Resync(ctx, []string{"805ec0aabb02", "80:5e:c0:aa:bb:01", "805ec0aabb04", "805ec0aabb99", "805EC0AABB01"}, false, "api@test")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, r := range got {
		s = append(s, r.MAC+" "+r.Status)
	}
	want := "805ec0aabb02 no_address|805ec0aabb01 sent|805ec0aabb04 unsupported|805ec0aabb99 not_found|805ec0aabb01 sent"
	if strings.Join(s, "|") != want {
		t.Errorf("results %q, want %q", strings.Join(s, "|"), want)
	}
	if sent, _, _ := sip.snapshot(); len(sent) != 1 {
		t.Errorf("a MAC given twice was sent %d times", len(sent))
	}
	var inv *autoprov.InvalidError
	if _, err := c.Resync(ctx, []string{"805ec0aabb01", "nonsense"}, false, "api@test"); !errors.As(err, &inv) || inv.Field != "macs" {
		t.Errorf("bad MAC: %v", err)
	}
}

// TestResyncBulkConcurrency: many phones are waited on at once, never more
// than ResyncConcurrency.
func TestResyncBulkConcurrency(t *testing.T) {
	sip := &fakeSIP{code: 200, reason: "OK", release: make(chan struct{})}
	c := newResyncCore(t, sip)
	n := provision.ResyncConcurrency + 40
	var macs []string
	for i := range n {
		mac := fmt.Sprintf("805ec0ab%04x", i)
		seen(t, c, "yealink", "T54W", mac, mac+".cfg", "192.0.2.9")
		macs = append(macs, mac)
	}
	done := make(chan []autoprov.ResyncResult, 1)
	go func() {
		r, _ := c.Resync(context.Background(), macs, false, "api@test")
		done <- r
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, inflight, _ := sip.snapshot(); inflight == provision.ResyncConcurrency {
			break
		}
		if time.Now().After(deadline) {
			_, inflight, _ := sip.snapshot()
			t.Fatalf("%d sends in flight, want %d", inflight, provision.ResyncConcurrency)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(sip.release)
	r := <-done
	if _, _, maxInflight := sip.snapshot(); len(r) != n || maxInflight != provision.ResyncConcurrency {
		t.Errorf("%d results, at most %d in flight", len(r), maxInflight)
	}
}
