package sippnp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netnstest"
	"github.com/autoprov/autoprov/server/sniff"
	"github.com/autoprov/autoprov/vendors"
)

// besideRoleEnv marks the test binary re-executed as the responder in the
// server's namespace; besideHoldEnv says what holds 0.0.0.0:5060 there
// besides kamailio ("plain": a socket of the child without SO_REUSEADDR);
// besideDelayEnv says how long the responder holds each answer back: a
// duration, or "signal": until the test writes a line to its stdin.
const (
	besideRoleEnv  = "SIPPNP_BESIDE_ROLE"
	besideHoldEnv  = "SIPPNP_BESIDE_HOLD"
	besideDelayEnv = "SIPPNP_BESIDE_DELAY"
)

// PhoneShape is one vendor's SUBSCRIBE for sipp (testdata/subscribe_*.txt),
// the port it sends from, and the URL our NOTIFY must carry.
type phoneShape struct {
	vendor, file string
	port         int
	url          string // a regexp
}

// besideShapes are the Yealink, Snom and Gigaset shapes of the reference.
func besideShapes(base string) []phoneShape {
	q := regexp.QuoteMeta(base)
	return []phoneShape{
		{"yealink", "subscribe_yealink.txt", 5059, q + "/prov/"},
		{"snom", "subscribe_snom.txt", 5060, q + `/prov/\{mac\}\.xml`},
		{"gigaset", "subscribe_gigaset.txt", 5060, q + "/prov/"},
	}
}

// PlayPhone runs sipp in namespace ns from ip as one phone shape against
// the group, with testdata/pnp_beside_pbx_uac.xml; it returns sipp's
// output and logs, and its error.
func playPhone(t *testing.T, dir, ns, ip string, p phoneShape) (string, error) {
	t.Helper()
	bin := sippBinary(t)
	scen, err := os.ReadFile(filepath.Join(dir, "pnp_beside_pbx_uac.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := os.ReadFile(filepath.Join(dir, p.file))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	quoted := strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;").Replace(p.url)
	s := strings.Replace(string(scen), "@SUBSCRIBE@", strings.TrimRight(string(sub), "\n"), 1)
	s = strings.Replace(s, "@WANT_URL@", quoted, 1)
	file := filepath.Join(work, "uac.xml")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, bin, "-sf", file, "-m", "1", "-l", "1", "-i", ip,
		"-p", fmt.Sprint(p.port), "-t", "u1", "-nostdin", "-timeout", "20s", "-timeout_error", "-recv_timeout", "10000",
		"-trace_err", "-error_file", filepath.Join(work, "errors.log"), "-trace_logs", "-log_file", filepath.Join(work, "actions.log"),
		"224.0.1.75:5060")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	for _, f := range []string{"errors.log", "actions.log"} {
		if b, rerr := os.ReadFile(filepath.Join(work, f)); rerr == nil {
			out = append(out, b...)
		}
	}
	return string(out), err
}

// kamailioSilence is the route block README.md gives to keep kamailio
// from answering the plug-and-play SUBSCRIBEs (autoprov answers them).
const kamailioSilence = `	if (is_method("SUBSCRIBE") && $hdr(Event) =~ "^ua-profile") {
		exit;
	}`

