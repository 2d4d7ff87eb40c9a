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
