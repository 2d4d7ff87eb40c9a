package main

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMissLoggedOnce: a miss is one log line, the core's, with its reason,
// over TFTP as over HTTP (neither edge repeats it), and a phone retrying
// the same miss adds no line within the minute. The debug access log of
// the HTTP edge (one line per request, any status) is not counted.
func TestMissLoggedOnce(t *testing.T) {
	s := start(t)
	const (
		overTFTP = "nothing-here-tftp.bin"
		overHTTP = "nothing-here-http.bin"
	)
	for range 3 {
		if op := tftpRRQ(t, s.tftpPort, overTFTP); op != 5 {
			t.Fatalf("TFTP RRQ %s: opcode %d, want 5 (ERROR)", overTFTP, op)
		}
		if code, _, _ := s.get("/prov/"+overHTTP, ""); code != 404 {
			t.Fatalf("GET /prov/%s: %d, want 404", overHTTP, code)
		}
	}
	// Both edges answer after the core has returned, and the core logs
	// before it returns: every line about these misses is written by now.
	logs := s.log.String()
	for _, name := range []string{overTFTP, overHTTP} {
		var lines []string
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, name) && !strings.Contains(l, "level=DEBUG") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "msg=miss") || !strings.Contains(lines[0], "reason=") {
			t.Errorf("%s: %d log lines, want one miss with its reason:\n%s", name, len(lines), strings.Join(lines, "\n"))
		}
	}
}

// tftpRRQ sends one read request from a raw UDP socket and returns the
// opcode of the answer (which comes from a new port, the transfer's).
func tftpRRQ(t *testing.T, port, name string) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to, err := net.ResolveUDPAddr("udp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatal(err)
	}
	p := binary.BigEndian.AppendUint16(nil, 1) // RRQ
	p = append(append(append(append(p, name...), 0), "octet"...), 0)
	if _, err := c.WriteTo(p, to); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	n, _, err := c.ReadFrom(buf)
	if err != nil || n < 2 {
		t.Fatalf("TFTP RRQ %s: no answer: %v", name, err)
	}
	return binary.BigEndian.Uint16(buf)
}
