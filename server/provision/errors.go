package provision

import (
	"errors"
	"fmt"

	"github.com/autoprov/autoprov/vendors"
)

// Errors of the core, wrapped with context. Edges map them to answers:
// ErrNotFound to 404, ErrConflict to 409, *InvalidError to 400.
var (
	// ErrNotFound is vendors.ErrNotFound, so one check covers store and drivers.
	ErrNotFound = vendors.ErrNotFound
	// ErrConflict means a unique name is taken or a row is still in use.
	ErrConflict = errors.New("conflict")
)

// InvalidError is a refused input. Field names the offending JSON field;
// Details lists per-item problems (e.g. one per bad key).
type InvalidError struct {
	Field   string
	Message string
	Details []string
}

// Error implements error.
func (e *InvalidError) Error() string { return e.Message }

func invalid(field, format string, a ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, a...)}
}
