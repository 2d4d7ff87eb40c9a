package provision

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/vendors"
)

// The firmware rollout: which version each device should run (its own
// target, else its model's), whether it is in the target's stage, and
// whether the firmware is offered now (inside the maintenance window
// unless the target says now). firmwareFor is the one place a rendered
// file learns about firmware; see README "Firmware".

// firmwareReader turns a rollout store into the reader the renderer
// needs, keeping nil nil.
func firmwareReader(fr FirmwareRollout) FirmwareTargetReader {
	if fr == nil {
		return nil
	}
	return fr
}

// firmwareOffer is what a per-device file gets: the image's path
// relative to the provisioning base (firmware.Path) and its version.
type firmwareOffer struct {
	Path    string
	Version string
}

// firmwarePlan is where a device stands: the target that applies to it
// (its own, else its model's; nil without one), where it came from, and
// whether the device is in the target's stage.
type firmwarePlan struct {
	target  *autoprov.FirmwareTarget
	source  string // "device", "model" or ""
	inStage bool
}

// planFirmware finds the target that applies to dev. own is the device's
// own target if the caller read it already (nil: read it).
func planFirmware(dev autoprov.Device, own, model *autoprov.FirmwareTarget) firmwarePlan {
	switch {
	case own != nil:
		return firmwarePlan{target: own, source: "device", inStage: !own.Exclude}
	case model != nil:
		return firmwarePlan{target: model, source: "model", inStage: InStage(dev.MAC, *model)}
	}
	return firmwarePlan{}
}

// readPlan reads the targets of dev and plans it.
func (r *renderer) readPlan(ctx context.Context, dev autoprov.Device) (firmwarePlan, error) {
	own, err := r.targets.FirmwareTargets(ctx, "", "", dev.MAC)
	if err != nil {
		return firmwarePlan{}, err
	}
	var ot, mt *autoprov.FirmwareTarget
	if len(own) > 0 {
		ot = &own[0]
	} else {
		ms, err := r.targets.FirmwareTargets(ctx, dev.Vendor, dev.Model, "")
		if err != nil {
			return firmwarePlan{}, err
		}
		if len(ms) > 0 {
			mt = &ms[0]
		}
	}
	return planFirmware(dev, ot, mt), nil
}

// firmwareFor decides whether the per-device file of dev offers firmware
// now, and which: nil when it offers none. It is the only way the clock
// reaches a rendered file's firmware parameters, and its inputs are
// exactly these (a cache of rendered files must change its key when any
// of them changes):
//
//   - the device: MAC, vendor, model, and its reported firmware
//     (dev.Firmware, as the request that is being answered reported it);
//   - the device's own target (override or exclusion), else its model's
//     target: version and its catalogue entry (ID, SHA-256, name, models),
//     target ID, stage (percentage or list of MACs) and now;
//   - the settings firmware_window and timezone;
//   - now, compared with the window's boundaries (only when the target
//     does not say now and a window is set: the answer then changes at
//     the window's start and end).
//
// The firmware is offered when the device has a target that names an
// image for its model, the model takes firmware from autoprov (not
// vendors.Model.NoFirmware: a target stored before the API refused
// those is ignored here), it is in the target's stage, it reported a
// version and that version is not the target's (compared through the
// driver's FirmwareNormaliser), and now is inside the window (or the
// target says now). A phone on target gets nothing, so it never loops; a
// phone that never reported its version gets nothing either (it could
// not be seen to arrive).
func (r *renderer) firmwareFor(ctx context.Context, dev autoprov.Device, v vendors.Vendor, now time.Time) (*firmwareOffer, error) {
	t, err := r.offered(ctx, dev, v)
	if t == nil || err != nil {
		return nil, err
	}
	if !t.Now {
		st, err := r.settings.Settings(ctx)
		if err != nil {
			return nil, err
		}
		w, err := parseWindow(st.FirmwareWindow)
		if err != nil {
			// PutSettings refuses a bad window; one in the database anyway
			// offers nothing rather than anything at any time.
			r.log.Error("firmware_window setting is invalid: no firmware offered", "window", st.FirmwareWindow, "err", err)
			return nil, nil
		}
		if !w.contains(now, st.Timezone) {
			return nil, nil
		}
	}
	return &firmwareOffer{Path: firmware.Path(*t.Firmware), Version: t.Firmware.Version}, nil
}

