package httpd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

func TestCommonFileETag(t *testing.T) {
	e := newEnv(t, options{})
	for _, c := range []struct{ path, ua string }{
		{"/prov/y000000000096.cfg", yealinkNoMAC},
		{"/prov/snomD785.htm", snomUA},
	} {
		t.Run(c.path, func(t *testing.T) {
			rec := e.phone("GET", c.path, c.ua)
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
			}
			etag := rec.Header().Get("ETag")
			if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 3 {
				t.Fatalf("ETag %q, want a quoted strong validator", etag)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %q for %d bytes", cl, rec.Body.Len())
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				again := e.phone("GET", c.path, c.ua, "If-None-Match", inm)
				if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
					t.Errorf("If-None-Match %s: status %d with %d bytes, want 304 without a body", inm, again.Code, again.Body.Len())
				}
			}
			if other := e.phone("GET", c.path, c.ua, "If-None-Match", `"0123"`); other.Code != http.StatusOK || other.Body.String() != rec.Body.String() {
				t.Errorf("other ETag: status %d, want the file again", other.Code)
			}
		})
	}
}

// fetch does one request against a real server.
func fetch(t *testing.T, ts *httptest.Server, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// head is what a HEAD answer says about a file.
type head struct {
	Status        int
	ContentLength string
	ETag          string
	ContentType   string
}

func headOf(t *testing.T, ts *httptest.Server, path string) head {
	t.Helper()
	resp, b := fetch(t, ts, "HEAD", path, "User-Agent", yealinkUA)
	if len(b) != 0 {
		t.Fatalf("HEAD %s: %d bytes of body", path, len(b))
	}
	return head{resp.StatusCode, resp.Header.Get("Content-Length"), resp.Header.Get("ETag"), resp.Header.Get("Content-Type")}
}

// TestDeviceFileWithSecrets: the per-device file that carries secrets is
// never cacheable, HEAD neither tells whether a window is open nor uses
// it up (it answers like a GET without secrets: same status, length and
// ETag, window open or not; once the transfer is complete, to the phone
// that presents the credential it got), and an unconditional GET does use
// it up.
func TestDeviceFileWithSecrets(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	ts := e.serve()
	const path = "/prov/" + devMAC + ".cfg"

	open := headOf(t, ts, path)
	if open.Status != http.StatusOK || open.ContentLength == "" || open.ETag == "" {
		t.Fatalf("HEAD with the window open: %+v, want 200 with Content-Length and ETag", open)
	}
	if d := e.device(devMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("after HEAD the window is %q, want open", d.Disclosure.State)
	}

	resp, body := fetch(t, ts, "GET", path, "User-Agent", yealinkUA)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: status %d, want 200 with the secrets", resp.StatusCode)
	}
	if !strings.Contains(string(body), "account.1.password = "+sipPass) {
		t.Fatalf("GET after HEAD lacks the password:\n%s", body)
	}
	if et := resp.Header.Get("ETag"); et != "" {
		t.Errorf("secret file has ETag %q", et)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	d := e.settled(devMAC, autoprov.DisclosureConsumed)
	if d.Disclosure.State != autoprov.DisclosureConsumed || d.Disclosure.DisclosedTo == nil || d.Disclosure.DisclosedTo.IP != "127.0.0.1" {
		t.Errorf("after GET the disclosure is %+v, want consumed by 127.0.0.1", d.Disclosure)
	}
	if d := e.completed(devMAC); d.Disclosure.Complete == nil || !*d.Disclosure.Complete {
		t.Errorf("after a delivered GET complete = %v, want true", d.Disclosure.Complete)
	}

	// The transfer is complete: the phone presents the credential it got
	// (answering the challenge). Without secrets the file is an ordinary
	// cacheable one, and HEAD answers exactly as it did while the window
	// was open.
	pass := fileValue("static.auto_provision.server.password", string(body))
	if pass == "" {
		t.Fatalf("the secrets carry no provisioning credential:\n%s", body)
	}
	if r, b := fetch(t, ts, "GET", path, "User-Agent", yealinkUA); r.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "account.") {
		t.Fatalf("GET without the credential once complete: %d, want 401 without config", r.StatusCode)
	}
	phone := &http.Client{Transport: &httpauth.DigestTransport{Base: ts.Client().Transport, User: devMAC, Password: pass}}
	phoneDo := func(method string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		req.Header.Set("User-Agent", yealinkUA)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		r, err := phone.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r, b
	}
	resp, body = phoneDo("GET")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), sipPass) || strings.Contains(string(body), "account.1.password") {
		t.Fatalf("second GET: status %d, carries secrets:\n%s", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("file without secrets has no ETag")
	}
	if r, b := phoneDo("GET", "If-None-Match", etag); r.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("If-None-Match on the file without secrets: %d, %d bytes; want 304", r.StatusCode, len(b))
	}
	r, b := phoneDo("HEAD")
	if len(b) != 0 {
		t.Fatalf("HEAD: %d bytes of body", len(b))
	}
	consumed := head{r.StatusCode, r.Header.Get("Content-Length"), r.Header.Get("ETag"), r.Header.Get("Content-Type")}
	if consumed != open {
		t.Errorf("HEAD differs with the window open (%+v) and consumed (%+v)", open, consumed)
	}
	if consumed.ETag != etag || consumed.ContentLength != strconv.Itoa(len(body)) {
		t.Errorf("HEAD %+v is not the GET without secrets (ETag %s, %d bytes)", consumed, etag, len(body))
	}
	e.must(http.StatusOK, "POST", "/api/v1/devices/"+devMAC+"/disclosure", nil, nil)
	if reopened := headOf(t, ts, path); reopened != open {
		t.Errorf("HEAD differs with the window re-opened (%+v) and before (%+v)", reopened, open)
	}
	if d := e.device(devMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Fatalf("after HEAD the re-opened window is %q, want open", d.Disclosure.State)
	}
}

