package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netnstest"
)

// Environment of the test binary re-executed in the server's namespace.
const (
	resyncChildEnv = "AUTOPROV_RESYNC_NETNS_CHILD"
	resyncPhoneEnv = "AUTOPROV_RESYNC_PHONE_NS"
	resyncSrvIP    = "10.199.0.1"
	resyncPhoneIP  = "10.199.0.2"
)

// TestResyncNetns: two network namespaces the test creates, joined by a
// veth pair: the server runs in one, a "phone" in the other fetches its
// file over HTTP with curl (so the server learns its address as from a
// real phone), then sipp plays the phone's SIP side on port 5060 and must
// receive our NOTIFY with the right Event; the API answers sent / 200 OK.
// A device never seen answers 409, the bulk endpoint mixes statuses, a
// reboot carries reboot=true, a vendor without a documented reboot is
// unsupported. Needs root, iproute2, curl and sipp (CI has them).
func TestResyncNetns(t *testing.T) {
	if os.Getenv(resyncChildEnv) == "1" {
		resyncInNamespace(t, os.Getenv(resyncPhoneEnv))
		return
	}
	netnstest.Require(t)
	for _, bin := range []string{"sipp", "curl", "ss"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing in CI", bin)
			}
			t.Skipf("%s not installed", bin)
		}
	}
	srv, phone := netnstest.New(t, "rsrv"), netnstest.New(t, "rphone")
	netnstest.IP(t, "-n", srv, "link", "set", "lo", "up")
	netnstest.IP(t, "-n", phone, "link", "set", "lo", "up")
	netnstest.IP(t, "-n", srv, "link", "add", "rs0", "type", "veth", "peer", "name", "rs1", "netns", phone)
	netnstest.IP(t, "-n", srv, "addr", "add", resyncSrvIP+"/24", "dev", "rs0")
	netnstest.IP(t, "-n", phone, "addr", "add", resyncPhoneIP+"/24", "dev", "rs1")
	netnstest.IP(t, "-n", srv, "link", "set", "rs0", "up")
	netnstest.IP(t, "-n", phone, "link", "set", "rs1", "up")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := netnstest.Child(ctx, srv, "TestResyncNetns", resyncChildEnv+"=1", resyncPhoneEnv+"="+phone).CombinedOutput()
	t.Logf("in namespace %s:\n%s", srv, out)
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestResyncNetns")) {
		t.Fatalf("resync in the namespaces failed: %v", err)
	}
}

// sippPhone is sipp as a phone's SIP side in namespace ns: it expects one
// NOTIFY whose Event is check-sync;reboot=<reboot> and answers 200 OK.
type sippPhone struct {
	cmd  *exec.Cmd
	dir  string
	out  bytes.Buffer
	done chan error
}

