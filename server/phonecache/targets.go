package phonecache

import (
	"context"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
)

// TargetSource is what the cache reads the firmware rollout's targets
// from (server/store): the models' targets and every device's own one.
type TargetSource interface {
	provision.FirmwareTargetReader
	DeviceFirmwareTargets(ctx context.Context) (map[string]autoprov.FirmwareTarget, error)
}

// targetSet is every firmware target, as read at once: the models' (in
// the store's order: vendor, model) and the devices' own, by MAC.
type targetSet struct {
	models  []autoprov.FirmwareTarget
	devices map[string]autoprov.FirmwareTarget
}

// Targets returns the phone side's reader of the firmware targets through
// c: every file rendered with a firmware offer reads a device's own
// target and its model's (twice a phone in a boot storm, where nothing
// else of the device is cached). All targets are read in one go on the
// first miss and kept until the next drop of everything: a target's
// change (set, changed, deleted, a stage widened) logs a change of every
// device (store migration 10), and the catalogue entries they name are
// never changed, only created and deleted (and not while a target names
// them).
func (c *Cache) Targets(src TargetSource) provision.FirmwareTargetReader {
	return cachedTargets{c, src}
}

type cachedTargets struct {
	c   *Cache
	src TargetSource
}

// FirmwareTargets answers as the store does: the models' targets (vendor
// and model "" match all) when mac is "", else the device's own.
func (t cachedTargets) FirmwareTargets(ctx context.Context, vendor, model, mac string) ([]autoprov.FirmwareTarget, error) {
	set, err := t.c.targetSet(ctx, t.src)
	if err != nil {
		return nil, err
	}
	if mac != "" {
		if d, ok := set.devices[mac]; ok {
			return []autoprov.FirmwareTarget{d}, nil
		}
		return []autoprov.FirmwareTarget{}, nil
	}
	out := []autoprov.FirmwareTarget{}
	for _, m := range set.models {
		if (vendor == "" || m.Vendor == vendor) && (model == "" || m.Model == model) {
			out = append(out, m)
		}
	}
	return out, nil
}

// targetSet returns the targets held, or reads them (kept unless a drop
// raced the read).
func (c *Cache) targetSet(ctx context.Context, src TargetSource) (*targetSet, error) {
	c.mu.RLock()
	set := c.targets
	ep := c.epoch.Load()
	c.mu.RUnlock()
	if set != nil {
		return set, nil
	}
	models, err := src.FirmwareTargets(ctx, "", "", "")
	if err != nil {
		return nil, err
	}
	devices, err := src.DeviceFirmwareTargets(ctx)
	if err != nil {
		return nil, err
	}
	set = &targetSet{models: models, devices: devices}
	c.mu.Lock()
	if c.epoch.Load() == ep {
		c.targets = set
	}
	c.mu.Unlock()
	return set, nil
}
