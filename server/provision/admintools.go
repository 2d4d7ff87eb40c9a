package provision

import (
	"context"
	"errors"
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/pbxconf"
	"github.com/autoprov/autoprov/vendors"
)

// ProvisioningURL is the provisioning base URL phones are pointed at (for
// the DHCP snippets): --public-url + "prov/", else reqBase (the address
// the admin reached, httpd.BaseURL), else the HTTP listener's address.
func (s *Inventory) ProvisioningURL(reqBase string) string { return s.baseURL(reqBase) }

// ReplaceDevice moves the assigned device oldMAC's accounts, keys, label,
// key profile, overrides, raw parameters and passwords to the phone
// newMAC (new, or waiting unassigned in the inbox), removes oldMAC and
// opens newMAC's secret window, in one transaction, audited on both MACs
// as device.replaced. model "" keeps the old device's model (another is
// validated as any model change is). ErrConflict when newMAC is an
// assigned device.
func (s *Inventory) ReplaceDevice(ctx context.Context, oldMAC, newMAC, model, actor string) (autoprov.Device, error) {
	from, err := autoprov.ParseMAC(oldMAC)
	if err != nil {
		return autoprov.Device{}, err
	}
	to, err := vendors.ParseMAC(newMAC)
	if err == nil {
		err = vendors.DeviceMAC(to) // one a phone ships with, as for a new device
	}
	if err != nil {
		return autoprov.Device{}, autoprov.Invalid("new_mac", "%v", err)
	}
	if from == to {
		return autoprov.Device{}, autoprov.Invalid("new_mac", "the new MAC is the device's own")
	}
	old, err := s.st.Devices.Device(ctx, from)
	if err != nil {
		return autoprov.Device{}, err
	}
	if old.State != autoprov.StateAssigned {
		return autoprov.Device{}, autoprov.Invalid("mac", "device %s is not adopted: adopt the new phone instead", from)
	}
	var seen *autoprov.Device
	switch n, err := s.st.Devices.Device(ctx, to); {
	case err == nil && n.State == autoprov.StateAssigned:
		return autoprov.Device{}, autoprov.Conflict("device %s exists and is adopted; delete it first", to)
	case err == nil:
		seen = &n
	case !errors.Is(err, autoprov.ErrNotFound):
		return autoprov.Device{}, err
	}
	in := autoprov.DeviceInput{Vendor: &old.Vendor, Model: &old.Model, Label: &old.Label, Accounts: &old.Accounts,
		KeyProfile: &old.KeyProfile, Keys: &old.Keys, Overrides: &old.Overrides, Params: &old.Params,
		MenuPassword: &old.MenuPassword, WebPassword: &old.WebPassword, TFTPAllowed: &old.TFTPAllowed}
	if m := strings.TrimSpace(model); m != "" {
		in.Model = &m
		if seen != nil && seen.Vendor != "" {
			in.Vendor = &seen.Vendor
		} else {
			in.Vendor = nil
		}
	}
	window, err := s.windowLength(ctx)
	if err != nil {
		return autoprov.Device{}, err
	}
	w, err := s.createWrite(ctx, to, seen, in, actor, window)
	if err != nil {
		return autoprov.Device{}, err
	}
	w.Replaces = from
	w.Window = window // the new phone needs its secrets, accounts or not
	at := s.now()
	w.Audit = append(w.Audit,
		autoprov.AuditEvent{At: at, MAC: from, Event: autoprov.EventDeviceReplaced, Actor: actor, Detail: "replaced by " + to + "; removed"},
		autoprov.AuditEvent{At: at, MAC: to, Event: autoprov.EventDeviceReplaced, Actor: actor,
			Detail: "replaces " + from + " (" + old.Vendor + " " + old.Model + "): accounts " + strings.Join(old.Accounts, ",") +
				", label, keys, key profile, overrides, parameters and passwords moved"})
	if err := s.st.Devices.WriteDevice(ctx, w); err != nil {
		return autoprov.Device{}, err
	}
	s.adopted(ctx, w.Device, actor)
	return s.Device(ctx, to)
}

// PasswordFormats are what RevealPasswords writes: "password" (the
// accounts' SIP passwords, "extension password" per line) and the PBX
// formats of server/pbxconf.
var PasswordFormats = append([]string{"password"}, pbxconf.Formats...)

// RevealPasswords is the one way a SIP password leaves the server other
// than to its phone: the accounts exts (all whose password autoprov
// generated when exts is empty) written in format (PasswordFormats). Only
// generated passwords are revealed (an admin who typed a password knows
// it): naming another account is invalid. The edge must have asked the
// admin for the admin token again. It is audited before anything is
// returned (account.password_revealed, naming the accounts and the
// format, never a password); if the audit cannot be written, nothing is
// revealed.
func (s *Inventory) RevealPasswords(ctx context.Context, exts []string, format, actor string) (string, error) {
	if !strings.Contains(" "+strings.Join(PasswordFormats, " ")+" ", " "+format+" ") {
		return "", autoprov.Invalid("format", "format must be one of %s", strings.Join(PasswordFormats, ", "))
	}
	var as []autoprov.Account
	if len(exts) == 0 {
		all, err := s.st.Accounts.Accounts(ctx)
		if err != nil {
			return "", err
		}
		for _, a := range all {
			if a.PasswordGenerated {
				as = append(as, a)
			}
		}
	} else {
		for _, ext := range exts {
			a, err := s.st.Accounts.Account(ctx, strings.TrimSpace(ext))
			if err != nil {
				return "", err
			}
			if !a.PasswordGenerated {
				return "", autoprov.Invalid("extensions", "account %s has a password an admin set, not one autoprov generated: it is not revealed", a.Extension)
			}
			as = append(as, a)
		}
	}
	if len(as) == 0 {
		return "", autoprov.Invalid("extensions", "no account has a password autoprov generated")
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return "", err
	}
	var out string
	names := make([]string, len(as))
	pa := make([]pbxconf.Account, len(as))
	for i, a := range as {
		names[i] = a.Extension
		pa[i] = pbxconf.Account{Extension: a.Extension, DisplayName: a.DisplayName, AuthUser: a.AuthUser, Password: a.Password}
	}
	if format == "password" {
		var b strings.Builder
		for _, a := range as {
			b.WriteString(a.Extension + " " + a.Password + "\n")
		}
		out = b.String()
	} else if out, err = pbxconf.Write(format, st.SIPServer, pa); err != nil {
		return "", autoprov.Invalid("format", "%s", err.Error())
	}
	actx, cancel := afterChange(ctx)
	defer cancel()
	if err := s.st.Audit.AppendAudit(actx, autoprov.AuditEvent{At: s.now(), Event: autoprov.EventPasswordRevealed, Actor: actor,
		Detail: format + ": extensions " + strings.Join(names, ",")}); err != nil {
		return "", err
	}
	return out, nil
}
