package web_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
	"github.com/autoprov/autoprov/web"
)

// TestBrowserFirmware drives chromium through the Firmware page: upload
// an image with the form (its progress bar, fed by the page's own script,
// reaches the end), see it in the catalogue, pin it as the T54W's target
// at 25 %, and see the target and the rollout of an adopted T54W.
func TestBrowserFirmware(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	st, err := store.Open(dir + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	phones, inv := provision.New(provision.Options{Registry: reg, Log: log}, st)
	fw, err := firmware.Open(context.Background(), dir+"/firmware", st, reg)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := web.New(inv, log, token, web.WithFirmware(fw, inv))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Log: log, AdminToken: token, Mount: ui.Mount, Firmware: fw, Rollout: inv})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	mac, model := "805ec0aabb09", "T54W"
	if _, err := inv.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Model: &model}, "test"); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "T54W-96.86.0.100.rom")
	b := make([]byte, 8<<20)
	rand.Read(b)
	if err := os.WriteFile(img, b, 0o600); err != nil {
		t.Fatal(err)
	}

	bctx, shot := browser(t, exe)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(ts.URL+"/ui/firmware"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`section.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/ui/firmware"]`)),
		chromedp.Navigate(ts.URL+"/ui/firmware"),
		chromedp.WaitVisible(chromedp.CSS(`#upload`)),
		chromedp.SendKeys(chromedp.CSS(`#fw-vendor`), "yealink"),
		chromedp.SendKeys(chromedp.CSS(`#fw-version`), "96.86.0.100"),
		chromedp.SendKeys(chromedp.CSS(`#fw-models`), "T54W"),
		chromedp.SetUploadFiles(chromedp.CSS(`#fw-file`), []string{img}),
		chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#catalogue`)),
	); err != nil {
		t.Fatalf("upload: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	flash, catalogue := text(`p.flash`), text(`#catalogue`)
	if err := chromedp.Do(bctx, shot("firmware-uploaded.png")); err != nil {
		t.Fatal(err)
	}
	// The page's script sent it and followed its progress to the end.
	progress, err := chromedp.Run(bctx, chromedp.Evaluate[string](`sessionStorage.getItem("autoprov-upload-progress") || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if done, total, ok := strings.Cut(progress, "/"); !ok || done != total || len(total) < 7 {
		t.Errorf("upload progress %q, want all of the ~8 MiB", progress)
	}
	if !strings.Contains(flash, "Uploaded yealink 96.86.0.100") || !strings.Contains(catalogue, "T54W-96.86.0.100.rom") {
		t.Fatalf("after the upload: flash %q, catalogue %q", flash, catalogue)
	}
	if list, total, _ := fw.List(context.Background(), autoprov.FirmwareFilter{}); total != 1 || list[0].Size != int64(len(b)) {
		t.Fatalf("catalogue: %+v", list)
	}

	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS(`#target-version`), "96.86.0.100"),
		chromedp.SetValue(chromedp.CSS(`#target-stage`), "25"),
		chromedp.Click(chromedp.CSS(`#target button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#targets`)),
		shot("firmware-target.png"),
	); err != nil {
		t.Fatalf("set the target: %v", err)
	}
	targets, rollout := text(`#targets`), text(`#rollout-`+mac)
	if !strings.Contains(targets, "T54W") || !strings.Contains(targets, "96.86.0.100") || !strings.Contains(targets, "25 %") {
		t.Errorf("targets table: %q", targets)
	}
	if !strings.Contains(rollout, "96.86.0.100") || !(strings.Contains(rollout, "upgrading") || strings.Contains(rollout, "waiting")) {
		t.Errorf("rollout row: %q", rollout)
	}
}
