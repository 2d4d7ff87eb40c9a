package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// textConstructors are the functions that take the English format of a
// vendors.Text, by package and name: the format's argument index.
var textConstructors = map[string]map[string]int{
	"autoprov": {"T": 0, "Invalid": 1, "Conflict": 0},
	"vendors":  {"T": 0, "Errorf": 0},
	// server/store's context of a row not found or a key taken.
	"store": {"wrap": 1, "notFound": 0},
}

// coreFormats finds, in the module's Go source (tests aside), every
// format passed to a textConstructor: the messages of the core the UI
// translates (vendors.Text). A format that is not a string literal fails
// the test, except a parameter named format handed on by a constructor.
func coreFormats(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != ".." && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		// The package a bare call (T(...) inside package vendors) is in.
		own := f.Name.Name
		if own == "autoprov" && filepath.Dir(p) != ".." {
			own = "" // a package main or a test helper that happens to share the name
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			pkg, name := "", ""
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok {
					pkg, name = x.Name, fn.Sel.Name
				}
			case *ast.Ident:
				pkg, name = own, fn.Name
			}
			i, ok := textConstructors[pkg][name]
			if !ok || i >= len(call.Args) {
				return true
			}
			switch a := call.Args[i].(type) {
			case *ast.BasicLit:
				s, err := strconv.Unquote(a.Value)
				if a.Kind != token.STRING || err != nil {
					t.Errorf("%s: %s.%s: format %s is not a string", fset.Position(a.Pos()), pkg, name, a.Value)
					return true
				}
				seen[s] = true
				// go vet sees through Invalid only: count the verbs here.
				if n := len(call.Args) - i - 1; !call.Ellipsis.IsValid() && countVerbs(s) != n {
					t.Errorf("%s: %s.%s: %q has %d verbs for %d arguments", fset.Position(a.Pos()), pkg, name, s, countVerbs(s), n)
				}
			case *ast.Ident:
				if a.Name != "format" {
					t.Errorf("%s: %s.%s: the format is %s, not a string literal the catalogue can hold", fset.Position(a.Pos()), pkg, name, a.Name)
				}
			default:
				t.Errorf("%s: %s.%s: the format is not a string literal the catalogue can hold", fset.Position(call.Pos()), pkg, name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// countVerbs is the number of arguments format's verbs take (%% none).
func countVerbs(format string) int {
	n := 0
	for _, v := range verb.FindAllString(format, -1) {
		if v != "%%" {
			n++
		}
	}
	return n
}

// TestCoreFormatsFound: the scan that feeds TestCatalogueComplete with
// the core's formats finds them (so a broken scan cannot pass as "none
// missing"): one of each constructor.
func TestCoreFormatsFound(t *testing.T) {
	got := coreFormats(t)
	for _, want := range []string{
		"invalid MAC address %q: want 12 hex digits",     // vendors.Errorf
		"device %s exists",                               // autoprov.Conflict
		"extension %s is listed twice (also account %d)", // autoprov.T
		"the header names neither mac nor extension",     // autoprov.T in csvio
		"unknown vendor %q (supported: %s)",              // autoprov.Invalid
	} {
		if !slices.Contains(got, want) {
			t.Errorf("the scan did not find %q", want)
		}
	}
	if len(got) < 50 {
		t.Errorf("only %d formats found: the scan is broken", len(got))
	}
}
