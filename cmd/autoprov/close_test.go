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
	// Told 503 (the server had no time for it on a loaded machine), it
	// comes back after Retry-After, within raceDeadline.
	deadline := time.Now().Add(raceDeadline)
	fetchOnce := func() (int, []byte, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, nil, err
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /prov/805ec0aabb01.cfg HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", addr, yealinkUA)
		conn.SetReadDeadline(deadline)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	fetch := func() ([]byte, error) {
		for {
			code, body, err := fetchOnce()
			if err == nil && code == http.StatusServiceUnavailable && time.Now().Before(deadline) {
				time.Sleep(5 * time.Second) // its Retry-After
				continue
			}
			if err == nil && code != 200 {
				return nil, fmt.Errorf("status %d", code)
			}
			return body, err
		}
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
			t.Fatalf("round %d: %d of 100 answered, %d carried the secret; want 100 and exactly 1; the server's warnings:\n%s", round+1, ok, with, problems(s.log))
		}
	}
}
