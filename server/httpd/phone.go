package httpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/ratelimit"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// phoneRequest turns a phone's HTTP request into the core's Request, or
// answers 404 itself for a path the edge refuses.
func (s *Server) phoneRequest(c *gin.Context) (vendors.Request, bool) {
	return s.phoneRequestOf(c.Writer, c.Request, c.Param("file"), c.ClientIP())
}

// phoneRequestOf is phoneRequest on plain net/http: file is the path
// after /prov, ip the client's address as gin's ClientIP tells it.
func (s *Server) phoneRequestOf(w http.ResponseWriter, r *http.Request, file, ip string) (vendors.Request, bool) {
	name, err := provision.CleanPath(file)
	if err != nil {
		s.refused(slog.LevelWarn, "refused phone path", r.URL.Path, ip, "reason", err)
		text(w, http.StatusNotFound, "not found\n")
		return vendors.Request{}, false
	}
	req := vendors.Request{
		Path: name, UserAgent: r.UserAgent(), RemoteAddr: ip,
		Transport: "http", BaseURL: s.baseURL(r), Method: vendors.MethodGet,
		Target: r.RequestURI,
	}
	if a := r.Header.Get("Authorization"); len(a) <= maxAuthorization {
		req.Authorization = a
	}
	if q := queryValue(r.URL.RawQuery, "mac"); q != "" {
		if mac, err := vendors.ParseMAC(q); err == nil {
			req.MAC = mac
		}
	}
	if r.TLS != nil {
		req.Transport = "https"
		req.ClientCerts = clientCerts(r.TLS, s.cfg.PhoneCAs, time.Now())
	}
	return req, true
}

// queryValue is url.ParseQuery(raw).Get(key) (what gin's Query returns)
// without building the map.
func queryValue(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(pair, ";") {
			continue // url.ParseQuery refuses it
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != key {
			continue
		}
		if v, err = url.QueryUnescape(v); err != nil {
			continue
		}
		return v
	}
	return ""
}

// text answers code with a plain-text body, as gin's Context.String does.
func text(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(code)
	io.WriteString(w, body) //nolint:errcheck // the phone is gone; nothing to tell it
}

// busyRetryAfter is the Retry-After of a phone request the core had no
// time for, in seconds.
const busyRetryAfter = "5"

// maxAuthorization bounds the Authorization header passed to the core;
// a longer one counts as none.
const maxAuthorization = 4096

// provide asks the core and answers its refusals: 403 for a POST no
// driver takes, 401 with the core's challenges where a per-device file
// needs the phone's credential (provision.AuthRequiredError), 503 with
// Retry-After when the core ran out of its time or failed (a slow, hung,
// down or full database: the file may well exist, so the phone is told to
// come back, not that there is none), 404 for a miss. The core has logged
// why.
func (s *Server) provide(w http.ResponseWriter, r *http.Request, req vendors.Request) (*provision.Result, bool) {
	// The result outlives this call (the body is written after it), so
	// the timeout bounds the core's work, not the transfer.
	ctx := newLazyTimeout(r.Context(), s.cfg.ProvideTimeout)
	defer ctx.release()
	res, err := s.cfg.Phones.Provide(ctx, req)
	if err == nil {
		return res, true
	}
	answer(w, s.refusal(req, err, errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil))
	return nil, false
}

// answer writes the refusal a.
func answer(w http.ResponseWriter, a refused) {
	h := w.Header()
	for i := 0; i+1 < len(a.header); i += 2 {
		h.Add(a.header[i], a.header[i+1])
	}
	text(w, a.status, a.body)
}

// refused is the answer to a phone request the core refused: the status,
// extra header fields (name, value, name, value...) and the plain-text
// body. Both lanes (provide, lane.go) send it.
type refused struct {
	status int
	header []string
	body   string
}

