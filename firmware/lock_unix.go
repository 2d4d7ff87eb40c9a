//go:build unix

package firmware

import (
	"os"
	"syscall"
)

// holdTemp takes an exclusive lock on an upload's temporary file for as
// long as it is open, so a starting process (sweep) can tell an upload in
// progress in another process from one a crash left behind.
func holdTemp(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// tempAbandoned reports whether no process holds the temporary file at p.
func tempAbandoned(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
