package provision

import (
	"strings"
	"unicode"
)

// safeText reports whether s may go into a phone's file as admin text.
func safeText(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) < 0
}
