package looptest

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestFreePort: the ports are below the ephemeral range, distinct, and
// free on the networks asked for; a port held on either network is not
// free.
func TestFreePort(t *testing.T) {
	lo, hi := portRange()
	seen := map[string]bool{}
	for i := range 300 {
		nets := [][]string{{"tcp", "udp"}, {"tcp"}, {"udp"}}[i%3]
		s := FreePort(t, nets...)
		p, err := strconv.Atoi(s)
		if err != nil || p < lo || p >= hi {
			t.Fatalf("FreePort = %q, want a port in %d..%d", s, lo, hi-1)
		}
		if seen[s] {
			t.Fatalf("FreePort handed out %s twice", s)
		}
		seen[s] = true
		if !portFree(p, nets) {
			t.Fatalf("port %s is not free on %v after FreePort", s, nets)
		}
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:"+FreePort(t, "tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:"+FreePort(t, "udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	if portFree(tcp.Addr().(*net.TCPAddr).Port, []string{"udp", "tcp"}) || portFree(udp.LocalAddr().(*net.UDPAddr).Port, []string{"tcp", "udp"}) {
		t.Fatal("a held port counts as free")
	}
}

// TestFreePortAcrossProcesses: a port FreePort handed out is not handed
// to another test binary running at the same time, though nothing
// listens on it yet (the two servers would fight over it): a child
// process (this test binary) that may pick only that port gets none.
func TestFreePortAcrossProcesses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ports are claimed across processes on Linux only")
	}
	p := FreePort(t, "tcp")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreePortChild$", "-test.v")
	cmd.Env = append(os.Environ(), "LOOPTEST_CHILD_PORT="+p)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child got no port") {
		t.Errorf("another process was handed port %s too:\n%s", p, out)
	}
}

// TestFreePortChild is TestFreePortAcrossProcesses's child: it picks a
// port from the one its parent got.
func TestFreePortChild(t *testing.T) {
	s := os.Getenv("LOOPTEST_CHILD_PORT")
	if s == "" {
		t.Skip("run by TestFreePortAcrossProcesses")
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := pickPort(p, p+1, []string{"tcp"}); ok {
		t.Logf("child got port %d", got)
	} else {
		t.Log("child got no port")
	}
}
