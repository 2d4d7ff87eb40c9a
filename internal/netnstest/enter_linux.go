//go:build linux

package netnstest

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread that has entered the network namespace ns
// (one New made) and fails the test when f fails. Sockets f opens belong
// to ns for good and may be used from any goroutine once Do returns; the
// rest of the test stays in its own namespace. So one test process can
// capture in one namespace, send from another and talk to its servers on
// loopback, with every counter in reach. f must not call t.Fatal (it runs
// on another goroutine): it returns an error instead.
func Do(t testing.TB, ns string, f func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		// The thread is unlocked only once it is back in its own
		// namespace; otherwise the runtime ends it with this goroutine.
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer own.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter: %w", err)
			return
		}
		ferr := f()
		if err := setns(own); err != nil {
			errc <- fmt.Errorf("back to the test's namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	if err := <-errc; err != nil {
		t.Fatalf("in network namespace %s: %v", ns, err)
	}
}

// setns moves the calling thread into the network namespace of f.
func setns(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }
