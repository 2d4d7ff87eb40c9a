package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// secureDataDir makes the data directory private before anything is
// written to it: the process umask becomes 077, so every file it creates
// is 0600 and every directory 0700; the directory is created 0700 if
// missing; and whatever existed before is fixed: a directory others can
// read or enter, or a file others can read (a database, its -wal and -shm,
// admin-token, secret.key, tls/*), loses those bits, and the fix is
// logged. A data directory whose mode cannot be fixed stops start-up with
// a message naming --data.
func secureDataDir(dir string, log *slog.Logger) error {
	restrictUmask()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory %s (--data): %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory %s (--data): %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("data directory %s (--data) is not a directory", dir)
	}
	var fixed []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // not ours to change; the walk does not follow it
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := info.Mode().Perm()
		if perm&0o077 == 0 {
			return nil
		}
		want := perm &^ 0o077
		if err := os.Chmod(path, want); err != nil {
			if path == dir {
				return fmt.Errorf("it is readable by others (mode %04o) and its mode cannot be changed: %v; make it private (chmod 700 %s) or choose another --data", perm, err, dir)
			}
			return fmt.Errorf("%s is readable by others (mode %04o) and its mode cannot be changed: %v", path, perm, err)
		}
		fixed = append(fixed, fmt.Sprintf("%s (%04o -> %04o)", path, perm, want))
		return nil
	})
	if err != nil {
		return fmt.Errorf("data directory %s (--data): %w", dir, err)
	}
	if len(fixed) > 0 {
		log.Warn("data directory was readable by others: modes fixed", "data", dir, "count", len(fixed), "fixed", fixed)
	}
	return nil
}
