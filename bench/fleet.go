// Package bench holds benchmarks of autoprov: `go test -bench` ones over
// loopback and in process, and the scripts (steady.sh, storm.sh, tftp.sh,
// run-all.sh) that run the real binary beside nginx and in.tftpd, with
// their Go half in bench/benchtool. This file is the fleet they share:
// how it is seeded and what its phones send. See README.md for how to run
// each and the figures measured.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// The fleet: adopted Yealink T54W, MAC 80:5e:c0 + the phone's index, one
// account each (extension 100000 + index). Their common file is the T54W's.
const (
	Model      = "T54W"
	CommonFile = "y000000000096.cfg"
	macPrefix  = "805ec0"
)

// Phone is one seeded phone: MAC (12 lower-case hex digits), extension
// and SIP password (what must leave the server once).
type Phone struct {
	MAC, Ext, Password string
}

// MAC is the MAC of the i-th seeded phone.
func MAC(i int) string { return fmt.Sprintf("%s%06x", macPrefix, i) }

// UserAgent is what a T54W sends: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33".
func UserAgent(mac string) string {
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(mac[i : i+2])
	}
	return "Yealink SIP-T54W 96.86.0.100 " + b.String()
}

// DeviceFile is the name of a phone's per-device file.
func DeviceFile(mac string) string { return mac + ".cfg" }

// Seed fills an empty store with n phones: the settings (with window as
// the disclosure window), then for each phone its account and the device
// carrying it. Phone 0 goes through the core's Inventory (validation,
// generated menu and web passwords, audit rows, the window); the others
// are written as the core wrote it, with their own MAC, account and
// passwords, straight through the store (the same rows and the same
// transaction per device, without the core's reads around each write),
// workers at a time. With window > 0 every phone's disclosure window is
// open; with 0, none is (phone 0's is opened by the core and ended at
// once): the phones are served without secrets and never get a
// credential. progress, when not nil, gets a line every 10,000.
func Seed(ctx context.Context, st *store.Store, n, workers int, window time.Duration, progress io.Writer) ([]Phone, error) {
	reg, err := all.Registry("")
	if err != nil {
		return nil, err
	}
	_, inv := provision.New(provision.Options{Registry: reg, Log: slog.New(slog.DiscardHandler)}, st)
	s := func(v string) *string { return &v }
	settings := autoprov.SettingsPatch{SIPServer: s("pbx.example.com"), NTPServer: s("pool.ntp.org"),
		Timezone: s("Europe/Berlin"), Language: s("de")}
	if window > 0 {
		secs := int(window.Seconds())
		settings.DisclosureWindowSeconds = &secs
	}
	if _, err := inv.PutSettings(ctx, settings, "bench"); err != nil {
		return nil, err
	}
	phones := make([]Phone, n)
	for i := range phones {
		phones[i] = Phone{MAC: MAC(i), Ext: fmt.Sprint(100000 + i), Password: "bench-" + rand.Text()[:16]}
	}
	if n == 0 {
		return phones, nil
	}
	p0 := phones[0]
	if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: s(p0.Ext), DisplayName: s("User " + p0.Ext), Password: s(p0.Password)}, "bench"); err != nil {
		return nil, fmt.Errorf("account %s: %w", p0.Ext, err)
	}
	tmpl, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: s(p0.MAC), Model: s(Model), Label: s("Desk " + p0.Ext), Accounts: &[]string{p0.Ext}}, "bench")
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", p0.MAC, err)
	}
	if window == 0 { // the core opened phone 0's window with its default length: end it
		if _, err := st.ExpireDue(ctx, time.Now().Add(8*24*time.Hour)); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	var next, done atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
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
					MenuPassword: provision.GeneratePIN(len(tmpl.MenuPassword)), WebPassword: provision.GeneratePassword(len(tmpl.WebPassword))}
				w := autoprov.DeviceWrite{Device: d, Create: true, At: now, Actor: "bench", Window: window,
					Audit: []autoprov.AuditEvent{{At: now, MAC: p.MAC, Event: autoprov.EventDeviceCreated, Actor: "bench",
						Detail: d.Vendor + " " + d.Model + ", accounts " + p.Ext}}}
				if err := st.WriteDevice(ctx, w); err != nil {
					errs <- fmt.Errorf("device %s: %w", p.MAC, err)
					return
				}
				if d := done.Add(1); d%10000 == 0 && progress != nil {
					fmt.Fprintf(progress, "seed: %d phones, %.0f/s\n", d, float64(d)/time.Since(start).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return phones, nil
}
