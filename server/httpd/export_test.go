package httpd

import (
	"net/http"
	"time"
)

// GinHandler is the edge without its fast path: gin for every request.
func (s *Server) GinHandler() http.Handler { return s.engine }

// FastPathOnly is the fast path with gin replaced by a handler that
// answers 599, so a request the fast path does not answer shows.
func (s *Server) FastPathOnly() http.Handler {
	return s.fastPath(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(599) }))
}

// LaneAnswered is how many requests the phone lane answered itself.
func (s *Server) LaneAnswered() int64 { return s.laneAnswered.Load() }

// SetReadTimeout sets the read timeout (readTimeout) for servers made
// afterwards and returns the function that restores it.
func SetReadTimeout(d time.Duration) func() {
	old := readTimeout
	readTimeout = d
	return func() { readTimeout = old }
}

// OpenConns is how many connections count against the bound.
func (s *Server) OpenConns() int { return s.conns.open() }

// IdleConns is how many of them are idle (sent nothing yet, or between
// requests).
func (s *Server) IdleConns() int {
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	n := 0
	for _, t := range s.conns.conns {
		if t.state.Load() > 0 {
			n++
		}
	}
	return n
}

// SetFailLogClock puts the limiter of the phone paths' failure lines on
// the clock now (and forgets what it counted).
func (s *Server) SetFailLogClock(now func() time.Time) { s.failLog = newFailLog(now) }
