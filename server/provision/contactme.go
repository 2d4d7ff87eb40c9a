package provision

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// HTTPSender sends one HTTP request a driver asked for (vendors.Contacter)
// and returns the phone's status code. An error means no answer came.
type HTTPSender interface {
	SendHTTP(ctx context.Context, req vendors.HTTPRequest) (code int, err error)
}

// ContactGap is the least time between two contact-me requests to one
// phone: an OpenStage phone ignores another within it (its "contact
// gap", 300 s by default; openstage.md §6.1).
const ContactGap = 300 * time.Second

// contactTimeout bounds one contact-me request.
const contactTimeout = 5 * time.Second

// plainHTTP is the default HTTPSender: no redirects, no proxy, 5 s.
type plainHTTP struct{ c *http.Client }

func newPlainHTTP() plainHTTP {
	return plainHTTP{c: &http.Client{Timeout: contactTimeout,
		Transport:     &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: contactTimeout}).DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (h plainHTTP) SendHTTP(ctx context.Context, r vendors.HTTPRequest) (int, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	resp, err := h.c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// contactMe is the resync of a dialogue phone (vendors.Contacter): the
// job is queued first, so that the session the phone opens (solicited,
// or after a DCMP poll) delivers it; then, outside the contact gap, the
// phone is asked to call at the contact-me-uri it reported, which must
// name the address it was last seen from (the URI comes from the phone,
// or from anyone who spoke for its MAC: the server posts to no other
// host).
func (s *Inventory) contactMe(ctx context.Context, d autoprov.Device, ct vendors.Contacter, reboot bool) autoprov.ResyncResult {
	r := autoprov.ResyncResult{MAC: d.MAC}
	dl := s.opts.Dialogues
	if reboot {
		r.Say(autoprov.ResyncUnsupported, autoprov.T("no reboot over contact-me"))
		return r
	}
	if d.State != autoprov.StateAssigned {
		r.Say(autoprov.ResyncUnsupported, autoprov.T("the device is not adopted: nothing to deliver"))
		return r
	}
	if err := dl.Queue(ctx, d.MAC); err != nil {
		s.log.Error("contact-me: queue the job", "mac", d.MAC, "err", err)
		r.Say(autoprov.ResyncFailed, autoprov.T("the job could not be queued (the log says why)"))
		return r
	}
	host, port := "", 0
	if h, p, err := net.SplitHostPort(s.opts.DialogueAddr); err == nil {
		host, port = h, atoiPort(p)
	}
	facts, err := dl.Facts(ctx, d.MAC)
	if err != nil {
		s.log.Error("contact-me: what the phone reported", "mac", d.MAC, "err", err)
		r.Say(autoprov.ResyncQueued, autoprov.T("queued for the phone's next contact: what it reported could not be read (the log says why)"))
		return r
	}
	hr, err := ct.ContactMe(facts, host, port)
	if err != nil {
		r.Say(autoprov.ResyncQueued, autoprov.T("queued for the phone's next contact: it reported no contact-me-uri yet (polling or a restart picks the job up)"))
		return r
	}
	u, err := url.Parse(hr.URL)
	phone, perr := netip.ParseAddr(d.RemoteIP)
	if err != nil || perr != nil {
		r.Say(autoprov.ResyncQueued, autoprov.T("queued for the phone's next contact: no usable contact-me-uri or address of the phone"))
		return r
	}
	if a, err := netip.ParseAddr(u.Hostname()); err != nil || a.Unmap() != phone.Unmap() {
		s.log.Warn("contact-me: the reported contact-me-uri names another host than the phone's address; not sent", "mac", d.MAC, "remote", d.RemoteIP)
		r.Say(autoprov.ResyncQueued, autoprov.T("queued for the phone's next contact: its contact-me-uri names another host than %s", d.RemoteIP))
		return r
	}
	now := s.now()
	last, ok, err := dl.st.ClaimContact(ctx, d.MAC, now, ContactGap)
	if err != nil {
		s.log.Error("contact-me: contact gap", "mac", d.MAC, "err", err)
		r.Say(autoprov.ResyncQueued, autoprov.T("queued for the phone's next contact: the contact gap could not be checked (the log says why)"))
		return r
	}
	if next := last.Add(ContactGap); !ok {
		r.Say(autoprov.ResyncQueued, autoprov.T("queued: contact gap (%s between contact-me requests); the next can go at %s, or the phone's next contact picks it up", ContactGap, next.UTC().Format(time.RFC3339)))
		return r
	}
	sender := s.opts.Contact
	if sender == nil {
		sender = newPlainHTTP()
	}
	cctx, cancel := context.WithTimeout(ctx, contactTimeout)
	defer cancel()
	code, err := sender.SendHTTP(cctx, hr)
	switch {
	case err != nil:
		if ferr := dl.st.ForgetContact(context.WithoutCancel(ctx), d.MAC, now); ferr != nil {
			s.log.Error("contact-me: forget the one that reached nobody", "mac", d.MAC, "err", ferr)
		}
		s.log.Warn("contact-me: send", "mac", d.MAC, "err", err)
		r.Say(autoprov.ResyncFailed, autoprov.T("no answer from the phone's contact-me-uri (the job stays queued)"))
	case code != hr.Want:
		r.Say(autoprov.ResyncFailed, autoprov.T("the phone answered %d, not %d (the job stays queued)", code, hr.Want))
	default:
		r.Say(autoprov.ResyncSent, autoprov.T("%d: the phone will call back (solicited)", code))
	}
	return r
}

func atoiPort(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

// contactWorkers bounds the contact-me requests a change sends at once
// (each waits up to contactTimeout for a silent phone).
const contactWorkers = 8

// contacts runs the contact-me work of changes in the background, at most
// contactWorkers requests at once over all changes.
type contacts struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

func newContacts() *contacts { return &contacts{sem: make(chan struct{}, contactWorkers)} }

// changed queues a job for a dialogue phone whose configuration changed
// and asks it to call (as a resync does); other vendors' phones fetch
// on their own schedule, or by an admin's resync. In the background: the
// admin call does not wait for the phone.
func (s *Inventory) changed(ctx context.Context, d autoprov.Device, actor string) {
	if s.dialogue(d) != nil {
		s.changedMACs(ctx, []string{d.MAC}, actor)
	}
}

// dialogue returns the driver of an assigned dialogue phone, or nil.
func (s *Inventory) dialogue(d autoprov.Device) vendors.Contacter {
	if d.State != autoprov.StateAssigned || s.opts.Dialogues == nil {
		return nil
	}
	v, ok := s.reg.ByName(d.Vendor)
	ct, can := v.(vendors.Contacter)
	if !ok || !can {
		return nil
	}
	return ct
}

// changedMACs does what changed does for each of macs that is a dialogue
// phone, in the background: each job is queued, then its contact-me
// sent (the contact gap respected), at most contactWorkers at once.
func (s *Inventory) changedMACs(ctx context.Context, macs []string, actor string) {
	if s.opts.Dialogues == nil || len(macs) == 0 {
		return
	}
	bg := context.WithoutCancel(ctx)
	c := s.contacts
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		var wg sync.WaitGroup
		for _, mac := range macs {
			c.sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-c.sem; wg.Done() }()
				dctx, cancel := context.WithTimeout(bg, 2*contactTimeout)
				defer cancel()
				d, err := s.st.Devices.Device(dctx, mac)
				if err != nil {
					if !errors.Is(err, autoprov.ErrNotFound) {
						s.log.Error("configuration changed: read the device", "mac", mac, "err", err)
					}
					return
				}
				ct := s.dialogue(d)
				if ct == nil {
					return
				}
				r := s.contactMe(dctx, d, ct, false)
				s.log.Info("configuration changed: contact-me", "mac", d.MAC, "status", r.Status, "detail", r.Detail)
				s.audit(dctx, d.MAC, autoprov.EventDeviceResync, actor, "configuration changed: "+r.Status+" ("+r.Detail+")")
			}()
		}
		wg.Wait()
	}()
}

