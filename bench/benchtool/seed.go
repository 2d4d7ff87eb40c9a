package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/autoprov/autoprov/bench"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/server/store"
)

// seed writes a data directory as autoprov would (secret.key, the SQLite
// database) holding the fleet of bench.Seed, and the phones (MAC,
// extension, SIP password) to -phones, outside the data directory.
func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	data := fs.String("data", "", "data directory to create (must not hold a database yet)")
	n := fs.Int("devices", 100000, "number of phones")
	out := fs.String("phones", "", "where to write phones.tsv (default <data>/../phones.tsv)")
	window := fs.Duration("window", 24*time.Hour, "disclosure window (settings: disclosure_window_seconds): the seed can be reused (copied) while it is open; 0: no window")
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
	start := time.Now()
	phones, err := bench.Seed(context.Background(), st, *n, *workers, *window, os.Stderr)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("seeded %d phones (account + adopted %s, window %s) in %.1f s (%.0f/s)\n", *n, bench.Model, *window, el.Seconds(), float64(*n)/el.Seconds())

	return writePhones(*out, phones)
}

// writePhones writes the seeded phones' MAC, extension and password, one
// tab-separated line each, to a new file at path (0600: it holds the
// passwords the load generators present).
func writePhones(path string, phones []bench.Phone) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, p := range phones {
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.MAC, p.Ext, p.Password)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
