package templates_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
)

var bootData = map[string]any{"CommonFile": "y000000000123.cfg", "DeviceFile": "001565abcdef.cfg"}

func render(t *testing.T, tm *template.Template, name string, data any) string {
	t.Helper()
	var b bytes.Buffer
	if err := tm.ExecuteTemplate(&b, name, data); err != nil {
		t.Fatalf("execute %s: %v", name, err)
	}
	return b.String()
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func embeddedNames(t *testing.T, vendor string) []string {
	t.Helper()
	sub, err := templates.FS(vendor)
	if err != nil {
		t.Fatalf("FS(%q): %v", vendor, err)
	}
	names, err := fs.Glob(sub, "*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestLoadEmbedded(t *testing.T) {
	for _, vendor := range []string{"yealink", "snom", "gigaset"} {
		t.Run(vendor, func(t *testing.T) {
			tm, err := templates.Load(vendor, "")
			if err != nil {
				t.Fatalf("Load(%q, \"\"): %v", vendor, err)
			}
			names := embeddedNames(t, vendor)
			if len(names) == 0 {
				t.Fatalf("no embedded %s templates", vendor)
			}
			for _, n := range names {
				if tm.Lookup(n) == nil {
					t.Errorf("embedded %s is not in the loaded set", n)
				}
			}
			if templates.MustLoad(vendor) == nil {
				t.Error("MustLoad returned nil")
			}
		})
	}
	if _, err := templates.Load("nosuchvendor", ""); err == nil {
		t.Error(`Load("nosuchvendor") succeeded`)
	}
}

func TestLoadYealinkBoot(t *testing.T) {
	tm, err := templates.Load("yealink", "")
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, tm, "boot.tmpl", bootData)
	for _, s := range []string{`include:config "y000000000123.cfg"`, `include:config "001565abcdef.cfg"`} {
		if !strings.Contains(out, s) {
			t.Errorf("boot.tmpl output lacks %q:\n%s", s, out)
		}
	}
}

func TestLoadOverrideReplaces(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "yealink", "boot.tmpl"), "OVERRIDE {{.DeviceFile}} {{upper \"x\"}}\n")
	// Another vendor's folder and a non-.tmpl file must not matter.
	writeFile(t, filepath.Join(dir, "snom", "boot.tmpl"), "SNOM {{.DeviceFile}}\n")
	writeFile(t, filepath.Join(dir, "yealink", "common.cfg.tmpl.bak"), "{{ broken")

	embedded, err := templates.Load("yealink", "")
	if err != nil {
		t.Fatal(err)
	}
	overridden, err := templates.Load("yealink", dir)
	if err != nil {
		t.Fatalf("Load with override: %v", err)
	}
	before := render(t, embedded, "boot.tmpl", bootData)
	after := render(t, overridden, "boot.tmpl", bootData)
	if after != "OVERRIDE 001565abcdef.cfg X\n" {
		t.Errorf("overridden boot.tmpl rendered %q", after)
	}
	if before == after {
		t.Error("the override did not change boot.tmpl")
	}
	// The embedded set is not changed by loading an override.
	if again := render(t, templates.MustLoad("yealink"), "boot.tmpl", bootData); again != before {
		t.Errorf("embedded boot.tmpl changed after an override was loaded:\n%s", again)
	}
	// The other embedded templates are still there, unchanged.
	want, got := snapshot(embedded), snapshot(overridden)
	delete(want, "boot.tmpl")
	delete(got, "boot.tmpl")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("other templates changed by the override:\n got %v\nwant %v", keys(got), keys(want))
	}
	for _, n := range embeddedNames(t, "yealink") {
		if overridden.Lookup(n) == nil {
			t.Errorf("%s is missing after the override", n)
		}
	}
}

func TestLoadOverrideNewFileAndFuncs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "yealink", "extra.tmpl"),
		`{{range seq 3}}{{add . 10}} {{end}}{{join .L ","}} {{lower "AB"}} {{xml "<"}} {{kv "v"}}`)
	tm, err := templates.Load("yealink", dir)
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, tm, "extra.tmpl", map[string]any{"L": []string{"a", "b"}})
	if want := "11 12 13 a,b ab &lt; v"; got != want {
		t.Errorf("extra.tmpl = %q, want %q", got, want)
	}
}

func TestLoadBrokenOverride(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "yealink", "boot.tmpl")
	writeFile(t, bad, "{{ .Foo")
	tm, err := templates.Load("yealink", dir)
	if err == nil {
		t.Fatalf("Load with a broken override succeeded: %v", tm.DefinedTemplates())
	}
	if !strings.Contains(err.Error(), bad) {
		t.Errorf("error %q does not name the file %s", err, bad)
	}
}