// TestConditionalGetNeverUsesTheWindow: a GET with a precondition is
// answered from the file without secrets, window open or not: 304 when
// If-None-Match names its ETag, else that file; the window stays open for
// the phone's unconditional GET.
func TestConditionalGetNeverUsesTheWindow(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	const path = "/prov/" + devMAC + ".cfg"
	plainETag := e.phone("HEAD", path, yealinkUA).Header().Get("ETag")
	if plainETag == "" {
		t.Fatal("HEAD without ETag")
	}
	for _, h := range [][]string{
		{"If-None-Match", "*"},
		{"If-None-Match", `"0123"`},
		{"If-None-Match", plainETag + `, "0123"`},
		{"If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"},
		{"If-Match", "*"},
		{"If-Unmodified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"},
	} {
		rec := e.phone("GET", path, yealinkUA, h...)
		if strings.Contains(rec.Body.String(), sipPass) || strings.Contains(rec.Body.String(), "account.1.password") {
			t.Fatalf("%s: %s: the answer carries secrets", h[0], h[1])
		}
		wantStatus := http.StatusOK
		if h[0] == "If-None-Match" && (h[1] == "*" || strings.Contains(h[1], plainETag)) {
			wantStatus = http.StatusNotModified
		}
		if rec.Code != wantStatus || rec.Header().Get("ETag") != plainETag {
			t.Errorf("%s: %s: status %d, ETag %q; want %d and the ETag without secrets %s", h[0], h[1], rec.Code, rec.Header().Get("ETag"), wantStatus, plainETag)
		}
		if d := e.device(devMAC); d.Disclosure.State != autoprov.DisclosureOpen {
			t.Fatalf("%s: %s: the window is %q after it, want open", h[0], h[1], d.Disclosure.State)
		}
	}
	if rec := e.phone("GET", path, yealinkUA); !strings.Contains(rec.Body.String(), "account.1.password = "+sipPass) {
		t.Fatalf("the unconditional GET after them lacks the secrets")
	}
}

// lostClaimCore answers every fetch with a body holding a secret whose
// claim is lost when the edge is about to send it.
type lostClaimCore struct {
	fakeCore
	ends chan error
}