// offered returns the target whose firmware dev is offered, the window
// aside (firmwareFor then asks the window unless the target says now);
// nil when none is.
func (r *renderer) offered(ctx context.Context, dev autoprov.Device, v vendors.Vendor) (*autoprov.FirmwareTarget, error) {
	if r.targets == nil || dev.State != autoprov.StateAssigned {
		return nil, nil
	}
	plan, err := r.readPlan(ctx, dev)
	if err != nil {
		return nil, fmt.Errorf("firmware target of %s: %w", dev.MAC, err)
	}
	t := plan.target
	if t == nil || t.Exclude || t.Firmware == nil || !plan.inStage || !slices.Contains(t.Firmware.Models, dev.Model) {
		return nil, nil
	}
	if _, no := r.noFirmware(dev.Vendor, dev.Model); no {
		// A target stored before the API refused it (firmwareSupported):
		// the driver would ignore the URL anyway; the status says
		// "unsupported".
		return nil, nil
	}
	if strings.TrimSpace(dev.Firmware) == "" || vendors.SameFirmware(v, dev.Firmware, t.Firmware.Version) {
		return nil, nil
	}
	return t, nil
}

// firmwareKey is what firmwareFor reads that the change log does not
// follow, for the file cache's key (FileKey's Firmware and Window): the
// firmware the device reports (this request's report counts at once) and
// whether now is inside the maintenance window. Targets, stages and the
// window setting are in the change log (a change drops every device's
// files).
func (r *renderer) firmwareKey(ctx context.Context, dev autoprov.Device, now time.Time) (string, byte) {
	if r.targets == nil || dev.State != autoprov.StateAssigned {
		return "", 0
	}
	st, err := r.settings.Settings(ctx)
	if err != nil {
		return dev.Firmware, '?'
	}
	w, err := r.windowOf(st.FirmwareWindow)
	switch {
	case err != nil:
		return dev.Firmware, '?'
	case w.contains(now, st.Timezone):
		return dev.Firmware, 'y'
	}
	return dev.Firmware, 'n'
}

// windowOf is parseWindow of the setting, remembered for the last one
// asked (every per-device fetch asks, with firmware targets).
func (r *renderer) windowOf(spec string) (window, error) {
	if r.lastWindow == nil {
		return parseWindow(spec)
	}
	if m := r.lastWindow.Load(); m != nil && m.spec == spec {
		return m.w, m.err
	}
	w, err := parseWindow(spec)
	r.lastWindow.Store(&windowMemo{spec: spec, w: w, err: err})
	return w, err
}

// windowMemo is a parsed firmware_window setting.
type windowMemo struct {
	spec string
	w    window
	err  error
}

// InStage reports whether the device mac is in the stage of the model
// target t: listed in its StageMACs, or, for a percentage, when a hash of
// the MAC and the target's ID, mod 100, is below Stage. The choice is
// stable per MAC and target, so widening the stage keeps every device it
// had (and a new target ID draws anew).
func InStage(mac string, t autoprov.FirmwareTarget) bool {
	if len(t.StageMACs) > 0 {
		return slices.Contains(t.StageMACs, mac)
	}
	if t.Stage >= 100 {
		return true
	}
	sum := sha256.Sum256([]byte(mac + "/" + strconv.FormatInt(t.ID, 10)))
	return int(binary.BigEndian.Uint64(sum[:8])%100) < t.Stage
}

// window is a time-of-day range in minutes since midnight; from > to
// spans midnight. The zero window (any) has any set false.
type window struct {
	any      bool
	from, to int
}

