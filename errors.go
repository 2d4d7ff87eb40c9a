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
// Message is the English the API answers with; Text, when its Format is
// set, is the same message as a translatable Text (see vendors.Text), and
// DetailTexts, when set, are the Details as Texts, one each.
type InvalidError struct {
	Field       string
	Message     string
	Details     []string
	Text        Text
	DetailTexts []Text
}

// Text is vendors.Text: a message as an English format and its arguments,
// which the web UI translates.
type Text = vendors.Text

// T is vendors.T.
func T(format string, args ...any) Text { return vendors.T(format, args...) }

// Error implements error.
func (e *InvalidError) Error() string { return e.Message }

// Invalid returns an *InvalidError for field with a formatted message;
// format is a string literal (the web UI translates it, see vendors.Text).
func Invalid(field, format string, a ...any) error {
	// fmt.Sprintf here (not t.String()) lets go vet check the callers' verbs.
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, a...), Text: vendors.T(format, a...)}
}

// Conflict returns an error wrapping ErrConflict whose message (before
// ": conflict") is T(format, args...): a unique name is taken or a row is
// still in use. format is a string literal (see vendors.Text).
func Conflict(format string, a ...any) error {
	return &vendors.TextError{Text: vendors.T(format, a...), Err: ErrConflict}
}

// ParseMAC canonicalises a MAC in any common notation, or returns an
// *InvalidError for field "mac".
func ParseMAC(s string) (string, error) {
	m, err := vendors.ParseMAC(s)
	if err != nil {
		return "", Invalid("mac", "%v", err) // a *vendors.TextError, translated as it is
	}
	return m, nil
}
