package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov/internal/ratelimit"
)

// sessionKey is where requireSession puts the *session in the gin context.
const sessionKey = "web.session"

// session is a logged-in admin. Only its id's hash is kept as the map key.
type session struct {
	expires time.Time
	csrf    string // the CSRF token every POST must carry
	flash   string // a message for the next page, shown once
}

// sessions are held in memory: a restart logs everyone out.
type sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, now: now}
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns its id (32 random bytes).
func (s *sessions) create() (string, *session) {
	id := randomString(32)
	sess := &session{expires: s.now().Add(sessionTTL), csrf: randomString(32)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // few sessions: sweep the expired ones here
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session of id, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[key]
	if sess != nil && !s.now().Before(sess.expires) {
		delete(s.m, key)
		return nil
	}
	return sess
}

// drop ends the session of id.
func (s *sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

func (s *sessions) setFlash(sess *session, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.flash = msg
}

func (s *sessions) takeFlash(sess *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := sess.flash
	sess.flash = ""
	return msg
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) the session cookie.
func setCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: cookieName, Value: value, Path: "/ui", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// requireSession lets a request with a live session through; others are
// sent to the login form.
func (u *UI) requireSession(c *gin.Context) {
	id, _ := c.Cookie(cookieName)
	sess := u.sessions.get(id)
	if sess == nil {
		c.Redirect(http.StatusSeeOther, "/ui/login")
		c.Abort()
		return
	}
	c.Set(sessionKey, sess)
	// Every time is shown in the fleet's zone, as the settings say now.
	if st, err := u.core.Settings(c.Request.Context()); err == nil {
		u.zone.set(st.Timezone)
	}
	c.Next()
}

// checkCSRF refuses (403) a POST whose csrf field is not its session's token.
func (u *UI) checkCSRF(c *gin.Context) {
	sess := c.MustGet(sessionKey).(*session)
	if subtle.ConstantTimeCompare([]byte(c.PostForm("csrf")), []byte(sess.csrf)) != 1 {
		u.log.Warn("form without a valid CSRF token refused", "path", c.Request.URL.Path, "remote", c.ClientIP())
		u.fail(c, http.StatusForbidden, "The form has expired or did not come from this page. Reload the page and try again.")
		return
	}
	c.Next()
}

func (u *UI) loginPage(c *gin.Context) {
	id, _ := c.Cookie(cookieName)
	if u.sessions.get(id) != nil {
		c.Redirect(http.StatusSeeOther, "/ui/dashboard")
		return
	}
	u.render(c, http.StatusOK, "login", view{Title: "Log in"})
}

// authFailedMsg is the fixed message of the one log line every failed
// login writes (with remote= and via=ui), the same as the API's
// (httpd.AuthFailedMsg), so one fail2ban filter matches both.
const authFailedMsg = "authentication failed"

func (u *UI) login(c *gin.Context) {
	ip := c.ClientIP()
	// A client is its address, an IPv6 one its /64 (ratelimit.ClientKey).
	// The guess is taken before the token is checked, so concurrent
	// attempts cannot all pass a check made before any of them failed; a
	// refused client's token is not even looked at. The limiter forgets
	// idle and then the least recent clients, never pools them: no number
	// of other addresses makes a fresh one wait.
	key := ratelimit.ClientKey(ip)
	if !u.logins.Allow(key) {
		if u.quiet.Allow(key) {
			u.log.Warn(authFailedMsg, "remote", ip, "via", "ui", "reason", "throttled")
		}
		c.Header("Retry-After", strconv.FormatInt(max(1, int64((u.logins.RetryAfter(key)+time.Second-1)/time.Second)), 10))
		u.render(c, http.StatusTooManyRequests, "login", view{Title: "Log in", Error: u.tr(c, "Too many wrong tokens. Wait a minute and try again.")})
		return
	}
	if !u.tokenOK(c.PostForm("token")) {
		u.log.Warn(authFailedMsg, "remote", ip, "via", "ui", "reason", "wrong token")
		u.render(c, http.StatusUnauthorized, "login", view{Title: "Log in", Error: u.tr(c, "Wrong token.")})
		return
	}
	u.logins.Forget(key) // only wrong tokens count
	id, _ := u.sessions.create()
	setCookie(c, id, int(sessionTTL/time.Second))
	u.log.Info("admin logged in to the web UI", "remote", ip)
	c.Redirect(http.StatusSeeOther, "/ui/dashboard")
}

func (u *UI) logout(c *gin.Context) {
	id, _ := c.Cookie(cookieName)
	u.sessions.drop(id)
	setCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/ui/login")
}

// newLoginLimiter returns the login limiter: per client IP a bucket of
// loginFails guesses, refilled at loginFails per loginWindow (one every
// 12 s), remembering at most loginClients clients. Every login attempt
// takes a guess; a right token gives the client a full bucket again (Forget).
func newLoginLimiter(now func() time.Time) *ratelimit.Keyed {
	return ratelimit.New(ratelimit.Config{Every: loginWindow / loginFails, Burst: loginFails,
		MaxKeys: loginClients, Now: now})
}
