// Package csvio reads and writes the CSV form of the inventory: one row
// per line of a phone (a device and one of its accounts), so the sheet an
// admin already keeps imports as it is. A read turns the file into one
// bulk change (autoprov.BulkInput, made by provision.Inventory.Bulk, all or
// nothing) and remembers which line each account and device came from, so
// every error, the file's own and the core's, names its line. A write
// never carries a password. encoding/csv, and golang.org/x/text for the
// files spreadsheets save in Windows-1252 (a field that is not UTF-8 is
// read as Windows-1252: Excel's plain "CSV" on a German Windows).
package csvio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// Columns are the columns an export writes, in order; an import takes any
// subset in any order (names case-insensitive), with at least mac or
// extension.
//
//	mac           the phone's MAC, any notation; empty: the row is an account only
//	vendor        optional (the model names it)
//	model         required for a new device
//	label         the device's label
//	key_profile   the device's key profile
//	extension     an account, on the row's device as its next line
//	display_name  the account's display name
//	auth_user     the account's SIP user name (default: the extension)
//	password      the account's SIP password; empty: kept, or generated
//	              for a new account (an export leaves it empty)
//
// Several rows with one MAC are one device: its accounts in row order, its
// device columns given once or repeated identically.
var Columns = []string{"mac", "vendor", "model", "label", "key_profile", "extension", "display_name", "auth_user", "password"}

// MaxRows bounds the data rows of one import.
const MaxRows = 200000

// Import is a CSV file read as one bulk change.
type Import struct {
	Input autoprov.BulkInput
	// AccountLines and DeviceLines are the file's line (1-based; the
	// header is line 1) of the row that first named each account and
	// device of Input.
	AccountLines, DeviceLines []int
}

// LineError is one problem of one line. Message is the English; Text,
// when its Format is set, the same as a translatable Text (see
// vendors.Text), which the web UI shows in the admin's language.
type LineError struct {
	Line    int
	Field   string // a column, or ""
	Message string
	Text    autoprov.Text
}

// lineError returns the LineError of t.
func lineError(line int, field string, t autoprov.Text) LineError {
	return LineError{Line: line, Field: field, Message: t.String(), Text: t}
}

// quoteText is a quoting error of encoding/csv as a Text the UI
// translates: the reader's own English words (what the API said before),
// which a German admin whose spreadsheet wrote a stray quote would
// otherwise read in English; another error as it is.
func quoteText(err error) autoprov.Text {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return autoprov.T(`bare " in non-quoted-field`)
	case errors.Is(err, csv.ErrQuote):
		return autoprov.T(`extraneous or missing " in quoted-field`)
	}
	return autoprov.T("%v", err)
}

// parseText is a *csv.ParseError as a Text the UI translates, with the
// same English as its Error (what the API says): where the reader
// stopped, by line and column (a 1-based byte index in the line), and
// why (quoteText). A record that spans lines (a quoted line break) names
// the line it started on too.
func parseText(pe *csv.ParseError) autoprov.Text {
	if pe.StartLine != pe.Line {
		return autoprov.T("record on line %d; parse error on line %d, column %d: %v", pe.StartLine, pe.Line, pe.Column, quoteText(pe.Err))
	}
	return autoprov.T("parse error on line %d, column %d: %v", pe.Line, pe.Column, quoteText(pe.Err))
}

// Error lists every bad line of an import; nothing was written.
type Error struct {
	Errors []LineError
}

// Error implements error.
func (e *Error) Error() string {
	if len(e.Errors) == 1 {
		return fmt.Sprintf("line %d: %s", e.Errors[0].Line, e.Errors[0].Message)
	}
	return fmt.Sprintf("%d lines are invalid; nothing was written", len(e.Errors))
}

// fromWindows1252 reads each field of rec that is not UTF-8 as
// Windows-1252 (which decodes any byte), in place: for a file without a
// UTF-8 byte order mark.
func fromWindows1252(rec []string) {
	for i, f := range rec {
		if !utf8.ValidString(f) {
			if s, err := charmap.Windows1252.NewDecoder().String(f); err == nil {
				rec[i] = s
			}
		}
	}
}