func startSIPpPhone(t *testing.T, ns, reboot string) *sippPhone {
	t.Helper()
	dir := t.TempDir()
	scen := `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="a phone told to resync">
  <recv request="NOTIFY">
    <action>
      <ereg regexp="^ *check-sync;reboot=` + reboot + `$" search_in="hdr" header="Event:" check_it="true" assign_to="event"/>
      <log message="NOTIFY Event [$event]"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
</scenario>
`
	if err := os.WriteFile(filepath.Join(dir, "phone.xml"), []byte(scen), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &sippPhone{dir: dir, done: make(chan error, 1)}
	p.cmd = exec.Command("ip", "netns", "exec", ns, "sipp", "-sf", "phone.xml", "-i", resyncPhoneIP, "-p", "5060", "-t", "u1",
		"-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error", "-trace_msg", "-message_file", "messages.log",
		"-trace_err", "-error_file", "errors.log", "-trace_logs", "-log_file", "actions.log")
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	// Wait until it listens on 5060 in the phone's namespace.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hnul", "sport = :5060").Output()
		if len(bytes.TrimSpace(out)) > 0 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipp does not listen on %s:5060:\n%s", resyncPhoneIP, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait returns sipp's output and logs, and its exit error.
func (p *sippPhone) wait(t *testing.T) (string, error) {
	t.Helper()
	var err error
	select {
	case err = <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		err = <-p.done
	}
	var logs strings.Builder
	logs.WriteString(p.out.String())
	for _, f := range []string{"messages.log", "errors.log", "actions.log"} {
		if b, rerr := os.ReadFile(filepath.Join(p.dir, f)); rerr == nil {
			logs.Write(b)
		}
	}
	return logs.String(), err
}

type resyncAnswer struct {
	MAC, Status, Detail, Error string
}

func resyncInNamespace(t *testing.T, phoneNS string) {
	s := start(t, "--http", resyncSrvIP+":0")
	s.must(200, "PUT", "/api/v1/settings", map[string]any{"sip_server": "pbx.example.com"}, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:01", "model": "T54W", "accounts": []string{"201"}}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:02", "model": "T54W"}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "7C:2F:80:AA:BB:03", "model": "N870"}, nil)

	// The phone fetches its file from its own namespace, as a phone would:
	// it gets its secrets, and with them PnP off.
	cfg, err := exec.Command("ip", "netns", "exec", phoneNS, "curl", "-fsS", "-A", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01",
		s.base+"/prov/805ec0aabb01.cfg").CombinedOutput()
	if err != nil || !bytes.Contains(cfg, []byte("account.1.password = ")) || !bytes.Contains(cfg, []byte("\nstatic.auto_provision.pnp_enable = 0\n")) {
		t.Fatalf("the phone's fetch: %v\n%s", err, cfg)
	}
	var dev struct {
		RemoteIP string `json:"remote_ip"`
	}
	s.must(200, "GET", "/api/v1/devices/805ec0aabb01", nil, &dev)
	if dev.RemoteIP != resyncPhoneIP {
		t.Fatalf("remote_ip %q, want %s", dev.RemoteIP, resyncPhoneIP)
	}

	// Resync: sipp gets the NOTIFY with Event check-sync;reboot=false.
	p := startSIPpPhone(t, phoneNS, "false")
	var a resyncAnswer
	s.must(200, "POST", "/api/v1/devices/805ec0aabb01/resync", nil, &a)
	logs, err := p.wait(t)
	if err != nil || !strings.Contains(logs, "Event: check-sync;reboot=false") || !strings.Contains(logs, "NOTIFY sip:201@"+resyncPhoneIP+":5060 SIP/2.0") {
		t.Fatalf("sipp: %v\n%s", err, logs)
	}
	if a != (resyncAnswer{MAC: "805ec0aabb01", Status: "sent", Detail: "200 OK"}) {
		t.Fatalf("resync answer %+v", a)
	}

	// A device never seen: 409 with a clear JSON error.
	code, body := s.api("POST", "/api/v1/devices/805ec0aabb02/resync", nil)
	if err := json.Unmarshal(body, &a); code != 409 || err != nil || !strings.Contains(a.Error, "no address of the phone is known") {
		t.Fatalf("never seen: %d %s", code, body)
	}
	// A reboot the vendor does not document.
	s.must(200, "POST", "/api/v1/devices/7c2f80aabb03/resync", map[string]bool{"reboot": true}, &a)
	if a.Status != "unsupported" {
		t.Fatalf("gigaset reboot: %+v", a)
	}

	// Many at once, with a reboot: sipp gets reboot=true; one result per MAC.
	p = startSIPpPhone(t, phoneNS, "true")
	var bulk struct{ Results []resyncAnswer }
	s.must(200, "POST", "/api/v1/resync", map[string]any{"reboot": true,
		"macs": []string{"805ec0aabb01", "805ec0aabb02", "7c2f80aabb03", "805ec0aabb99"}}, &bulk)
	logs, err = p.wait(t)
	if err != nil || !strings.Contains(logs, "Event: check-sync;reboot=true") {
		t.Fatalf("sipp (reboot): %v\n%s", err, logs)
	}
	var got []string
	for _, r := range bulk.Results {
		got = append(got, r.MAC+" "+r.Status+" "+r.Detail)
	}
	want := []string{"805ec0aabb01 sent 200 OK", "805ec0aabb02 no_address", "7c2f80aabb03 unsupported", "805ec0aabb99 not_found"}
	for i, w := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], w) {
			t.Fatalf("bulk results %q, want %q", got, want)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("bulk results %q", got)
	}
	var page struct {
		Items []struct{ Event, Detail string }
	}
	s.must(200, "GET", "/api/v1/audit?mac=805ec0aabb01&limit=2", nil, &page)
	audit := page.Items
	if len(audit) != 2 || audit[0].Event != "device.resync" || audit[0].Detail != "reboot=true: sent (200 OK)" {
		t.Fatalf("audit %+v", audit)
	}
}
