package httpd_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/autoprov/autoprov/internal/httpauth"
)

// smallSendBuffer hands out connections with a small, fixed send buffer,
// so that a body the peer stops reading blocks the server's write instead
// of sitting whole in the kernel: a client that hangs up then does so
// mid-body, as the server sees it.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// hangUpMidBody GETs path as the phone would, with a small receive
// window, reads the head and the first bytes of the body, then resets the
// connection. It returns what it read.
func hangUpMidBody(t *testing.T, addr, path string) string {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n", path, addr, yealinkUA)
	buf := make([]byte, 1500)
	n, err := io.ReadFull(bufio.NewReader(conn), buf)
	if err != nil {
		t.Fatalf("reading the head and first bytes: %v (%q)", err, buf[:n])
	}
	_ = conn.(*net.TCPConn).SetLinger(0) // close with a reset: the phone is gone
	return string(buf[:n])
}

// TestCredentialChallengedOnceComplete plays a phone that sends
// credentials only when challenged, over loopback against the edge and a
// SQLite store: its first fetch carries the secrets and its provisioning
// credential; once that transfer is recorded complete, a fetch without
// credentials gets 401 with the Digest challenges an unknown MAC gets,
// and answering them with the credential from the file gets the file and
// makes the credential applied. After a transfer the phone broke off
// (the window re-opened), fetches without credentials are still served.
func TestCredentialChallengedOnceComplete(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	// Enough keys (all of the T54W's and of three EXP50s) that the
	// file does not fit in the socket buffers: the hang-up below is then
	// mid-body.
	var keys []map[string]any
	for p := 2; p <= 27; p++ {
		keys = append(keys, map[string]any{"position": p, "type": "speed_dial", "value": fmt.Sprintf("55512%02d", p), "label": fmt.Sprintf("Speed dial number %02d", p)})
	}
	for m := 1; m <= 3; m++ {
		for p := 1; p <= 60; p++ {
			keys = append(keys, map[string]any{"module": m, "position": p, "type": "speed_dial", "value": fmt.Sprintf("5559%d%02d", m, p), "label": fmt.Sprintf("Module %d key %02d", m, p)})
		}
	}
	e.must(http.StatusOK, "PUT", "/api/v1/devices/"+devMAC+"/keys", keys, nil)
	e.must(http.StatusOK, "POST", "/api/v1/devices/"+devMAC+"/disclosure", nil, nil)

	ts := httptest.NewUnstartedServer(e.srv.Handler())
	ts.Listener = smallSendBuffer{ts.Listener}
	ts.Start()
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	path := "/prov/" + devMAC + ".cfg"
	phone := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(phone.CloseIdleConnections)

	resp, body := credFetch(t, phone, ts.URL+path, "", "")
	user := fileValue("static.auto_provision.server.username", body)
	pass := fileValue("static.auto_provision.server.password", body)
	if resp.StatusCode != 200 || !strings.Contains(body, "account.1.password = "+sipPass) || user != devMAC || pass == "" {
		t.Fatalf("first fetch: %d, user %q, password set %v\n%.300s", resp.StatusCode, user, pass != "", body)
	}
	if len(body) < 24000 {
		t.Fatalf("the file is %d bytes: too small for the hang-up below to be mid-body", len(body))
	}
	if d := e.completed(devMAC); d.Disclosure.Complete == nil || !*d.Disclosure.Complete {
		t.Fatalf("the secrets transfer is not recorded complete: %v", d.Disclosure.Complete)
	}
	if got := e.cred(devMAC).Credential.State; got != "issued" {
		t.Fatalf("credential %q after the secrets, want issued", got)
	}

	// Without credentials: challenged, exactly as an unknown MAC is.
	resp, body = credFetch(t, phone, ts.URL+path, "", "")
	uk, ub := credFetch(t, phone, ts.URL+"/prov/805ec0ffee42.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ee:42", "")
	chs := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != 401 || strings.Contains(body, "account.") || len(chs) != 2 ||
		!strings.HasPrefix(chs[0], `Digest realm="autoprov"`) || !strings.Contains(chs[0], "SHA-256") || !strings.Contains(chs[1], "MD5") {
		t.Fatalf("fetch without credentials once complete: %d %q\n%s", resp.StatusCode, chs, body)
	}
	if uk.StatusCode != resp.StatusCode || ub != body || len(uk.Header.Values("WWW-Authenticate")) != len(chs) {
		t.Fatalf("an unknown MAC answers differently: %d %q %q; the device: %d %q %q", uk.StatusCode, uk.Header.Values("WWW-Authenticate"), ub, resp.StatusCode, chs, body)
	}
	// Nor do the other files naming the MAC tell it from an unknown one.
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	answer := func(p, mac string) string {
		t.Helper()
		r, b := credFetch(t, phone, ts.URL+fmt.Sprintf(p, mac), yealinkNoMAC, "")
		h := r.Header.Clone()
		h.Del("Date")
		for i, v := range h["Www-Authenticate"] {
			h["Www-Authenticate"][i] = nonce.ReplaceAllString(v, `nonce="-"`)
		}
		if h.Get("Etag") != "" {
			h.Set("Etag", "present")
		}
		return fmt.Sprintf("%d %v %q", r.StatusCode, h, strings.ReplaceAll(b, mac, "<mac>"))
	}
	for _, p := range []string{"/prov/%s.cfg", "/prov/%s.boot", "/prov/%s.xml", "/prov/y000000000096.cfg?mac=%s", "/prov/snomD785-%s.htm"} {
		if k, u := answer(p, devMAC), answer(p, "805ec0ffee42"); k != u {
			t.Errorf("%s:\n known   %s\n unknown %s", p, k, u)
		}
	}
	if got := e.cred(devMAC).Credential.State; got != "issued" {
		t.Fatalf("credential %q after fetches without it, want issued", got)
	}

	// The phone answers the challenge with its credential: served, applied.
	answering := &http.Client{Transport: &httpauth.DigestTransport{Base: phone.Transport, User: user, Password: pass}}
	resp, body = credFetch(t, answering, ts.URL+path, "Yealink SIP-T54W 96.86.0.200 80:5e:c0:aa:bb:01", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "account.1.user_name = 201") || strings.Contains(body, sipPass) || strings.Contains(body, pass) {
		t.Fatalf("answering the challenge: %d\n%.300s", resp.StatusCode, body)
	}
	if d := e.cred(devMAC); d.Credential.State != "applied" || d.Credential.AppliedAt == nil || d.Firmware != "96.86.0.200" {
		t.Fatalf("after answering the challenge: %+v, firmware %q; want applied, 96.86.0.200", d.Credential, d.Firmware)
	}

	// The admin re-opens the window; the phone breaks the secrets transfer
	// off mid-body: the credential is issued but the phone may not hold
	// it, so fetches without credentials are served (without secrets).
	e.must(http.StatusOK, "POST", "/api/v1/devices/"+devMAC+"/disclosure", nil, nil)
	if head := hangUpMidBody(t, u.Host, path); !strings.HasPrefix(head, "HTTP/1.1 200 ") {
		t.Fatalf("the broken-off fetch: %q", head)
	}
	if d := e.completed(devMAC); d.Disclosure.State != "consumed" || d.Disclosure.Complete == nil || *d.Disclosure.Complete {
		t.Fatalf("after the hang-up: disclosure %s, complete %v; want consumed, false", d.Disclosure.State, d.Disclosure.Complete)
	}
	if got := e.cred(devMAC).Credential.State; got != "issued" {
		t.Fatalf("credential %q after the broken transfer, want issued", got)
	}
	for i := range 2 {
		resp, body = credFetch(t, phone, ts.URL+path, "", "")
		if resp.StatusCode != 200 || !strings.Contains(body, "account.1.user_name = 201") || strings.Contains(body, sipPass) ||
			strings.Contains(body, "static.auto_provision.server.password") {
			t.Fatalf("fetch %d without credentials after a broken transfer: %d\n%.300s", i+1, resp.StatusCode, body)
		}
	}
}

// fileValue returns the value of the "key = value" line of a Yealink file.
func fileValue(key, body string) string {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, key+" = "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
