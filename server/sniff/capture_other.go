//go:build !linux

package sniff

import "errors"

// Supported reports whether capture works on this OS.
const Supported = false

// Open is implemented on Linux only (AF_PACKET).
func Open(names string) (*Capture, error) {
	return nil, errors.New("the passive DHCP sniffer is implemented on Linux only")
}
