package provision

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// SIPSender sends one SIP request to a phone and waits, bounded (2 s),
// for its final answer: code 0 when none came. An error means nothing
// could be sent. server/resync satisfies it.
type SIPSender interface {
	SendSIP(ctx context.Context, to netip.AddrPort, req vendors.SIPRequest) (code int, reason string, err error)
}

// ResyncPort is the port the resync request goes to: a phone's SIP port,
// which sightings (HTTP, TFTP fetches) do not tell.
const ResyncPort = 5060

// ResyncConcurrency bounds how many phones one bulk resync waits on at once.
const ResyncConcurrency = 128

// MaxResyncMACs is the most MACs one bulk resync takes: at
// ResyncConcurrency phones at once and 2 s each when none answers, about
// 32 s, inside the HTTP edge's 60 s write timeout.
const MaxResyncMACs = 2000

// ResyncDevice tells one device's phone to fetch its configuration now
// (or, with reboot, to reboot) through its driver's vendors.Resyncer, sent
// to the address of its last sighting. It returns ErrNotFound for an
// unknown MAC, an error wrapping ErrConflict when no address of the phone
// is known, else the result (sent, unsupported, failed). Every attempt on
// a known device is audited (device.resync).
func (s *Inventory) ResyncDevice(ctx context.Context, mac string, reboot bool, actor string) (autoprov.ResyncResult, error) {
	canon, err := vendors.ParseMAC(mac)
	if err != nil {
		return autoprov.ResyncResult{}, autoprov.Invalid("mac", "%q is not a MAC address", mac)
	}
	d, err := s.st.Devices.Device(ctx, canon)
	if err != nil {
		return autoprov.ResyncResult{}, err
	}
	r := s.resync(ctx, d, reboot, actor)
	if r.Status == autoprov.ResyncNoAddress {
		return r, autoprov.Conflict("device %s: %s", d.MAC, resyncDetail(r))
	}
	return r, nil
}

// Resync resyncs many devices at once, at most ResyncConcurrency at a
// time, and returns one result per MAC in the order given (a MAC given
// twice is resynced once and reported twice). Unknown MACs are
// "not_found"; a MAC that does not parse makes the whole call invalid.
func (s *Inventory) Resync(ctx context.Context, macs []string, reboot bool, actor string) ([]autoprov.ResyncResult, error) {
	if len(macs) > MaxResyncMACs {
		return nil, autoprov.Invalid("macs", "at most %d MACs at once", MaxResyncMACs)
	}
	canon := make([]string, len(macs))
	for i, m := range macs {
		c, err := vendors.ParseMAC(m)
		if err != nil {
			return nil, autoprov.Invalid("macs", "macs[%d]: %q is not a MAC address", i, m)
		}
		canon[i] = c
	}
	byMAC := map[string]*autoprov.ResyncResult{}
	var order []string
	for _, m := range canon {
		if _, ok := byMAC[m]; !ok {
			byMAC[m] = &autoprov.ResyncResult{MAC: m}
			order = append(order, m)
		}
	}
	sem := make(chan struct{}, ResyncConcurrency)
	var wg sync.WaitGroup
	for _, m := range order {
		res := byMAC[m]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := s.st.Devices.Device(ctx, m)
			switch {
			case errors.Is(err, autoprov.ErrNotFound):
				*res = autoprov.ResyncResult{MAC: m}
				res.Say(autoprov.ResyncNotFound, autoprov.T("no such device"))
			case err != nil:
				s.log.Error("resync: read device", "mac", m, "err", err)
				*res = autoprov.ResyncResult{MAC: m}
				res.Say(autoprov.ResyncFailed, autoprov.T("internal error"))
			default:
				*res = s.resync(ctx, d, reboot, actor)
			}
		}()
	}
	wg.Wait()
	out := make([]autoprov.ResyncResult, len(canon))
	for i, m := range canon {
		out[i] = *byMAC[m]
	}
	return out, nil
}

