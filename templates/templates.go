// Package templates holds the embedded text/template files phones receive,
// one folder per vendor, and loads them with the functions every vendor's
// templates share. An admin can override any file by putting a file of the
// same name in <data>/templates/<vendor>/.
//
// Templates are parsed once at start-up with missingkey=error, so a broken
// template stops the server with a clear message instead of failing a phone.
package templates

import (
	"embed"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/autoprov/autoprov/vendors"
)

// embedded holds every vendor's folder: a new vendor's templates need no
// change here.
//
//go:embed */*.tmpl
var embedded embed.FS

// FS returns the embedded templates of one vendor. A folder that does not
// exist is an error wrapping fs.ErrNotExist.
func FS(vendor string) (fs.FS, error) {
	if _, err := fs.Stat(embedded, vendor); err != nil {
		return nil, fmt.Errorf("no embedded templates for %q: %w", vendor, err)
	}
	return fs.Sub(embedded, vendor)
}

// Folders lists the vendor folders of the embedded set, sorted.
func Folders() []string {
	entries, _ := fs.ReadDir(embedded, ".")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// Load parses the embedded *.tmpl files of vendor and then, when
// overrideDir is not empty and holds <vendor>/*.tmpl files, parses those on
// top, so a file of the same name replaces the embedded one.
func Load(vendor, overrideDir string) (*template.Template, error) {
	t := template.New(vendor).Option("missingkey=error").Funcs(Funcs())
	sub, err := FS(vendor)
	if err != nil {
		return nil, err
	}
	if t, err = t.ParseFS(sub, "*.tmpl"); err != nil {
		return nil, fmt.Errorf("embedded %s templates: %w", vendor, err)
	}
	if overrideDir == "" {
		return t, nil
	}
	dir := filepath.Join(overrideDir, vendor)
	files, err := filepath.Glob(filepath.Join(dir, "*.tmpl"))
	if err != nil || len(files) == 0 {
		return t, nil
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("template override %s: %w", f, err)
		}
		if _, err := t.New(filepath.Base(f)).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("template override %s: %w", f, err)
		}
	}
	return t, nil
}

// MustLoad is Load without an override directory that panics on error; for
// tests and for drivers' defaults, where the embedded set must parse.
func MustLoad(vendor string) *template.Template {
	t, err := Load(vendor, "")
	if err != nil {
		panic(err)
	}
	return t
}

// ErrUnsafeValue is returned by the kv function for a value that would
// break out of a key = value line.
var ErrUnsafeValue = errors.New("value contains a line break or control character")

// Funcs returns the functions available to every phone template:
//
//	xml   escapes a string for XML text and attribute values
//	kv    returns a value for "key = value" files, failing on CR, LF or any other unsafe rune (vendors.SafeText)
//	upper, lower  change case
//	join  joins strings
//	add   adds integers
//	seq   returns 1..n
func Funcs() template.FuncMap {
	return template.FuncMap{
		"xml":   XML,
		"kv":    KV,
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"join":  strings.Join,
		"add":   func(a, b int) int { return a + b },
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i + 1
			}
			return s
		},
	}
}

// XML escapes s for use in XML text or a quoted attribute value. It drops
// every rune vendors.UnsafeRune calls unsafe (C0 and C1 controls, DEL,
// U+2028, U+2029, noncharacters, U+FFFD and bytes that are not UTF-8) except
// TAB, LF and CR: XML allows those three and, escaped, they cannot break out
// of a value. Single-line admin fields never hold them (vendors.SafeText
// refuses them), so they only pass through from a template's own text.
func XML(s string) string {
	return html.EscapeString(strings.Map(func(r rune) rune {
		if vendors.UnsafeRune(r) && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, s))
}

// KV returns s for a "key = value" line, or ErrUnsafeValue when it holds
// a rune that could end the line or inject another one: a C0 control
// (CR, LF, TAB...), DEL, NEL (U+0085), U+2028 or U+2029. The other runes
// vendors.UnsafeRune refuses (C1 controls, noncharacters, U+FFFD, invalid
// UTF-8) are dropped, as XML drops them: input paths refuse them since the
// one text rule, but a value stored before it must still render, not cost
// the phone its file.
func KV(s string) (string, error) {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			// The value may be a secret: never echo it.
			return "", ErrUnsafeValue
		}
	}
	if vendors.SafeText(s) {
		return s, nil
	}
	return strings.Map(func(r rune) rune {
		if vendors.UnsafeRune(r) {
			return -1
		}
		return r
	}, s), nil
}