// parseWindow reads "HH:MM-HH:MM" ("" is any time). The two ends must
// differ.
func parseWindow(s string) (window, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return window{any: true}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return window{}, errors.New(`must be "HH:MM-HH:MM" (e.g. "22:00-05:00") or empty`)
	}
	from, err1 := clock(a)
	to, err2 := clock(b)
	if err := errors.Join(err1, err2); err != nil {
		return window{}, fmt.Errorf(`must be "HH:MM-HH:MM" (e.g. "22:00-05:00") or empty: %w`, err)
	}
	if from == to {
		return window{}, errors.New("must not start and end at the same time (leave it empty for any time)")
	}
	return window{from: from, to: to}, nil
}

func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return hh*60 + mm, nil
}

// contains reports whether now, in the time zone tz (UTC when it does not
// load), is inside the window: from inclusive, to exclusive.
func (w window) contains(now time.Time, tz string) bool {
	if w.any {
		return true
	}
	t := now.UTC()
	if tz != "" {
		if z, err := vendors.ResolveZone(tz, now.Year()); err == nil && z.Location != nil {
			t = now.In(z.Location)
		}
	}
	m := t.Hour()*60 + t.Minute()
	if w.from < w.to {
		return m >= w.from && m < w.to
	}
	return m >= w.from || m < w.to
}

// ---- the admin side ----

func (s *Inventory) rollout() (FirmwareRollout, error) {
	if s.st.Firmware == nil {
		return nil, fmt.Errorf("firmware rollout: %w", autoprov.ErrNotFound)
	}
	return s.st.Firmware, nil
}

// canonicalModel checks a vendor and model named in a request: a wrong
// one is an InvalidError naming the supported ones.
func (s *Inventory) canonicalModel(vendor, model string) (string, string, error) {
	vendor = strings.ToLower(strings.TrimSpace(vendor))
	if !s.reg.HasVendor(vendor) {
		return "", "", autoprov.Invalid("vendor", "unknown vendor %q (supported: %s)", vendor, strings.Join(s.reg.VendorNames(), ", "))
	}
	_, m, err := s.reg.Lookup(vendor, model)
	if err != nil {
		return "", "", autoprov.Invalid("model", "unknown %s model %q (supported: %s)", vendor, model, strings.Join(s.reg.ModelNames(vendor), ", "))
	}
	return vendor, m.Name, nil
}

// ModelFirmware returns the target of a vendor's model (ErrNotFound
// without one).
func (s *Inventory) ModelFirmware(ctx context.Context, vendor, model string) (autoprov.FirmwareTarget, error) {
	fr, err := s.rollout()
	if err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	vendor, model, err = s.canonicalModel(vendor, model)
	if err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	ts, err := fr.FirmwareTargets(ctx, vendor, model, "")
	if err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	if len(ts) == 0 {
		return autoprov.FirmwareTarget{}, fmt.Errorf("no firmware target for %s %s: %w", vendor, model, autoprov.ErrNotFound)
	}
	return ts[0], nil
}

// ModelFirmwares lists every model's target, by vendor and model.
func (s *Inventory) ModelFirmwares(ctx context.Context) ([]autoprov.FirmwareTarget, error) {
	fr, err := s.rollout()
	if err != nil {
		return nil, err
	}
	return fr.FirmwareTargets(ctx, "", "", "")
}

