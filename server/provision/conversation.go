package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// Dialogue bounds (vendors.Dialoguer): sessions are short (a phone
// answers within seconds, HTTP keep-alive is 10 s), the nonces of ended
// sessions are remembered a day against replays.
const (
	dialogueIdle     = 2 * time.Minute
	dialogueMaxOpen  = 10000
	dialogueReplay   = 24 * time.Hour
	dialogueMaxSeen  = 100000
	dialogueMaxFacts = 100000
	// SessionCookie is the cookie that names a dialogue session, as the
	// original deployment service sets it (openstage.md §2).
	SessionCookie = "JSESSIONID"
)

// Dialogues is what the core keeps of dialogue phones (vendors.Dialoguer)
// between messages, shared by Phones (the sessions) and Inventory
// (resync: contact-me). Open sessions and the nonces of ended ones are in
// memory: a session is minutes long, and a message of it must reach the
// instance that opened it (a restart ends it: the phone opens another).
// Each phone's pending job, what it reported (contact-me-uri...), the
// items it refused last and its last contact-me are in a DialogueStore:
// with server/store's (NewStoredDialogues) a restart forgets nothing and
// every instance on the store sees them (README.md, "OpenStage").
type Dialogues struct {
	mu   sync.Mutex
	now  func() time.Time
	st   DialogueStore
	open map[string]*session  // by nonce
	seen map[string]time.Time // nonces of sessions that ended
	// byMAC is the open session of each phone: a phone talks in one
	// session at a time, so a newer one ends the older (else anyone could
	// fill the open sessions by opening them for one known MAC and lock
	// every phone out until they go idle).
	byMAC map[string]string
	swept time.Time // the last sweep
}

type session struct {
	mac, cookie string
	s           vendors.Session
	job         int64 // the job count it last saw (autoprov.DialogueState.Job)
	last        time.Time
	busy        bool // a message of it is being answered
}

// NewDialogues returns an empty set kept in memory only (tests, or one
// instance that may forget on restart); now is the clock (time.Now when nil).
func NewDialogues(now func() time.Time) *Dialogues {
	return NewStoredDialogues(newMemDialogues(), now)
}

// NewStoredDialogues returns a set whose per-phone state is kept in st.
func NewStoredDialogues(st DialogueStore, now func() time.Time) *Dialogues {
	if now == nil {
		now = time.Now
	}
	return &Dialogues{now: now, st: st, open: map[string]*session{}, seen: map[string]time.Time{},
		byMAC: map[string]string{}}
}

// state reads what is kept of mac; the zero state when nothing.
func (d *Dialogues) state(ctx context.Context, mac string) (autoprov.DialogueState, error) {
	st, err := d.st.DialogueState(ctx, mac)
	if errors.Is(err, autoprov.ErrNotFound) {
		return autoprov.DialogueState{}, nil
	}
	return st, err
}

// Pending reports whether a job is queued for the phone of mac (DCMP:
// 202 when true).
func (d *Dialogues) Pending(ctx context.Context, mac string) (bool, error) {
	if m, err := vendors.ParseMAC(mac); err == nil {
		mac = m
	}
	st, err := d.state(ctx, mac)
	return st.Pending, err
}

// Queue queues a job for the phone of mac: its next session delivers it.
func (d *Dialogues) Queue(ctx context.Context, mac string) error {
	return d.st.QueueDialogueJob(ctx, mac, d.now())
}

// Facts returns what the phone of mac last reported.
func (d *Dialogues) Facts(ctx context.Context, mac string) (map[string]string, error) {
	st, err := d.state(ctx, mac)
	if st.Reported == nil {
		st.Reported = map[string]string{}
	}
	return st.Reported, err
}

// Failed returns the items the phone of mac refused in its last session
// that refused any ("name[index]: status").
func (d *Dialogues) Failed(ctx context.Context, mac string) ([]string, error) {
	st, err := d.state(ctx, mac)
	return st.Failed, err
}

// DialogueState is what the server knows of one dialogue phone.
type DialogueState = autoprov.DialogueState

