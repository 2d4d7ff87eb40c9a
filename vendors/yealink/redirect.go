package yealink

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Redirect implements vendors.Redirector: a CFG file (any name the phone
// asks: <mac>.cfg, y0000000000XX.cfg) that sets
// static.auto_provision.server.url to target (yealink.md §3.1; the
// reference's "Pointing a phone at another server": HTTP 3xx is
// unverified for Yealink, so a rendered file it is); a <mac>.boot gets a
// boot file whose include:config is the absolute URL of that phone's CFG
// file on target (yealink.md §1.1). y000000000000.boot names no phone: no
// redirect (the phone's next file, a CFG, gets it). No account, no secret.
func (d *Driver) Redirect(path, target string) (*vendors.File, bool) {
	if strings.ContainsAny(target, "\r\n\"") {
		return nil, false
	}
	p := classifyPath(path)
	var body string
	switch {
	case p.Kind == vendors.FileDevice || p.Kind == vendors.FileCommon && p.CommonID != "":
		body = "#!version:1.0.0.1\nstatic.auto_provision.server.url = " + target + "\n"
	case p.Kind == vendors.FileCommon && p.MAC != "":
		body = "#!version:1.0.0.1\ninclude:config \"" + target + p.MAC + ".cfg\"\noverwrite_mode = 1\n"
	default:
		return nil, false
	}
	return &vendors.File{Name: path, ContentType: ContentTypeConfig, Body: []byte(body)}, true
}