func TestLoadEmptyOverrideDir(t *testing.T) {
	embedded := templates.MustLoad("yealink")
	want := render(t, embedded, "boot.tmpl", bootData)
	wantSet := snapshot(embedded)

	noVendorDir := t.TempDir()
	emptyVendorDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(emptyVendorDir, "yealink"), 0o755); err != nil {
		t.Fatal(err)
	}
	otherFiles := t.TempDir()
	writeFile(t, filepath.Join(otherFiles, "yealink", "README"), "not a template")
	writeFile(t, filepath.Join(otherFiles, "snom", "boot.tmpl"), "SNOM")

	for name, dir := range map[string]string{
		"missing dir": filepath.Join(t.TempDir(), "nope"), "no vendor dir": noVendorDir,
		"empty vendor dir": emptyVendorDir, "no tmpl files": otherFiles,
	} {
		t.Run(name, func(t *testing.T) {
			tm, err := templates.Load("yealink", dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := render(t, tm, "boot.tmpl", bootData); got != want {
				t.Errorf("boot.tmpl = %q, want the embedded %q", got, want)
			}
			if got := snapshot(tm); !reflect.DeepEqual(got, wantSet) {
				t.Errorf("templates differ from the embedded set:\n got %v\nwant %v", keys(got), keys(wantSet))
			}
		})
	}
}

// snapshot maps every defined template's name to its parse tree's text.
func snapshot(tm *template.Template) map[string]string {
	m := map[string]string{}
	for _, x := range tm.Templates() {
		if x.Tree != nil && x.Tree.Root != nil {
			m[x.Name()] = x.Tree.Root.String()
		}
	}
	return m
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestMissingKeyIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "yealink", "mk.tmpl"), "value={{.Present}} other={{.Absent}}")
	tm, err := templates.Load("yealink", dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = tm.ExecuteTemplate(&b, "mk.tmpl", map[string]string{"Present": "x"})
	if err == nil {
		t.Fatalf("executing with a missing key succeeded: %q", b.String())
	}
	if !strings.Contains(err.Error(), "Absent") {
		t.Errorf("error %q does not name the missing key", err)
	}
	// An embedded template with a missing key fails too.
	if err := templates.MustLoad("yealink").ExecuteTemplate(&b, "boot.tmpl", map[string]any{"CommonFile": ""}); err == nil {
		t.Error("embedded boot.tmpl executed without DeviceFile")
	}
}

