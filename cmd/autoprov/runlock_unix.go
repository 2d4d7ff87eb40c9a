//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// runLockName is the file in the data directory that a running server
// holds a shared lock on, and restore an exclusive one.
const runLockName = "autoprov.lock"

// errServerRunning is what restore says while a server holds the data
// directory, and what a server says while a restore runs.
var errServerRunning = errors.New("a server (or a restore) is running on this data directory")

// lockData takes the run lock of the data directory: shared for a
// server (several may run on one directory), exclusive for restore. It
// never waits: a lock held the other way is errServerRunning. The lock
// lasts until release is called or the process ends.
func lockData(data string, exclusive bool) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(data, runLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory %s (--data): %w", data, err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errServerRunning
		}
		return nil, fmt.Errorf("data directory %s (--data): lock %s: %w", data, f.Name(), err)
	}
	return func() { f.Close() }, nil
}