func (f *lostClaimCore) Provide(context.Context, vendors.Request) (*provision.Result, error) {
	file := &vendors.File{Name: "x.cfg", ContentType: "text/plain", Body: []byte("password=" + sipPass + "\n")}
	return provision.NewResultWith(file, true, provision.Hooks{
		Sending: func() error { return errors.New("claim lost") },
		End:     func(sent bool, err error) { f.ends <- fmt.Errorf("sent=%v: %w", sent, err) },
	}), nil
}

// TestClaimLostSendsNothing: when Sending fails, not a byte of the body
// goes out; the phone gets a bare 503 with Retry-After (the file exists:
// it is told to come back), without the file's content type.
func TestClaimLostSendsNothing(t *testing.T) {
	core := &lostClaimCore{ends: make(chan error, 1)}
	e := newFakeEnv(t, &core.fakeCore)
	e.srv, _ = httpd.New(httpd.Config{Phones: core, Health: core, Inventory: core, Log: slog.New(slog.NewTextHandler(e.log, nil)), AdminToken: token})
	rec := e.phone("GET", "/prov/"+devMAC+".cfg", yealinkUA)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), sipPass) || rec.Body.String() != "busy, retry later\n" {
		t.Fatalf("status %d, Retry-After %q, body %q; want a bare 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || rec.Header().Get("Content-Length") == strconv.Itoa(len("password="+sipPass+"\n")) {
		t.Errorf("headers of the refused file: %v", rec.Header())
	}
	if got := <-core.ends; !strings.HasPrefix(got.Error(), "sent=false") {
		t.Errorf("End: %v, want sent=false", got)
	}
}

// TestStoreFailureTellsThePhoneToComeBack: a database that fails (here
// the real SQLite store, closed under the running edge: down, full or
// broken alike) is no proof that the phone's file does not exist. Both
// the net/http path and the phone lane answer 503 with Retry-After, not
// 404 (after which a phone waits for its next scheduled resync, hours
// away, with its secrets still unsent), and the log says why.
func TestStoreFailureTellsThePhoneToComeBack(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	addr := e.serveLanes()
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	path := "/prov/" + devMAC + ".cfg"
	rec := e.phone("GET", path, yealinkUA)
	rc := dialRaw(t, addr)
	rc.send(laneGet(path, "User-Agent", yealinkUA))
	lane := rc.read("GET")
	for _, a := range []struct {
		via        string
		code       int
		retryAfter string
		body       string
	}{
		{"net/http", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String()},
		{"phone lane", lane.status, lane.header.Get("Retry-After"), string(lane.body)},
	} {
		if a.code != http.StatusServiceUnavailable || a.retryAfter == "" || a.body != "busy, retry later\n" {
			t.Errorf("%s: status %d, Retry-After %q, body %q; want 503 with Retry-After", a.via, a.code, a.retryAfter, a.body)
		}
	}
	if !strings.Contains(e.log.String(), "phone request failed; answered 503") || !strings.Contains(e.log.String(), "sql: ") {
		t.Errorf("the log does not say why:\n%s", e.log)
	}
	if strings.Contains(e.log.String(), sipPass) {
		t.Error("the log holds the SIP password")
	}
}

