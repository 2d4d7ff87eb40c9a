//go:build !linux

package sippnp

import (
	"errors"
	"net"
)

// listenGroup is implemented on Linux only; elsewhere give --pnp a
// unicast address.
func listenGroup(group *net.UDPAddr, ifis []net.Interface, strict bool) (net.PacketConn, []string, []string, error) {
	return nil, nil, nil, errors.New("the multicast plug-and-play listener is implemented on Linux only")
}

// joinSocket is implemented on Linux only.
func joinSocket(group *net.UDPAddr, ifis []net.Interface, strict bool) (net.PacketConn, []string, []string, error) {
	return nil, nil, nil, errors.New("the multicast plug-and-play listener is implemented on Linux only")
}

// holders is implemented on Linux only.
func holders(group *net.UDPAddr) []string { return nil }
