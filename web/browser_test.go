package web_test

import (
	"context"
	"github.com/autoprov/autoprov"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium: the test skips without it, except in
// CI (CI set), where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium); CI must run the browser test")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// TestBrowserAdopt drives a real headless chromium through the zero-touch
// flow: log in with the token, find the phone in the inbox, adopt it with
// one click and land on its page with the secret window open. Screenshots
// go to t.TempDir(), or to $AUTOPROV_SCREENSHOTS when set.
func TestBrowserAdopt(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	e.account("201", "Alice Example")
	e.fetch()

	bctx, shot := browser(t, exe)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	const row = `#phone-` + phoneMAC
	start := time.Now()
	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.ts.URL+"/ui/inbox"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
	); err != nil {
		t.Fatalf("open the UI: %v", err)
	}
	t.Logf("browser up and login page shown after %s", time.Since(start).Round(time.Millisecond))
	if err := chromedp.Do(bctx, shot("login.png")); err != nil {
		t.Fatal(err)
	}
	if loc := location(); !strings.HasSuffix(loc, "/ui/login") {
		t.Errorf("without a session the inbox went to %s, want the login form", loc)
	}
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`section.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tile-inbox`)), // the dashboard
		chromedp.Click(chromedp.CSS(`#tile-inbox`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	rowText := text(row)
	for _, want := range []string{"00:15:65:12:34:56", "yealink", "T46S", "66.86.0.15", phoneIP} {
		if !strings.Contains(rowText, want) {
			t.Errorf("inbox row lacks %q: %q", want, rowText)
		}
	}
	// The stylesheet loaded under the Content-Security-Policy.
	headerBG, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('header.top')).backgroundColor`))
	if err != nil {
		t.Fatal(err)
	}
	if headerBG != "rgb(29, 35, 48)" {
		t.Errorf("header background %q: the stylesheet did not apply", headerBG)
	}

	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(row+` input[name=account]`), "201"),
		chromedp.SendKeys(chromedp.CSS(row+` input[name=label]`), "Reception"),
		shot("inbox.png"),
		chromedp.Click(chromedp.CSS(row+` button[type=submit]`)), // the one click
		chromedp.WaitVisible(chromedp.CSS(`#disclosure-state`)),
		shot("device.png"),
	); err != nil {
		t.Fatalf("adopt: %v", err)
	}
	deviceURL, state, window, flash := location(), text(`#device-state`), text(`#disclosure-state`), text(`.flash`)
	t.Logf("browser flow took %s", time.Since(start).Round(time.Millisecond))
	if !strings.HasSuffix(deviceURL, "/ui/devices/"+phoneMAC) {
		t.Errorf("after adopt the browser is at %s, want the device page", deviceURL)
	}
	if strings.TrimSpace(state) != "assigned" {
		t.Errorf("device page state %q, want assigned", state)
	}
	if !strings.HasPrefix(strings.TrimSpace(window), "open, ") {
		t.Errorf("device page window %q, want open", window)
	}
	if !strings.Contains(flash, "adopted; its secrets go out on its next fetch within 10 minutes") {
		t.Errorf("flash %q", flash)
	}
	d := e.device(phoneMAC)
	if d.State != autoprov.StateAssigned || d.Disclosure.State != autoprov.DisclosureOpen ||
		d.Label != "Reception" || strings.Join(d.Accounts, ",") != "201" {
		t.Errorf("core after the browser adopt: state %s, window %s, label %q, accounts %v",
			d.State, d.Disclosure.State, d.Label, d.Accounts)
	}
}

// browser starts a headless chromium for the test and returns its
// context and a screenshot action writing into t.TempDir() or
// $AUTOPROV_SCREENSHOTS. The limit is for the whole test, chromium's
// start included: 2-3 s on an idle machine, and ten times that has been
// seen on a loaded 2-core one under -race; a test ends as soon as its
// flow is done, so a generous limit costs nothing.
func browser(t *testing.T, exe string) (context.Context, func(name string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	return browserWith(t, exe, 3*time.Minute)
}

// browserWith is browser with a time limit for the whole test and more
// chromium options.
func browserWith(t *testing.T, exe string, limit time.Duration, extra ...chromedp.ExecAllocatorOption) (context.Context, func(name string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 900),
	}
	opts = append(opts, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)

	shots := t.TempDir()
	if dir := os.Getenv("AUTOPROV_SCREENSHOTS"); dir != "" {
		shots = dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			png, err := chromedp.FullScreenshot(100)(ctx, tg) // quality 100: PNG
			if err != nil {
				return chromedp.Void{}, err
			}
			path := filepath.Join(shots, name)
			t.Logf("screenshot %s", path)
			return chromedp.Void{}, os.WriteFile(path, png, 0o644)
		}
	}
	return bctx, shot
}

// TestBrowserKeys drives chromium through the key editor: open an adopted
// phone, add a BLF key on 202 in a blank row, save, and see it in the
// effective layout.
func TestBrowserKeys(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	e.adopted()
	bctx, shot := browser(t, exe)

	const row = `form.keys tbody tr:nth-child(1) `
	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.ts.URL+"/ui/login"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`section.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tile-inbox`)),
		chromedp.Navigate(e.ts.URL+"/ui/devices/"+phoneMAC),
		chromedp.WaitVisible(chromedp.CSS(`#save-keys`)),
	); err != nil {
		t.Fatalf("log in and open the device: %v", err)
	}
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(row+`input[name=k_position]`), "3"),
		chromedp.SetValue(chromedp.CSS(row+`select[name=k_type]`), "blf"),
		chromedp.SetValue(chromedp.CSS(row+`select[name=k_account]`), "201"),
		chromedp.SendKeys(chromedp.CSS(row+`input[name=k_value]`), "202"),
		chromedp.SendKeys(chromedp.CSS(row+`input[name=k_label]`), "Bob"),
		chromedp.SendKeys(chromedp.CSS(row+`input[name=k_pickup]`), "*8"),
		// No full-page screenshot before this click: FullScreenshot leaves
		// the page emulated at full height and the click misses the button.
		chromedp.Click(chromedp.CSS(`#save-keys`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
		chromedp.WaitVisible(chromedp.CSS(`#effective`)),
		shot("keys-saved.png"),
	); err != nil {
		t.Fatalf("add a BLF key: %v", err)
	}
	flash, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`.flash`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "Keys saved: 1") {
		t.Errorf("flash %q", flash)
	}
	layout, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#effective tbody`)))
	if err != nil {
		t.Fatal(err)
	}
	var blf string
	for _, l := range strings.Split(layout, "\n") {
		if strings.Contains(l, "BLF") {
			blf = l
		}
	}
	for _, want := range []string{"3", "BLF", "201", "202", "Bob", "device"} {
		if !strings.Contains(blf, want) {
			t.Errorf("effective layout's BLF row %q lacks %q (layout %q)", blf, want, layout)
		}
	}
	if d := e.device(phoneMAC); len(d.Keys) != 1 || d.Keys[0].Type != "blf" || d.Keys[0].Value != "202" || d.Keys[0].Position != 3 {
		t.Errorf("core keys after the browser save: %+v", d.Keys)
	}
}
