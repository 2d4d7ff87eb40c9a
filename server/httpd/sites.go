package httpd

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov/server/central"
)

// CentralStatus is where a site stands with its central server
// (*central.Site): GET /api/v1/central.
type CentralStatus interface {
	Status() central.Status
}

// siteRoutes adds the routes of the central and of a site
// (server/central): the central's admin API under /api/v1/sites (behind
// the admin token, like every /api/v1 route), the link's own paths under
// /central/ (no admin token: the enrolment token or the site's client
// certificate), and a site's GET /api/v1/central.
func (s *Server) siteRoutes(e *gin.Engine, api *gin.RouterGroup) {
	api.GET("/central", func(c *gin.Context) {
		if s.cfg.Central == nil {
			c.JSON(http.StatusOK, central.Status{State: central.StateNone})
			return
		}
		c.JSON(http.StatusOK, s.cfg.Central.Status())
	})
	if s.cfg.Sites != nil {
		h := func(c *gin.Context) {
			ctx := central.WithAdminActor(c.Request.Context(), "central@"+c.ClientIP())
			s.cfg.Sites.ServeHTTP(c.Writer, c.Request.WithContext(ctx))
		}
		api.Any("/sites", h)
		api.Any("/sites/*rest", h)
	}
	if s.cfg.SiteLink != nil {
		e.Any("/central/*rest", gin.WrapH(s.cfg.SiteLink))
	}
}

// linkActor is the actor of a request the central sent over this site's
// link (central.WithLinkActor): it passed the link's mutual TLS, so the
// admin token and the allow-list do not apply to it.
func linkActor(c *gin.Context) (string, bool) {
	return central.LinkActor(c.Request.Context())
}

// linkPath reports whether a route is one of the link's paths, which
// sites reach from their own networks.
func linkPath(route string) bool { return strings.HasPrefix(route, "/central/") }
