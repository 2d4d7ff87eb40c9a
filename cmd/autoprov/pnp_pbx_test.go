//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
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
)

// pbxRoleEnv marks the test binary re-executed as a plain socket holding
// 0.0.0.0:5060 without SO_REUSEADDR (a SIP server that does not share).
const pbxRoleEnv = "AUTOPROV_PNP_PBX_ROLE"

// pnpPhone is a phone shape of server/sippnp/testdata, the port it sends
// from, the URL our NOTIFY must carry, and the file it then fetches.
type pnpPhone struct {
	vendor, file string
	port         int
	url, fetch   string
	mac, ua      string
}

// TestPnPServeBesideSIPServer is the acceptance check of plug-and-play on
// a SIP server's host, with the real server process (`autoprov serve
// --pnp 224.0.1.75:5060`) in a "server" namespace beside Debian's
// kamailio on 0.0.0.0:5060 (shared mode), beside a plain socket holding
// 0.0.0.0:5060 without SO_REUSEADDR (capture mode), and alone (shared):
// the start-up log names the mode; sipp plays a factory-fresh Yealink, Snom
// and Gigaset from a "phone" namespace across a veth pair and gets the
// NOTIFY with our URL; the phone fetches its file from that URL (curl in
// the phone's namespace) and is in the inbox with its vendor and address.
// Needs root, iproute2, sipp, curl and kamailio (skipped without, except
// in CI).
func TestPnPServeBesideSIPServer(t *testing.T) {
	if os.Getenv(pbxRoleEnv) == "hold" {
		pc, err := net.ListenPacket("udp4", "0.0.0.0:5060") // no SO_REUSEADDR
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		fmt.Println("PBX HOLDS 5060")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	netnstest.Require(t)
	netnstest.RequireKamailio(t)
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		skipOrFail(t, "sipp not installed (apt-get install sip-tester)")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		skipOrFail(t, "curl not installed")
	}
	testdata, err := filepath.Abs(filepath.Join("..", "..", "server", "sippnp", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	const base = "http://10.77.0.1:8080"
	phones := []pnpPhone{
		{"yealink", "subscribe_yealink.txt", 5059, regexp.QuoteMeta(base + "/prov/"), base + "/prov/001565f4f9e1.cfg",
			"001565f4f9e1", "Yealink W52P 25.81.0.10"},
		{"snom", "subscribe_snom.txt", 5060, regexp.QuoteMeta(base+"/prov/{mac}") + `\.xml`, base + "/prov/000413a1b2c3.xml",
			"000413a1b2c3", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33)"},
		{"gigaset", "subscribe_gigaset.txt", 5060, regexp.QuoteMeta(base + "/prov/"), base + "/prov/7C2F80E0D8E4.xml",
			"7c2f80e0d8e4", "Gigaset N870 IP PRO/83.V2.11.0+build.a546b6a;7C2F80E0D8E4"},
	}
	for i, tc := range []struct{ name, holder, mode string }{
		{"kamailio", "kamailio", "shared"},
		{"socket without SO_REUSEADDR", "plain", "capture"},
		{"nothing on 5060", "", "shared"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsS := netnstest.New(t, fmt.Sprintf("ps%d", i))
			nsP := netnstest.New(t, fmt.Sprintf("pp%d", i))
			netnstest.Veth(t, nsS, "pbx0", "10.77.0.1/24", nsP, "ph0", "10.77.0.2/24")
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			switch tc.holder {
			case "kamailio":
				netnstest.StartKamailio(t, nsS, netnstest.KamailioConfig(""))
			case "plain":
				holder := netnstest.Child(ctx, nsS, "TestPnPServeBesideSIPServer", pbxRoleEnv+"=hold")
				stdin, err := holder.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				out, err := holder.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := holder.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { stdin.Close(); _ = holder.Wait() })
				sc := bufio.NewScanner(out)
				for sc.Scan() && !strings.Contains(sc.Text(), "PBX HOLDS 5060") {
				}
				go func() { _, _ = io.Copy(io.Discard, out) }()
			}
			srv := startInNetns(t, ctx, nsS, "--data", t.TempDir(), "--http", "0.0.0.0:8080", "--public-url", base,
				"--tftp", "", "--pnp", "224.0.1.75:5060")
			if !regexp.MustCompile(`msg="sip plug-and-play listening" mode=` + tc.mode + ` why=`).MatchString(srv.log.String()) {
				t.Fatalf("start-up log does not say mode %s:\n%s", tc.mode, srv.log.String())
			}
			for _, p := range phones {
				out, err := playPnP(t, sipp, testdata, nsP, p)
				if err != nil || !strings.Contains(out, "NOTIFY BODY "+strings.ReplaceAll(p.url, `\`, "")) {
					t.Errorf("%s: sipp: %v\n%s\nserver log:\n%s", p.vendor, err, out, srv.log.String())
					continue
				}
				// The phone fetches its file from the URL it was given.
				code, err := exec.CommandContext(ctx, "ip", "netns", "exec", nsP, "curl", "-s", "-o", "/dev/null",
					"-w", "%{http_code}", "-A", p.ua, p.fetch).Output()
				if err != nil || len(code) != 3 || code[0] == '0' {
					t.Errorf("%s: fetching %s: %v %q", p.vendor, p.fetch, err, code)
				}
				t.Logf("%s: GET %s: HTTP %s", p.vendor, p.fetch, code)
			}
			out, err := exec.CommandContext(ctx, "ip", "netns", "exec", nsS, "curl", "-sf", "-H", "Authorization: Bearer "+testToken,
				"http://127.0.0.1:8080/api/v1/devices?state=unassigned").Output()
			if err != nil {
				t.Fatalf("API: %v", err)
			}
			var devs []struct {
				MAC, Vendor, State string
				RemoteIP           string `json:"remote_ip"`
				LastFile           string `json:"last_file"`
			}
			if err := json.Unmarshal(out, items(&devs)); err != nil {
				t.Fatalf("API: %v\n%s", err, out)
			}
			for _, p := range phones {
				found := false
				for _, d := range devs {
					if strings.EqualFold(strings.ReplaceAll(d.MAC, ":", ""), p.mac) {
						found = true
						if d.Vendor != p.vendor || d.RemoteIP != "10.77.0.2" {
							t.Errorf("%s in the inbox: %+v", p.vendor, d)
						}
						t.Logf("%s in the inbox: %+v", p.vendor, d)
					}
				}
				if !found {
					t.Errorf("%s not in the inbox: %s", p.vendor, out)
				}
			}
			srv.stop(t)
		})
	}
}

// startInNetns starts the server (this test binary as `autoprov serve`)
// in namespace ns and waits for its start-up line.
func startInNetns(t *testing.T, ctx context.Context, ns string, args ...string) *child {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, os.Args[0], "serve"}, args...)...)
	cmd.Env = append(os.Environ(), "AUTOPROV_E2E_CHILD=1", "AUTOPROV_ADMIN_TOKEN="+testToken)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: &syncBuffer{}, done: make(chan error, 1)}
	started := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.log.Write([]byte(sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "autoprov started") {
				started <- struct{}{}
			}
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-started:
	case err := <-c.done:
		t.Fatalf("the server exited: %v\n%s", err, c.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not start:\n%s", c.log.String())
	}
	return c
}

// playPnP runs sipp in namespace ns as phone p against the group with
// server/sippnp/testdata/pnp_beside_pbx_uac.xml.
func playPnP(t *testing.T, sipp, testdata, ns string, p pnpPhone) (string, error) {
	t.Helper()
	scen, err := os.ReadFile(filepath.Join(testdata, "pnp_beside_pbx_uac.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := os.ReadFile(filepath.Join(testdata, p.file))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	s := strings.Replace(string(scen), "@SUBSCRIBE@", strings.TrimRight(string(sub), "\n"), 1)
	s = strings.Replace(s, "@WANT_URL@", strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;").Replace(p.url), 1)
	file := filepath.Join(work, "uac.xml")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, sipp, "-sf", file, "-m", "1", "-l", "1", "-i", "10.77.0.2",
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
