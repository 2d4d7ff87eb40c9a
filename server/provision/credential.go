package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/vendors"
)

// The per-device provisioning credential (README "Per-device credential").
// The transfer that carries a device's secrets also carries a new
// credential (user name: the MAC; a random password) when its driver is a
// vendors.Credentialer. Its state:
//
//	none     per-device file served to any request (as before)
//	issued   a request that presents the credential makes it applied
//	         (proof the phone applied the config); one without it is
//	         served as in none while the secrets transfer that issued it
//	         is not recorded complete (in flight, broken off, or its end
//	         never recorded: the phone may not hold the credential), and
//	         treated as in applied once it is (the 401 is what makes a
//	         phone that only answers challenges present it)
//	applied  the per-device file only to requests that present it
//	         (Digest, or Basic over HTTPS); the rest are challenged as an
//	         unknown MAC is; over TFTP only with the device's tftp_allowed
//
// credentialRequired tells the two rules apart. Re-opening the window
// resets the state to none.

// Realm is the HTTP authentication realm of the per-device files.
const Realm = "autoprov"

// credentialLen is the length of a generated provisioning password.
const credentialLen = 24

// nonceTTL is how long a Digest nonce is good for.
const nonceTTL = 5 * time.Minute

// AuthRequiredError is what Provide returns for a per-device file that
// needs the phone's provisioning credential and did not get it (or for an
// unknown MAC of a vendor whose phones take one, which answers alike). It
// wraps autoprov.ErrNotFound, so an edge that cannot challenge (TFTP)
// answers "not found"; the HTTP edge answers 401 with Challenges as its
// WWW-Authenticate headers.
type AuthRequiredError struct {
	// Challenges are the WWW-Authenticate header values, in order.
	Challenges []string
}

// Error implements error.
func (e *AuthRequiredError) Error() string { return "authentication required" }

// Unwrap makes the error match autoprov.ErrNotFound.
func (e *AuthRequiredError) Unwrap() error { return autoprov.ErrNotFound }

// authSchemes are the schemes v's phones answer; none when v renders no
// credential (state unsupported).
func authSchemes(v vendors.Vendor) []vendors.AuthScheme {
	if c, ok := v.(vendors.Credentialer); ok {
		return c.ProvisioningAuth()
	}
	return nil
}

// CredentialSupported reports whether the driver of vendor/model renders a
// provisioning credential.
func CredentialSupported(reg *vendors.Registry, vendor, model string) bool {
	v, _, err := reg.Lookup(vendor, model)
	return err == nil && len(authSchemes(v)) > 0
}

// credentialRequired reports whether dev's per-device file goes only to
// requests that present its credential: it is applied, or issued by a
// secrets transfer recorded complete (the phone holds it).
func credentialRequired(dev autoprov.Device) bool {
	switch dev.Credential.State {
	case autoprov.CredentialApplied:
		return true
	case autoprov.CredentialIssued:
		return dev.Disclosure.State == autoprov.DisclosureConsumed && dev.Disclosure.Complete != nil && *dev.Disclosure.Complete
	}
	return false
}

// required says, for the log, why dev's credential is required.
func required(dev autoprov.Device) string {
	if dev.Credential.State == autoprov.CredentialIssued {
		return "credential issued by a complete secrets transfer"
	}
	return "credential applied"
}

func hasScheme(ss []vendors.AuthScheme, s vendors.AuthScheme) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// challenge logs why a request was refused (rate-limited, as misses are)
// and returns the AuthRequiredError that challenges it. Basic is offered
// over HTTPS only.
func (p *Phones) challenge(req vendors.Request, mac string, schemes []vendors.AuthScheme, stale bool, format string, a ...any) error {
	_ = p.refusef(autoprov.ErrNotFound, req, mac, format, a...)
	return fmt.Errorf("%s: %w", req.Path, &AuthRequiredError{Challenges: p.auth.Challenges(hasScheme(schemes, vendors.AuthDigest),
		hasScheme(schemes, vendors.AuthBasic) && req.Transport == "https", stale)})
}