// PutModelFirmware sets the version a vendor's model should run, its
// stage (a percentage, 100 when nil, or an explicit list of MACs) and
// whether it ignores the maintenance window; audited.
func (s *Inventory) PutModelFirmware(ctx context.Context, vendor, model string, in autoprov.FirmwareTargetInput, actor string) (autoprov.FirmwareTarget, error) {
	fr, err := s.rollout()
	if err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	vendor, model, err = s.canonicalModel(vendor, model)
	if err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	if in.Exclude {
		return autoprov.FirmwareTarget{}, autoprov.Invalid("exclude", "exclude is for a device (PATCH /devices/{mac}), not a model")
	}
	if err := s.firmwareSupported("model", vendor, model); err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	f, err := s.catalogued(ctx, fr, vendor, model, in.Version)
	if err != nil {
		return autoprov.FirmwareTarget{}, err
	}
	t := autoprov.FirmwareTarget{Vendor: vendor, Model: model, Firmware: &f, Stage: 100, Now: in.Now, UpdatedAt: s.now()}
	if in.Stage != nil {
		if *in.Stage < 1 || *in.Stage > 100 {
			return autoprov.FirmwareTarget{}, autoprov.Invalid("stage", "stage must be a percentage from 1 to 100, or {\"macs\": [...]}")
		}
		t.Stage = *in.Stage
	}
	if in.StageMACs != nil {
		if len(in.StageMACs) == 0 {
			return autoprov.FirmwareTarget{}, autoprov.Invalid("stage", "stage.macs must list at least one MAC")
		}
		seen := map[string]bool{}
		for _, m := range in.StageMACs {
			c, err := vendors.ParseMAC(m)
			if err != nil {
				return autoprov.FirmwareTarget{}, autoprov.Invalid("stage", "stage.macs: %q is not a MAC", m)
			}
			if !seen[c] {
				seen[c] = true
				t.StageMACs = append(t.StageMACs, c)
			}
		}
		slices.Sort(t.StageMACs)
		t.Stage = 100
	}
	return fr.PutFirmwareTarget(ctx, t, actor)
}

// firmwareSupported refuses a target for a model whose driver writes no
// firmware settings (vendors.Model.NoFirmware): its phones would never
// be told about the image and their status would stay "upgrading" for
// ever. field names the refused input.
func (s *Inventory) firmwareSupported(field, vendor, model string) error {
	if m, no := s.noFirmware(vendor, model); no {
		return autoprov.Invalid(field, "%s %s cannot get firmware from autoprov: its provisioning files carry no firmware setting (update it with the vendor's own tool)", vendor, m.Name)
	}
	return nil
}

// noFirmware says whether vendor's model takes no firmware from autoprov
// (vendors.Model.NoFirmware), and returns the model. An unknown model is
// not such a model.
func (r *renderer) noFirmware(vendor, model string) (vendors.Model, bool) {
	_, m, err := r.reg.Lookup(vendor, model)
	return m, err == nil && m.NoFirmware
}

// catalogued finds the catalogue entry of a model's version: a version
// the catalogue lacks is an InvalidError.
func (s *Inventory) catalogued(ctx context.Context, fr FirmwareRollout, vendor, model, version string) (autoprov.Firmware, error) {
	version = strings.TrimSpace(version)
	if version == "" {
		return autoprov.Firmware{}, autoprov.Invalid("version", "version is required")
	}
	f, err := fr.FirmwareFor(ctx, vendor, model, version)
	if errors.Is(err, autoprov.ErrNotFound) {
		return autoprov.Firmware{}, autoprov.Invalid("version", "the catalogue has no %s %s firmware %s: upload it first (POST /api/v1/firmware)", vendor, model, version)
	}
	return f, err
}

// DeleteModelFirmware removes a model's target; audited.
func (s *Inventory) DeleteModelFirmware(ctx context.Context, vendor, model, actor string) error {
	fr, err := s.rollout()
	if err != nil {
		return err
	}
	vendor, model, err = s.canonicalModel(vendor, model)
	if err != nil {
		return err
	}
	return fr.DeleteFirmwareTarget(ctx, vendor, model, "", actor)
}