var (
	busyHeader   = []string{"Retry-After", busyRetryAfter, "Cache-Control", "no-store"}
	busyAnswer   = refused{http.StatusServiceUnavailable, busyHeader, "busy, retry later\n"}
	refuseAnswer = refused{http.StatusForbidden, nil, "forbidden\n"}
	missAnswer   = refused{http.StatusNotFound, nil, "not found\n"}
	// withdrawnAnswer is for a file with secrets the core withdrew right
	// before its first byte (Result.Sending failed: the claim on the
	// window was lost, or its commit failed, e.g. on a full disk). The
	// file exists: the phone is told to come back, and then gets what is
	// due (the secrets if the window is still open, else the file
	// without them), not that there is none.
	withdrawnAnswer = busyAnswer
)

// refusal is the answer to the core's error err: 403 for a POST no driver
// takes, 401 with the core's challenges where a per-device file needs the
// phone's credential (provision.AuthRequiredError), 503 with Retry-After
// when the core ran out of its time (timedOut: a slow or hung database,
// so the file may well exist and the phone is told to come back, not that
// there is none), 404 for a miss (vendors.ErrNotFound), and 503 with
// Retry-After for any other failure (a database that is down or full:
// the file may exist too). The core has logged why.
func (s *Server) refusal(req vendors.Request, err error, timedOut bool) refused {
	var auth *provision.AuthRequiredError
	switch {
	case timedOut:
		// Whatever the core made of it (a miss, a failed read), it did
		// not have its time: nothing was disclosed (a claim commits only
		// when the body starts to leave).
		s.logFailure(slog.LevelWarn, "phone request timed out; answered 503", req, err, "timeout", s.cfg.ProvideTimeout)
		return busyAnswer
	case errors.As(err, &auth):
		// The same answer for an unknown MAC as for a device whose
		// credential is missing or wrong: only the nonce differs.
		h := make([]string, 0, 2*len(auth.Challenges)+2)
		for _, ch := range auth.Challenges {
			h = append(h, "WWW-Authenticate", ch)
		}
		return refused{http.StatusUnauthorized, append(h, "Cache-Control", "no-store"), "unauthorized\n"}
	case errors.Is(err, autoprov.ErrRefused):
		return refuseAnswer
	case errors.Is(err, vendors.ErrNotFound):
		return missAnswer
	default:
		s.logFailure(slog.LevelError, "phone request failed; answered 503", req, err)
		return busyAnswer
	}
}

// failLogEvery is how often each of the phone paths' failure lines
// (logFailure), and the access log's error line of each route and 5xx
// status (accessLog), goes out at most.
const failLogEvery = time.Minute

// newFailLog is the limiter of logFailure's lines, on the clock now
// (time.Now when nil).
func newFailLog(now func() time.Time) *ratelimit.Keyed {
	// Keys: two failure lines, and the routes' 5xx statuses.
	return ratelimit.New(ratelimit.Config{Every: failLogEvery, Burst: 1, MaxKeys: 256, Now: now})
}

// logFailure logs a phone request the core failed (msg), at most once
// per failLogEvery whatever the phone or path: when the database is down
// every phone's request fails, and thousands of phones would flood the
// log with a line each. The line names one request (the first of its
// minute) and how many were left out since the last one
// (suppressed); the metrics count every request
// (autoprov_http_request_duration_seconds_count).
func (s *Server) logFailure(level slog.Level, msg string, req vendors.Request, err error, attrs ...any) {
	ok, suppressed := s.failLog.AllowCounted(msg)
	if !ok {
		return
	}
	s.log.Log(context.Background(), level, msg, append([]any{"path", req.Path, "remote", req.RemoteAddr, "err", err,
		"suppressed", suppressed}, attrs...)...)
}

// phoneGet serves GET and HEAD /prov/<file>. A HEAD or a conditional GET
// (see conditional) is asked of the core as SecretFree: it is answered
// from the file without secrets, so it never reveals, renders or uses up a
// disclosure window, and HEAD's headers are the same whether a window is
// open or not.
func (s *Server) phoneGet(c *gin.Context) {
	req, ok := s.phoneRequest(c)
	if !ok {
		return
	}
	if strings.HasPrefix(req.Path, "firmware/") {
		s.firmwareGet(c, req.Path)
		return
	}
	s.phoneFile(c.Writer, c.Request, req)
}

