package provision

import (
	"errors"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/autoprov/autoprov/vendors"
)

// maxPathLen is the longest file name accepted, in bytes.
const maxPathLen = 255

// CleanPath turns the file name a phone asked for (an HTTP path below
// /prov/ or a TFTP file name) into a vendors.Request path: one
// leading "/" and then one "prov/" prefix are dropped, and duplicate
// slashes and "." segments are cleaned away. It refuses names longer than
// maxPathLen bytes, names that are not UTF-8 or contain "..", a backslash,
// NUL or another rune vendors.UnsafeRune calls unsafe (C0 and C1 controls,
// DEL, U+2028, U+2029, noncharacters, U+FFFD), and absolute paths ("//x",
// "C:...").
// The error says why, for the log; never send it to the phone.
//
// "/etc/passwd" is not refused: the provisioning root is virtual, so it
// simply names "etc/passwd" there, which the core will not find.
func CleanPath(name string) (string, error) {
	if p, ok := plainName(name); ok {
		return p, nil
	}
	return cleanPath(name)
}

// plainName is what CleanPath makes of a name that is one segment of
// ASCII letters, digits, '.', '_' and '-' (no ".."), after at most one
// "/": the name itself. What phones ask for nearly always, checked in one
// pass without the rest.
func plainName(name string) (string, bool) {
	if len(name) > maxPathLen {
		return "", false
	}
	p := strings.TrimPrefix(name, "/")
	if p == "" || p == "." {
		return "", false
	}
	dot := false
	for i := range len(p) {
		switch c := p[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
			dot = false
		case c == '.' && !dot:
			dot = true
		default:
			return "", false
		}
	}
	return p, true
}

// cleanPath is CleanPath for every name.
func cleanPath(name string) (string, error) {
	if len(name) > maxPathLen {
		return "", errors.New("name too long")
	}
	if !utf8.ValidString(name) {
		return "", errors.New("name is not UTF-8")
	}
	for _, c := range name {
		switch {
		case c == 0:
			return "", errors.New("name contains NUL")
		case vendors.UnsafeRune(c):
			return "", errors.New("name contains a control character")
		case c == '\\':
			return "", errors.New("name contains a backslash")
		}
	}
	if strings.Contains(name, "..") {
		return "", errors.New(`name contains ".."`)
	}
	p := strings.TrimPrefix(name, "/")
	p = strings.TrimPrefix(p, "prov/")
	if strings.HasPrefix(p, "/") || hasDrive(p) {
		return "", errors.New("absolute path")
	}
	p = path.Clean(p)
	if p == "." || p == "" {
		return "", errors.New("empty name")
	}
	return p, nil
}

// hasDrive reports whether p starts with a DOS drive letter ("C:").
func hasDrive(p string) bool {
	if len(p) < 2 || p[1] != ':' {
		return false
	}
	c := p[0] | 0x20
	return c >= 'a' && c <= 'z'
}