func TestXML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"a<b>c", "a&lt;b&gt;c"},
		{"Tom & Jerry", "Tom &amp; Jerry"},
		{`say "hi"`, "say &#34;hi&#34;"},
		{"it's", "it&#39;s"},
		{`<>&"'`, "&lt;&gt;&amp;&#34;&#39;"},
		{"&amp;", "&amp;amp;"}, // no double-unescaping
		{"tab\there", "tab\there"},
		{"line\r\nbreak", "line\r\nbreak"},
		{"nul\x00bell\x07esc\x1bend", "nulbellescend"},
		{"\x01\x02\x1f", ""},
		{"Zoë Müller — 日本", "Zoë Müller — 日本"},
		{"Grüße, Straße 😀 👩‍💻", "Grüße, Straße 😀 👩‍💻"},
		{"del\x7fc1\u0085\u009bend", "delc1end"},
		{"a\u2028b\u2029c", "abc"},
		{"non\ufdd0\ufffe\uffff\U0001fffe\U0010ffffchar", "nonchar"},
		{"bad\xff\xc3utf8", "badutf8"},
		{"repl\ufffdacement", "replacement"},
	}
	for _, tc := range tests {
		if got := templates.XML(tc.in); got != tc.want {
			t.Errorf("XML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestKV(t *testing.T) {
	ok := []string{"", "plain", "sip.example.com:5060", "p@ss w0rd=;#\"'<>&", "Zoë — 日本", "Grüße Straße 😀"}
	for _, s := range ok {
		got, err := templates.KV(s)
		if err != nil || got != s {
			t.Errorf("KV(%q) = %q, %v; want the value unchanged", s, got, err)
		}
	}
	const secret = "s3cret"
	bad := []string{"\n", "\r", "\x00", "\x7f", "\t",
		secret + "\nstatic.security.user_password = admin:x",
		secret + "\r", "\x00" + secret, secret + "\x7f", secret + "\x1b",
		secret + "\u0085", secret + "\u2028", secret + "\u2029"}
	// The other unsafe runes are dropped, not refused (TestUnsafeRunesAlike).
	for _, s := range []string{secret + "\u009b", secret + "\ufdd0", secret + "\ufffe", secret + "\U0001ffff", secret + "\ufffd", secret + "\xff"} {
		if got, err := templates.KV(s); err != nil || got != secret {
			t.Errorf("KV(%q) = %q, %v; want %q", s, got, err, secret)
		}
	}
	for _, s := range bad {
		got, err := templates.KV(s)
		if err == nil {
			t.Errorf("KV(%q) = %q, want an error", s, got)
			continue
		}
		if !errors.Is(err, templates.ErrUnsafeValue) {
			t.Errorf("KV(%q) error %v is not ErrUnsafeValue", s, err)
		}
		if got != "" {
			t.Errorf("KV(%q) returned %q alongside the error", s, got)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), s) {
			t.Errorf("KV(%q) error %q echoes the value", s, err)
		}
	}
}

// TestUnsafeRunesAlike: xml and kv follow vendors.UnsafeRune. xml drops
// every unsafe rune but TAB, LF and CR; kv refuses the ones that could end
// a line (C0, DEL, NEL, U+2028, U+2029) and drops the others (C1, U+FFFE,
// noncharacters), so a value stored before the rule still renders.
func TestUnsafeRunesAlike(t *testing.T) {
	breaks := func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 }
	for _, r := range []rune{0x85, 0x9b, 0x2028, 0x2029, 0xfffe, 0xffff, 0x1fffe, 0xfdd0, 0x7f, 0x1b, 0xfffd} {
		s := "a" + string(r) + "b"
		if got := templates.XML(s); got != "ab" {
			t.Errorf("XML(%q) = %q, want %q", s, got, "ab")
		}
		got, err := templates.KV(s)
		if breaks(r) && !errors.Is(err, templates.ErrUnsafeValue) {
			t.Errorf("KV(%q) = %q, %v; want ErrUnsafeValue", s, got, err)
		}
		if !breaks(r) && (err != nil || got != "ab") {
			t.Errorf("KV(%q) = %q, %v; want %q", s, got, err, "ab")
		}
	}
	if got := templates.XML("a\tb"); got != "a\tb" {
		t.Errorf("XML(TAB) = %q, want the TAB kept", got)
	}
	if _, err := templates.KV("a\tb"); err == nil {
		t.Error("KV accepted a TAB")
	}
	if got, err := templates.KV("M\xffller"); err != nil || got != "Mller" {
		t.Errorf("KV(invalid UTF-8) = %q, %v; want the bad byte dropped", got, err)
	}
	// Every rune up to U+3000 and the end of each plane: xml drops exactly
	// the unsafe ones (but TAB, LF, CR); kv refuses the line breakers and
	// drops the other unsafe ones.
	check := func(r rune) {
		s := "a" + string(r) + "b"
		keep := !vendors.UnsafeRune(r) || r == '\t' || r == '\n' || r == '\r'
		if got := templates.XML(s) != "ab"; got != keep {
			t.Errorf("XML keeps %U: %v, want %v", r, got, keep)
		}
		got, err := templates.KV(s)
		switch {
		case breaks(r):
			if err == nil {
				t.Errorf("KV accepts %U", r)
			}
		case vendors.UnsafeRune(r):
			if err != nil || got != "ab" {
				t.Errorf("KV(%U) = %q, %v; want it dropped", r, got, err)
			}
		default:
			if err != nil || got != s {
				t.Errorf("KV(%U) = %q, %v; want it kept", r, got, err)
			}
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		check(r)
	}
	for plane := rune(0); plane <= 0x10; plane++ {
		for r := plane<<16 | 0xfffc; r <= plane<<16|0xffff; r++ {
			check(r)
		}
	}
}

func TestKVInTemplateFailsExecution(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "yealink", "kv.tmpl"), "account.1.password = {{kv .P}}\n")
	tm, err := templates.Load("yealink", dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = tm.ExecuteTemplate(&b, "kv.tmpl", map[string]string{"P": "pw\ninjected = 1"})
	if !errors.Is(err, templates.ErrUnsafeValue) {
		t.Errorf("execute with an unsafe value: err = %v, want ErrUnsafeValue", err)
	}
	if strings.Contains(b.String(), "injected") {
		t.Errorf("the unsafe value reached the output: %q", b.String())
	}
}

func TestFS(t *testing.T) {
	for _, vendor := range []string{"snom", "yealink", "gigaset"} {
		t.Run(vendor, func(t *testing.T) {
			sub, err := templates.FS(vendor)
			if err != nil {
				t.Fatalf("FS(%q): %v", vendor, err)
			}
			entries, err := fs.ReadDir(sub, ".")
			if err != nil {
				t.Fatalf("ReadDir: %v", err)
			}
			var names []string
			for _, e := range entries {
				if !strings.HasSuffix(e.Name(), ".tmpl") {
					t.Errorf("non-template file %s in FS(%q)", e.Name(), vendor)
				}
				names = append(names, e.Name())
			}
			if len(names) == 0 {
				t.Fatalf("FS(%q) lists no files", vendor)
			}
			if !sort.StringsAreSorted(names) {
				t.Errorf("ReadDir not sorted: %v", names)
			}
		})
	}
	// snom's set, pinned: a missing or renamed file fails here.
	sub, _ := templates.FS("snom")
	for _, n := range []string{"device.xml.tmpl", "settings.tmpl", "directory.xml.tmpl"} {
		if _, err := fs.Stat(sub, n); err != nil {
			t.Errorf("FS(snom) lacks %s: %v", n, err)
		}
	}
	if _, err := fs.Stat(sub, "boot.tmpl"); err == nil {
		t.Error("FS(snom) serves yealink's boot.tmpl")
	}
}
