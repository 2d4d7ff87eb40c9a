package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pnpOf is the PnP address of a server started with --pnp, read from its
// start-up log.
func pnpOf(t *testing.T, s *server) *net.UDPAddr {
	t.Helper()
	m := regexp.MustCompile(`msg="autoprov started".* pnp=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no pnp address in the start-up log:\n%s", s.log.String())
	}
	a, err := net.ResolveUDPAddr("udp4", m[1])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// yealinkSubscribe is the W52P SUBSCRIBE of sip-pnp.md §2.1 from addr.
func yealinkSubscribe(addr string) []byte {
	msg := strings.Join([]string{
		"SUBSCRIBE sip:MAC001565f4f9e1@224.0.1.75 SIP/2.0",
		"Via: SIP/2.0/UDP " + addr + ";branch=z9hG4bK1536537630",
		"From: <sip:MAC001565f4f9e1@224.0.1.75>;tag=1536537630",
		"To: <sip:MAC001565f4f9e1@224.0.1.75>",
		"Call-ID: 1536537630@127.0.0.1",
		"CSeq: 1 SUBSCRIBE",
		"Contact: <sip:MAC001565f4f9e1@" + addr + ">",
		"Max-Forwards: 70",
		"User-Agent: Yealink W52P 25.81.0.10",
		"Expires: 0",
		`Event: ua-profile;profile-type="device";vendor="yealink";model="W52P";version="25.81.0.10"`,
		"Accept: application/url",
		"Content-Length: 0", "", ""}, "\r\n")
	return []byte(msg)
}

// TestPnPEndToEnd: a Yealink SUBSCRIBE to the server's PnP socket (unicast
// on loopback) gets 200 OK and a NOTIFY with the provisioning URL, and the
// phone is in the inbox before it fetched anything.
func TestPnPEndToEnd(t *testing.T) {
	s := start(t, "--pnp", "127.0.0.1:0")
	srv := pnpOf(t, s)
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	if _, err := phone.WriteTo(yealinkSubscribe(phone.LocalAddr().String()), srv); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	read := func() []byte {
		t.Helper()
		phone.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, _, err := phone.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer: %v\n%s", err, s.log.String())
		}
		return append([]byte(nil), buf[:n]...)
	}
	ok := read()
	if !bytes.HasPrefix(ok, []byte("SIP/2.0 200 OK\r\n")) || !bytes.Contains(ok, []byte("\r\nCall-ID: 1536537630@127.0.0.1\r\n")) ||
		!bytes.Contains(ok, []byte("\r\nExpires: 0\r\n")) {
		t.Fatalf("not the 200 OK:\n%s", ok)
	}
	notify := read()
	want := s.base + "/prov/"
	head, body, _ := bytes.Cut(notify, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(notify, []byte("NOTIFY sip:MAC001565f4f9e1@"+phone.LocalAddr().String()+" SIP/2.0\r\n")) ||
		string(body) != want || !bytes.Contains(head, []byte("\r\nContent-Type: application/url")) {
		t.Fatalf("NOTIFY, want body %q:\n%s", want, notify)
	}
	// Answer it, from where a phone would: to the NOTIFY's Via.
	var via, from, to string
	for _, l := range strings.Split(string(head), "\r\n") {
		switch {
		case strings.HasPrefix(l, "Via: "):
			via = l
		case strings.HasPrefix(l, "From: "):
			from = l
		case strings.HasPrefix(l, "To: "):
			to = l
		}
	}
	answer := "SIP/2.0 200 OK\r\n" + via + "\r\n" + from + "\r\n" + to + "\r\nCall-ID: 1536537630@127.0.0.1\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n"
	if _, err := phone.WriteTo([]byte(answer), srv); err != nil {
		t.Fatal(err)
	}

	var devs []struct {
		MAC, Vendor, Model, State, Firmware string
		RemoteIP                            string `json:"remote_ip"`
		UserAgent                           string `json:"user_agent"`
		LastFile                            string `json:"last_file"`
	}
	s.must(200, "GET", "/api/v1/devices?state=unassigned", nil, items(&devs))
	if len(devs) != 1 {
		t.Fatalf("inbox: %+v", devs)
	}
	d := devs[0]
	if !strings.EqualFold(strings.ReplaceAll(d.MAC, ":", ""), "001565f4f9e1") || d.Vendor != "yealink" || d.Model != "W52P" ||
		d.State != "unassigned" || d.Firmware != "25.81.0.10" || d.RemoteIP != "127.0.0.1" || d.UserAgent != "Yealink W52P 25.81.0.10" {
		t.Errorf("inbox device: %+v", d)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.log.String(), "phone accepted the provisioning URL") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not see the 200 OK to its NOTIFY:\n%s", s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"new phone in the inbox", "sip plug-and-play listening"} {
		if !strings.Contains(s.log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestPnPSnomGetsFileURL: a Snom gets <base>prov/{mac}.xml, and a public
// URL wins over the listener's address.
func TestPnPSnomGetsFileURL(t *testing.T) {
	s := start(t, "--pnp", "127.0.0.1:0", "--public-url", "https://prov.example.com")
	srv := pnpOf(t, s)
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	a := phone.LocalAddr().String()
	sub := strings.Join([]string{
		"SUBSCRIBE sip:MAC%3a000413A1B2C3@pbx.example.net SIP/2.0",
		"Via: SIP/2.0/UDP " + a + ";rport",
		"From: <sip:MAC%3a000413A1B2C3@pbx.example.net>;tag=310884211",
		"To: <sip:MAC%3a000413A1B2C3@pbx.example.net>",
		"Call-ID: 774210953@127.0.0.1",
		"CSeq: 1 SUBSCRIBE",
		`Event: ua-profile;profile-type="device";vendor="OEM";model="OEM";version="8.9.3.80"`,
		"Expires: 0",
		"Accept: application/url",
		"Contact: <sip:" + a + ">",
		"Content-Length: 0", "", ""}, "\r\n")
	if _, err := phone.WriteTo([]byte(sub), srv); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	for i := 0; i < 2; i++ {
		phone.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, _, err := phone.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no answer: %v\n%s", err, s.log.String())
		}
		if i == 1 {
			if want := "\r\n\r\nhttps://prov.example.com/prov/{mac}.xml"; !bytes.HasSuffix(buf[:n], []byte(want)) {
				t.Fatalf("NOTIFY, want body %q:\n%s", want, buf[:n])
			}
		}
	}
	var dev struct{ Vendor, State string }
	s.must(200, "GET", "/api/v1/devices/000413a1b2c3", nil, &dev)
	if dev.Vendor != "snom" || dev.State != "unassigned" {
		t.Errorf("device %+v", dev)
	}
}

// TestPnPPortTaken: a taken PnP port stops start-up naming the flag.
func TestPnPPortTaken(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	args := []string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--tftp", "", "--pnp", pc.LocalAddr().String()}
	lookup := func(k string) (string, bool) {
		return map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken}[k], k == "AUTOPROV_ADMIN_TOKEN"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, args, lookup, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "--pnp") || !strings.Contains(err.Error(), "AUTOPROV_PNP") {
		t.Fatalf("err = %v, want one naming --pnp", err)
	}
}

// TestPnPFlags: off by default; AUTOPROV_PNP and AUTOPROV_PNP_INTERFACE
// set it; the flag wins.
func TestPnPFlags(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	if c, err := parse(nil, none, io.Discard); err != nil || c.pnp != "" || c.pnpInterface != "" {
		t.Fatalf("default: %+v %v", c, err)
	}
	env := map[string]string{"AUTOPROV_PNP": "224.0.1.75:5060", "AUTOPROV_PNP_INTERFACE": "eth1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if c, err := parse(nil, lookup, io.Discard); err != nil || c.pnp != "224.0.1.75:5060" || c.pnpInterface != "eth1" {
		t.Fatalf("env: %+v %v", c, err)
	}
	if c, err := parse([]string{"--pnp", "", "--pnp-interface", "eth2"}, lookup, io.Discard); err != nil || c.pnp != "" || c.pnpInterface != "eth2" {
		t.Fatalf("flag over env: %+v %v", c, err)
	}
}
