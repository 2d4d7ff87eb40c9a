package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// tftpBench has -n phones (the first of -phones), -workers at a time,
// fetch their common file and their per-device file over TFTP (RFC 1350:
// octet mode, 512-byte blocks, no options, as the oldest phones do) and
// reports transfers per second. -out writes what was received (the files
// in.tftpd then serves), -expect compares with it.
func tftpBench(args []string) error {
	fs := flag.NewFlagSet("tftp", flag.ExitOnError)
	addr := fs.String("addr", "", "server, host:port")
	phonesFile := fs.String("phones", "", "phones.tsv")
	n := fs.Int("n", 1000, "phones")
	workers := fs.Int("workers", 32, "transfers at once")
	label := fs.String("label", "server", "name in the result line")
	out := fs.String("out", "", "write each received file to <dir>/<name>")
	expect := fs.String("expect", "", "compare each received file with <dir>/<name>")
	fs.Parse(args)
	server, err := net.ResolveUDPAddr("udp4", *addr)
	if err != nil {
		return err
	}
	phones, err := readPhones(*phonesFile)
	if err != nil {
		return err
	}
	phones = phones[:min(*n, len(phones))]
	var mu sync.Mutex
	var lat []time.Duration
	transfer := func(name string) error {
		t := time.Now()
		body, err := tftpGet(server, name)
		d := time.Since(t)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		if *out != "" {
			if err := os.WriteFile(filepath.Join(*out, name), body, 0o644); err != nil {
				return err
			}
		}
		if *expect != "" {
			want, err := os.ReadFile(filepath.Join(*expect, name))
			if err != nil {
				return err
			}
			if !bytes.Equal(body, want) {
				return fmt.Errorf("%s: %d bytes, not the %d bytes expected", name, len(body), len(want))
			}
		}
		return nil
	}
	start := time.Now()
	failed := runPhones(len(phones), *workers, func(i int) error {
		if err := transfer(commonFile); err != nil {
			return err
		}
		return transfer(devicePath(phones[i].MAC))
	})
	wall := time.Since(start)
	slices.Sort(lat)
	pct := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*q))]) / float64(time.Millisecond)
	}
	fmt.Printf("TFTP %s phones=%d transfers=%d wall_s=%.2f transfers_per_s=%.0f errors=%d p50_ms=%.1f p99_ms=%.1f\n",
		*label, len(phones), len(lat), wall.Seconds(), float64(len(lat))/wall.Seconds(), failed, pct(0.5), pct(0.99))
	if failed > 0 {
		return fmt.Errorf("%d phones failed", failed)
	}
	return nil
}

// TFTP opcodes (RFC 1350).
const (
	opRRQ   = 1
	opDATA  = 3
	opACK   = 4
	opERROR = 5
)

// tftpGet reads one file: a read request to server, then DATA/ACK in
// lock step with the port the server answers from (its transfer ID),
// resending the last packet after a second of silence, at most 5 times.
func tftpGet(server *net.UDPAddr, name string) ([]byte, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	last := append(append(append([]byte{0, opRRQ}, name...), 0), "octet\x00"...)
	to := server
	var peer *net.UDPAddr
	var body []byte
	expect := uint16(1)
	buf := make([]byte, 4+512+64)
	for retries := 0; ; {
		if _, err := conn.WriteToUDP(last, to); err != nil {
			return nil, err
		}
	read:
		conn.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && retries < 5 {
				retries++
				continue
			}
			return nil, err
		}
		if peer == nil {
			peer, to = from, from
		} else if !from.IP.Equal(peer.IP) || from.Port != peer.Port {
			goto read // another transfer's packet (RFC 1350 would answer an error; nothing else talks to this port)
		}
		if n < 4 {
			return nil, errors.New("short packet")
		}
		switch binary.BigEndian.Uint16(buf) {
		case opERROR:
			return nil, fmt.Errorf("tftp error %d: %s", binary.BigEndian.Uint16(buf[2:]), bytes.TrimRight(buf[4:n], "\x00"))
		case opDATA:
			block := binary.BigEndian.Uint16(buf[2:])
			if block != expect {
				goto read // a duplicate: our ACK will be resent on timeout
			}
			body = append(body, buf[4:n]...)
			last = []byte{0, opACK, byte(block >> 8), byte(block)}
			retries = 0
			expect++
			if n-4 < 512 {
				_, err := conn.WriteToUDP(last, to)
				return body, err
			}
		default:
			return nil, fmt.Errorf("unexpected opcode %d", binary.BigEndian.Uint16(buf))
		}
	}
}
