package store

import (
	"context"
	"time"

	"github.com/autoprov/autoprov"
)

// OpenWindows counts the devices whose disclosure window is open at now
// (a site's heartbeat to its central server reports it). It uses the
// index on disclosure_state.
func (s *Store) OpenWindows(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&deviceRow{}).
		Where("disclosure_state = ? AND expires_at > ?", autoprov.DisclosureOpen, now.UTC()).Count(&n).Error
	return int(n), wrap(err, "count open windows")
}
