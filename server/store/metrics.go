package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov/server/metrics"
)

// countErrors has every failed statement counted in the database errors
// metric (autoprov_db_errors_total), by operation. Answers that are no
// fault of the database are left out: not found, a duplicate key (the
// API's 409) and a request cancelled by its client.
func countErrors(db *gorm.DB) error {
	cb := db.Callback()
	for op, p := range map[string]interface {
		Register(string, func(*gorm.DB)) error
	}{
		"create": cb.Create(), "query": cb.Query(), "update": cb.Update(),
		"delete": cb.Delete(), "row": cb.Row(), "raw": cb.Raw(),
	} {
		if err := p.Register("autoprov:count_errors", func(tx *gorm.DB) {
			if dbFault(tx.Error) {
				metrics.DBError(op)
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// dbFault reports whether err is a failure of the database.
func dbFault(err error) bool {
	return err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, gorm.ErrDuplicatedKey) &&
		!errors.Is(err, context.Canceled)
}
