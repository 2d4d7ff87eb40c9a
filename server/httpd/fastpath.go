package httpd

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/server/metrics"
	"github.com/autoprov/autoprov/server/provision"
)

// phoneRoute is the gin route of the phone files: the metrics label of
// the requests the fast path answers.
const phoneRoute = "/prov/*file"

// fastPath answers GET /prov/<file> (a phone's file, not firmware) ahead
// of gin, with the same code as gin's route (phoneFile): the same
// allow-list, the same request to the core (which applies the credential,
// challenge and rate rules, records the sighting and serves a cache hit),
// the same answer byte for byte, the same metrics and access log. It
// spares what gin costs per request (its context, routing, the middleware
// chain, the query map). Everything else goes to gin (next): other methods
// and paths, firmware, a request over the sites' link, a client address
// gin would read otherwise (trusted proxies, a zone), a path gin would
// not route to /prov/*file.
func (s *Server) fastPath(next http.Handler) http.Handler {
	if len(s.cfg.TrustedProxies) > 0 {
		return next // gin's ClientIP reads X-Forwarded-For: one rule, one place
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/prov/") {
			next.ServeHTTP(w, r)
			return
		}
		if name, err := provision.CleanPath(r.URL.Path[len("/prov"):]); err == nil && strings.HasPrefix(name, "firmware/") {
			next.ServeHTTP(w, r)
			return
		}
		ip, ok := clientIP(r.RemoteAddr)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if _, link := central.LinkActor(r.Context()); link {
			next.ServeHTTP(w, r)
			return
		}
		s.fastPhoneGet(w, r, ip)
	})
}

// clientIP is gin's ClientIP without trusted proxies: the address of
// RemoteAddr in its canonical form; false where the fast path leaves it to
// gin (no address, a zone).
func clientIP(remote string) (string, bool) {
	host, _, err := net.SplitHostPort(strings.TrimSpace(remote))
	if err != nil {
		return "", false
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	if a.Is4() {
		return host, true // netip's IPv4 form is strict: host is canonical
	}
	return a.Unmap().String(), true
}

// statusWriter records the status of the answer, for the metrics and the
// access log; pooled.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

// Unwrap lets flush and http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

// fastPhoneGet is gin's middleware chain (recover, accessLog, allowList)
// and phoneGet for one phone file.
func (s *Server) fastPhoneGet(rw http.ResponseWriter, r *http.Request, ip string) {
	start := time.Now()
	w := statusWriters.Get().(*statusWriter)
	*w = statusWriter{ResponseWriter: rw}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in handler", "path", r.URL.Path, "panic", p)
			if w.status == 0 {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte(`{"error":"internal error"}`)) //nolint:errcheck // as gin's c.JSON
			}
		}
		status := w.status
		if status == 0 {
			status = http.StatusOK
		}
		metrics.HTTPRequest(phoneRoute, r.Method, status, time.Since(start))
		lvl, attrs := s.accessLevel(status, phoneRoute)
		if s.log.Enabled(r.Context(), lvl) {
			s.log.Log(r.Context(), lvl, "request", append([]any{"method", r.Method, "path", r.URL.Path,
				"status", status, "bytes", w.size, "remote", ip, "duration", time.Since(start)}, attrs...)...)
		}
		*w = statusWriter{}
		statusWriters.Put(w)
	}()
	if !s.cfg.PhoneNetworks.AllowsString(ip) {
		s.refusedLog("phone", ip)
		text(w, http.StatusNotFound, "not found\n")
		return
	}
	req, ok := s.phoneRequestOf(w, r, r.URL.Path[len("/prov"):], ip)
	if !ok {
		return
	}
	s.phoneFile(w, r, req)
}
