package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/autoprov/autoprov"
)

// TestBrowserImport drives chromium through the Import page with the
// acceptance sheet: 20 rows, MACs in dashed notation; the dry run of the
// file with one bad line names that line and writes nothing; the fixed
// file's dry run lists the changes, the confirmation imports them, and the
// export gives the rows back without a password.
func TestBrowserImport(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	dir := t.TempDir()
	sheet := func(bad bool) string {
		var b strings.Builder
		b.WriteString("mac,model,label,extension,display_name\n")
		for i := 1; i <= 20; i++ {
			model := "T54W"
			if bad && i == 11 {
				model = "T99X" // line 12
			}
			fmt.Fprintf(&b, "80-5E-C0-AA-BB-%02X,%s,Desk %d,%d,User %d\n", i, model, i, 200+i, i)
		}
		return b.String()
	}
	badFile, goodFile := filepath.Join(dir, "bad.csv"), filepath.Join(dir, "phones.csv")
	if err := os.WriteFile(badFile, []byte(sheet(true)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goodFile, []byte(sheet(false)), 0o600); err != nil {
		t.Fatal(err)
	}
	bctx, shot := browser(t, exe)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.ts.URL+"/ui/login"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`section.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/ui/tools"]`)),
		chromedp.Click(chromedp.CSS(`nav a[href="/ui/tools"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tools a[href="/ui/import"]`)),
		chromedp.Click(chromedp.CSS(`#tools a[href="/ui/import"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#csv-file`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#csv-file`), []string{badFile}),
		chromedp.Click(chromedp.CSS(`#check-csv`)),
		chromedp.WaitVisible(chromedp.CSS(`#import-errors`)),
		shot("import-errors.png"),
	); err != nil {
		t.Fatalf("upload the bad sheet: %v", err)
	}
	if errs := text(`#import-errors tbody`); !strings.Contains(errs, "12") || !strings.Contains(errs, "T99X") || strings.Count(errs, "\n") > 1 {
		t.Fatalf("errors shown: %q", errs)
	}
	if _, n, _ := e.core.Devices(context.Background(), autoprov.DeviceFilter{}); n != 0 {
		t.Fatalf("the bad sheet wrote %d devices", n)
	}
	if err := chromedp.Do(bctx,
		chromedp.SetUploadFiles(chromedp.CSS(`#csv-file`), []string{goodFile}),
		chromedp.Click(chromedp.CSS(`#check-csv`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-import`)),
		shot("import-dry-run.png"),
	); err != nil {
		t.Fatalf("dry run of the fixed sheet: %v", err)
	}
	if r := text(`#import-result`); !strings.Contains(r, "Dry run of phones.csv") {
		t.Fatalf("dry run heading %q", r)
	}
	if _, n, _ := e.core.Devices(context.Background(), autoprov.DeviceFilter{}); n != 0 {
		t.Fatalf("the dry run wrote %d devices", n)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#confirm-import`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if f := text(`p.flash`); !strings.Contains(f, "Imported phones.csv: 20 accounts created, 0 updated; 20 devices created") {
		t.Fatalf("flash %q", f)
	}
	// The export (as the page's link downloads it) has the same rows back.
	e.login()
	exp := e.get("/ui/export").want(t, http.StatusOK)
	for i := 1; i <= 20; i++ {
		row := fmt.Sprintf("80:5e:c0:aa:bb:%02x,yealink,T54W,Desk %d,,%d,User %d,%d,\n", i, i, 200+i, i, 200+i)
		if !strings.Contains(exp.body, row) {
			t.Fatalf("export lacks %q:\n%s", row, exp.body)
		}
	}
	if strings.Count(exp.body, "\n") != 21 {
		t.Fatalf("export:\n%s", exp.body)
	}
}

// TestBrowserImportWindows1252: a sheet Excel saved as plain CSV on a
// German Windows (Windows-1252) imports with its umlauts through the dry
// run and the confirmation; the page kept the checked file as text, so
// the browser posted each umlaut back as U+FFFD.
func TestBrowserImportWindows1252(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	file := filepath.Join(t.TempDir(), "telefone.csv")
	sheet := "mac,model,label,extension,display_name\r\n80-5E-C0-AA-BB-41,T54W,B\xfcro 41,241,J\xfcrgen M\xfcller\r\n"
	if err := os.WriteFile(file, []byte(sheet), 0o600); err != nil {
		t.Fatal(err)
	}
	bctx, shot := browser(t, exe)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.ts.URL+"/ui/login"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`section.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tile-inbox`)),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.ts.URL+"/ui/import"),
		chromedp.WaitVisible(chromedp.CSS(`#csv-file`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#csv-file`), []string{file}),
		chromedp.Click(chromedp.CSS(`#check-csv`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-import`)),
	); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#confirm-import`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#confirm-import`)), // the next page: imported, or its errors
		shot("import-windows-1252.png"),
	); err != nil {
		t.Fatalf("import: %v", err)
	}
	if s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`main`))); err != nil || !strings.Contains(s, "Imported telefone.csv: 1 accounts created") {
		t.Fatalf("after the confirmation: %v %q", err, s)
	}
	a, err := e.core.Account(context.Background(), "241")
	if err != nil {
		t.Fatal(err)
	}
	if d := e.device("805ec0aabb41"); a.DisplayName != "Jürgen Müller" || d.Label != "Büro 41" {
		t.Fatalf("imported: display name %q, label %q; want Jürgen Müller, Büro 41", a.DisplayName, d.Label)
	}
}