// TestStoreFailureLogBounded: during a database outage every phone's
// request fails; the log gets one line a minute for all of them, on both
// HTTP paths, and the next line says how many it left out. Every
// request is still answered 503.
func TestStoreFailureLogBounded(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	addr := e.serveLanes()
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.srv.SetFailLogClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	const msg = "phone request failed; answered 503"
	const access = `msg=request component=http method=GET path=/prov/805ec0aa`
	lane := dialRaw(t, addr)
	fail := func(n int) {
		t.Helper()
		for i := range n {
			path := fmt.Sprintf("/prov/805ec0aa%04x.cfg", i)
			if rec := e.phone("GET", path, yealinkUA); rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("net/http: %d, want 503", rec.Code)
			}
			lane.send(laneGet(path, "User-Agent", yealinkUA))
			if a := lane.read("GET"); a.status != http.StatusServiceUnavailable {
				t.Fatalf("phone lane: %d, want 503", a.status)
			}
		}
	}
	// lines are the log's lines with s above the debug level (net/http's
	// access line of a 5xx is an error; the lane's is at debug level).
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(e.log.String(), "\n") {
			if strings.Contains(l, s) && !strings.Contains(l, "level=DEBUG") {
				out = append(out, l)
			}
		}
		return out
	}
	fail(100)
	if got := lines(msg); len(got) != 1 || !strings.Contains(got[0], "suppressed=0") {
		t.Fatalf("200 failed requests in a minute: %d lines, want 1 (suppressed=0):\n%s", len(got), strings.Join(got, "\n"))
	}
	if got := lines(access); len(got) != 1 || !strings.Contains(got[0], "suppressed=0") {
		t.Fatalf("100 answers 503 on net/http in a minute: %d access lines above debug, want 1 (suppressed=0):\n%s", len(got), strings.Join(got, "\n"))
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	fail(1)
	if got := lines(msg); len(got) != 2 || !strings.Contains(got[1], "suppressed=199") {
		t.Fatalf("a minute later: %d lines, want 2, the second with suppressed=199:\n%s", len(got), strings.Join(got, "\n"))
	}
	if got := lines(access); len(got) != 2 || !strings.Contains(got[1], "suppressed=99") {
		t.Fatalf("a minute later: %d access lines, want 2, the second with suppressed=99:\n%s", len(got), strings.Join(got, "\n"))
	}
}

func TestPhoneNotFound(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	for _, c := range []struct {
		path, ua string
		code     int
	}{
		{"/prov/nothing.txt", "", 404},
		{"/prov/nothing.txt", yealinkUA, 404},
		// Seen, not assigned: a Yealink takes a credential, so its
		// per-device file is challenged as an applied phone's is.
		{"/prov/805ec0ffff01.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:ff:ff:01", 401},
		{"/prov/directory/yealink/X1.xml", "", 404},
		{"/prov/", "", 404},
		{"/prov/%00", "", 404},
	} {
		rec := e.phone("GET", c.path, c.ua)
		want := map[int]string{404: "not found\n", 401: "unauthorized\n"}[c.code]
		if rec.Code != c.code || rec.Body.String() != want {
			t.Errorf("%s (%q): status %d body %q, want %d %q", c.path, c.ua, rec.Code, rec.Body, c.code, want)
		}
		if rec.Header().Get("ETag") != "" {
			t.Errorf("%s: 404 with an ETag", c.path)
		}
	}
	if !strings.Contains(e.log.String(), "device is unassigned") {
		t.Errorf("the reason of the miss is not in the log:\n%s", e.log)
	}
}

// rawGet sends a request line as is over TCP, since clients clean paths.
func rawGet(t *testing.T, ts *httptest.Server, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: prov.test\r\nUser-Agent: "+yealinkUA+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPhoneDotDot(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	ts := e.serve()
	// The raw path reaches the edge: a plain file answers 200 this way.
	if resp, _ := rawGet(t, ts, "/prov/y000000000096.cfg"); resp.StatusCode != http.StatusOK {
		t.Fatalf("raw GET of a common file: %d", resp.StatusCode)
	}
	for _, p := range []string{"/prov/../" + devMAC + ".cfg", "/prov/../../etc/passwd", "/prov/a/../" + devMAC + ".cfg", "/prov/..%2f" + devMAC + ".cfg", "/prov/.."} {
		resp, body := rawGet(t, ts, p)
		if resp.StatusCode != http.StatusNotFound || body != "not found\n" {
			t.Errorf("%s: status %d body %q, want 404 \"not found\\n\"", p, resp.StatusCode, body)
		}
	}
	if !strings.Contains(e.log.String(), "refused phone path") {
		t.Errorf("log lacks \"refused phone path\":\n%s", e.log)
	}
	if d := e.device(devMAC); d.Disclosure.State != autoprov.DisclosureOpen {
		t.Errorf("a refused path touched the window: %q", d.Disclosure.State)
	}
}

