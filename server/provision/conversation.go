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
// between messages: open sessions, the nonces of ended ones, each
// phone's pending job, what it reported (contact-me-uri...), the items
// it refused last and when it was last asked to call. Shared by Phones
// (the sessions) and Inventory (resync: contact-me). In memory: a
// restart forgets pending jobs and reported facts until each phone's
// next start-up (README.md, "OpenStage").
type Dialogues struct {
	mu        sync.Mutex
	now       func() time.Time
	open      map[string]*session  // by nonce
	seen      map[string]time.Time // nonces of sessions that ended
	pending   map[string]time.Time // MAC -> job queued since
	facts     map[string]map[string]string
	failed    map[string][]string
	contacted map[string]time.Time // MAC -> last contact-me sent
}

type session struct {
	mac, cookie string
	s           vendors.Session
	last        time.Time
	busy        bool // a message of it is being answered
}

// NewDialogues returns an empty set; now is the clock (time.Now when nil).
func NewDialogues(now func() time.Time) *Dialogues {
	if now == nil {
		now = time.Now
	}
	return &Dialogues{now: now, open: map[string]*session{}, seen: map[string]time.Time{},
		pending: map[string]time.Time{}, facts: map[string]map[string]string{}, failed: map[string][]string{},
		contacted: map[string]time.Time{}}
}

// Pending reports whether a job is queued for the phone of mac (DCMP:
// 202 when true).
func (d *Dialogues) Pending(mac string) bool {
	if m, err := vendors.ParseMAC(mac); err == nil {
		mac = m
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.pending[mac]
	return ok
}

// Queue queues a job for the phone of mac: its next session delivers it.
func (d *Dialogues) Queue(mac string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pending[mac]; !ok {
		d.pending[mac] = d.now()
	}
}

// Facts returns a copy of what the phone of mac last reported.
func (d *Dialogues) Facts(mac string) map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]string{}
	for k, v := range d.facts[mac] {
		out[k] = v
	}
	return out
}

// Failed returns the items the phone of mac refused in its last session
// that refused any ("name[index]: status").
func (d *Dialogues) Failed(mac string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.failed[mac]...)
}

// DialogueState is what the server knows of one dialogue phone.
type DialogueState struct {
	Pending      bool
	PendingSince time.Time // zero when nothing is pending
	LastContact  time.Time // the last contact-me sent, or zero
	Reported     map[string]string
	Failed       []string
}

// State returns what is known of the phone of mac; false when nothing.
func (d *Dialogues) State(mac string) (DialogueState, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var st DialogueState
	since, pending := d.pending[mac]
	facts, reported := d.facts[mac]
	failed, refused := d.failed[mac]
	last, contacted := d.contacted[mac]
	if !pending && !reported && !refused && !contacted {
		return st, false
	}
	st.Pending, st.PendingSince, st.LastContact = pending, since, last
	st.Failed = append([]string(nil), failed...)
	if reported {
		st.Reported = make(map[string]string, len(facts))
		for k, v := range facts {
			st.Reported[k] = v
		}
	}
	return st, true
}

// sweep drops idle sessions and old nonces; d.mu held.
func (d *Dialogues) sweep(now time.Time) {
	for k, s := range d.open {
		if !s.busy && now.Sub(s.last) > dialogueIdle {
			delete(d.open, k)
			d.seen[k] = now
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

// put stores what a turn left of the session, or ends it.
func (d *Dialogues) put(nonce string, s *session, t vendors.Turn, closed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	s.busy, s.last = false, now
	if closed {
		delete(d.open, nonce)
		d.seen[nonce] = now
	}
	if s.mac == "" {
		return
	}
	switch {
	case t.JobDone:
		delete(d.pending, s.mac)
	case t.JobKept:
		if _, ok := d.pending[s.mac]; !ok {
			d.pending[s.mac] = now
		}
	}
	if len(t.Reported) > 0 {
		f := d.facts[s.mac]
		if f == nil {
			if len(d.facts) >= dialogueMaxFacts {
				return
			}
			f = map[string]string{}
			d.facts[s.mac] = f
		}
		for k, v := range t.Reported {
			if _, ok := f[k]; ok || len(f) < 32 {
				f[k] = v
			}
		}
	}
	if len(t.Failed) > 0 && len(d.failed) < dialogueMaxFacts {
		d.failed[s.mac] = t.Failed
	}
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
	defer func() { p.dialogues.put(pk.Nonce, s, turn, closed) }()
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
				if vd, err = p.vendorDevice(ctx, d, v, m, req.BaseURL, false); err != nil {
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
		s.s.Pending = p.dialogues.Pending(s.mac)
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
				sd, err = p.vendorDevice(ctx, *dev, v, m, req.BaseURL, true)
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
