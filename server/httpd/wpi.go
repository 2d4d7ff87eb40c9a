package httpd

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// Dialogues answers DCMP polls (*provision.Dialogues): whether a job
// waits for a phone.
type Dialogues interface {
	Pending(ctx context.Context, mac string) (bool, error)
	State(ctx context.Context, mac string) (provision.DialogueState, bool, error)
}

// withDialogue adds what the server knows of a dialogue phone to its JSON.
func (s *Server) withDialogue(ctx context.Context, out *deviceJSON) {
	if s.cfg.Dialogues == nil {
		return
	}
	st, ok, err := s.cfg.Dialogues.State(ctx, out.MAC)
	if err != nil {
		s.log.Error("dialogue state", "mac", out.MAC, "err", err)
	}
	if !ok {
		return
	}
	d := dialogueJSON{Pending: st.Pending, Reported: st.Reported, FailedItems: st.Failed}
	if !st.PendingSince.IsZero() {
		d.PendingSince = &st.PendingSince
	}
	if !st.LastContact.IsZero() {
		d.LastContact = &st.LastContact
	}
	if d.Reported == nil {
		d.Reported = map[string]string{}
	}
	if d.FailedItems == nil {
		d.FailedItems = []string{}
	}
	out.Dialogue = &d
}

// wpiPath is the Request.Path every POST under /DeploymentService gets
// (phones configured with an address and port only post to
// /DeploymentService/LoginService; GS3 accepts any /DeploymentService*,
// reference openstage.md §2).
const wpiPath = "DeploymentService/LoginService"

// WPIHandler is the handler of the Workpoint Interface listener (--wpi):
// OpenStage phones' POSTs to /DeploymentService/... and /provisioningService,
// handed to the same core as /prov/ POSTs, and DCMP polls. Everything else
// is 404.
func (s *Server) WPIHandler() http.Handler {
	e := gin.New()
	e.HandleMethodNotAllowed = false
	_ = e.SetTrustedProxies(nil)
	e.Use(s.recover, s.accessLog, s.allowList)
	e.NoRoute(func(c *gin.Context) { c.String(http.StatusNotFound, "not found\n") })
	e.POST("/DeploymentService/*rest", func(c *gin.Context) { s.wpiPost(c, wpiPath) })
	e.POST("/provisioningService", func(c *gin.Context) { s.wpiPost(c, "provisioningService") })
	e.GET("/dcmp/contact-me", s.dcmp)
	return e
}

// ServeWPI serves the Workpoint Interface on ln over TLS with cfg until
// ctx is done (see Serve).
func (s *Server) ServeWPI(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	return s.serveWith(ctx, ln, cfg, s.WPIHandler(), false)
}

// wpiPost is phonePost for the WPI listener's fixed paths.
func (s *Server) wpiPost(c *gin.Context, path string) {
	c.Params = append(c.Params, gin.Param{Key: "file", Value: "/" + path})
	s.phonePostAs(c, "")
}

// dcmp answers a DCMP poll, GET /dcmp/contact-me?device-id=<MAC>: 202
// when a job waits for the phone (it then opens a solicited session),
// 200 otherwise (reference openstage.md §6.2). An unknown or malformed
// MAC is 200 too: the answer says nothing about the inventory beyond a
// pending job.
func (s *Server) dcmp(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	mac, err := vendors.ParseMAC(strings.TrimSpace(c.Query("device-id")))
	if err == nil && s.cfg.Dialogues != nil {
		pending, err := s.cfg.Dialogues.Pending(c.Request.Context(), mac)
		if err != nil {
			s.log.Error("DCMP poll: pending job", "mac", mac, "err", err)
		}
		if pending {
			c.Status(http.StatusAccepted)
			return
		}
	}
	c.Status(http.StatusOK)
}