// phoneFile answers a GET or HEAD of a phone's file (not firmware): on
// gin (phoneGet) and ahead of it (fastPhoneGet).
func (s *Server) phoneFile(w http.ResponseWriter, r *http.Request, req vendors.Request) {
	req.SecretFree = r.Method == http.MethodHead || conditional(r)
	res, ok := s.provide(w, r, req)
	if !ok {
		return
	}
	s.send(w, r, res, true)
}

// conditional reports whether a request carries any precondition header
// (RFC 9110, section 13.1). Such a request is served without secrets: a
// 304 when If-None-Match names the ETag of the file without secrets, else
// that file (other preconditions are not evaluated: the body is sent).
func conditional(r *http.Request) bool {
	for _, h := range preconditions {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

var preconditions = [...]string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"}

// send answers with the result and tells the core when its body starts
// to leave (Sending, right before the first byte: for a body with secrets
// that consumes the window) and whether it was delivered (End). A GET (or
// HEAD) of a body without secrets carries its ETag and answers a matching
// If-None-Match with 304; a body with secrets never does (it must not be
// cached, nor its delivery skipped). If Sending fails (the claim was lost
// or could not be committed) the phone gets withdrawnAnswer and no byte
// of the body.
func (s *Server) send(w http.ResponseWriter, r *http.Request, res *provision.Result, cacheable bool) {
	var end error = provision.ErrNotDelivered
	defer func() { res.End(end) }()
	end = s.sendBody(w, r, res, cacheable)
}

// sendBody is send but for End: it returns what send tells End.
func (s *Server) sendBody(w http.ResponseWriter, r *http.Request, res *provision.Result, cacheable bool) (end error) {
	if r.Method != http.MethodHead {
		// Before any header: a refused body leaves no trace of the file.
		if err := res.Sending(); err != nil {
			answer(w, withdrawnAnswer)
			return provision.ErrNotDelivered
		}
	}
	h := w.Header()
	for k, v := range res.Header {
		h.Set(k, v)
	}
	// Shared, read-only value slices: net/http only reads them.
	h["Content-Type"] = headerValue(res.File.ContentType)
	h["Cache-Control"] = noStore
	if cacheable && !res.Secret {
		h.Set("ETag", res.ETag)
		if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, res.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(res.File.Body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	n, err := w.Write(res.File.Body)
	switch {
	case err != nil:
		end = fmt.Errorf("HTTP body write failed after %d of %d bytes: %w", n, len(res.File.Body), err)
	case n != len(res.File.Body):
		end = fmt.Errorf("HTTP body write stopped after %d of %d bytes", n, len(res.File.Body))
	case !res.Secret:
		// Nothing records its delivery (End is a no-op): no flush here,
		// net/http writes it out when the handler returns.
		end = nil
	default:
		// The body counts as delivered once it is written out to the
		// connection: flush it now so a connection already gone shows as an
		// error. A phone that closes the connection right after reading the
		// last byte (many do) cancels the request context, so that context
		// says nothing about delivery.
		if err := flush(w); err != nil {
			end = fmt.Errorf("HTTP body not flushed to the connection: %w", err)
		} else {
			end = nil
		}
	}
	return end
}

// flush pushes buffered response bytes to the connection and reports a
// write error. gin's writer flushes without an error, so flush the
// net/http writer beneath it.
func flush(w http.ResponseWriter) error {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	return http.NewResponseController(w).Flush()
}

// phoneUpload refuses uploads (Yealink's <mac>-local.cfg and the like):
// phones must never change what the server serves.
func (s *Server) phoneUpload(c *gin.Context) {
	s.refused(slog.LevelInfo, "refused phone upload", c.Request.URL.Path, c.ClientIP(), "user_agent", c.Request.UserAgent())
	c.String(http.StatusForbidden, "forbidden\n")
}

// phonePost hands a message a phone POSTs to the core, which passes it to
// the driver that declares the path (vendors.Responder); every other POST
// is refused with 403, as uploads are. The body is bounded by
// vendors.MaxRequestBody.
func (s *Server) phonePost(c *gin.Context) {
	s.phonePostAs(c, BaseURL(c.Request))
}

// phonePostAs is phonePost with the base URL given to the core ("": the
// core's public or fallback URL, for a listener that serves no files).
func (s *Server) phonePostAs(c *gin.Context, base string) {
	req, ok := s.phoneRequest(c)
	if !ok {
		return
	}
	req.BaseURL = base
	if c.Request.ContentLength > vendors.MaxRequestBody {
		c.String(http.StatusRequestEntityTooLarge, "too large\n")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, vendors.MaxRequestBody))
	if err != nil {
		s.refused(slog.LevelInfo, "refused phone message", req.Path, req.RemoteAddr, "reason", err)
		// Only a body over the bound is too large; one that ended early
		// or timed out (ReadTimeout) is a bad request.
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.String(http.StatusRequestEntityTooLarge, "too large\n")
		} else {
			c.String(http.StatusBadRequest, "bad request\n")
		}
		return
	}
	req.Method, req.Body = vendors.MethodPost, body
	req.Header = map[string]string{}
	for _, h := range []string{"Content-Type", "Cookie"} {
		if v := c.GetHeader(h); v != "" {
			req.Header[h] = v
		}
	}
	res, ok := s.provide(c.Writer, c.Request, req)
	if !ok {
		return
	}
	s.send(c.Writer, c.Request, res, false)
}

// refused logs a request the edge refused itself, at most once a minute
// per message, path and client: phones retry forever. A raw path (up to
// the header limit, 64 KiB) is cut short first.
func (s *Server) refused(level slog.Level, msg, path, remote string, attrs ...any) {
	const maxPath = 256
	if len(path) > maxPath {
		path = path[:maxPath] + "..."
	}
	if s.quiet.Allow(msg + "\x00" + path + "\x00" + remote) {
		s.log.Log(context.Background(), level, msg, append([]any{"path", path, "remote", remote}, attrs...)...)
	}
}

func etagMatch(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// noStore is the Cache-Control of every phone file.
var noStore = []string{"no-store"}

// headerValues holds the value slices of the few Content-Types the drivers
// send (at most maxHeaderValues), so a response does not allocate one.
var (
	headerValues    sync.Map // string -> []string
	headerValuesLen atomic.Int32
)

const maxHeaderValues = 64

func headerValue(v string) []string {
	if vs, ok := headerValues.Load(v); ok {
		return vs.([]string)
	}
	vs := []string{v}
	if headerValuesLen.Add(1) <= maxHeaderValues {
		headerValues.Store(v, vs)
	}
	return vs
}

// baseURLMemo is the last base URL the phone path built, by Host and TLS:
// phones of one site all name the same host.
type baseURLMemo struct {
	host, url string
	tls       bool
}

// baseURL is BaseURL(r), from the memo when its Host and TLS match.
func (s *Server) baseURL(r *http.Request) string {
	if m := s.lastBase.Load(); m != nil && m.host == r.Host && m.tls == (r.TLS != nil) {
		return m.url
	}
	u := BaseURL(r)
	s.lastBase.Store(&baseURLMemo{host: r.Host, url: u, tls: r.TLS != nil})
	return u
}

// baseURLOf is baseURL for a request whose Host is host (the phone lane).
func (s *Server) baseURLOf(host []byte, overTLS bool) string {
	if m := s.lastBase.Load(); m != nil && m.host == string(host) && m.tls == overTLS {
		return m.url
	}
	u := baseURLFor(string(host), overTLS)
	s.lastBase.Store(&baseURLMemo{host: string(host), url: u, tls: overTLS})
	return u
}

func BaseURL(r *http.Request) string { return baseURLFor(r.Host, r.TLS != nil) }

// baseURLFor is BaseURL for a request to host, over TLS or not.
func baseURLFor(host string, overTLS bool) string {
	scheme := "http"
	if overTLS {
		scheme = "https"
	}
	if host == "" || strings.ContainsAny(host, "/\\ \"<>") {
		return ""
	}
	return scheme + "://" + host + "/prov/"
}
