package yealink

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

func rule(p string) vendors.ParamRule { return vendors.ParamRule{Prefix: p} }

// knownParams are the parameter families of yealink.md §3.1 and §4 and of
// the Yealink administrator guides (VLAN, codecs, features...): a raw
// parameter outside them is written with a warning.
var knownParams = []vendors.ParamRule{
	rule("account."), rule("linekey."), rule("memorykey."), rule("programablekey."),
	rule("expansion_module."), rule("local_time."), rule("lang."), rule("voice."),
	rule("features."), rule("phone_setting."), rule("static.phone_setting."), rule("sip."),
	rule("static.sip."), rule("static.network."), rule("network."), rule("remote_phonebook."),
	rule("ldap."), rule("static.firmware."), rule("dialplan."), rule("push_xml."),
	rule("action_url."), rule("directory."), rule("distinctive_ring_tones."), rule("call_waiting."),
	rule("transfer."), rule("forward."), rule("wallpaper_upload."), rule("over_the_air."),
}

// refusedParams are the provisioning server's own settings: the URL the
// phone fetches from, its credential, plug-and-play and the file
// encryption keys (static.auto_provision.*, V80's auto_provision.*), and
// the web users and certificates (static.security.*): the product writes
// them, or they carry secrets.
var refusedParams = []vendors.ParamRule{
	{Prefix: "static.auto_provision.", Fold: true, Why: "the provisioning server's settings (URL, credential, plug-and-play) are the server's own"},
	{Prefix: "auto_provision.", Fold: true, Why: "the provisioning server's settings (URL, credential, plug-and-play) are the server's own"},
	{Prefix: "static.security.", Fold: true, Why: "web users, passwords and certificates carry secrets"},
	{Prefix: "security.", Fold: true, Why: "web users, passwords and certificates carry secrets"},
}

// CheckParam implements vendors.ParamChecker.
func (d *Driver) CheckParam(model, name string) (bool, string) {
	if strings.ContainsRune(name, '[') {
		return false, "Yealink parameter names take no [index]"
	}
	return vendors.CheckParamRules(name, knownParams, refusedParams)
}
