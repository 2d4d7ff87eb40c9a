//go:build !unix

package main

import "errors"

// errServerRunning: see runlock_unix.go.
var errServerRunning = errors.New("a server (or a restore) is running on this data directory")

// lockData does nothing where there is no flock: restore cannot tell a
// running server there.
func lockData(string, bool) (func(), error) { return func() {}, nil }
