package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientClosesAfterLastByte: phones (and curl) close the connection as
// soon as they have the body. That is a delivery: the window is consumed
// once, and a race of such clients still yields exactly one secret.
func TestClientClosesAfterLastByte(t *testing.T) {
	s := start(t)
	setup(s, "805ec0aabb01", "T54W")
	addr := strings.TrimPrefix(s.base, "http://")
	// Like curl: read exactly Content-Length bytes, then close at once on
	// a keep-alive connection, while the server may still be in its handler.
	fetch := func() ([]byte, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /prov/805ec0aabb01.cfg HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", addr, yealinkUA)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("status %d", resp.StatusCode)
		}
		return body, err
	}
	for round := range 3 {
		if round > 0 {
			s.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, nil)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		with, ok := 0, 0
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := fetch()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					ok++
				}
				if bytes.Contains(resp, []byte(sipPass)) {
					with++
				}
			}()
		}
		wg.Wait()
		if ok != 100 || with != 1 {
			t.Fatalf("round %d: %d of 100 answered, %d carried the secret; want 100 and exactly 1", round+1, ok, with)
		}
	}
}
