package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/server/tftpd"
	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// TestSlowTFTPAndHTTPOneSecret: the real core, store and both edges wired
// as main wires them, with a claim lease of 300 ms. A Yealink T54W with
// 16 accounts, every key of the phone and three expansion modules, and an
// admin's notes in a template override, has a file of over two hundred
// 512-byte blocks; a phone takes it over TFTP
// slowly, for far longer than the lease, and an HTTP fetch of the same
// file comes in the middle of it, after the lease lapsed. Exactly one of
// them carries the secrets, and the window says the transfer completed.
func TestSlowTFTPAndHTTPOneSecret(t *testing.T) {
	const lease = 300 * time.Millisecond
	ctx := context.Background()
	log := &syncBuffer{}
	st, err := store.Open(t.TempDir() + "/autoprov.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// An admin's template override pads the file with notes to about two
	// hundred blocks.
	templatesDir := t.TempDir()
	sub, err := templates.FS("yealink")
	if err != nil {
		t.Fatal(err)
	}
	orig, err := fs.ReadFile(sub, "device.cfg.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(templatesDir, "yealink"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(templatesDir, "yealink", "device.cfg.tmpl"),
		string(orig)+strings.Repeat("# a note the admin keeps in every phone's file, sixty bytes.\n", 1000))
	reg, err := all.Registry(templatesDir)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	phones, inv := provision.New(provision.Options{Registry: reg, Log: logger, ClaimLease: lease}, st)
	edge, err := httpd.New(httpd.Config{Phones: phones, Health: phones, Inventory: inv, Log: logger, AdminToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(edge.Handler())
	t.Cleanup(web.Close)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tftpd.New(phones, logger).Serve(tctx, conn) }()
	t.Cleanup(func() { cancel(); <-done })

	// The device: 16 accounts, 27 line keys, 3 x 60 module keys.
	var exts []string
	var passwords []string
	for i := range 16 {
		ext, name, pw := fmt.Sprint(201+i), fmt.Sprintf("Account %d with a display name as long as the API takes it", 201+i), fmt.Sprintf("Slow-Pass-%d-xyz", 201+i)
		if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: &ext, DisplayName: &name, Password: &pw}, "test"); err != nil {
			t.Fatal(err)
		}
		exts, passwords = append(exts, ext), append(passwords, pw)
	}
	var keys []autoprov.KeySpec
	for pos := 17; pos <= 27; pos++ {
		keys = append(keys, autoprov.KeySpec{Position: pos, Type: vendors.KeySpeedDial, Value: fmt.Sprint(5550000 + pos), Label: fmt.Sprintf("Speed dial %d, a label as long as a key label may be, padded", pos)})
	}
	for mod := 1; mod <= 3; mod++ {
		for pos := 1; pos <= 60; pos++ {
			keys = append(keys, autoprov.KeySpec{Module: mod, Position: pos, Type: vendors.KeySpeedDial,
				Value: fmt.Sprint(5560000 + 100*mod + pos), Label: fmt.Sprintf("Module %d key %d, a label as long as a key label may be, pad", mod, pos)})
		}
	}
	mac, model := "805ec0aabb01", "T54W"
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: &mac, Model: &model, Accounts: &exts, Keys: &keys}, "test"); err != nil {
		t.Fatal(err)
	}
	secret := []byte(passwords[0])

	// The TFTP transfer, one ACK every few milliseconds.
	c := looptest.DialTFTP(t, conn.LocalAddr().String())
	c.Send(t, looptest.RRQ(mac+".cfg", "octet"))
	var got []byte
	var httpBody []byte
	begin := time.Now()
	blocks := 0
	for block := uint16(1); ; block++ {
		payload := c.Data(t, block)
		got = append(got, payload...)
		blocks++
		if block == 40 {
			// Long after the lease lapsed, an HTTP fetch of the same file.
			if d := time.Since(begin); d < 2*lease {
				time.Sleep(2*lease - d)
			}
			req, _ := http.NewRequest("GET", web.URL+"/prov/"+mac+".cfg", nil)
			req.Header.Set("User-Agent", yealinkUA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			httpBody, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("HTTP fetch during the transfer: %d", resp.StatusCode)
			}
		}
		time.Sleep(5 * time.Millisecond) // a slow phone
		c.Send(t, looptest.ACK(block))
		if len(payload) < 512 {
			break
		}
	}
	took := time.Since(begin)
	t.Logf("TFTP: %d bytes in %d blocks over %v (lease %v)", len(got), blocks, took, lease)
	if blocks < 200 || took < 2*lease {
		t.Fatalf("the transfer (%d blocks, %v) does not outlive the lease %v", blocks, took, lease)
	}
	tftpHas, httpHas := bytes.Contains(got, secret), bytes.Contains(httpBody, secret)
	if !tftpHas || httpHas {
		t.Fatalf("secrets in the TFTP transfer: %v, in the HTTP fetch in its middle: %v; want the TFTP one only", tftpHas, httpHas)
	}
	for _, pw := range passwords {
		if bytes.Contains(httpBody, []byte(pw)) || !bytes.Contains(got, []byte(pw)) {
			t.Fatalf("password of one account in the wrong transfer")
		}
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		d, err := inv.Device(ctx, mac)
		if err != nil {
			return false, err.Error()
		}
		return d.Disclosure.State == autoprov.DisclosureConsumed && d.Disclosure.Complete != nil && *d.Disclosure.Complete,
			fmt.Sprintf("disclosure %s, complete %v", d.Disclosure.State, d.Disclosure.Complete)
	}, "the window is not consumed with a complete transfer")
	for _, pw := range passwords {
		if bytes.Contains([]byte(log.String()), []byte(pw)) {
			t.Fatal("a password is in the log")
		}
	}
}