// resync does one known device's resync and audits it.
func (s *Inventory) resync(ctx context.Context, d autoprov.Device, reboot bool, actor string) autoprov.ResyncResult {
	r := s.resyncResult(ctx, d, reboot)
	s.log.Info("resync", "mac", d.MAC, "reboot", reboot, "remote", d.RemoteIP, "status", r.Status, "detail", r.Detail)
	s.audit(ctx, d.MAC, autoprov.EventDeviceResync, actor, "reboot="+strconv.FormatBool(reboot)+": "+r.Status+" ("+r.Detail+")")
	return r
}

func (s *Inventory) resyncResult(ctx context.Context, d autoprov.Device, reboot bool) autoprov.ResyncResult {
	r := autoprov.ResyncResult{MAC: d.MAC}
	v, ok := s.reg.ByName(d.Vendor)
	if ct, is := v.(vendors.Contacter); ok && is && s.opts.Dialogues != nil {
		return s.contactMe(ctx, d, ct, reboot)
	}
	rs, can := v.(vendors.Resyncer)
	if !ok || !can {
		r.Say(autoprov.ResyncUnsupported, autoprov.T("the vendor documents no resync trigger"))
		if d.Vendor == "" {
			r.Say(r.Status, autoprov.T("the device's vendor is not known"))
		}
		return r
	}
	reqs, err := rs.Resync(s.resyncView(ctx, d, v), reboot)
	if err != nil || len(reqs) == 0 {
		r.Say(autoprov.ResyncUnsupported, autoprov.T("the vendor documents no resync trigger"))
		if reboot {
			r.Say(r.Status, autoprov.T("the vendor documents no reboot trigger"))
		}
		if err != nil && !errors.Is(err, vendors.ErrUnsupported) {
			s.log.Error("resync: driver", "mac", d.MAC, "err", err)
			r.Say(autoprov.ResyncFailed, autoprov.T("internal error"))
		}
		return r
	}
	addr, err := netip.ParseAddr(d.RemoteIP)
	if err != nil || !addr.IsValid() || addr.IsUnspecified() {
		r.Say(autoprov.ResyncNoAddress, autoprov.T("no address of the phone is known: it has not fetched from this server yet"))
		return r
	}
	if s.opts.Resync == nil {
		r.Say(autoprov.ResyncFailed, autoprov.T("resync is not configured on this server"))
		return r
	}
	to := netip.AddrPortFrom(addr.Unmap(), ResyncPort)
	for _, req := range reqs {
		code, reason, err := s.opts.Resync.SendSIP(ctx, to, req)
		switch {
		case err != nil:
			s.log.Warn("resync: send", "mac", d.MAC, "to", to.String(), "err", err)
			r.Say(autoprov.ResyncFailed, autoprov.T("could not send to %s", to))
			return r
		case code == 0:
			r.Say(autoprov.ResyncSent, autoprov.T("no answer from %s within 2 s", to))
		case code >= 300:
			r.Say(autoprov.ResyncFailed, autoprov.T("%d %s", code, reason))
			return r
		default:
			r.Say(autoprov.ResyncSent, autoprov.T("%d %s", code, reason))
		}
	}
	return r
}

// resyncView is the driver's view of the device for Resyncer: its lines
// (extensions, no secrets), vendor and model. An unassigned device has
// none of them but its vendor.
func (s *Inventory) resyncView(ctx context.Context, d autoprov.Device, v vendors.Vendor) *vendors.Device {
	vd := &vendors.Device{MAC: d.MAC, Vendor: d.Vendor, Model: d.Model}
	if d.State != autoprov.StateAssigned {
		return vd
	}
	for _, ext := range d.Accounts {
		a, err := s.accounts.Account(ctx, ext)
		if err != nil {
			continue
		}
		vd.Lines = append(vd.Lines, vendors.Line{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser})
	}
	return vd
}

// resyncDetail is r's Detail as a Text: its Text, or the English Detail
// of a result built without one.
func resyncDetail(r autoprov.ResyncResult) autoprov.Text {
	if r.Text.Format != "" {
		return r.Text
	}
	return autoprov.T("%s", r.Detail)
}