// SetDeviceFirmware gives a device its own target (a version of its
// model, always in stage, Now as given) or excludes it (in.Exclude);
// in == nil removes the device's own target (it follows its model's
// again). Audited.
func (s *Inventory) SetDeviceFirmware(ctx context.Context, mac string, in *autoprov.FirmwareTargetInput, actor string) error {
	fr, err := s.rollout()
	if err != nil {
		return err
	}
	dev, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return err
	}
	if in == nil {
		err := fr.DeleteFirmwareTarget(ctx, dev.Vendor, "", mac, actor)
		if errors.Is(err, autoprov.ErrNotFound) {
			return nil
		}
		return err
	}
	t := autoprov.FirmwareTarget{Vendor: dev.Vendor, MAC: mac, Stage: 100, UpdatedAt: s.now()}
	switch {
	case in.Exclude && in.Version != "":
		return autoprov.Invalid("firmware", "firmware takes either a version or exclude, not both")
	case in.Exclude:
		t.Exclude = true
	default:
		if in.Stage != nil || in.StageMACs != nil {
			return autoprov.Invalid("firmware", "a device's firmware has no stage")
		}
		if dev.State != autoprov.StateAssigned {
			return autoprov.Invalid("firmware", "device %s is unassigned: adopt it first", mac)
		}
		if err := s.firmwareSupported("firmware", dev.Vendor, dev.Model); err != nil {
			return err
		}
		f, err := s.catalogued(ctx, fr, dev.Vendor, dev.Model, in.Version)
		if err != nil {
			return err
		}
		t.Firmware, t.Now = &f, in.Now
	}
	_, err = fr.PutFirmwareTarget(ctx, t, actor)
	return err
}

// FirmwareStatusFilter pages GET /firmware/status.
type FirmwareStatusFilter struct {
	Vendor, Model string
	Limit, Offset int
}

// FirmwareStatus reports where the rollout stands: a page of the
// assigned devices (matching f, by MAC) with their status, the number of
// all that match, and one summary per model among them.
func (s *Inventory) FirmwareStatus(ctx context.Context, f FirmwareStatusFilter) ([]autoprov.FirmwareStatus, int, []autoprov.FirmwareSummary, error) {
	fr, err := s.rollout()
	if err != nil {
		return nil, 0, nil, err
	}
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return nil, 0, nil, err
	}
	if f.Vendor != "" {
		f.Vendor = strings.ToLower(f.Vendor)
		if f.Model != "" {
			if _, m, err := s.reg.Lookup(f.Vendor, f.Model); err == nil {
				f.Model = m.Name
			}
		}
	}
	devs, err := s.st.Devices.Devices(ctx, autoprov.DeviceFilter{Vendor: f.Vendor, Model: f.Model, State: autoprov.StateAssigned})
	if err != nil {
		return nil, 0, nil, err
	}
	models, err := fr.FirmwareTargets(ctx, f.Vendor, f.Model, "")
	if err != nil {
		return nil, 0, nil, err
	}
	own, err := fr.DeviceFirmwareTargets(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	dls, err := fr.FirmwareDownloads(ctx, "")
	if err != nil {
		return nil, 0, nil, err
	}
	byModel := map[string]*autoprov.FirmwareTarget{}
	for i := range models {
		byModel[models[i].Vendor+"/"+models[i].Model] = &models[i]
	}
	byMAC := map[string][]autoprov.FirmwareDownload{}
	for _, d := range dls {
		byMAC[d.MAC] = append(byMAC[d.MAC], d)
	}
	sums := map[string]*autoprov.FirmwareSummary{}
	var order []string
	all := make([]autoprov.FirmwareStatus, 0, len(devs))
	for _, d := range devs {
		var ot *autoprov.FirmwareTarget
		if t, ok := own[d.MAC]; ok {
			ot = &t
		}
		mk := d.Vendor + "/" + d.Model
		st := s.deviceStatus(d, planFirmware(d, ot, byModel[mk]), byMAC[d.MAC])
		all = append(all, st)
		sum, ok := sums[mk]
		if !ok {
			sum = &autoprov.FirmwareSummary{Vendor: d.Vendor, Model: d.Model}
			if t := byModel[mk]; t != nil {
				sum.Target, sum.Stage, sum.StageMACs, sum.Now = t.Version(), t.Stage, len(t.StageMACs), t.Now
			}
			sums[mk] = sum
			order = append(order, mk)
		}
		sum.Devices++
		switch st.Status {
		case autoprov.FirmwareOnTarget:
			sum.OnTarget++
		case autoprov.FirmwareUpgrading, autoprov.FirmwareWaiting:
			sum.Pending++
		case autoprov.FirmwareFailed:
			sum.Failed++
		case autoprov.FirmwareExcluded:
			sum.Excluded++
		case autoprov.FirmwareUnsupported:
			sum.Unsupported++
		}
	}
	slices.Sort(order)
	summaries := make([]autoprov.FirmwareSummary, len(order))
	for i, k := range order {
		summaries[i] = *sums[k]
	}
	total := len(all)
	lo := min(f.Offset, total)
	hi := total
	if f.Limit > 0 {
		hi = min(lo+f.Limit, total)
	}
	return all[lo:hi], total, summaries, nil
}

