package provision

import "strings"

// CleanPath turns the file name a phone asked for (an HTTP path below
// /prov/ or a TFTP file name) into the name drivers match: no leading
// slashes, no "prov/" prefix. It refuses (ok false) anything that could
// name a file outside the served set: "..", backslashes, NUL and other
// control characters, empty names and names over 255 bytes.
func CleanPath(raw string) (name string, ok bool) {
	if len(raw) > 255 {
		return "", false
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	name = strings.TrimLeft(raw, "/")
	name = strings.TrimPrefix(name, "prov/")
	name = strings.TrimLeft(name, "/")
	if name == "" || strings.Contains(name, "//") {
		return "", false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." || seg == "." {
			return "", false
		}
	}
	return name, true
}
