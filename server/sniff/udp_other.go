//go:build !linux

package sniff

import (
	"errors"
	"net"
)

// OpenUDP is implemented on Linux only (AF_PACKET).
func OpenUDP(names []string, dst *net.UDPAddr) (*UDPCapture, error) {
	return nil, errors.New("capturing UDP is implemented on Linux only")
}
