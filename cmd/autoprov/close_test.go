package main

import (
	"bufio"
	"bytes"
	"errors"
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
// once, its transfer recorded complete, and a race of such clients still
// yields exactly one secret. The others get the file without secrets
// while that transfer is in flight, the challenge once it is complete
// (from then on the credential it carried is required).
func TestClientClosesAfterLastByte(t *testing.T) {
	s := start(t)
	setup(s, "805ec0aabb01", "T54W")
	addr := strings.TrimPrefix(s.base, "http://")
	// Like curl: read exactly Content-Length bytes, then close at once on
	// a keep-alive connection, while the server may still be in its handler.
	// Told 503 (the server had no time for it on a loaded machine), it
	// comes back after Retry-After, within raceDeadline.
	deadline := time.Now().Add(raceDeadline)
	fetchOnce := func() (int, []byte, http.Header, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, nil, nil, err
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /prov/805ec0aabb01.cfg HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", addr, yealinkUA)
		conn.SetReadDeadline(deadline)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, nil, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, resp.Header, err
	}
	fetch := func() ([]byte, error) {
		for {
			code, body, h, err := fetchOnce()
			if err == nil && code == http.StatusServiceUnavailable && time.Now().Before(deadline) {
				time.Sleep(5 * time.Second) // its Retry-After
				continue
			}
			switch {
			case err != nil:
				return nil, err
			case code == 401 && len(h.Values("WWW-Authenticate")) > 0 && !bytes.Contains(body, []byte("account.")):
				return nil, errChallenged
			case code != 200:
				return nil, fmt.Errorf("status %d", code)
			}
			return body, nil
		}
	}
	for round := range 3 {
		if round > 0 {
			s.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, nil)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		with, ok, challenged := 0, 0, 0
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := fetch()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, errChallenged):
					challenged++
				}
				if bytes.Contains(resp, []byte(sipPass)) {
					with++
				}
			}()
		}
		wg.Wait()
		if ok+challenged != 100 || ok == 0 || with != 1 {
			t.Fatalf("round %d: %d of 100 served, %d challenged, %d carried the secret; want all answered and exactly 1; the server's warnings:\n%s", round+1, ok, challenged, with, problems(s.log))
		}
		if !waitComplete(t, s, "805ec0aabb01") {
			t.Fatalf("round %d: the transfer that carried the secret is recorded incomplete", round+1)
		}
		if _, err := fetch(); !errors.Is(err, errChallenged) {
			t.Fatalf("round %d: a fetch without the credential once the transfer is complete: %v, want the challenge", round+1, err)
		}
	}
}

// errChallenged is a fetch answered 401 with a challenge and no config.
var errChallenged = errors.New("challenged")
