// Package netnstest gives tests their own network namespaces (Linux,
// iproute2, root), so tests of broadcast, multicast and raw capture send
// nothing outside hosts the test made itself. A test re-executes its own
// binary inside a namespace with Child.
package netnstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require returns the path of ip(8). Without root or iproute2 it skips the
// test, or fails it when CI is set, where the environment must provide them.
func Require(t testing.TB) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") != "" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("needs root to create network namespaces")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		skip("needs ip (iproute2)")
	}
	return ip
}

// IP runs `ip args...` and fails the test on an error.
func IP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// New creates a network namespace named autoprov-<name>-<pid>, deleted
// when the test ends, and returns its name.
func New(t testing.TB, name string) string {
	t.Helper()
	ns := fmt.Sprintf("autoprov-%s-%d", name, os.Getpid())
	IP(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}

// Child returns a command that runs the test binary's test named test
// inside namespace ns, with the extra environment entries env (which is
// how the child knows its role).
func Child(ctx context.Context, ns, test string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