func TestPhoneUploadForbidden(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	for _, m := range []string{"PUT", "POST"} {
		req := httptest.NewRequest(m, "/prov/"+devMAC+"-local.cfg", strings.NewReader("account.1.password = evil\n"))
		req.Header.Set("User-Agent", yealinkUA)
		rec := e.do(req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", m, rec.Code)
		}
		req = httptest.NewRequest(m, "/prov/"+devMAC+".cfg", strings.NewReader("x"))
		if rec := e.do(req); rec.Code != http.StatusForbidden {
			t.Errorf("%s of the device file: status %d, want 403", m, rec.Code)
		}
	}
	if !strings.Contains(e.log.String(), "refused phone upload") {
		t.Errorf("upload not logged:\n%s", e.log)
	}
	if rec := e.phone("GET", "/prov/"+devMAC+".cfg", yealinkUA); strings.Contains(rec.Body.String(), "evil") {
		t.Error("an upload changed the served file")
	}
}

// TestPhoneMACQuery: ?mac= names a phone whose User-Agent has no MAC.
func TestPhoneMACQuery(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	if rec := e.phone("GET", "/prov/y000000000000.boot", yealinkNoMAC); rec.Code != http.StatusNotFound {
		t.Errorf("boot file without any MAC: status %d, want 404", rec.Code)
	}
	for _, q := range []string{"805ec0aabb01", "80:5E:C0:AA:BB:01"} {
		rec := e.phone("GET", "/prov/y000000000000.boot?mac="+q, yealinkNoMAC)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `include:config "805ec0aabb01.cfg"`) {
			t.Errorf("?mac=%s: status %d:\n%s", q, rec.Code, rec.Body)
		}
	}
	// A common file names no phone: the adopted one's report is not
	// changed by it (found 8), an unknown MAC lands in the inbox.
	if d := e.device(devMAC); d.UserAgent == yealinkNoMAC {
		t.Errorf("a common-file fetch with ?mac= overwrote the adopted phone's user agent: %q", d.UserAgent)
	}
	if rec := e.phone("GET", "/prov/y000000000000.boot?mac=805ec0aabb77", yealinkNoMAC); rec.Code != http.StatusOK {
		t.Errorf("?mac= of a new phone: status %d", rec.Code)
	}
	if d := e.device("805ec0aabb77"); d.UserAgent != yealinkNoMAC || d.State != autoprov.StateUnassigned {
		t.Errorf("sighting by ?mac= not recorded: %+v", d)
	}
	// A ?mac= that is no MAC names no phone.
	rec := e.phone("GET", "/prov/y000000000000.boot?mac=nonsense", yealinkNoMAC)
	if rec.Code != http.StatusNotFound || rec.Body.String() != "not found\n" {
		t.Errorf("?mac=nonsense: status %d %q", rec.Code, rec.Body)
	}
}

func TestBaseURLFromHost(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	ts := e.serve()
	_, body := fetch(t, ts, "GET", "/prov/"+devMAC+".cfg", "User-Agent", yealinkUA)
	want := "static.auto_provision.server.url = http://" + ts.Listener.Addr().String() + "/prov/"
	if !strings.Contains(string(body), want+"\n") {
		t.Errorf("per-device file lacks %q:\n%s", want, body)
	}
	// The secrets transfer is complete: the phone presents its credential.
	e.completed(devMAC)
	phone := &http.Client{Transport: &httpauth.DigestTransport{Base: ts.Client().Transport, User: devMAC,
		Password: fileValue("static.auto_provision.server.password", string(body))}}
	req, _ := http.NewRequest("GET", ts.URL+"/prov/"+devMAC+".cfg", nil)
	req.Host = "prov.lan:8080"
	req.Header.Set("User-Agent", yealinkUA)
	resp, err := phone.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "static.auto_provision.server.url = http://prov.lan:8080/prov/\n") {
		t.Errorf("Host prov.lan:8080 not used: %d\n%s", resp.StatusCode, b)
	}
}

