//go:build linux

package netnstest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Veth links namespace nsA (interface ifA, address addrA in CIDR form)
// and nsB (ifB, addrB) with a veth pair, brings both ends and both
// loopbacks up, and routes the multicast range 224.0.0.0/4 over the pair
// on both sides (a namespace has no default route, so without it a
// datagram to 224.0.1.75 has no way out).
func Veth(t testing.TB, nsA, ifA, addrA, nsB, ifB, addrB string) {
	t.Helper()
	IP(t, "-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", nsB)
	for _, s := range [][3]string{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		IP(t, "-n", s[0], "link", "set", "lo", "up")
		IP(t, "-n", s[0], "addr", "add", s[2], "dev", s[1])
		IP(t, "-n", s[0], "link", "set", s[1], "up")
		IP(t, "-n", s[0], "route", "add", "224.0.0.0/4", "dev", s[1])
	}
}

// Kamailio is a kamailio process in a namespace.
type Kamailio struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Log is what kamailio wrote so far (it logs to stderr).
func (k *Kamailio) Log() string { return k.out.String() }

// RequireKamailio returns the path of Debian's kamailio; without it the
// test is skipped, or fails when CI is set (.ci/run installs it).
func RequireKamailio(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/kamailio"); serr == nil {
			return "/usr/sbin/kamailio"
		}
		if os.Getenv("CI") != "" {
			t.Fatal("kamailio missing in CI: .ci/run must install it")
		}
		t.Skip("kamailio not installed (apt-get install kamailio)")
	}
	return bin
}

// KamailioConfig is a minimal kamailio.cfg: UDP on 0.0.0.0:5060 (the way
// a SIP server on a phone system's host listens), and a request route
// that runs first (empty: none), then answers a request for another
// domain "403 Not relaying", as kamailio's default configuration does,
// and any other "404 Not here".
func KamailioConfig(first string) string {
	mods, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	mpath := "/usr/lib/x86_64-linux-gnu/kamailio/modules"
	if len(mods) > 0 {
		mpath = mods[0]
	}
	return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:0.0.0.0:5060
mpath="` + mpath + `/"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "xlog.so"
request_route {
	xlog("L_NOTICE", "autoprov-test: $rm from $si:$sp to $Ri:$Rp\n");
` + first + `
	if (uri!=myself) {
		sl_send_reply("403", "Not relaying");
		xlog("L_NOTICE", "autoprov-test: answered 403 to $si:$sp\n");
		exit;
	}
	sl_send_reply("404", "Not here");
}
`
}

// StartKamailio starts kamailio in namespace ns, in the foreground (-DD
// -E: it logs to stderr) with config cfg, its pid file and runtime
// directory in a temporary directory, and waits until it holds UDP
// 0.0.0.0:5060. It is stopped when the test ends.
func StartKamailio(t testing.TB, ns, cfg string) *Kamailio {
	t.Helper()
	bin := RequireKamailio(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &Kamailio{out: &lockedBuffer{}, done: make(chan struct{})}
	k.cmd = exec.Command("ip", "netns", "exec", ns, bin, "-f", file, "-DD", "-E", "-P", filepath.Join(dir, "kamailio.pid"),
		"-Y", dir, "-w", dir)
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kamailio's children go with it
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = k.cmd.Wait(); close(k.done) }()
	t.Cleanup(func() { k.Stop(t) })
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hlun", "sport", "=", ":5060").Output()
		if strings.Contains(string(out), "0.0.0.0:5060") {
			return k
		}
		select {
		case <-k.done:
			t.Fatalf("kamailio exited:\n%s", k.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kamailio does not hold 0.0.0.0:5060 after 15 s:\n%s", k.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends kamailio (SIGTERM to its process group, SIGKILL after 5 s)
// and waits for it.
func (k *Kamailio) Stop(t testing.TB) {
	select {
	case <-k.done:
		return
	default:
	}
	pgid := k.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case <-k.done:
	case <-ctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-k.done
	}
}