// verify checks the request's Authorization against dev's credential.
func (p *Phones) verify(req vendors.Request, dev autoprov.Device, schemes []vendors.AuthScheme) httpauth.Result {
	if dev.Credential.Password == "" || req.Authorization == "" {
		return httpauth.Denied
	}
	c := httpauth.Parse(req.Authorization)
	switch {
	case c.Scheme == httpauth.Digest && !hasScheme(schemes, vendors.AuthDigest),
		c.Scheme == httpauth.Basic && !hasScheme(schemes, vendors.AuthBasic):
		return httpauth.Denied
	}
	methods := []string{vendors.MethodGet}
	if req.SecretFree {
		methods = append(methods, "HEAD")
	}
	res := httpauth.Denied
	for _, m := range methods {
		if r := p.auth.Verify(c, dev.MAC, dev.Credential.Password, m, req.Target, req.Transport == "https"); r > res {
			res = r
		}
	}
	return res
}

// admit decides whether a request for a per-device file may go on to be
// served, by the credential rule above. dev is nil for a MAC the inventory
// does not hold (or would not record). authed reports a request that
// proved the credential (or an allowed TFTP fetch): only those update an
// applied phone's report.
//
// ver is the check hidden already made of the request's credentials (it
// must not be made twice: a Digest answer's nonce count counts once);
// hidden, when not "", is why an assigned device is answered as an
// unknown MAC (dev is then a stand-in, unassigned).
func (p *Phones) admit(ctx context.Context, req vendors.Request, v vendors.Vendor, mac string, dev *autoprov.Device, ver verdict, hidden string) (authed bool, err error) {
	schemes := authSchemes(v)
	if len(schemes) == 0 {
		return false, nil // unsupported: the secret-free file goes to anyone who names the MAC
	}
	web := req.Transport == "http" || req.Transport == "https"
	if dev == nil || dev.State != autoprov.StateAssigned {
		if web && mac != "" {
			// An unknown or unassigned MAC answers as an applied device does
			// to a request without its credential: 401 tells nothing.
			reason := "MAC not in the inventory (inbox bounds)"
			switch {
			case hidden != "":
				reason = hidden
			case dev != nil:
				reason = "device is unassigned: adopt it to provision it"
			}
			return false, p.challenge(req, mac, schemes, false, "%s; challenged as a phone with an applied credential is", reason)
		}
		return false, nil
	}
	state := dev.Credential.State
	if state == autoprov.CredentialIssued && credentialRequired(*dev) && (!web || req.Authorization == "") {
		// The phone holds it: challenged as once applied, so that a phone
		// that sends credentials only when asked presents it.
		state = autoprov.CredentialApplied
	}
	switch state {
	case autoprov.CredentialApplied:
		why := required(*dev)
		if !web {
			if req.Transport == "tftp" && dev.TFTPAllowed {
				return true, nil
			}
			return false, p.missf(req, mac, "%s: per-device file only to requests that present it (%s cannot; tftp_allowed is off)", why, req.Transport)
		}
		switch ver.of(p, req, *dev, schemes) {
		case httpauth.OK:
			return true, nil
		case httpauth.Stale:
			return false, p.challenge(req, mac, schemes, true, "stale nonce: challenged again")
		case httpauth.Replayed:
			return false, p.challenge(req, mac, schemes, true, "replayed Digest answer (nonce count not above one already accepted): refused, challenged again")
		}
		if req.Authorization == "" {
			return false, p.challenge(req, mac, schemes, false, "%s: per-device file without credentials", why)
		}
		return false, p.challenge(req, mac, schemes, false, "%s: wrong credentials for the per-device file", why)
	case autoprov.CredentialIssued:
		if !web || req.Authorization == "" {
			return false, nil // served as before: the transfer that issued it is not recorded complete
		}
		switch ver.of(p, req, *dev, schemes) {
		case httpauth.Stale:
			return false, p.challenge(req, mac, schemes, true, "stale nonce: challenged again")
		case httpauth.Replayed:
			return false, p.challenge(req, mac, schemes, true, "replayed Digest answer (nonce count not above one already accepted): refused, challenged again")
		case httpauth.Denied:
			// Credentials that do not prove it get no config, as once applied.
			return false, p.challenge(req, mac, schemes, false, "credential issued: wrong credentials for the per-device file")
		}
		if dev.Credential.IssuedAt == nil {
			return false, nil
		}
		// Applied only if still the credential just verified: a re-open
		// and re-issue meanwhile leaves the new one issued.
		won, err := p.creds.ApplyCredential(ctx, dev.MAC, *dev.Credential.IssuedAt, p.now())
		if err != nil {
			return false, err
		}
		if won {
			p.log.Info("provisioning credential applied: from now on its per-device file only to requests that present it", "mac", dev.MAC, "remote", req.RemoteAddr)
		}
		return true, nil
	}
	return false, nil
}