// changedVendors does what changed does for every assigned phone of a
// dialogue vendor (the fleet-wide settings changed).
func (s *Inventory) changedVendors(ctx context.Context, actor string) {
	if s.opts.Dialogues == nil {
		return
	}
	var macs []string
	for _, v := range s.reg.Drivers() {
		if _, ok := v.(vendors.Contacter); !ok {
			continue
		}
		ds, err := s.st.Devices.Devices(ctx, autoprov.DeviceFilter{Vendor: v.Name(), State: autoprov.StateAssigned})
		if err != nil {
			s.log.Error("settings changed: the dialogue phones", "vendor", v.Name(), "err", err)
			continue
		}
		for _, d := range ds {
			macs = append(macs, d.MAC)
		}
	}
	s.changedMACs(ctx, macs, actor)
}

// changedAccount does what changed does for every dialogue phone that
// carries the account ext (its display name, user or password changed).
func (s *Inventory) changedAccount(ctx context.Context, ext, actor string) {
	if s.opts.Dialogues == nil {
		return
	}
	macs, err := s.st.Devices.DevicesUsingAccount(ctx, ext)
	if err != nil {
		s.log.Error("account changed: devices carrying it", "extension", ext, "err", err)
		return
	}
	s.changedMACs(ctx, macs, actor)
}

// changedBulk does what changed does for the dialogue phones a bulk
// change wrote, or whose accounts it updated. Only dialogue phones are
// read again one by one: a bulk change of 100,000 phones of other vendors
// queues nothing (reading each back to find that out was more CPU than
// the change itself). The devices written are known as written; the
// others carrying an updated account are read in one batched read. using
// lists the devices carrying the updated accounts when the caller has
// them already (nil: they are looked up).
func (s *Inventory) changedBulk(ctx context.Context, w autoprov.BulkWrite, res autoprov.BulkResult, using []string, actor string) {
	if s.opts.Dialogues == nil {
		return
	}
	var macs []string
	written := make(map[string]bool, len(w.Devices))
	for _, dw := range w.Devices {
		written[dw.Device.MAC] = true
		if s.dialogue(dw.Device) != nil {
			macs = append(macs, dw.Device.MAC)
		}
	}
	if len(res.AccountsUpdated) > 0 {
		var err error
		if using == nil {
			using, err = s.st.Bulk.DevicesUsingAccounts(ctx, res.AccountsUpdated)
		}
		if err != nil {
			s.log.Error("bulk change: devices carrying its accounts", "err", err)
		}
		var others []string
		for _, mac := range using {
			if !written[mac] {
				others = append(others, mac)
			}
		}
		if ds, err := s.st.Bulk.DevicesToEdit(ctx, others); err != nil {
			s.log.Error("bulk change: read the devices carrying its accounts", "err", err)
			macs = append(macs, others...) // changedMACs reads each
		} else {
			for mac, d := range ds {
				if s.dialogue(d) != nil {
					macs = append(macs, mac)
				}
			}
		}
	}
	slices.Sort(macs)
	s.changedMACs(ctx, slices.Compact(macs), actor)
}
