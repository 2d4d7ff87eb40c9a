package looptest

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"syscall"
)

// claims holds the listeners that claim this process's ports, open until
// it exits.
var claims struct {
	sync.Mutex
	held []net.Listener
}

// claimPort claims p for this process among all the processes on the
// machine (in its network namespace, as its ports are): a Unix socket
// bound to an abstract name made of p, which only one process can hold
// and the kernel lets go when that process exits. Two test binaries that
// go test runs at once thus never hand out the same port: one would fail
// to bind it, or talk to the other's server. false when another process
// holds p; true, claiming nothing, when the socket cannot be made at all
// (FreePort is then unique per process only).
func claimPort(p int) bool {
	l, err := net.Listen("unix", "@autoprov-looptest-port-"+strconv.Itoa(p))
	if err != nil {
		return !isAddrInUse(err)
	}
	claims.Lock()
	claims.held = append(claims.held, l)
	claims.Unlock()
	return true
}

// isAddrInUse reports whether err is EADDRINUSE.
func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
