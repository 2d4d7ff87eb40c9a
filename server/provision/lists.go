package provision

import (
	"context"

	"github.com/autoprov/autoprov"
)

// checkPage applies the paging rule of the admin lists: a limit of 0 is
// autoprov.DefaultPageLimit; one above autoprov.MaxPageLimit, or a
// negative limit or offset, is refused.
func checkPage(limit, offset *int) error {
	switch {
	case *limit < 0 || *limit > autoprov.MaxPageLimit:
		return autoprov.Invalid("limit", "limit must be between 1 and %d", autoprov.MaxPageLimit)
	case *offset < 0:
		return autoprov.Invalid("offset", "offset must be a whole number, 0 or more")
	case *limit == 0:
		*limit = autoprov.DefaultPageLimit
	}
	return nil
}

// ListAccounts lists a page of the accounts matching f, ordered by
// extension, and the number of all that match.
func (s *Inventory) ListAccounts(ctx context.Context, f autoprov.AccountFilter) ([]autoprov.Account, int, error) {
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return nil, 0, err
	}
	return s.st.Lists.ListAccounts(ctx, f)
}

// ListKeyProfiles lists a page of the key profiles by name and the number
// of all of them.
func (s *Inventory) ListKeyProfiles(ctx context.Context, limit, offset int) ([]autoprov.KeyProfile, int, error) {
	if err := checkPage(&limit, &offset); err != nil {
		return nil, 0, err
	}
	return s.st.Lists.ListKeyProfiles(ctx, limit, offset)
}

// ListAudit lists a page of the audit log, newest first, and the number of
// all matching events.
func (s *Inventory) ListAudit(ctx context.Context, f autoprov.AuditFilter) ([]autoprov.AuditEvent, int, error) {
	if err := checkPage(&f.Limit, &f.Offset); err != nil {
		return nil, 0, err
	}
	return s.st.Lists.ListAudit(ctx, f)
}

// AllDevices reads every device matching f through list (an Inventory's
// Devices, or what wraps it), a page of autoprov.MaxPageLimit at a time
// in MAC order, each page after the last MAC of the one before (f's own
// paging and order are set aside): a device added or deleted meanwhile
// shifts no other out of the list or into it twice, as an offset would.
// A list without a limit is only the first page
// (autoprov.DefaultPageLimit): an export, a redirect service's list and
// anything else that wants them all reads through this.
func AllDevices(ctx context.Context, list func(context.Context, autoprov.DeviceFilter) ([]autoprov.Device, int, error), f autoprov.DeviceFilter) ([]autoprov.Device, error) {
	f.Limit, f.Offset, f.Sort, f.NewestFirst, f.AfterMAC = autoprov.MaxPageLimit, 0, "", false, ""
	var out []autoprov.Device
	for {
		ds, _, err := list(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
		if len(ds) < f.Limit {
			return out, nil
		}
		f.AfterMAC = ds[len(ds)-1].MAC
	}
}