// State returns what is known of the phone of mac; false when nothing.
func (d *Dialogues) State(ctx context.Context, mac string) (DialogueState, bool, error) {
	st, err := d.st.DialogueState(ctx, mac)
	if errors.Is(err, autoprov.ErrNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	known := st.Pending || st.Reported != nil || st.Failed != nil || !st.LastContact.IsZero()
	return st, known, nil
}

// sweep drops idle sessions and old nonces, at most once a second (it
// walks every open session: not on each message of a boot storm); d.mu
// held.
func (d *Dialogues) sweep(now time.Time) {
	if now.Sub(d.swept) < time.Second && now.After(d.swept) {
		return
	}
	d.swept = now
	for k, s := range d.open {
		if !s.busy && now.Sub(s.last) > dialogueIdle {
			d.end(k, s, now)
		}
	}
	if len(d.seen) > dialogueMaxSeen {
		for k, t := range d.seen {
			if now.Sub(t) > dialogueReplay || len(d.seen) > dialogueMaxSeen {
				delete(d.seen, k)
			}
		}
	}
}

// end ends the open session s of nonce; its nonce stays a replay; d.mu held.
func (d *Dialogues) end(nonce string, s *session, now time.Time) {
	delete(d.open, nonce)
	d.seen[nonce] = now
	if s.mac != "" && d.byMAC[s.mac] == nonce {
		delete(d.byMAC, s.mac)
	}
}

// errNoSession refuses a message that belongs to no open session.
var errNoSession = errors.New("no open session has this nonce and cookie")

// take finds (continuing) or creates (opening) the session of a message
// and marks it busy; it refuses a continuing message without its open
// session and cookie, an opening one whose nonce was seen before.
func (d *Dialogues) take(pk vendors.Peeked, cookie string) (*session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.sweep(now)
	s, ok := d.open[pk.Nonce]
	if !pk.Opens {
		if !ok || s.busy || cookie == "" || cookie != s.cookie {
			return nil, errNoSession
		}
		s.busy = true
		return s, nil
	}
	if _, old := d.seen[pk.Nonce]; ok || old {
		return nil, errors.New("the nonce of an opening message was used before (a replay)")
	}
	if len(d.open) >= dialogueMaxOpen {
		return nil, errors.New("too many open sessions")
	}
	s = &session{cookie: randomToken(), busy: true}
	d.open[pk.Nonce] = s
	return s, nil
}

// put stores what a turn left of the session, or ends it; what the phone
// reported and the job's fate go to the store.
func (d *Dialogues) put(ctx context.Context, nonce string, s *session, t vendors.Turn, closed bool) error {
	d.mu.Lock()
	now := d.now()
	s.busy, s.last = false, now
	switch {
	case closed:
		d.end(nonce, s, now)
	case s.mac != "":
		if prev, ok := d.byMAC[s.mac]; ok && prev != nonce {
			if ps := d.open[prev]; ps != nil && !ps.busy {
				d.end(prev, ps, now)
			}
		}
		d.byMAC[s.mac] = nonce
	}
	mac, job := s.mac, s.job
	d.mu.Unlock()
	if mac == "" || (!t.JobDone && !t.JobKept && len(t.Reported) == 0 && len(t.Failed) == 0) {
		return nil
	}
	return d.st.SaveDialogueTurn(ctx, mac, autoprov.DialogueTurn{At: now, JobDone: t.JobDone, Job: job,
		JobKept: t.JobKept, Reported: t.Reported, Failed: t.Failed})
}

// sessionCookie reads the session cookie of a request's Cookie header.
func sessionCookie(req vendors.Request) string {
	for _, c := range strings.Split(req.HeaderValue("Cookie"), ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(c), "="); ok && k == SessionCookie {
			return v
		}
	}
	return ""
}

