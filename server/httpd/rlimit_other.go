//go:build !unix

package httpd

// openFileLimit: no RLIMIT_NOFILE here.
func openFileLimit() (int64, bool) { return 0, false }
