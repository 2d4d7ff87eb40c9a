package provision

import (
	"context"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// respond answers a message a phone POSTed, through the driver that
// declares its path (vendors.Responder). The phone is identified and its
// sighting recorded as for a fetch; an assigned phone's driver gets its
// device (never with secrets: a dialogue protocol that hands them out will
// claim the disclosure window as provideDevice does). n gets the driver
// and the kind, "dialogue" for a message of a session (OpenStage's WPI).
func (p *Phones) respond(ctx context.Context, req vendors.Request, n *fetchNote) (*Result, error) {
	v, rs := p.reg.Responder(req.Path)
	if rs == nil {
		return nil, p.refusef(autoprov.ErrRefused, req, "", "no driver answers POSTs at this path")
	}
	if v != nil {
		n.vendor = v.Name()
	}
	if dl, ok := rs.(vendors.Dialoguer); ok && p.dialogues != nil {
		n.kind = "dialogue"
		return p.converse(ctx, req, v, dl)
	}
	v, rs, mac, _, vd, err := p.poster(ctx, req, v, rs)
	if err != nil {
		return nil, err
	}
	f, err := rs.Respond(req, vd)
	if err != nil {
		return nil, p.missf(req, mac, "answer: %v", err)
	}
	p.log.Debug("answered", "path", req.Path, "mac", mac, "remote", req.RemoteAddr, "vendor", v.Name())
	return newResult(f, false, Hooks{}), nil
}

// poster identifies the phone of a POSTed message as for a fetch: its
// sighting is recorded (an unknown phone lands in the inbox), and an
// assigned phone's own driver (v, rs) and device come back, the device
// without any secret value (dev and vd nil for a phone not assigned, or
// whose credential is required and missing).
func (p *Phones) poster(ctx context.Context, req vendors.Request, v vendors.Vendor, rs vendors.Responder) (vendors.Vendor, vendors.Responder, string, *autoprov.Device, *vendors.Device, error) {
	id := v.Identify(req)
	mac := id.MAC
	if mac == "" {
		mac = req.MAC
	}
	var vd *vendors.Device
	var assigned *autoprov.Device
	if mac != "" {
		if id.Vendor == "" {
			id.Vendor = v.Name()
		}
		if err := p.checkMAC(mac, req, req.Path); err != nil {
			return nil, nil, "", nil, nil, p.missf(req, mac, "%v", err)
		}
		v0 := sightingOf(mac, id, req, req.Path, p.now())
		dev, f, err := p.lookup(ctx, v0, req, new(autoprov.Device))
		if err != nil {
			return nil, nil, "", nil, nil, err
		}
		if dev != nil && dev.State == autoprov.StateAssigned {
			if why := p.clientCertRefusal(req, *dev); why != "" {
				return nil, nil, "", nil, nil, p.missf(req, mac, "%s", why)
			}
		}
		hide := false
		if dev != nil {
			// A device whose credential is required (credentialRequired)
			// answers a message without proof exactly as an unknown MAC:
			// no device for the driver, nothing written.
			var ver verdict
			if why := p.hidden(req, *dev, &ver); why != "" {
				p.log.Debug("dialogue answered as for an unknown phone", "mac", mac, "remote", req.RemoteAddr, "reason", why)
				dev, hide = nil, true
			}
		}
		if f == foundKnown && !hide {
			// The dialogue is the phone's own exchange: an assigned phone
			// gets its device's answer, so it counts as its per-device fetch.
			if err := p.touch(ctx, v0); err != nil {
				return nil, nil, "", nil, nil, err
			}
		}
		if dev != nil && dev.State == autoprov.StateAssigned {
			// The inventory knows better than a guess: the device's own
			// driver must be the one answering here.
			dv, m, err := p.reg.Lookup(dev.Vendor, dev.Model)
			drs, ok := dv.(vendors.Responder)
			if err != nil || !ok || !drs.Answers(req.Path) {
				return nil, nil, "", nil, nil, p.missf(req, mac, "device's model %s/%s is not served by a driver answering this path", dev.Vendor, dev.Model)
			}
			v, rs, assigned = dv, drs, dev
			if vd, err = p.vendorDevice(ctx, *dev, v, m, req.BaseURL, false, p.now()); err != nil {
				return nil, nil, "", nil, nil, p.missf(req, mac, "device: %v", err)
			}
			// Unlike a rendered file (see leaked), an answer has no safety
			// net: the driver gets no secret value at all.
			vd.MenuPassword, vd.WebPassword = "", ""
			for i := range vd.Lines {
				vd.Lines[i].Password = ""
			}
		}
	}
	return v, rs, mac, assigned, vd, nil
}
