//go:build unix

package httpd

import (
	"math"
	"syscall"
)

// openFileLimit is the process's soft limit on open files (RLIMIT_NOFILE).
func openFileLimit() (int64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	cur := uint64(rl.Cur) //nolint:unconvert // int64 on some systems
	if cur > math.MaxInt32 {
		cur = math.MaxInt32 // RLIM_INFINITY
	}
	return int64(cur), true
}
