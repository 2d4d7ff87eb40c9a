package provision_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
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
	clk  *clock
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
	clk := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
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
	if c.sent.count() != n+1 {
		t.Fatalf("an account change sent %d contact-me, want 1", c.sent.count()-n)
	}
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