// TestBesideSIPServer runs the responder (Listen in auto mode, with
// server/sniff's capture) in a "server" namespace beside, in turn,
// Debian's kamailio on 0.0.0.0:5060 (shared mode: kamailio answers 403
// Not relaying, and the responder holds its answer back until kamailio
// has logged that it sent the 403, so the 403 reaches the phone first
// however loaded the machine), kamailio with the README's silencing route
// (shared, no 403; the responder answers 300 ms late, so that a 403 would
// have come first), a plain socket on 0.0.0.0:5060 without SO_REUSEADDR
// (capture mode) and nothing (shared); sipp plays a Yealink, a Snom and a
// Gigaset from a "phone" namespace across a veth pair, and must get our
// NOTIFY with the right URL every time. Needs root, iproute2, sipp and
// kamailio; skipped without them except in CI.
func TestBesideSIPServer(t *testing.T) {
	if os.Getenv(besideRoleEnv) == "responder" {
		besideResponder(t)
		return
	}
	netnstest.Require(t)
	sippBinary(t)
	netnstest.RequireKamailio(t)
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name, holder, first, wantMode string
		delay                         string // besideDelayEnv
		want403                       bool
	}{
		{name: "kamailio", holder: "kamailio", wantMode: ModeShared, delay: "signal", want403: true},
		{name: "kamailio silenced", holder: "kamailio", first: kamailioSilence, wantMode: ModeShared, delay: "300ms"},
		{name: "plain socket", holder: "plain", wantMode: ModeCapture},
		{name: "nothing", holder: "", wantMode: ModeShared},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsS := netnstest.New(t, fmt.Sprintf("bs%d", i))
			nsP := netnstest.New(t, fmt.Sprintf("bp%d", i))
			netnstest.Veth(t, nsS, "pbx0", "10.77.0.1/24", nsP, "ph0", "10.77.0.2/24")
			var k *netnstest.Kamailio
			if tc.holder == "kamailio" {
				k = netnstest.StartKamailio(t, nsS, netnstest.KamailioConfig(tc.first))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			child := netnstest.Child(ctx, nsS, "TestBesideSIPServer", besideRoleEnv+"=responder",
				besideHoldEnv+"="+tc.holder, besideDelayEnv+"="+tc.delay)
			stdin, err := child.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			pr, pw := io.Pipe()
			child.Stdout, child.Stderr = pw, pw
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			mode := make(chan string, 1)
			copied := make(chan struct{})
			go func() {
				defer close(copied)
				sc := bufio.NewScanner(pr)
				sent := false
				for sc.Scan() {
					log.WriteString(sc.Text() + "\n")
					if m := regexp.MustCompile(`RESPONDER READY mode=(\w+)`).FindStringSubmatch(sc.Text()); m != nil && !sent {
						sent = true
						mode <- m[1]
					}
				}
				if !sent {
					mode <- ""
				}
			}()
			finish := func() string {
				stdin.Close()
				err := child.Wait()
				pw.Close()
				<-copied
				if err != nil || !strings.Contains(log.String(), "--- PASS: TestBesideSIPServer") {
					t.Errorf("responder: %v", err)
				}
				return log.String()
			}
			if got := <-mode; got != tc.wantMode {
				t.Fatalf("mode %q, want %q:\n%s", got, tc.wantMode, finish())
			}
			for _, p := range besideShapes("http://10.77.0.1:8080") {
				released := make(chan struct{})
				if tc.delay == "signal" {
					// The responder answers once kamailio has sent its 403
					// to this phone's SUBSCRIBE (the next one it logs).
					go releaseAfter403(t, k, stdin, released)
				} else {
					close(released)
				}
				out, err := playPhone(t, testdata, nsP, "10.77.0.2", p)
				<-released
				if err != nil {
					t.Errorf("%s: sipp failed: %v\n%s", p.vendor, err, out)
					continue
				}
				got403 := strings.Contains(out, "PBX ANSWERED 403")
				if tc.want403 && !strings.Contains(out, "PBX ANSWERED 403 before our 200 OK") {
					t.Errorf("%s: kamailio's 403 did not reach the phone before our answer:\n%s", p.vendor, out)
				}
				if !tc.want403 && got403 {
					t.Errorf("%s: the phone got a 403:\n%s", p.vendor, out)
				}
				if !strings.Contains(out, "NOTIFY BODY http://10.77.0.1:8080/prov/") {
					t.Errorf("%s: no NOTIFY body in sipp's log:\n%s", p.vendor, out)
				}
			}
			if k != nil {
				// kamailio got every SUBSCRIBE: silence is the route's doing.
				if n := strings.Count(k.Log(), "autoprov-test: SUBSCRIBE from 10.77.0.2"); n < 3 {
					t.Errorf("kamailio saw %d SUBSCRIBEs:\n%s", n, k.Log())
				}
			}
			out := finish()
			t.Logf("responder:\n%s", out)
			for _, mac := range []string{"001565f4f9e1", "000413a1b2c3", "7c2f80e0d8e4"} {
				if !regexp.MustCompile(`phone accepted the provisioning URL".* mac=` + mac).MatchString(out) {
					t.Errorf("the responder did not see the %s accept our NOTIFY", mac)
				}
			}
		})
	}
}

// releaseAfter403 waits until kamailio logs one more 403 sent than it
// had logged when called, then writes a line to the responder's stdin,
// which lets it answer; it closes released when done. It gives up after
// 30 s (the test then fails on the order of the answers).
func releaseAfter403(t *testing.T, k *netnstest.Kamailio, stdin io.Writer, released chan<- struct{}) {
	defer close(released)
	const sent = "autoprov-test: answered 403 to 10.77.0.2:"
	before := strings.Count(k.Log(), sent)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(k.Log(), sent) == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Errorf("releasing the responder: %v", err)
	}
}

// slowRecorder answers like fakeRecorder, late: after delay, or when
// release is not nil, once a value comes on it (at most 30 s), so that a
// SIP server's answer reaches the phone before ours.
type slowRecorder struct {
	delay   time.Duration
	release <-chan struct{}
	base    string
}

func (r slowRecorder) Discovered(ctx context.Context, req vendors.Request) (string, error) {
	if r.release != nil {
		select {
		case <-r.release:
		case <-time.After(30 * time.Second):
		}
	}
	time.Sleep(r.delay)
	if strings.HasPrefix(req.MAC, "000413") {
		return r.base + "/prov/{mac}.xml", nil
	}
	return r.base + "/prov/", nil
}

// besideResponder runs in the server's namespace until stdin closes.
func besideResponder(t *testing.T) {
	if os.Getenv(besideHoldEnv) == "plain" {
		pbx, err := net.ListenPacket("udp4", "0.0.0.0:5060") // no SO_REUSEADDR
		if err != nil {
			t.Fatal(err)
		}
		defer pbx.Close()
	}
	// Each line on stdin releases one answer; its end stops the responder.
	lines, eof := make(chan struct{}, 16), make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- struct{}{}
		}
	}()
	rec := slowRecorder{base: "http://10.77.0.1:8080"}
	if d := os.Getenv(besideDelayEnv); d == "signal" {
		rec.release = lines
	} else {
		rec.delay, _ = time.ParseDuration(d)
	}
	lc := ListenConfig{Capture: func(ifs []string, dst *net.UDPAddr) (Receiver, error) {
		c, err := sniff.OpenUDP(ifs, dst)
		if err != nil {
			return nil, err
		}
		return c, nil
	}}
	conns, err := lc.Listen(Group, "pbx0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuf{}
	s := New(Config{Recorder: rec, Log: slogTo(logs)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, conns) }()
	fmt.Printf("why: %s\nRESPONDER READY mode=%s\n", conns.Why, conns.Mode)
	<-eof // until the test closes stdin
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	fmt.Print(logs.String())
}
