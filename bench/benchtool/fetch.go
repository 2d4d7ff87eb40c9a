package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fetch has every phone (of -phones, the first -n) fetch its per-device
// file once, -workers at a time over keep-alive connections, and checks
// each answer: 200, and the SIP password present (-secrets carry) or
// absent (-secrets none). It can write what the server sent (-out), the
// per-device credential the secrets carried (-creds-out), compare with
// files written before (-expect), and present each phone's credential
// with Basic (-basic). A failed fetch is retried (-retries; counted), as
// a phone would: these passes prepare the timed runs. This is how the scripts consume the windows,
// export the served bytes for nginx and in.tftpd, and apply credentials.
func fetch(args []string) error {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	base := fs.String("url", "", "base URL of the phone files, e.g. http://127.0.0.1:8080/prov/")
	phonesFile := fs.String("phones", "", "phones.tsv")
	n := fs.Int("n", 0, "only the first n phones (0: all)")
	workers := fs.Int("workers", 64, "concurrent requests")
	secrets := fs.String("secrets", "any", "carry: every answer must hold the phone's SIP password; none: no answer may; any")
	credsOut := fs.String("creds-out", "", "write each phone's provisioning credential (from the secrets) here")
	basicFile := fs.String("basic", "", "creds.tsv: present each phone's credential with HTTP Basic")
	out := fs.String("out", "", "write each body to <dir>/<mac>.cfg")
	expect := fs.String("expect", "", "compare each body with <dir>/<mac>.cfg")
	common := fs.Bool("common", false, "also fetch the common file once (as the first phone) and write it to -out")
	retries := fs.Int("retries", 3, "retry a phone whose fetch failed (status or transport) this many times, as a phone would")
	fs.Parse(args)
	phones, err := readPhones(*phonesFile)
	if err != nil {
		return err
	}
	if *n > 0 && *n < len(phones) {
		phones = phones[:*n]
	}
	var creds map[string][2]string
	if *basicFile != "" {
		if creds, err = readCreds(*basicFile); err != nil {
			return err
		}
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
	}
	client := pooledClient(*workers)
	get := func(file, mac string) ([]byte, error) {
		req, err := http.NewRequest("GET", *base+file, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", userAgent(mac))
		if creds != nil {
			c, ok := creds[mac]
			if !ok {
				return nil, fmt.Errorf("%s: no credential", mac)
			}
			req.Header.Set("Authorization", basic(c[0], c[1]))
		}
		return do(client, req)
	}
	if *common {
		body, err := get(commonFile, phones[0].MAC)
		if err != nil {
			return err
		}
		if *out != "" {
			if err := os.WriteFile(filepath.Join(*out, commonFile), body, 0o644); err != nil {
				return err
			}
		}
	}
	credLines := make([]string, len(phones))
	var retried atomic.Int64
	start := time.Now()
	failed := runPhones(len(phones), *workers, func(i int) error {
		p := phones[i]
		body, err := get(devicePath(p.MAC), p.MAC)
		for try := 0; err != nil && try < *retries; try++ {
			retried.Add(1)
			time.Sleep(100 * time.Millisecond)
			body, err = get(devicePath(p.MAC), p.MAC)
		}
		if err != nil {
			return err
		}
		has := bytes.Contains(body, []byte(p.Password))
		switch {
		case *secrets == "carry" && !has:
			return fmt.Errorf("%s: no secrets in the answer", p.MAC)
		case *secrets == "none" && has:
			return fmt.Errorf("%s: the SIP password went out again", p.MAC)
		}
		if *credsOut != "" {
			user, pass := credential(body)
			if user == "" || pass == "" {
				return fmt.Errorf("%s: no provisioning credential in the secrets", p.MAC)
			}
			credLines[i] = p.MAC + "\t" + user + "\t" + pass + "\n"
		}
		if *out != "" {
			if err := os.WriteFile(filepath.Join(*out, devicePath(p.MAC)), body, 0o644); err != nil {
				return err
			}
		}
		if *expect != "" {
			want, err := os.ReadFile(filepath.Join(*expect, devicePath(p.MAC)))
			if err != nil {
				return err
			}
			if !bytes.Equal(body, want) {
				return fmt.Errorf("%s: %d bytes, not the %d bytes exported before", p.MAC, len(body), len(want))
			}
		}
		return nil
	})
	el := time.Since(start)
	fmt.Printf("fetch: %d phones, %d failed, %d retries, %.1f s, %.0f/s\n", len(phones), failed, retried.Load(), el.Seconds(), float64(len(phones))/el.Seconds())
	if *credsOut != "" {
		if err := os.WriteFile(*credsOut, []byte(strings.Join(credLines, "")), 0o600); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d phones failed", failed, len(phones))
	}
	return nil
}

// credential reads the provisioning credential a Yealink file's secrets carry.
func credential(body []byte) (user, pass string) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		switch {
		case !ok:
		case k == "static.auto_provision.server.username":
			user = v
		case k == "static.auto_provision.server.password":
			pass = v
		}
	}
	return user, pass
}

// pooledClient keeps up to conns keep-alive connections to one server and
// accepts any certificate (the scripts' servers are self-signed).
func pooledClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: conns, MaxIdleConns: conns,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
	}
}

// phoneConn is one booting phone: its own connection (kept for its few
// requests) from its own loopback address 127.1.x.y, spoken to in plain
// HTTP/1.1, its answers read by net/http's parser. An http.Client with a
// Transport of its own per phone cost half as much CPU again (a dial
// through the pool, two goroutines per connection): in a storm the phones
// share the machine's cores with the server, and what they burn is not
// the server's work.
type phoneConn struct {
	c    net.Conn
	br   *bufio.Reader
	host string
}

// dialPhone connects phone i to base (http or https: TLS unverified).
func dialPhone(i int, base *url.URL) (*phoneConn, error) {
	src := net.IPv4(127, 1, byte(i/250), byte(i%250+1))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", base.Host)
	if err != nil {
		return nil, err
	}
	if base.Scheme == "https" {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: base.Hostname()})
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	return &phoneConn{c: c, br: bufio.NewReader(c), host: base.Host}, nil
}

// get GETs path with the User-Agent ua and returns the body of a 200
// answer, within 30 s.
func (p *phoneConn) get(path, ua string) ([]byte, error) {
	if err := p.c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(p.c, "GET "+path+" HTTP/1.1\r\nHost: "+p.host+"\r\nUser-Agent: "+ua+"\r\n\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		return nil, err
	}
	return okBody(resp, path)
}

func (p *phoneConn) close() { p.c.Close() }

// do sends req and returns the body of a 200 answer.
func do(c *http.Client, req *http.Request) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	return okBody(resp, req.URL.Path)
}

// okBody reads and closes resp's body: the body of a 200, an error naming
// path and the status for any other.
func okBody(resp *http.Response, path string) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return body, nil
}

// runPhones runs f for 0..n-1 on workers goroutines and returns how many
// failed; the first few errors go to stderr.
func runPhones(n, workers int, f func(i int) error) int {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					if failed.Add(1) <= 5 {
						mu.Lock()
						fmt.Fprintln(os.Stderr, "error:", err)
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}
