package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// seed writes a data directory as autoprov would: secret.key and the
// SQLite database, with the settings, one account per phone and one
// adopted T54W per account, created through the core's Inventory (the
// same validation, generated menu and web passwords, audit rows and
// disclosure windows as the API), so each phone's window is open. The
// phones (MAC, extension, SIP password) go to -phones, outside the data
// directory.
func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	data := fs.String("data", "", "data directory to create (must not hold a database yet)")
	n := fs.Int("devices", 100000, "number of phones")
	out := fs.String("phones", "", "where to write phones.tsv (default <data>/../phones.tsv)")
	window := fs.Duration("window", 24*time.Hour, "disclosure window (settings: disclosure_window_seconds): the seed can be reused (copied) while it is open")
	workers := fs.Int("workers", 2, "concurrent writers")
	fs.Parse(args)
	if *data == "" {
		return errors.New("-data is required")
	}
	if *out == "" {
		*out = filepath.Join(filepath.Dir(filepath.Clean(*data)), "phones.tsv")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	db := filepath.Join(*data, "autoprov.db")
	if _, err := os.Stat(db); err == nil {
		return fmt.Errorf("%s exists", db)
	}
	keys, _, err := sealed.LoadOrCreateFile(filepath.Join(*data, "secret.key"))
	if err != nil {
		return err
	}
	st, err := store.Open(db, store.WithKeys(keys))
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := all.Registry("")
	if err != nil {
		return err
	}
	_, inv := provision.New(provision.Options{Registry: reg, Log: slog.New(slog.DiscardHandler)}, st)
	ctx := context.Background()
	s := func(v string) *string { return &v }
	secs := int(window.Seconds())
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: s("pbx.example.com"), NTPServer: s("pool.ntp.org"),
		Timezone: s("Europe/Berlin"), Language: s("de"), DisclosureWindowSeconds: &secs}, "bench"); err != nil {
		return err
	}

	phones := make([]phone, *n)
	for i := range phones {
		phones[i] = phone{MAC: macOf(i), Ext: fmt.Sprint(100000 + i), Password: "bench-" + rand.Text()[:16]}
	}
	// Phone 0 goes through the core (validation, generated passwords,
	// audit, window); the others are written as the core wrote it, with
	// their own MAC, account and passwords, straight through the store:
	// the same rows, without the core's reads around each write.
	p0 := phones[0]
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: s(p0.Ext), DisplayName: s("User " + p0.Ext), Password: s(p0.Password)}, "bench"); err != nil {
		return fmt.Errorf("account %s: %w", p0.Ext, err)
	}
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: s(p0.MAC), Model: s(model), Label: s("Desk " + p0.Ext), Accounts: &[]string{p0.Ext}}, "bench"); err != nil {
		return fmt.Errorf("device %s: %w", p0.MAC, err)
	}
	tmpl, err := st.Device(ctx, p0.MAC)
	if err != nil {
		return err
	}
	pinLen := len(tmpl.MenuPassword)
	start := time.Now()
	var next, done atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	errs := make(chan error, *workers)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(phones) {
					return
				}
				p := phones[i]
				now := time.Now()
				if _, err := st.CreateAccount(ctx, autoprov.Account{Extension: p.Ext, DisplayName: "User " + p.Ext, AuthUser: p.Ext, Password: p.Password}); err != nil {
					errs <- fmt.Errorf("account %s: %w", p.Ext, err)
					return
				}
				d := autoprov.Device{MAC: p.MAC, Vendor: tmpl.Vendor, Model: tmpl.Model, Label: "Desk " + p.Ext, State: autoprov.StateAssigned,
					Accounts: []string{p.Ext}, Keys: []autoprov.KeySpec{},
					MenuPassword: provision.GeneratePIN(pinLen), WebPassword: provision.GeneratePassword(len(tmpl.WebPassword))}
				w := autoprov.DeviceWrite{Device: d, Create: true, At: now, Actor: "bench", Window: *window,
					Audit: []autoprov.AuditEvent{{At: now, MAC: p.MAC, Event: autoprov.EventDeviceCreated, Actor: "bench",
						Detail: d.Vendor + " " + d.Model + ", accounts " + p.Ext}}}
				if err := st.WriteDevice(ctx, w); err != nil {
					errs <- fmt.Errorf("device %s: %w", p.MAC, err)
					return
				}
				if d := done.Add(1); d%10000 == 0 {
					fmt.Fprintf(os.Stderr, "seed: %d phones, %.0f/s\n", d, float64(d)/time.Since(start).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("seeded %d phones (account + adopted %s, window open %s) in %.1f s (%.0f/s)\n", *n, model, window, el.Seconds(), float64(*n)/el.Seconds())

	f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, p := range phones {
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.MAC, p.Ext, p.Password)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
