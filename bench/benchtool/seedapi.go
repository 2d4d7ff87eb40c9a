package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov/bench"
)

// errNoBulk: the server has no POST /api/v1/bulk (exit status 3).
var errNoBulk = errors.New("the server has no POST /api/v1/bulk")

// seedAPI seeds the same fleet as seed through a running server's admin
// API: PUT /settings, then POST /api/v1/bulk with -chunk phones (their
// accounts and devices) per request, one transaction each. It checks
// first (a dry run of nothing) that the server has the bulk endpoint, and
// exits with status 3, having written nothing, when it has not; the
// scripts then seed through the store (seed) instead.
func seedAPI(args []string) error {
	fs := flag.NewFlagSet("seed-api", flag.ExitOnError)
	base := fs.String("url", "", "server base URL, e.g. http://127.0.0.1:8080")
	tokenFile := fs.String("token-file", "", "the admin token (<data>/admin-token)")
	n := fs.Int("devices", 100000, "number of phones")
	out := fs.String("phones", "", "where to write phones.tsv")
	window := fs.Duration("window", 24*time.Hour, "disclosure window (settings: disclosure_window_seconds)")
	chunk := fs.Int("chunk", 10000, "phones per bulk request")
	inflight := fs.Int("inflight", 1, "bulk requests sent at once (each its own transaction; 2 lets the server check one while it writes another)")
	fs.Parse(args)
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		return err
	}
	token := strings.TrimSpace(string(tok))
	call := func(method, path string, body any) error {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return err
			}
		}
		req, err := http.NewRequest(method, strings.TrimSuffix(*base, "/")+"/api/v1"+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		switch {
		case resp.StatusCode == http.StatusNotFound && strings.HasPrefix(path, "/bulk"):
			return errNoBulk
		case resp.StatusCode/100 != 2:
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, msg)
		}
		return nil
	}
	type obj = map[string]any
	if err := call("POST", "/bulk?dry_run=true", obj{"accounts": []obj{}, "devices": []obj{}}); err != nil {
		if errors.Is(err, errNoBulk) {
			fmt.Fprintln(os.Stderr, "seed-api:", err)
			os.Exit(3)
		}
		return err
	}
	if err := call("PUT", "/settings", obj{"sip_server": "pbx.example.com", "ntp_server": "pool.ntp.org", "timezone": "Europe/Berlin",
		"language": "de", "disclosure_window_seconds": int(window.Seconds())}); err != nil {
		return err
	}
	phones := make([]phone, *n)
	for i := range phones {
		phones[i] = phone{MAC: bench.MAC(i), Ext: fmt.Sprint(100000 + i), Password: "bench-" + rand.Text()[:16]}
	}
	// The next request's body is made while the server works on the
	// current one: the client's JSON encoding is not counted in the
	// server's time (the server waited for it, one request after another).
	bodies := make(chan []byte, 1)
	encErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	start := time.Now()
	go func() {
		defer close(bodies)
		for lo := 0; lo < len(phones); lo += *chunk {
			var accounts, devices []obj
			for _, p := range phones[lo:min(lo+*chunk, len(phones))] {
				accounts = append(accounts, obj{"extension": p.Ext, "display_name": "User " + p.Ext, "password": p.Password})
				devices = append(devices, obj{"mac": p.MAC, "model": bench.Model, "label": "Desk " + p.Ext, "accounts": []string{p.Ext}})
			}
			b, err := json.Marshal(obj{"accounts": accounts, "devices": devices})
			if err != nil {
				encErr <- err
				return
			}
			select {
			case bodies <- b:
			case <-done:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	callErr := make(chan error, max(*inflight, 1))
	for range max(*inflight, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range bodies {
				if err := call("POST", "/bulk", b); err != nil {
					callErr <- err
					for range bodies { // drain: the encoder stops at done
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-callErr:
		return err
	default:
	}
	select {
	case err := <-encErr:
		return err
	default:
	}
	el := time.Since(start)
	fmt.Printf("seeded %d phones through POST /api/v1/bulk (account + adopted %s, window %s) in %.1f s (%.0f/s)\n", *n, bench.Model, *window, el.Seconds(), float64(*n)/el.Seconds())
	return writePhones(*out, phones)
}

// tftpAllow sets tftp_allowed on the first -n phones through the admin
// API (PATCH /api/v1/devices/{mac}), as an admin does for phones that
// fetch over TFTP: once a phone's credential is required, TFTP (which
// cannot present one) gets its per-device file only with it.
func tftpAllow(args []string) error {
	fs := flag.NewFlagSet("tftp-allow", flag.ExitOnError)
	base := fs.String("url", "", "server base URL, e.g. http://127.0.0.1:8080")
	tokenFile := fs.String("token-file", "", "the admin token (<data>/admin-token)")
	phonesFile := fs.String("phones", "", "phones.tsv")
	n := fs.Int("n", 1000, "phones")
	fs.Parse(args)
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		return err
	}
	phones, err := readPhones(*phonesFile)
	if err != nil {
		return err
	}
	phones = phones[:min(*n, len(phones))]
	client := pooledClient(8)
	failed := runPhones(len(phones), 8, func(i int) error {
		req, err := http.NewRequest("PATCH", strings.TrimSuffix(*base, "/")+"/api/v1/devices/"+phones[i].MAC, strings.NewReader(`{"tftp_allowed":true}`))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("PATCH %s: %d", phones[i].MAC, resp.StatusCode)
		}
		return nil
	})
	if failed > 0 {
		return fmt.Errorf("%d phones failed", failed)
	}
	return nil
}
