package provision_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/testclock"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/openstage"
	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// sentHTTP is an HTTPSender that records what it sent and answers code.
type sentHTTP struct {
	mu   sync.Mutex
	reqs []vendors.HTTPRequest
	code int
}

func (s *sentHTTP) SendHTTP(_ context.Context, r vendors.HTTPRequest) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	return s.code, nil
}

func (s *sentHTTP) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.reqs) }

type osCore struct {
	p    *provision.Phones
	inv  *provision.Inventory
	st   *memStore
	clk  *testclock.Clock
	dl   *provision.Dialogues
	sent *sentHTTP
}

const osDevMAC = "001ae8123456"

func newOSCore(t *testing.T) *osCore {
	t.Helper()
	tm, err := templates.Load("openstage", "")
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	clk := testclock.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	dl := provision.NewDialogues(clk.Now)
	sent := &sentHTTP{code: 204}
	p, inv := provision.New(provision.Options{Registry: vendors.NewRegistry(openstage.New(tm)), Now: clk.Now,
		Dialogues: dl, Contact: sent, DialogueAddr: "192.0.2.10:18443"}, st)
	ctx := context.Background()
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201"), Password: ptr("Sip-Pass-201-core")}, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(osDevMAC), Model: ptr("OpenStage 40"), Accounts: &[]string{"201"}}, "t"); err != nil {
		t.Fatal(err)
	}
	return &osCore{p: p, inv: inv, st: st, clk: clk, dl: dl, sent: sent}
}

func (c *osCore) post(t *testing.T, body []byte, cookie string) (*provision.Result, error) {
	t.Helper()
	req := vendors.Request{Path: openstage.LoginPath, Method: vendors.MethodPost, Body: body, Transport: "https", RemoteAddr: "192.0.2.61",
		Header: map[string]string{"Content-Type": "text/xml"}}
	if cookie != "" {
		req.Header["Cookie"] = cookie
	}
	return c.p.Provide(context.Background(), req)
}

func cookieOf(res *provision.Result) string {
	v, _, _ := strings.Cut(res.Header["Set-Cookie"], ";")
	return v
}

func (c *osCore) window(t *testing.T) string {
	t.Helper()
	d, err := c.inv.Device(context.Background(), osDevMAC)
	if err != nil {
		t.Fatal(err)
	}
	return d.Disclosure.State
}

// A secrets answer that never left releases its claim: the window stays
// open and the next session gets the secrets.
func TestDialogueUnsentSecretsKeepTheWindow(t *testing.T) {
	c := newOSCore(t)
	ph := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 40")
	for round := 0; round < 2; round++ {
		nonce := wpitest.Nonce()
		res, err := c.post(t, ph.Body(nonce, "start-up", "", "", ph.BasicItems()), "")
		if err != nil || res.Secret {
			t.Fatalf("start-up: %v secret=%v", err, res != nil && res.Secret)
		}
		res.Finish(true)
		ck := cookieOf(res)
		res, err = c.post(t, ph.Body(nonce, "reply-to", "WriteItems", "accepted", nil), ck)
		if err != nil || !res.Secret || !strings.Contains(string(res.File.Body), "Sip-Pass-201-core") {
			t.Fatalf("round %d: secrets answer: %v", round, err)
		}
		if round == 0 {
			res.End(errors.New("connection reset before the first byte")) // no Sending
			if w := c.window(t); w != autoprov.DisclosureOpen {
				t.Fatalf("window after an unsent secrets answer: %s", w)
			}
			continue
		}
		if err := res.Sending(); err != nil {
			t.Fatal(err)
		}
		res.Finish(true)
		if w := c.window(t); w != autoprov.DisclosureConsumed {
			t.Fatalf("window after the secrets left: %s", w)
		}
	}
}

// An idle session is dropped after 2 minutes: its reply-to is refused,
// and its opening message stays a replay.
func TestDialogueIdleAndReplay(t *testing.T) {
	c := newOSCore(t)
	ph := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 40")
	nonce := wpitest.Nonce()
	open := ph.Body(nonce, "start-up", "", "", ph.BasicItems())
	res, err := c.post(t, open, "")
	if err != nil {
		t.Fatal(err)
	}
	ck := cookieOf(res)
	c.clk.Add(3 * time.Minute)
	if _, err := c.post(t, ph.Body(nonce, "reply-to", "WriteItems", "accepted", nil), ck); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("reply-to of an idle-dropped session: %v", err)
	}
	if _, err := c.post(t, open, ""); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("replayed start-up: %v", err)
	}
	if w := c.window(t); w != autoprov.DisclosureOpen {
		t.Fatalf("window: %s", w)
	}
}

