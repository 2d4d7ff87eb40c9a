//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package store

import "sync"

// fileLocks stands in for flock where the system has none: it serializes
// the migrations of the Stores of this process only. Start a single
// instance first when several share a new SQLite file there.
var fileLocks sync.Mutex

// lockFile serializes migrations within this process (no flock here).
func lockFile(string) (unlockFunc, error) {
	fileLocks.Lock()
	return fileLocks.Unlock, nil
}
