package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov/server/central"
)

// Sites is what the Sites page lists on a central server (*central.Hub).
type Sites interface {
	Sites() []central.SiteView
}

// Link is where this server stands as a site of a central one
// (*central.Site).
type Link interface {
	Status() central.Status
}

// WithSites adds what the Sites page shows: the central's sites (nil on
// a server without --https) and this server's own link to its central
// (nil without --central).
func WithSites(s Sites, l Link) Option {
	return func(u *UI) {
		if s != nil {
			u.sites = s
		}
		if l != nil {
			u.link = l
		}
	}
}

// siteRow is one site on the page, its summary decoded.
type siteRow struct {
	central.SiteView
	Sum   central.Summary
	Grace string // what remains of its grace period, as far as known
}

type sitesData struct {
	Central bool
	Sites   []siteRow
	Link    *central.Status
	LinkOn  bool
}

// mountSites adds the Sites page to the session-protected group.
func (u *UI) mountSites(a *gin.RouterGroup) { a.GET("/sites", u.sitesPage) }

func (u *UI) sitesPage(c *gin.Context) {
	d := sitesData{Central: u.sites != nil, LinkOn: u.link != nil}
	if u.link != nil {
		st := u.link.Status()
		d.Link = &st
	}
	if u.sites != nil {
		now := u.now()
		for _, s := range u.sites.Sites() {
			r := siteRow{SiteView: s}
			if len(s.Summary) > 0 {
				_ = json.Unmarshal(s.Summary, &r.Sum) // a summary from another version shows what it can
			}
			r.Grace = graceLeft(s, now)
			d.Sites = append(d.Sites, r)
		}
	}
	u.render(c, http.StatusOK, "sites", view{Title: "Sites", Nav: "sites", Data: d})
}

// graceLeft tells what remains of a disconnected site's grace period.
func graceLeft(s central.SiteView, now time.Time) string {
	if s.State != central.SiteDisconnected {
		return ""
	}
	if s.GraceUntil == nil {
		return "unknown"
	}
	left := s.GraceUntil.Sub(now)
	if left <= 0 {
		return "expired"
	}
	return fmt.Sprintf("%.0f days (until %s)", left.Hours()/24, s.GraceUntil.Local().Format("2006-01-02 15:04 MST"))
}
