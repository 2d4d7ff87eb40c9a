package sealed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File is a keyring kept in a file (one key per line, mode 0600). It is a
// Source: Refresh re-reads the file when its size, modification time or
// inode changed (a rotation replaced it), keeping the last good keyring
// if the new one does not parse. Safe for concurrent use.
type File struct {
	path string

	mu   sync.Mutex
	ring *Keyring
	stat os.FileInfo
}

// LoadFile reads the keyring file at path; it must exist and hold a key.
func LoadFile(path string) (*File, error) {
	f := &File{path: path}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	ring, err := readRing(path)
	if err != nil {
		return nil, err
	}
	f.ring, f.stat = ring, st
	return f, nil
}

// LoadOrCreateFile reads the keyring file at path, or, when there is none,
// writes one holding a fresh key (mode 0600). created tells which.
func LoadOrCreateFile(path string) (f *File, created bool, err error) {
	f, err = LoadFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return f, false, err
	}
	if err := WriteFile(path, Generate()); err != nil {
		return nil, false, err
	}
	f, err = LoadFile(path)
	return f, err == nil, err
}

func readRing(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ring, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ring, nil
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Ring returns the keyring as last read.
func (f *File) Ring() *Keyring {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ring
}

// Refresh re-reads the file if it changed since it was last read and
// returns the keyring.
func (f *File) Refresh() *Keyring {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil || (os.SameFile(st, f.stat) && st.Size() == f.stat.Size() && st.ModTime().Equal(f.stat.ModTime())) {
		return f.ring
	}
	if ring, err := readRing(f.path); err == nil {
		f.ring, f.stat = ring, st
	}
	return f.ring
}

// WriteFile writes k to path atomically (a temporary file in the same
// directory, synced, renamed over it), mode 0600.
func WriteFile(path string, k *Keyring) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".secret.key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(k.Encode()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A rename within one second may leave size and mtime unchanged on
	// coarse file systems; the new inode tells Refresh all the same.
	now := time.Now()
	os.Chtimes(tmp.Name(), now, now)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
