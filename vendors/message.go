package vendors

import "fmt"

// Text is a message for a person, kept as an English fmt format and its
// arguments so that each edge can word it in its own language: String
// gives the English text (what the REST API, the logs and Error say),
// while the web UI looks Format up in its catalogue and fills in Args.
// An argument that is itself a Text, or a *TextError, is translated too.
// Build one with T, with a string literal as the format: a test of the
// web UI finds every such literal in the source and wants its German.
type Text struct {
	Format string
	Args   []any
}

// T returns the Text of format (a string literal, see Text) and args.
func T(format string, args ...any) Text { return Text{Format: format, Args: args} }

// String is the English text: Format filled in with Args (fmt verbs, so
// a literal percent sign is "%%" even without Args).
func (t Text) String() string { return fmt.Sprintf(t.Format, t.Args...) }

// TextError is an error whose message is a Text, wrapping an optional
// cause (a sentinel such as ErrNotFound): Error is the Text's English,
// followed by ": " and the cause's message when there is a cause.
type TextError struct {
	Text Text
	Err  error
}

// Errorf returns a *TextError of T(format, args...) without a cause.
func Errorf(format string, args ...any) error {
	return &TextError{Text: T(format, args...)}
}

// Error implements error.
func (e *TextError) Error() string {
	if e.Err == nil {
		return e.Text.String()
	}
	return e.Text.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *TextError) Unwrap() error { return e.Err }

// Strings is the English of each Text of ts (nil for none): what the
// REST API says for a list of Texts such as a device's warnings.
func Strings(ts []Text) []string {
	if ts == nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}
