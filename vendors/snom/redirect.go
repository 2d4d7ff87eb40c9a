package snom

import (
	"encoding/xml"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Redirect implements vendors.Redirector: an XML settings file (for any
// name the driver serves: <MAC>.xml, snom<model>.htm and its -<MAC> and
// -firmware variants) that sets setting_server to target, a directory
// URL, from which the phone walks its setting-file chain (snom.md §1.1,
// §1.2; HTTP 3xx is unverified for Snom, so a rendered file it is). No
// account, no secret.
func (d *Driver) Redirect(path, target string) (*vendors.File, bool) {
	if d.parsePath(path).kind == vendors.FileUnknown {
		return nil, false
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<settings>\n  <phone-settings>\n    <setting_server perm=\"RW\">")
	if err := xml.EscapeText(&b, []byte(target)); err != nil {
		return nil, false
	}
	b.WriteString("</setting_server>\n  </phone-settings>\n</settings>\n")
	return &vendors.File{Name: path, ContentType: ContentType, Body: []byte(b.String())}, true
}
