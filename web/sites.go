package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov/server/central"
)

// Sites is what the Sites pages show on a central server (*central.Hub):
// the sites, and a site's own admin API read over its link.
type Sites interface {
	Sites() []central.SiteView
	SiteGet(ctx context.Context, id, path, actor string) (int, []byte, error)
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
func (u *UI) mountSites(a *gin.RouterGroup) {
	a.GET("/sites", u.sitesPage)
	a.GET("/sites/:id", u.sitePage)
}

// remoteDevice is what the site page shows of a device the site's API
// answered.
type remoteDevice struct {
	MAC      string     `json:"mac"`
	Vendor   string     `json:"vendor"`
	Model    string     `json:"model"`
	Label    string     `json:"label"`
	State    string     `json:"state"`
	LastSeen *time.Time `json:"last_seen"`
	RemoteIP string     `json:"remote_ip"`
	Firmware string     `json:"firmware"`
}

type remoteList struct {
	Items []remoteDevice `json:"items"`
	Total int            `json:"total"`
}

type siteData struct {
	Site    siteRow
	Inbox   remoteList
	Devices remoteList
	Link    central.Status
}

// sitePage opens one site through its link: its inbox, its devices (the
// first 100 of each) and where it stands with this central, read from
// the site's own API.
func (u *UI) sitePage(c *gin.Context) {
	if u.sites == nil {
		u.fail(c, http.StatusNotFound, "This server has no sites.")
		return
	}
	id := c.Param("id")
	var row *siteRow
	for _, s := range u.sites.Sites() {
		if s.ID == id {
			r := siteRow{SiteView: s}
			_ = json.Unmarshal(s.Summary, &r.Sum)
			r.Grace = graceLeft(u.lang(c), s, u.now())
			row = &r
		}
	}
	if row == nil {
		u.fail(c, http.StatusNotFound, "No such site.")
		return
	}
	d := siteData{Site: *row}
	if row.State != central.SiteConnected {
		u.render(c, http.StatusOK, "site", view{Title: row.Name, Nav: "sites", Error: u.tr(c, "The site is %s: its pages open only while it is connected.", u.tr(c, row.State)), Data: d})
		return
	}
	actor := "central@" + c.ClientIP()
	for _, q := range []struct {
		path string
		into any
	}{
		{"/api/v1/devices?state=unassigned&limit=100", &d.Inbox},
		{"/api/v1/devices?state=assigned&limit=100", &d.Devices},
		{"/api/v1/central", &d.Link},
	} {
		code, body, err := u.sites.SiteGet(c.Request.Context(), id, q.path, actor)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("%s: status %d", q.path, code)
		}
		if err == nil {
			err = json.Unmarshal(body, q.into)
		}
		if err != nil {
			u.log.Warn("site page", "site", id, "err", err)
			u.render(c, http.StatusBadGateway, "site", view{Title: row.Name, Nav: "sites", Error: u.tr(c, "The site did not answer over its link."), Data: d})
			return
		}
	}
	u.render(c, http.StatusOK, "site", view{Title: row.Name, Nav: "sites", Data: d})
}

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
			r.Grace = graceLeft(u.lang(c), s, now)
			d.Sites = append(d.Sites, r)
		}
	}
	u.render(c, http.StatusOK, "sites", view{Title: "Sites", Nav: "sites", Data: d})
}

// graceLeft tells what remains of a disconnected site's grace period.
func graceLeft(lang string, s central.SiteView, now time.Time) string {
	if s.State != central.SiteDisconnected {
		return ""
	}
	if s.GraceUntil == nil {
		return translate(lang, "unknown")
	}
	left := s.GraceUntil.Sub(now)
	if left <= 0 {
		return translate(lang, "expired")
	}
	return translate(lang, "%.0f days (until %s)", left.Hours()/24, s.GraceUntil.Local().Format("2006-01-02 15:04 MST"))
}