// DeviceFirmware reports where one device stands in its rollout.
func (s *Inventory) DeviceFirmware(ctx context.Context, mac string) (autoprov.FirmwareStatus, error) {
	fr, err := s.rollout()
	if err != nil {
		return autoprov.FirmwareStatus{}, err
	}
	d, err := s.st.Devices.Device(ctx, mac)
	if err != nil {
		return autoprov.FirmwareStatus{}, err
	}
	plan, err := s.readPlan(ctx, d)
	if err != nil {
		return autoprov.FirmwareStatus{}, err
	}
	dls, err := fr.FirmwareDownloads(ctx, mac)
	if err != nil {
		return autoprov.FirmwareStatus{}, err
	}
	return s.deviceStatus(d, plan, dls), nil
}

// lastDownload is the device's last download of f's file among dls (its
// downloads, newest first), with the whole downloads of that file under
// every entry that names it; nil when there is none.
func lastDownload(dls []autoprov.FirmwareDownload, f autoprov.Firmware) *autoprov.FirmwareDownload {
	file := autoprov.FirmwareFile(f)
	var last *autoprov.FirmwareDownload
	completed := 0
	for _, dl := range dls {
		if dl.FirmwareID != f.ID && dl.File != file {
			continue
		}
		if last == nil {
			last = &dl
		}
		completed += dl.Completed
	}
	if last != nil {
		last.Completed = completed
	}
	return last
}

// deviceStatus turns a plan into a status; dls are the device's
// downloads, newest first.
func (s *Inventory) deviceStatus(d autoprov.Device, plan firmwarePlan, dls []autoprov.FirmwareDownload) autoprov.FirmwareStatus {
	st := autoprov.FirmwareStatus{MAC: d.MAC, Vendor: d.Vendor, Model: d.Model, Reported: d.Firmware, Source: plan.source,
		InStage: plan.inStage, Status: autoprov.FirmwareNone}
	t := plan.target
	switch {
	case t == nil || d.State != autoprov.StateAssigned:
		st.InStage = false
		return st
	case t.Exclude:
		st.Status = autoprov.FirmwareExcluded
		return st
	case t.Firmware == nil:
		return st
	}
	st.Target, st.FirmwareID = t.Firmware.Version, t.Firmware.ID
	st.LastDownload = lastDownload(dls, *t.Firmware)
	if _, no := s.noFirmware(d.Vendor, d.Model); no {
		// The target is reported (the admin removes it), never offered.
		st.InStage, st.Status = false, autoprov.FirmwareUnsupported
		return st
	}
	v, _, _ := s.reg.Lookup(d.Vendor, d.Model)
	same := false
	if v != nil {
		same = vendors.SameFirmware(v, d.Firmware, t.Firmware.Version)
	}
	switch {
	case same:
		st.Status = autoprov.FirmwareOnTarget
	case st.LastDownload != nil && st.LastDownload.Completed >= autoprov.FirmwareFailAfter:
		st.Status = autoprov.FirmwareFailed
	case plan.inStage:
		st.Status = autoprov.FirmwareUpgrading
	default:
		st.Status = autoprov.FirmwareWaiting
	}
	return st
}
