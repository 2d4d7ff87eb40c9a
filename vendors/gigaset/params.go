package gigaset

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

func rule(p string) vendors.ParamRule { return vendors.ParamRule{Prefix: p} }

// knownParams are the parameter families of gigaset.md §3 (Nx70 and
// Maxwell names): a raw parameter outside them is written with a warning.
var knownParams = []vendors.ParamRule{
	rule("SipProvider."), rule("SipAccount."), rule("DmGlobal."), rule("Telephony."),
	rule("SystemSettings."), rule("Netdir."), rule("XMLDir."), rule("hs."), rule("NET."),
	rule("SIP."), rule("PhoneUI."), rule("System.DateAndTime."), rule("WebUI.Language"),
	rule("Audio."), rule("Network."), rule("LDAP."),
}

// refusedParams are the provisioning server's settings (Nx70
// Provisioning.global.*, Maxwell System.Provision.*) and the web accounts.
var refusedParams = []vendors.ParamRule{
	{Prefix: "Provisioning.", Fold: true, Why: "the provisioning server's settings are the server's own"},
	{Prefix: "System.Provision.", Fold: true, Why: "the provisioning server's settings are the server's own"},
	{Prefix: "WebUIAccounts.", Fold: true, Why: "web accounts carry secrets"},
}

// CheckParam implements vendors.ParamChecker.
func (d *Driver) CheckParam(model, name string) (bool, string) {
	if strings.ContainsRune(name, '[') {
		return false, "Gigaset parameter names take no [index]"
	}
	return vendors.CheckParamRules(name, knownParams, refusedParams)
}