// A forger who opens session after session for one known MAC (the MAC
// is in the message body) holds one open session, not thousands: the
// newest ends the older ones, whose reply-to is then refused; the open
// sessions cannot be filled to lock the other phones out.
func TestDialogueOneSessionPerPhone(t *testing.T) {
	c := newOSCore(t)
	ph := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 40")
	var nonces, cookies []string
	for range 50 {
		nonce := wpitest.Nonce()
		res, err := c.post(t, ph.Body(nonce, "start-up", "", "", ph.BasicItems()), "")
		if err != nil {
			t.Fatal(err)
		}
		res.Finish(true)
		nonces, cookies = append(nonces, nonce), append(cookies, cookieOf(res))
	}
	if n := c.dl.OpenSessions(); n != 1 {
		t.Fatalf("open sessions after 50 start-ups of one phone: %d", n)
	}
	if _, err := c.post(t, ph.Body(nonces[0], "reply-to", "WriteItems", "accepted", nil), cookies[0]); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("reply-to of a session a newer one ended: %v", err)
	}
	res, err := c.post(t, ph.Body(nonces[49], "reply-to", "WriteItems", "accepted", nil), cookies[49])
	if err != nil {
		t.Fatalf("reply-to of the newest session: %v", err)
	}
	res.Finish(true)
}

// Contact-me goes only to the address the phone was seen from, keeps the
// contact gap, and queues the job in every case.
func TestContactMeHostAndGap(t *testing.T) {
	c := newOSCore(t)
	ctx := context.Background()
	ph := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 40")
	ph.ContactURI = "http://198.51.100.7:8085/contact_dls.html/ContactDLS" // not where it posts from
	res, err := c.post(t, ph.Body(wpitest.Nonce(), "local-changes", "", "", ph.BasicItems()), "")
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
	r, err := c.inv.ResyncDevice(ctx, osDevMAC, false, "t")
	if err != nil || r.Status != autoprov.ResyncQueued || !strings.Contains(r.Detail, "another host") || c.sent.count() != 0 {
		t.Fatalf("contact-me to another host: %+v %v, %d sent", r, err, c.sent.count())
	}
	if !pending(t, c.dl) {
		t.Fatal("no job queued")
	}
	ph.ContactURI = "http://192.0.2.61:8085/contact_dls.html/ContactDLS"
	if res, err = c.post(t, ph.Body(wpitest.Nonce(), "local-changes", "", "", ph.BasicItems()), ""); err != nil {
		t.Fatal(err)
	}
	res.Finish(true)
	if r, _ = c.inv.ResyncDevice(ctx, osDevMAC, false, "t"); r.Status != autoprov.ResyncSent || c.sent.count() != 1 {
		t.Fatalf("contact-me: %+v, %d sent", r, c.sent.count())
	}
	if got := string(c.sent.reqs[0].Body); got != "ContactMe=true&dls_ip_addr=192.0.2.10&dls_ip_port=18443" || c.sent.reqs[0].URL != ph.ContactURI {
		t.Fatalf("contact-me sent %q to %s", got, c.sent.reqs[0].URL)
	}
	c.clk.Add(299 * time.Second)
	if r, _ = c.inv.ResyncDevice(ctx, osDevMAC, false, "t"); r.Status != autoprov.ResyncQueued || !strings.Contains(r.Detail, "contact gap") || c.sent.count() != 1 {
		t.Fatalf("inside the gap: %+v, %d sent", r, c.sent.count())
	}
	c.clk.Add(2 * time.Second)
	if r, _ = c.inv.ResyncDevice(ctx, osDevMAC, false, "t"); r.Status != autoprov.ResyncSent || c.sent.count() != 2 {
		t.Fatalf("after the gap: %+v, %d sent", r, c.sent.count())
	}
	c.sent.code = 500
	c.clk.Add(301 * time.Second)
	if r, _ = c.inv.ResyncDevice(ctx, osDevMAC, false, "t"); r.Status != autoprov.ResyncFailed || !pending(t, c.dl) {
		t.Fatalf("a phone answering 500: %+v", r)
	}
	if r, _ = c.inv.ResyncDevice(ctx, osDevMAC, true, "t"); r.Status != autoprov.ResyncUnsupported {
		t.Fatalf("reboot: %+v", r)
	}
	// A change of the account the phone carries asks it to call too.
	c.sent.code = 204
	c.clk.Add(301 * time.Second)
	n := c.sent.count()
	if _, err := c.inv.UpdateAccount(ctx, "201", autoprov.AccountInput{DisplayName: ptr("Alice Renamed")}, "t"); err != nil {
		t.Fatal(err)
	}
	waitSent(t, c.sent, n+1, "an account change sent no contact-me")
}

