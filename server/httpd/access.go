package httpd

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov/internal/ratelimit"
)

// Limits of the admin API's bearer-token check, per client address: a
// client may present AuthFailBurst wrong tokens at once, then one more
// every AuthFailEvery; past that it gets 429 with Retry-After, whatever
// token it sends, until a guess has come back. A right token gives the
// client a full bucket again. At most AuthClients addresses are
// remembered; a new one forgets an idle (full) bucket first, else the
// address heard from least recently, so no number of other addresses can
// make a fresh address wait.
const (
	AuthFailBurst = 10
	AuthFailEvery = 6 * time.Second
	AuthClients   = 10000
)

// AuthFailedMsg is the fixed message of the one log line every failed
// authentication writes, on the API (component=http via=api) and in the
// web UI (component=web via=ui), with the client's address as remote=.
// docs/fail2ban/autoprov.conf matches it.
const AuthFailedMsg = "authentication failed"

// access holds the edge's per-client-address state for authentication.
type access struct {
	guesses *ratelimit.Keyed // wrong bearer tokens per client address
	quiet   *ratelimit.Keyed // log lines about throttled or refused clients
}

func newAccess() *access {
	return &access{
		guesses: ratelimit.New(ratelimit.Config{Every: AuthFailEvery, Burst: AuthFailBurst, MaxKeys: AuthClients}),
		quiet:   ratelimit.New(ratelimit.Config{Every: time.Minute, Burst: 1, MaxKeys: AuthClients}),
	}
}

// allowList applies the allow-lists by the route a request matched: the
// phone routes (/prov/ and /firmware/) follow Config.PhoneNetworks and answer a client outside it
// exactly as a miss (404 "not found", and 403 for an upload, which every
// client gets), so the answer reveals nothing; /healthz is open to every
// client (it tells only "ok"), and so are a path with no route (404
// anyway) and the sites' link under /central/ (it authenticates itself;
// sites.go); a request the central sent over this site's link passes
// too; everything else (the API, the UI, "/") follows
// Config.AdminNetworks and answers 403. One line per client address a
// minute goes to the log.
func (s *Server) allowList(c *gin.Context) {
	route := c.FullPath()
	ip := c.ClientIP()
	if _, ok := linkActor(c); ok {
		return
	}
	switch {
	case route == "" || route == "/healthz" || linkPath(route):
		return
	case strings.HasPrefix(route, "/prov/"), strings.HasPrefix(route, "/firmware/"), route == "/dcmp/contact-me",
		strings.HasPrefix(route, "/DeploymentService/"), route == "/provisioningService":
		if s.cfg.PhoneNetworks.AllowsString(ip) {
			return
		}
		s.refusedLog("phone", ip)
		if c.Request.Method == http.MethodPut {
			c.String(http.StatusForbidden, "forbidden\n")
		} else {
			c.String(http.StatusNotFound, "not found\n")
		}
	default:
		if s.cfg.AdminNetworks.AllowsString(ip) {
			return
		}
		s.refusedLog("admin", ip)
		c.JSON(http.StatusForbidden, apiError{Error: "forbidden"})
	}
	c.Abort()
}

func (s *Server) refusedLog(list, ip string) {
	if s.access.quiet.Allow("net\x00" + list + "\x00" + ip) {
		s.log.Info("request from outside the allowed networks refused", "list", list+"-networks", "remote", ip)
	}
}

// auth checks the admin API's bearer token. A request without an
// Authorization header is no attempt: 401 and nothing else. Every other
// request takes a guess from its client address's bucket before its token
// is compared (so concurrent guesses cannot all pass a check made before
// any of them failed); with the bucket empty the answer is 429 and the
// token is not even looked at, so a throttled client learns nothing. A
// wrong token is 401 and one "authentication failed" log line; a right one
// gives the address its full bucket back.
func (s *Server) auth(c *gin.Context) {
	if _, ok := linkActor(c); ok {
		c.Next()
		return
	}
	h := c.GetHeader("Authorization")
	if h == "" {
		s.challenge(c)
		return
	}
	ip := c.ClientIP()
	key := ratelimit.ClientKey(ip) // an IPv6 client is its /64
	if !s.access.guesses.Allow(key) {
		if s.access.quiet.Allow("throttled\x00" + key) {
			s.log.Warn(AuthFailedMsg, "remote", ip, "via", "api", "reason", "throttled")
		}
		c.Header("Retry-After", retryAfter(s.access.guesses.RetryAfter(key)))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, apiError{Error: "too many wrong tokens: retry later"})
		return
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || s.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) != 1 {
		s.log.Warn(AuthFailedMsg, "remote", ip, "via", "api", "reason", "wrong token")
		s.challenge(c)
		return
	}
	s.access.guesses.Forget(key)
	c.Next()
}

func (s *Server) challenge(c *gin.Context) {
	c.Header("WWW-Authenticate", `Bearer realm="autoprov"`)
	c.AbortWithStatusJSON(http.StatusUnauthorized, apiError{Error: "missing or wrong bearer token"})
}

// retryAfter is d as a Retry-After value: whole seconds, rounded up, at
// least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}
