//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoprov/autoprov/internal/netnstest"
)

// TestSniffMissingInterface: a --sniff interface that does not exist
// stops start-up with a message naming the flag.
func TestSniffMissingInterface(t *testing.T) {
	err := run(context.Background(), []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", "",
		"--sniff", "autoprov-nope0"}, func(string) (string, bool) { return "", false }, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "--sniff") || !strings.Contains(err.Error(), "autoprov-nope0") ||
		!strings.Contains(err.Error(), "CAP_NET_RAW") {
		t.Fatalf("start-up with a missing --sniff interface: %v", err)
	}
	// The environment variable works the same way.
	env := map[string]string{"AUTOPROV_SNIFF": "autoprov-nope1"}
	err = run(context.Background(), []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", ""},
		func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "--sniff") || !strings.Contains(err.Error(), "autoprov-nope1") {
		t.Fatalf("start-up with AUTOPROV_SNIFF naming a missing interface: %v", err)
	}
}

// sniffRoleEnv marks the test binary re-executed inside a namespace.
const sniffRoleEnv = "AUTOPROV_SNIFF_TEST_ROLE"

// TestSniffEndToEnd starts the server with --sniff on one end of a veth
// pair between two network namespaces the test creates, broadcasts a
// Yealink DHCPDISCOVER from the other end, and finds the phone in the
// inbox through the API, before it fetched anything. It also starts the
// server without CAP_NET_RAW and checks the message. Needs root and
// iproute2 (skipped without them, except when CI is set).
func TestSniffEndToEnd(t *testing.T) {
	switch os.Getenv(sniffRoleEnv) {
	case "server":
		sniffServer(t)
		return
	case "phone":
		sniffPhone(t)
		return
	case "nocap":
		err := run(context.Background(), []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", "", "--sniff", "lo"},
			func(string) (string, bool) { return "", false }, &bytes.Buffer{}, nil)
		if err == nil || !strings.Contains(err.Error(), "--sniff") || !strings.Contains(err.Error(), "CAP_NET_RAW") {
			t.Fatalf("start-up without CAP_NET_RAW: %v", err)
		}
		t.Logf("without CAP_NET_RAW: %v", err)
		return
	}
	ip := netnstest.Require(t)
	nsS := netnstest.New(t, "e2e-s")
	nsP := netnstest.New(t, "e2e-p")
	netnstest.IP(t, "-n", nsS, "link", "add", "sn0", "type", "veth", "peer", "name", "ph0", "netns", nsP)
	netnstest.IP(t, "-n", nsS, "link", "set", "lo", "up")
	netnstest.IP(t, "-n", nsS, "link", "set", "sn0", "up")
	netnstest.IP(t, "-n", nsP, "link", "set", "ph0", "up")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	child := func(prefix []string, role string) *exec.Cmd {
		args := append(prefix, os.Args[0], "-test.run=^TestSniffEndToEnd$", "-test.v", "-test.count=1")
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), sniffRoleEnv+"="+role)
		return cmd
	}
	passed := func(out []byte) bool { return bytes.Contains(out, []byte("--- PASS: TestSniffEndToEnd")) }

	if setpriv, err := exec.LookPath("setpriv"); err == nil {
		out, err := child([]string{setpriv, "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"}, "nocap").CombinedOutput()
		if err != nil || !passed(out) {
			t.Errorf("start-up without CAP_NET_RAW: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Errorf("setpriv (util-linux) missing in CI, so start-up without CAP_NET_RAW goes untested: .ci/run must install util-linux")
	} else {
		t.Log("setpriv (util-linux) not installed: start-up without CAP_NET_RAW not tested")
	}

	server := child([]string{ip, "netns", "exec", nsS}, "server")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	server.Stdout, server.Stderr = pw, pw
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var serverOut bytes.Buffer
	ready, copied := make(chan bool, 1), make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		signalled := false
		for sc.Scan() {
			serverOut.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "SNIFF-SERVER-READY") {
				signalled = true
				ready <- true
			}
		}
		if !signalled {
			ready <- false
		}
	}()
	if !<-ready {
		server.Wait()
		<-copied
		t.Fatalf("the server did not start:\n%s", serverOut.String())
	}
	out, err := child([]string{ip, "netns", "exec", nsP}, "phone").CombinedOutput()
	if err != nil || !passed(out) {
		t.Errorf("the phone failed: %v\n%s", err, out)
	}
	err = server.Wait()
	<-copied
	if err != nil || !passed(serverOut.Bytes()) {
		t.Fatalf("the server failed: %v\n%s", err, serverOut.String())
	}
}

// sniffPhoneMAC is a Yealink MAC (OUI 80:5e:c0).
const sniffPhoneMAC = "80:5e:c0:aa:bb:77"

