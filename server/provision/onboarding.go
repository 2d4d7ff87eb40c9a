package provision

import (
	"context"
	"errors"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// Onboarding is the redirect part of the server (redirect.Service) as the
// core sees it: told when an admin creates or adopts a device (to register
// it with its vendor's redirect service), and on the phone path the
// marker of a redirect service's URL and the redirect rules. Every method
// the phone path calls works from memory and never blocks.
type Onboarding interface {
	// Adopted is called after an admin created or adopted d; it queues
	// what is to be done and never waits for a remote service.
	Adopted(ctx context.Context, d autoprov.Device, actor string)
	// Via reads a redirect service's marker off a request path
	// ("r/<service>/<rest>"): the service and the path behind it.
	Via(path string) (service, rest string, ok bool)
	// Redirected notes that a known phone came through a marker.
	Redirected(mac, service string)
	// RedirectTarget is the provisioning base URL a rule sends mac to.
	RedirectTarget(mac string) (string, bool)
}

// via strips a redirect service's marker from the request's path.
func (p *Phones) via(req vendors.Request) (vendors.Request, string) {
	if p.opts.Onboarding == nil {
		return req, ""
	}
	svc, rest, ok := p.opts.Onboarding.Via(req.Path)
	if !ok {
		return req, ""
	}
	req.Path = rest
	return req, svc
}

// redirected records that a known phone came through a marker.
func (p *Phones) redirected(mac, via string) {
	if via != "" && p.opts.Onboarding != nil {
		p.opts.Onboarding.Redirected(mac, via)
	}
}

// byRule answers a phone that a redirect rule sends elsewhere: its MAC
// matches a rule and is not a device of this server (unknown, or only in
// the inbox). The driver that identified the request renders its
// vendor's in-band redirect (vendors.Redirector); no secret, no account,
// nothing recorded. ok is false when no rule applies or the driver has no
// redirect for this file: the request is then served as always.
func (p *Phones) byRule(ctx context.Context, req vendors.Request, v vendors.Vendor, mac string) (*Result, bool, error) {
	if p.opts.Onboarding == nil || mac == "" {
		return nil, false, nil
	}
	target, ok := p.opts.Onboarding.RedirectTarget(mac)
	if !ok {
		return nil, false, nil
	}
	d, err := p.devices.Device(ctx, mac)
	switch {
	case err == nil && d.State == autoprov.StateAssigned:
		return nil, false, nil // a device of this server is served here, rules or not
	case err != nil && !errors.Is(err, autoprov.ErrNotFound):
		return nil, false, err
	}
	rd, ok := v.(vendors.Redirector)
	if !ok {
		return nil, false, nil
	}
	f, ok := rd.Redirect(req.Path, target)
	if !ok {
		return nil, false, nil
	}
	p.log.Info("redirected by rule", "file", req.Path, "mac", mac, "remote", req.RemoteAddr, "vendor", v.Name(), "target", target)
	return newResult(f, false, Hooks{}), true, nil
}

// adopted tells the onboarding part that an admin created or adopted d.
func (s *Inventory) adopted(ctx context.Context, d autoprov.Device, actor string) {
	if s.opts.Onboarding != nil {
		s.opts.Onboarding.Adopted(ctx, d, actor)
	}
}
