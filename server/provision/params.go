package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// Raw vendor parameters come in three layers, like keys: the model's,
// the key profile's (those of the device's vendor) and the device's own.
// A later layer replaces an earlier one's value of the same name (and
// moves it to its own place); the driver writes the result last in the
// per-device file, so it wins over what the product renders. The core
// validates each layer against the driver (vendors.ParamChecker): a
// malformed name, a secret or the provisioning server's own settings are
// refused (400), an unknown name is written with a warning.

// checkParams validates one layer of raw parameters and returns the
// InvalidError for field: a model's or a device's against its driver drv
// (vendor and model its names), a key profile's (drv nil: each parameter
// names its vendor) against every driver of that vendor name.
func checkParams(reg *vendors.Registry, drv vendors.Vendor, vendor, model string, ps []autoprov.Param, field string) error {
	vendorField := drv == nil
	if len(ps) > vendors.MaxParams {
		return autoprov.Invalid(field, "at most %d raw parameters, got %d", vendors.MaxParams, len(ps))
	}
	var details []string
	seen := map[string]int{}
	for i, p := range ps {
		bad := func(format string, a ...any) {
			details = append(details, fmt.Sprintf("parameter %d (%s): %s", i+1, p.Name, fmt.Sprintf(format, a...)))
		}
		pv := vendor
		switch {
		case vendorField && p.Vendor == "":
			bad("a key profile's parameter names its vendor")
			continue
		case vendorField:
			pv = strings.ToLower(strings.TrimSpace(p.Vendor))
		case p.Vendor != "" && !strings.EqualFold(p.Vendor, vendor):
			bad("vendor %q is not the %s's", p.Vendor, model)
			continue
		}
		if why := vendors.CheckParamName(p.Name, p.Value); why != "" {
			bad("%s", why)
			continue
		}
		key := pv + "\x00" + p.Name
		if j, dup := seen[key]; dup {
			bad("same name as parameter %d", j+1)
			continue
		}
		seen[key] = i
		pcs := paramCheckers(reg, drv, pv)
		if len(pcs) == 0 {
			bad("the %s driver takes no raw parameters", pv)
			continue
		}
		for _, pc := range pcs {
			if _, refused := pc.CheckParam(model, p.Name); refused != "" {
				bad("refused: %s", refused)
				break
			}
		}
	}
	if len(details) == 0 {
		return nil
	}
	t := autoprov.T("%d invalid raw parameter(s): %s", len(details), strings.Join(details, "; "))
	return &autoprov.InvalidError{Field: field, Message: t.String(), Details: details, Text: t}
}

// paramCheckers returns drv when it takes raw parameters, or with drv
// nil every driver named vendor that does (two drivers share "gigaset").
func paramCheckers(reg *vendors.Registry, drv vendors.Vendor, vendor string) []vendors.ParamChecker {
	var out []vendors.ParamChecker
	for _, v := range reg.Drivers() {
		if drv != nil && v != drv || drv == nil && v.Name() != vendor {
			continue
		}
		if pc, ok := v.(vendors.ParamChecker); ok {
			out = append(out, pc)
		}
	}
	return out
}

// params merges the raw parameters of device d on model m of driver v:
// the model's, its key profile's for v, its own. It returns what the
// driver writes and the warnings: an unknown name, and one left out
// because the driver refuses it now (stored before a rule changed).
func (r *renderer) params(ctx context.Context, d autoprov.Device, v vendors.Vendor, m vendors.Model) ([]vendors.Param, []vendors.Text, error) {
	pc, ok := v.(vendors.ParamChecker)
	if !ok {
		return nil, nil, nil
	}
	model, err := r.profiles.ModelParams(ctx, m.Vendor, m.Name)
	if err != nil {
		return nil, nil, err
	}
	var profile []autoprov.Param
	if d.KeyProfile != "" {
		p, err := r.profiles.KeyProfile(ctx, d.KeyProfile)
		if err != nil {
			return nil, nil, err
		}
		for _, kp := range p.Params {
			if strings.EqualFold(kp.Vendor, m.Vendor) {
				profile = append(profile, kp)
			}
		}
	}
	var out []vendors.Param
	var warnings []vendors.Text
	for _, layer := range []struct {
		name vendors.Text
		ps   []autoprov.Param
	}{{vendors.T("model %s", m.Name), model}, {vendors.T("key profile %s", d.KeyProfile), profile}, {vendors.T("device"), d.Params}} {
		for _, p := range layer.ps {
			known, refused := pc.CheckParam(m.Name, p.Name)
			if refused != "" || vendors.CheckParamName(p.Name, p.Value) != "" {
				warnings = append(warnings, vendors.T("raw parameter %s (%s) is not written: %s", p.Name, layer.name, refused))
				continue
			}
			if !known {
				warnings = append(warnings, vendors.T("raw parameter %s (%s) is not a %s parameter the driver knows: written as given", p.Name, layer.name, m.Vendor))
			}
			for i := range out {
				if out[i].Name == p.Name {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			out = append(out, vendors.Param{Name: p.Name, Value: p.Value})
		}
	}
	return out, warnings, nil
}

// ModelParams returns the raw vendor parameters of a model.
func (s *Inventory) ModelParams(ctx context.Context, vendor, model string) (vendors.Model, []autoprov.Param, error) {
	_, m, err := s.reg.Lookup(strings.ToLower(vendor), model)
	if err != nil {
		return vendors.Model{}, nil, err
	}
	ps, err := s.st.Profiles.ModelParams(ctx, m.Vendor, m.Name)
	return m, ps, err
}

// SetModelParams replaces the raw vendor parameters of a model, after
// validating them against its driver; it returns the model and the
// warnings (unknown names).
func (s *Inventory) SetModelParams(ctx context.Context, vendor, model string, ps []autoprov.Param, actor string) (vendors.Model, []string, error) {
	v, m, err := s.reg.Lookup(strings.ToLower(vendor), model)
	if err != nil {
		return vendors.Model{}, nil, err
	}
	if ps == nil {
		ps = []autoprov.Param{}
	}
	for i := range ps {
		ps[i].Vendor = ""
	}
	if err := checkParams(s.reg, v, m.Vendor, m.Name, ps, "params"); err != nil {
		return vendors.Model{}, nil, err
	}
	if err := s.st.Profiles.SetModelParams(ctx, m.Vendor, m.Name, ps); err != nil {
		return vendors.Model{}, nil, err
	}
	s.audit(ctx, "", autoprov.EventModelParamsUpdated, actor, fmt.Sprintf("%s %s: %d raw parameters", m.Vendor, m.Name, len(ps)))
	var warnings []string
	if pc, ok := v.(vendors.ParamChecker); ok {
		for _, p := range ps {
			if known, _ := pc.CheckParam(m.Name, p.Name); !known {
				warnings = append(warnings, fmt.Sprintf("raw parameter %s is not a %s parameter the driver knows: written as given", p.Name, m.Vendor))
			}
		}
	}
	return m, warnings, nil
}