// Read parses a CSV file (comma- or, as spreadsheets in Germany write it,
// semicolon-separated, with or without a UTF-8 byte order mark, in UTF-8
// or Windows-1252). A file
// with bad lines returns an *Error listing each.
func Read(r io.Reader) (Import, error) {
	br := bufio.NewReader(r)
	bom := false // the file says UTF-8: a bad byte stays what it is, for the core to refuse
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xef, 0xbb, 0xbf}) {
		_, _ = br.Discard(3)
		bom = true
	}
	head, _ := br.Peek(4096)
	first, _, _ := bytes.Cut(head, []byte("\n"))
	cr := csv.NewReader(br)
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	var im Import
	var bad []LineError
	header, err := cr.Read()
	if !bom {
		fromWindows1252(header)
	}
	if err != nil {
		t := autoprov.T("%v", err)
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			t = autoprov.T("the file is empty: want a header line naming the columns")
		case errors.As(err, &pe) && pe.Err != csv.ErrFieldCount:
			t = parseText(pe) // a stray quote in the header
		}
		return im, &Error{Errors: []LineError{lineError(1, "", t)}}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(Columns, h):
			bad = append(bad, lineError(1, h, autoprov.T("unknown column %q (columns: %s)", h, strings.Join(Columns, ", "))))
		case col[h] != 0:
			bad = append(bad, lineError(1, h, autoprov.T("column %q is given twice", h)))
		default:
			col[h] = i + 1
		}
	}
	if col["mac"] == 0 && col["extension"] == 0 {
		bad = append(bad, lineError(1, "", autoprov.T("the header names neither mac nor extension")))
	}
	if len(bad) > 0 {
		return im, &Error{Errors: bad}
	}
	type device struct {
		index int
		cells map[string]string
		line  int
		exts  []string
	}
	accounts := map[string]int{} // extension -> index in im.Input.Accounts
	accountCells := map[string]map[string]string{}
	devices := map[string]*device{}
	var order []string
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad = append(bad, lineError(pe.Line, "", quoteText(pe.Err)))
			break // the reader cannot resynchronise after a quoting error
		}
		if err != nil {
			return im, err
		}
		if !bom {
			fromWindows1252(rec)
		}
		line, _ := cr.FieldPos(0)
		if rows++; rows > MaxRows {
			bad = append(bad, lineError(line, "", autoprov.T("more than %d rows: split the file", MaxRows)))
			break
		}
		if len(rec) != len(header) {
			bad = append(bad, lineError(line, "", autoprov.T("%d fields, the header has %d", len(rec), len(header))))
			continue
		}
		cell := func(name string) (string, bool) {
			if i := col[name]; i != 0 {
				return unguard(strings.TrimSpace(rec[i-1])), true
			}
			return "", false
		}
		mac, _ := cell("mac")
		ext, _ := cell("extension")
		if mac == "" && ext == "" {
			if strings.TrimSpace(strings.Join(rec, "")) == "" {
				continue // a row of empty cells, as spreadsheets write them
			}
			bad = append(bad, lineError(line, "", autoprov.T("the row names neither a mac nor an extension")))
			continue
		}
		if ext != "" {
			cells := map[string]string{}
			for _, n := range []string{"display_name", "auth_user", "password"} {
				cells[n], _ = cell(n)
			}
			if first, seen := accountCells[ext]; seen {
				for n, v := range cells {
					if v != "" && first[n] != "" && v != first[n] {
						bad = append(bad, lineError(line, n, autoprov.T("extension %s: %s differs from line %d", ext, n, im.AccountLines[accounts[ext]])))
					} else if v != "" && first[n] == "" {
						first[n] = v
						setAccount(&im.Input.Accounts[accounts[ext]], n, v)
					}
				}
			} else {
				in := autoprov.AccountInput{Extension: ptr(ext)}
				for n, v := range cells {
					if v != "" {
						setAccount(&in, n, v)
					}
				}
				accounts[ext], accountCells[ext] = len(im.Input.Accounts), cells
				im.Input.Accounts = append(im.Input.Accounts, in)
				im.AccountLines = append(im.AccountLines, line)
			}
		}
		if mac == "" {
			continue
		}
		m, err := vendors.ParseMAC(mac)
		if err != nil {
			bad = append(bad, lineError(line, "mac", autoprov.T("%v", err)))
			continue
		}
		cells := map[string]string{}
		for _, n := range []string{"vendor", "model", "label", "key_profile"} {
			if v, ok := cell(n); ok {
				cells[n] = v
			}
		}
		d, seen := devices[m]
		if !seen {
			d = &device{index: len(order), cells: cells, line: line}
			devices[m] = d
			order = append(order, m)
		} else {
			for n, v := range cells {
				if v != "" && d.cells[n] != "" && v != d.cells[n] {
					bad = append(bad, lineError(line, n, autoprov.T("device %s: %s differs from line %d", vendors.ColonMAC(m), n, d.line)))
				} else if v != "" {
					d.cells[n] = v
				}
			}
		}
		if ext != "" {
			if slices.Contains(d.exts, ext) {
				bad = append(bad, lineError(line, "extension", autoprov.T("device %s carries extension %s twice", vendors.ColonMAC(m), ext)))
			}
			d.exts = append(d.exts, ext)
		}
	}
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b LineError) int { return a.Line - b.Line })
		return im, &Error{Errors: bad}
	}
	for _, m := range order {
		d := devices[m]
		in := autoprov.DeviceInput{MAC: ptr(m)}
		if v := d.cells["vendor"]; v != "" {
			in.Vendor = ptr(v)
		}
		if v := d.cells["model"]; v != "" {
			in.Model = ptr(v)
		}
		if v, ok := d.cells["label"]; ok {
			in.Label = ptr(v)
		}
		if v, ok := d.cells["key_profile"]; ok {
			in.KeyProfile = ptr(v)
		}
		if col["extension"] != 0 {
			exts := append([]string{}, d.exts...)
			in.Accounts = &exts
		}
		im.Input.Devices = append(im.Input.Devices, in)
		im.DeviceLines = append(im.DeviceLines, d.line)
	}
	return im, nil
}