// pending reports whether a job waits for osDevMAC.
func pending(t *testing.T, dl *provision.Dialogues) bool {
	t.Helper()
	ok, err := dl.Pending(context.Background(), osDevMAC)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// waitSent waits (bounded) until s sent n requests.
func waitSent(t *testing.T, s interface{ count() int }, n int, why string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if s.count() >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: %d sent, want %d", why, s.count(), n)
}

// heldHTTP is an HTTPSender that holds every request until released,
// and records how many it held at once.
type heldHTTP struct {
	mu            sync.Mutex
	held, maxHeld int
	sent          int
	release       chan struct{}
}

func (h *heldHTTP) SendHTTP(ctx context.Context, r vendors.HTTPRequest) (int, error) {
	h.mu.Lock()
	h.held++
	h.maxHeld = max(h.maxHeld, h.held)
	h.mu.Unlock()
	defer func() { h.mu.Lock(); h.held--; h.sent++; h.mu.Unlock() }()
	select {
	case <-h.release:
		return 204, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (h *heldHTTP) count() int { h.mu.Lock(); defer h.mu.Unlock(); return h.sent }

func (h *heldHTTP) inFlight() int { h.mu.Lock(); defer h.mu.Unlock(); return h.held }

// A settings change that touches 20 OpenStage phones returns before
// their (silent) phones answer: the contact-me requests go in the
// background, at most 8 at once, every job is queued, and a key
// profile and a bulk change right after keep the contact gap.
func TestChangesContactInTheBackground(t *testing.T) {
	tm, err := templates.Load("openstage", "")
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	clk := testclock.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	dl := provision.NewDialogues(clk.Now)
	h := &heldHTTP{release: make(chan struct{})}
	p, inv := provision.New(provision.Options{Registry: vendors.NewRegistry(openstage.New(tm)), Now: clk.Now,
		Dialogues: dl, Contact: h, DialogueAddr: "192.0.2.10:18443"}, st)
	ctx := context.Background()
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: ptr("201"), Password: ptr("Sip-Pass-201-core")}, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "desk"}, true, "t"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var macs []string
	for i := range n {
		mac := fmt.Sprintf("001ae81234%02x", i)
		macs = append(macs, mac)
		if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: ptr(mac), Model: ptr("OpenStage 40"), Accounts: &[]string{"201"}, KeyProfile: ptr("desk")}, "t"); err != nil {
			t.Fatal(err)
		}
		provision.WaitContacts(inv) // the creation's own (nothing known to contact yet)
		ph := wpitest.New("", mac, "OpenStage 40")
		ph.ContactURI = "http://192.0.2.61:8085/contact_dls.html/ContactDLS"
		res, err := p.Provide(ctx, vendors.Request{Path: openstage.LoginPath, Method: vendors.MethodPost, Transport: "https", RemoteAddr: "192.0.2.61",
			Body: ph.Body(wpitest.Nonce(), "local-changes", "", "", ph.BasicItems()), Header: map[string]string{"Content-Type": "text/xml"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Finish(true)
	}
	// Creating them asked nothing: no contact-me-uri was known yet.
	if h.count() != 0 || h.inFlight() != 0 {
		t.Fatalf("%d contact-me before the change", h.count()+h.inFlight())
	}
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: ptr("pbx.example.com")}, "t"); err != nil {
		t.Fatal(err)
	}
	// The call returned with every phone silent; 8 requests wait at once.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if h.inFlight() == 8 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f := h.inFlight(); f != 8 {
		t.Fatalf("%d contact-me in flight, want 8", f)
	}
	for _, mac := range macs {
		if ok, err := dl.Pending(ctx, mac); err != nil || !ok {
			t.Fatalf("%s: no job queued (%v)", mac, err)
		}
	}
	close(h.release)
	waitSent(t, h, n, "the settings change")
	if h.maxHeld != 8 {
		t.Errorf("at most %d contact-me at once, want 8", h.maxHeld)
	}
	// Inside the contact gap: queued, not sent.
	if _, err := inv.SaveKeyProfile(ctx, autoprov.KeyProfile{Name: "desk", Description: "changed"}, false, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Bulk(ctx, autoprov.BulkInput{Devices: []autoprov.DeviceInput{{MAC: ptr(macs[0]), Label: ptr("Reception")}}}, false, "t"); err != nil {
		t.Fatal(err)
	}
	waitAudit(t, inv, macs[0], 2, "contact gap")
	if h.count() != n {
		t.Fatalf("%d contact-me inside the gap", h.count()-n)
	}
	// After the gap, a bulk change asks the phone it touched.
	clk.Add(provision.ContactGap + time.Second)
	if _, err := inv.Bulk(ctx, autoprov.BulkInput{Devices: []autoprov.DeviceInput{{MAC: ptr(macs[1]), Label: ptr("Lobby")}}}, false, "t"); err != nil {
		t.Fatal(err)
	}
	waitSent(t, h, n+1, "the bulk change after the gap")
}

// waitAudit waits (bounded) until mac has n "configuration changed"
// events whose detail contains want.
func waitAudit(t *testing.T, inv *provision.Inventory, mac string, n int, want string) {
	t.Helper()
	got := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		evs, err := inv.Audit(context.Background(), mac, 100)
		if err != nil {
			t.Fatal(err)
		}
		got = 0
		for _, e := range evs {
			if strings.Contains(e.Detail, "configuration changed") && strings.Contains(e.Detail, want) {
				got++
			}
		}
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: %d audit events with %q, want %d", mac, got, want, n)
}
