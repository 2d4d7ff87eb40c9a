//go:build unix

package main

import "syscall"

// restrictUmask makes every file and directory the process creates
// unreadable to others (0600 and 0700 unless asked for less), whatever
// the umask it was started with.
func restrictUmask() { syscall.Umask(0o077) }
