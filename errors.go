package autoprov

import (
	"errors"
	"fmt"

	"github.com/autoprov/autoprov/vendors"
)

// Errors shared by the core, the store and the edges, wrapped with context
// (%w). Edges map them to answers: ErrNotFound to 404 (and to "file not
// found" for a phone), ErrConflict to 409, ErrRefused to 403, and
// *InvalidError to 400.
var (
	// ErrNotFound is vendors.ErrNotFound, so one check covers store and drivers.
	ErrNotFound = vendors.ErrNotFound
	// ErrConflict means a unique name is taken or a row is still in use.
	ErrConflict = errors.New("conflict")
	// ErrRefused means a phone asked for something no driver accepts from
	// phones (an upload, a POST to a path no driver answers).
	ErrRefused = errors.New("refused")
)

// InvalidError is a refused input. Field names the offending field as the
// API spells it; Details lists per-item problems (e.g. one per bad key).
type InvalidError struct {
	Field   string
	Message string
	Details []string
}

// Error implements error.
func (e *InvalidError) Error() string { return e.Message }

// Invalid returns an *InvalidError for field with a formatted message.
func Invalid(field, format string, a ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// ParseMAC canonicalises a MAC in any common notation, or returns an
// *InvalidError for field "mac".
func ParseMAC(s string) (string, error) {
	m, err := vendors.ParseMAC(s)
	if err != nil {
		return "", Invalid("mac", "%v", err)
	}
	return m, nil
}