// verdict is the outcome of verifying a request's credentials, once.
type verdict struct {
	done bool
	res  httpauth.Result
}

// of returns the verdict, verifying the request against dev's credential
// if that was not done yet.
func (v *verdict) of(p *Phones, req vendors.Request, dev autoprov.Device, schemes []vendors.AuthScheme) httpauth.Result {
	if !v.done {
		v.res, v.done = p.verify(req, dev, schemes), true
	}
	return v.res
}

// hidden returns why a request naming dev's MAC must be answered exactly
// as one naming a MAC the inventory does not know (README "Per-device
// provisioning credential"), or "" when it may be answered as dev's: dev
// is assigned, its credential is required (credentialRequired) or its
// vendor requires mutual TLS, and the request does not prove it (no valid credential or client
// certificate; TFTP without tftp_allowed). Such a request then gets the
// driver and model guessed from its path and User-Agent, never dev's, and
// writes no sighting. A right answer with a stale or replayed nonce counts
// as proof here (it knows the password): admit challenges it again.
func (p *Phones) hidden(req vendors.Request, dev autoprov.Device, ver *verdict) string {
	if dev.State != autoprov.StateAssigned {
		return ""
	}
	if p.needsClientCert(dev.Vendor) {
		if why := p.clientCertRefusal(req, dev); why != "" {
			return why
		}
	}
	if !credentialRequired(dev) {
		return ""
	}
	why := required(dev)
	switch req.Transport {
	case "tftp":
		if dev.TFTPAllowed {
			return ""
		}
		return why + ": per-device files only to requests that present it (tftp cannot; tftp_allowed is off)"
	case "http", "https":
		v, _, err := p.reg.Lookup(dev.Vendor, dev.Model)
		if err != nil {
			return fmt.Sprintf("%s, and the device's model %s/%s has no driver: %v", why, dev.Vendor, dev.Model, err)
		}
		if ver.of(p, req, dev, authSchemes(v)) != httpauth.Denied {
			return ""
		}
		if req.Authorization == "" {
			return why + ": request without credentials"
		}
		return why + ": wrong credentials"
	}
	return why + ": per-device files only to requests that present it (" + req.Transport + " cannot)"
}

// guarded reports whether dev's per-device files go only to requests
// that prove they come from it: its credential is required
// (credentialRequired), or its vendor requires mutual TLS.
func (p *Phones) guarded(dev autoprov.Device) bool {
	return dev.State == autoprov.StateAssigned &&
		(credentialRequired(dev) || p.needsClientCert(dev.Vendor))
}

// admitDirectory applies the per-device rule to a company directory
// request that presents a credential (its user name names the phone): a
// wrong one is challenged. A request without one is served (README).
func (p *Phones) admitDirectory(ctx context.Context, req vendors.Request) error {
	if req.Authorization == "" {
		return nil
	}
	c := httpauth.Parse(req.Authorization)
	mac, err := vendors.ParseMAC(c.Username)
	if c.Scheme == httpauth.None || err != nil {
		return p.challenge(req, "", []vendors.AuthScheme{vendors.AuthDigest, vendors.AuthBasic}, false, "directory: unreadable credentials")
	}
	dev, err := p.devices.Device(ctx, mac)
	if err != nil && !errors.Is(err, autoprov.ErrNotFound) {
		return err
	}
	var schemes []vendors.AuthScheme
	if err == nil && dev.State == autoprov.StateAssigned {
		if v, _, lerr := p.reg.Lookup(dev.Vendor, dev.Model); lerr == nil {
			schemes = authSchemes(v)
		}
	}
	if len(schemes) == 0 {
		schemes = []vendors.AuthScheme{vendors.AuthDigest, vendors.AuthBasic}
	}
	if err == nil && (dev.Credential.State == autoprov.CredentialApplied || dev.Credential.State == autoprov.CredentialIssued) {
		switch p.verify(req, dev, schemes) {
		case httpauth.OK:
			return nil
		case httpauth.Stale:
			return p.challenge(req, mac, schemes, true, "directory: stale nonce")
		case httpauth.Replayed:
			return p.challenge(req, mac, schemes, true, "directory: replayed Digest answer")
		}
	}
	return p.challenge(req, mac, schemes, false, "directory: wrong credentials")
}
