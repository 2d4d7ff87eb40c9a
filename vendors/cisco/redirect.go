package cisco

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Redirect implements vendors.Redirector: for a bootstrap or a per-device
// file (any name the phone walks, cisco-mpp.md §2), a flat profile whose
// Profile_Rule is target's $MA.xml (the per-device file an autoprov
// there answers, as this server's own bootstrap names it), with
// Profile_Rule_B to _D emptied so no stale rule fails the chain (§3.2).
// The phone resyncs from the new rule on its next cycle; the profile
// makes it an absolute rule, so DHCP stops steering the phone (§2.1). No
// account, no secret. A target with characters a rule cannot carry gets
// no redirect.
func (d *Driver) Redirect(path, target string) (*vendors.File, bool) {
	if target == "" || strings.ContainsAny(target, "\r\n\"<>&' []") {
		return nil, false
	}
	if d.classifyPath(path).Kind == vendors.FileUnknown {
		return nil, false
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>
<!-- autoprov: handed on to another provisioning server -->
<flat-profile>
  <Provision_Enable ua="na">Yes</Provision_Enable>
  <Resync_On_Reset ua="na">Yes</Resync_On_Reset>
  <Profile_Rule ua="na">` + macroSafe(target) + `$MA.xml</Profile_Rule>
  <Profile_Rule_B ua="na"></Profile_Rule_B>
  <Profile_Rule_C ua="na"></Profile_Rule_C>
  <Profile_Rule_D ua="na"></Profile_Rule_D>
</flat-profile>
`
	return &vendors.File{Name: path, ContentType: ContentType, Body: []byte(body)}, true
}