// converse answers one message of a dialogue (vendors.Dialoguer): the
// session is found by the message's nonce and the session cookie (or
// opened by an opening message, after the phone was identified as for a
// fetch); the driver's turn is answered; the disclosure window is claimed
// only when the driver asks for the secrets, and committed when the
// answer that carries them is about to leave.
func (p *Phones) converse(ctx context.Context, req vendors.Request, v vendors.Vendor, dl vendors.Dialoguer) (*Result, error) {
	pk, err := dl.Peek(req)
	if err != nil {
		return nil, p.missf(req, "", "message: %v", err)
	}
	s, err := p.dialogues.take(pk, sessionCookie(req))
	if err != nil {
		return nil, p.missf(req, "", "dialogue: %v", err)
	}
	var (
		closed bool
		turn   vendors.Turn
	)
	defer func() {
		// Kept even when the phone has gone: a bounded write of its own.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.dialogues.put(pctx, pk.Nonce, s, turn, closed); err != nil {
			p.log.Error("dialogue: keep what the phone reported", "mac", s.mac, "err", err)
		}
	}()
	closed = true // unless the turn says otherwise
	var dev *autoprov.Device
	var vd *vendors.Device
	if pk.Opens {
		var rs vendors.Responder
		var mac string
		if v, rs, mac, dev, vd, err = p.poster(ctx, req, v, dl); err != nil {
			return nil, err
		}
		if d2, ok := rs.(vendors.Dialoguer); ok {
			dl = d2
		}
		s.mac = mac
	} else if s.mac != "" {
		// A continuing message: the session knows the phone; its device
		// is read again (an admin may have changed or released it).
		d, err := p.devices.Device(ctx, s.mac)
		if err == nil && d.State == autoprov.StateAssigned && d.Vendor == v.Name() {
			_, m, lerr := p.reg.Lookup(d.Vendor, d.Model)
			if lerr == nil {
				if vd, err = p.vendorDevice(ctx, d, v, m, req.BaseURL, false, p.now()); err != nil {
					return nil, p.missf(req, s.mac, "device: %v", err)
				}
				stripSecrets(vd)
				dev = &d
			}
		} else if err != nil && !errors.Is(err, autoprov.ErrNotFound) {
			return nil, err
		}
	}
	s.s.Messages++
	if s.s.Messages > vendors.MaxDialogueMessages {
		return nil, p.missf(req, s.mac, "dialogue: more than %d messages in one session", vendors.MaxDialogueMessages)
	}
	if s.mac != "" {
		st, err := p.dialogues.state(ctx, s.mac)
		if err != nil {
			return nil, p.missf(req, s.mac, "dialogue state: %v", err)
		}
		s.s.Pending, s.job = st.Pending, st.Job
	}
	s.s.SecretsOffered = false
	turn, err = dl.Converse(req, vd, s.s)
	if err != nil {
		return nil, p.missf(req, s.mac, "answer: %v", err)
	}
	token := ""
	if turn.WantSecrets {
		s.s.State, s.s.SecretsOffered = turn.State, true
		if dev != nil {
			if token, err = p.claim(ctx, req, *dev); err != nil {
				return nil, err
			}
		}
		sd := vd
		if token != "" {
			_, m, err := p.reg.Lookup(dev.Vendor, dev.Model)
			if err == nil {
				sd, err = p.vendorDevice(ctx, *dev, v, m, req.BaseURL, true, p.now())
			}
			if err != nil {
				p.release(dev.MAC, token)
				return nil, p.missf(req, s.mac, "device: %v", err)
			}
		}
		turn, err = dl.Converse(req, sd, s.s)
		if err == nil && turn.WantSecrets {
			err = errors.New("the driver asked for the secrets twice")
		}
		if err != nil || !turn.Secret {
			p.release(s.mac, token)
			token = ""
		}
		if err != nil {
			return nil, p.missf(req, s.mac, "answer: %v", err)
		}
	}
	if turn.File == nil {
		p.release(s.mac, token)
		return nil, p.missf(req, s.mac, "answer: the driver gave none")
	}
	if turn.Secret && token == "" {
		return nil, p.missf(req, s.mac, "answer: the driver sent secrets it was not given")
	}
	s.s.State, closed = turn.State, turn.Close
	if len(turn.Failed) > 0 {
		p.log.Warn("phone refused items", "mac", s.mac, "items", strings.Join(turn.Failed, ", "))
	}
	if turn.Firmware != "" {
		p.log.Info("phone reported a deployment", "mac", s.mac, "status", turn.Firmware)
	}
	p.log.Debug("answered", "path", req.Path, "mac", s.mac, "remote", req.RemoteAddr, "vendor", v.Name(),
		"messages", s.s.Messages, "secrets", turn.Secret, "closed", turn.Close)
	res := newResult(turn.File, turn.Secret, p.disclose(s.mac, token, "", req))
	res.Header = map[string]string{"Set-Cookie": fmt.Sprintf("%s=%s; Path=/; Secure; HttpOnly", SessionCookie, s.cookie)}
	return res, nil
}

// stripSecrets empties the secret values of a driver's device.
func stripSecrets(vd *vendors.Device) {
	vd.MenuPassword, vd.WebPassword = "", ""
	for i := range vd.Lines {
		vd.Lines[i].Password = ""
	}
}