func TestBaseURLFromPublicURL(t *testing.T) {
	e := newEnv(t, options{publicURL: "https://prov.example.com"})
	e.setup()
	req := httptest.NewRequest("GET", "/prov/"+devMAC+".cfg", nil)
	req.Host = "prov.lan:8080"
	req.Header.Set("User-Agent", yealinkUA)
	rec := e.do(req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "static.auto_provision.server.url = https://prov.example.com/prov/\n") {
		t.Errorf("status %d, PublicURL not used:\n%s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "prov.lan") {
		t.Errorf("the request Host leaked into the file despite PublicURL")
	}
}

// TestForwardedForNotTrusted: without trusted proxies the peer address is
// recorded, not what X-Forwarded-For claims.
func TestForwardedForNotTrusted(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	ts := e.serve()
	fetch(t, ts, "GET", "/prov/"+devMAC+".cfg", "User-Agent", yealinkUA, "X-Forwarded-For", "203.0.113.9", "X-Real-IP", "203.0.113.9")
	d := e.settled(devMAC, autoprov.DisclosureConsumed)
	if d.RemoteIP != "127.0.0.1" {
		t.Errorf("remote_ip %q, want 127.0.0.1", d.RemoteIP)
	}
	if d.Disclosure.DisclosedTo == nil || d.Disclosure.DisclosedTo.IP != "127.0.0.1" {
		t.Errorf("disclosed_to %+v, want 127.0.0.1", d.Disclosure.DisclosedTo)
	}
}

// TestForwardedForTrustedProxy: the same request through a configured
// proxy records the forwarded address (so the test above can fail).
func TestForwardedForTrustedProxy(t *testing.T) {
	e := newEnv(t, options{trustedProxies: []string{"127.0.0.1"}})
	e.setup()
	ts := e.serve()
	fetch(t, ts, "GET", "/prov/"+devMAC+".cfg", "User-Agent", yealinkUA, "X-Forwarded-For", "203.0.113.9")
	if d := e.device(devMAC); d.RemoteIP != "203.0.113.9" {
		t.Errorf("remote_ip %q through a trusted proxy, want 203.0.113.9", d.RemoteIP)
	}
}

// The edge's own refusals are logged once a minute per message, path and
// client (phones retry forever, and anyone on the LAN can repeat a
// request), with a raw path cut short.
func TestPhoneRefusalsLoggedOnce(t *testing.T) {
	e := newEnv(t, options{})
	e.setup()
	ts := e.serve()
	long := "/prov/" + strings.Repeat("x", 4000) + "/../a.cfg"
	for range 5 {
		if resp, _ := rawGet(t, ts, "/prov/a/../"+devMAC+".cfg"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("refused path: %d", resp.StatusCode)
		}
		if resp, _ := rawGet(t, ts, long); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("long refused path: %d", resp.StatusCode)
		}
		if rec := e.do(httptest.NewRequest("PUT", "/prov/"+devMAC+"-local.cfg", strings.NewReader("x"))); rec.Code != http.StatusForbidden {
			t.Fatalf("upload: %d", rec.Code)
		}
		req := httptest.NewRequest("POST", "/prov/dialogue", strings.NewReader(strings.Repeat("x", vendors.MaxRequestBody+1)))
		req.ContentLength = -1 // chunked: the bound is found while reading
		if rec := e.do(req); rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized POST: %d", rec.Code)
		}
	}
	// Another path is news.
	if rec := e.do(httptest.NewRequest("PUT", "/prov/other.cfg", strings.NewReader("x"))); rec.Code != http.StatusForbidden {
		t.Fatalf("upload: %d", rec.Code)
	}
	logs := e.log.String()
	for msg, want := range map[string]int{`msg="refused phone path"`: 2, `msg="refused phone upload"`: 2, `msg="refused phone message"`: 1} {
		if n := strings.Count(logs, msg); n != want {
			t.Errorf("%s logged %d times, want %d:\n%s", msg, n, want, logs)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "refused phone path") && strings.Contains(line, strings.Repeat("x", 300)) {
			t.Error("a long refused path is logged whole")
		}
	}
}

// A POST body that ends early (the client went away, or sent less than
// it announced) is a bad request, not one too large.
func TestPhonePostTruncatedBody(t *testing.T) {
	e := newEnv(t, options{})
	ts := e.serve()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "POST /prov/dialogue HTTP/1.1\r\nHost: prov.test\r\nContent-Length: 100\r\n\r\nhello"); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("truncated POST body: %d, want 400", resp.StatusCode)
	}
}
