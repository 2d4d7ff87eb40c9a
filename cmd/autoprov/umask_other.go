//go:build !unix

package main

// restrictUmask does nothing where there is no umask; secureDataDir still
// fixes the modes at start.
func restrictUmask() {}