func setAccount(in *autoprov.AccountInput, name, v string) {
	switch name {
	case "display_name":
		in.DisplayName = ptr(v)
	case "auth_user":
		in.AuthUser = ptr(v)
	case "password":
		in.Password = ptr(v)
	}
}

func ptr[T any](v T) *T { return &v }

// Lines maps the core's refusal of the import's bulk change (each bad
// account or device by its index) to the lines of the file.
func (im Import) Lines(e *autoprov.BulkError) *Error {
	out := &Error{}
	for _, r := range e.Errors {
		line := 0
		switch {
		case r.Kind == "account" && r.Index < len(im.AccountLines):
			line = im.AccountLines[r.Index]
		case r.Kind == "device" && r.Index < len(im.DeviceLines):
			line = im.DeviceLines[r.Index]
		}
		field := r.Field
		if r.Kind == "device" && field == "accounts" {
			field = "extension"
		}
		out.Errors = append(out.Errors, LineError{Line: line, Field: field, Message: r.Message, Text: r.Text})
	}
	slices.SortStableFunc(out.Errors, func(a, b LineError) int { return a.Line - b.Line })
	return out
}

// formulaStart reports whether a spreadsheet would take a cell starting
// with r as a formula (= + - @, tab, carriage return), or r is the quote
// that guards such a cell.
func formulaStart(r byte) bool { return strings.IndexByte("=+-@\t\r'", r) >= 0 }

// guard keeps a spreadsheet from running a cell as a formula (CSV
// injection: a label "=HYPERLINK(...)" opened in Excel): a cell that
// starts with a formula character, or with the guarding quote itself, is
// written with a leading "'". unguard takes it off on import, so an
// export reads back as it was.
func guard(s string) string {
	if s != "" && formulaStart(s[0]) {
		return "'" + s
	}
	return s
}

// unguard takes off the quote guard put on a cell.
func unguard(s string) string {
	if len(s) >= 2 && s[0] == '\'' && formulaStart(s[1]) {
		return s[1:]
	}
	return s
}

// guardWriter writes records with every cell guarded.
type guardWriter struct{ *csv.Writer }

func (g guardWriter) Write(rec []string) error {
	out := make([]string, len(rec))
	for i, s := range rec {
		out[i] = guard(s)
	}
	return g.Writer.Write(out)
}

// Write writes the accounts and the assigned devices as CSV with Columns:
// a row per line of each device (devices in the order given), a row with
// the device alone when it has no account, then a row per account no
// device carries. The password column is always empty. A cell a
// spreadsheet would run as a formula is guarded with a leading "'" (see
// guard), which Read takes off.
func Write(w io.Writer, accounts []autoprov.Account, devices []autoprov.Device) error {
	cw := guardWriter{csv.NewWriter(w)}
	if err := cw.Write(Columns); err != nil {
		return err
	}
	byExt := make(map[string]autoprov.Account, len(accounts))
	for _, a := range accounts {
		byExt[a.Extension] = a
	}
	used := map[string]bool{}
	for _, d := range devices {
		if d.State != autoprov.StateAssigned {
			continue
		}
		dev := []string{vendors.ColonMAC(d.MAC), d.Vendor, d.Model, d.Label, d.KeyProfile}
		if len(d.Accounts) == 0 {
			if err := cw.Write(append(dev, "", "", "", "")); err != nil {
				return err
			}
		}
		for _, ext := range d.Accounts {
			used[ext] = true
			a := byExt[ext]
			if err := cw.Write(append(slices.Clone(dev), ext, a.DisplayName, a.AuthUser, "")); err != nil {
				return err
			}
		}
	}
	for _, a := range accounts {
		if !used[a.Extension] {
			if err := cw.Write([]string{"", "", "", "", "", a.Extension, a.DisplayName, a.AuthUser, ""}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