// sniffServer runs in the server's namespace: autoprov with --sniff sn0,
// until the phone is in the inbox.
func sniffServer(t *testing.T) {
	s := start(t, "--sniff", "sn0", "--tftp", "")
	if !strings.Contains(s.log.String(), "sniff=sn0") {
		t.Errorf("start-up log does not name the sniffed interface:\n%s", s.log.String())
	}
	// An adopted phone: its DHCP requests change nothing.
	s.must(http.StatusCreated, http.MethodPost, "/api/v1/devices", map[string]any{"mac": "80:5e:c0:aa:bb:78", "model": "T54W"}, nil)
	fmt.Println("SNIFF-SERVER-READY")
	var dev struct {
		MAC, State, Vendor, Model, LastFile string
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := s.api(http.MethodGet, "/api/v1/devices/805ec0aabb77", nil)
		if code == http.StatusOK {
			var raw map[string]any
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			dev.State, _ = raw["state"].(string)
			dev.Vendor, _ = raw["vendor"].(string)
			dev.LastFile, _ = raw["last_file"].(string)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the phone is not in the inventory (last answer %d %s); log:\n%s", code, body, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if dev.State != "unassigned" || dev.Vendor != "yealink" || dev.LastFile != "dhcp" {
		t.Errorf("device %+v", dev)
	}
	if !regexp.MustCompile(`msg="new phone in the inbox" .*mac=805ec0aabb77 .*via=dhcp`).MatchString(s.log.String()) {
		t.Errorf("no inbox log line:\n%s", s.log.String())
	}
	// The laptop was counted, not recorded.
	if code, _ := s.api(http.MethodGet, "/api/v1/devices/3c22fb112233", nil); code != http.StatusNotFound {
		t.Errorf("the laptop is in the inventory: %d", code)
	}
	for !strings.Contains(s.log.String(), `msg="phone asked for a dhcp lease" component=sniff mac=80:5e:c0:aa:bb:78`) {
		if time.Now().After(deadline) {
			t.Fatalf("the adopted phone's DISCOVER was not seen:\n%s", s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Option 60 names the model: the Snom driver reads it through the core.
	for {
		var snom map[string]any
		code, body := s.api(http.MethodGet, "/api/v1/devices/000413aabb79", nil)
		if code == http.StatusOK {
			if err := json.Unmarshal(body, &snom); err != nil {
				t.Fatal(err)
			}
			if snom["vendor"] != "snom" || snom["model"] != "D785" || snom["state"] != "unassigned" {
				t.Errorf("the Snom from its DHCPDISCOVER: %v", snom)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Snom is not in the inventory (last answer %d %s); log:\n%s", code, body, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var adopted map[string]any
	s.must(http.StatusOK, http.MethodGet, "/api/v1/devices/805ec0aabb78", nil, &adopted)
	if adopted["last_file"] != "" || adopted["state"] == "unassigned" || adopted["last_seen"] != nil {
		t.Errorf("a DHCP request changed an adopted device: %v", adopted)
	}
	if err := s.stop(); err != nil { // Close interrupts the capture read
		t.Fatal(err)
	}
}

// sniffPhone runs in the phone's namespace: it broadcasts a laptop's and
// then Yealinks' and a Snom's DHCPDISCOVERs through a raw AF_PACKET socket
// on ph0.
func sniffPhone(t *testing.T) {
	var ifi *net.Interface
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		ifi, err = net.InterfaceByName("ph0")
		if err == nil && ifi.Flags&net.FlagRunning != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ph0 has no carrier: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	to := &syscall.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for i, c := range []struct{ mac, class string }{
		{"3c:22:fb:11:22:33", "MSFT 5.0"}, {sniffPhoneMAC, "yealink"}, {sniffPhoneMAC, "yealink"},
		{"80:5e:c0:aa:bb:78", "yealink"}, {"00:04:13:aa:bb:79", "snomD785"},
	} {
		if err := syscall.Sendto(fd, discover(t, c.mac, c.class), 0, to); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// discover builds a DHCPDISCOVER broadcast frame by hand (the gopacket
// builder lives in server/sniff's tests; only that package imports it).
func discover(t *testing.T, mac, vendorClass string) []byte {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		t.Fatal(err)
	}
	dhcp := make([]byte, 240)
	dhcp[0], dhcp[1], dhcp[2] = 1, 1, 6 // BOOTREQUEST, Ethernet, 6 bytes
	binary.BigEndian.PutUint32(dhcp[4:], 0x12345678)
	binary.BigEndian.PutUint16(dhcp[10:], 0x8000) // broadcast flag
	copy(dhcp[28:], hw)
	binary.BigEndian.PutUint32(dhcp[236:], 0x63825363) // magic cookie
	dhcp = append(dhcp, 53, 1, 1)                      // DHCPDISCOVER
	dhcp = append(dhcp, 60, byte(len(vendorClass)))
	dhcp = append(dhcp, vendorClass...)
	dhcp = append(dhcp, 55, 3, 1, 3, 66, 255)

	udp := make([]byte, 8, 8+len(dhcp))
	binary.BigEndian.PutUint16(udp[0:], 68)
	binary.BigEndian.PutUint16(udp[2:], 67)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(dhcp))) // checksum 0: none
	udp = append(udp, dhcp...)

	ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))

	frame := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, hw...)
	frame = append(frame, 0x08, 0x00)
	frame = append(frame, ip...)
	return append(frame, udp...)
}
