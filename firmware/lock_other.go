//go:build !unix

package firmware

import "os"

// holdTemp is a no-op where flock is missing.
func holdTemp(*os.File) error { return nil }

// tempAbandoned: without flock, every temporary file at start-up is taken
// for one a crash left behind.
func tempAbandoned(string) bool { return true }
