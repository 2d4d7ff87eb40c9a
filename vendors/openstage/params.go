package openstage

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

func rule(p string) vendors.ParamRule { return vendors.ParamRule{Prefix: p} }

// knownParams are the item names of openstage.md §7-§8.
var knownParams = []vendors.ParamRule{
	rule("e164"), rule("basic-e164"), rule("reg-addr"), rule("reg-port"), rule("reg-ttl"), rule("register-by-name"),
	rule("registrar-addr"), rule("registrar-port"), rule("rtp-base-port"), rule("server-type"), rule("sntp-addr"),
	rule("sntp-tz-offset"), rule("daylight-save"), rule("auto-daylight-save"), rule("daylight-save-zone-id"),
	rule("outbound-proxy-user"), rule("default-domain"), rule("sip-transport-user"), rule("transaction-timer"),
	rule("transaction-timer-f"), rule("registration-backoff-timer"), rule("sip-user-id"), rule("sip-name"),
	rule("realm"), rule("display-id"), rule("display-id-unicode"), rule("use-display-id"), rule("sip-transport"),
	rule("outbound-proxy"), rule("sgnl-gateway-addr"), rule("sgnl-gateway-addr-user"), rule("sgnl-gateway-port"),
	rule("sgnl-gateway-port-user"), rule("sgnl-route"), rule("session-timer"), rule("session-duration"),
	rule("mwi-e164"), rule("voice-mail-e164"), rule("emergency-e164"), rule("pickup-group-uri"),
	rule("conference-factory-uri"), rule("call-waiting-enabled"), rule("blf-code"), rule("enable-WBM"),
	rule("ssh-enable"), rule("language-iso"), rule("country-iso"), rule("dhcp"), rule("hostname"),
	rule("vlan-method"), rule("vlan-id"), rule("dls-chunk-size"), rule("dcmp-url"), rule("codec-type"),
	rule("codec-allowed"), rule("codec-rank"), rule("codec-packet-size"), rule("ldap-server-address"),
	rule("function-key-def"), rule("key-label"), rule("key-label-unicode"), rule("stimulus-led-control-uri"),
	rule("blf-audible"), rule("blf-popup"), rule("locked-function-keys"), rule("select-dial"),
	rule("stimulus-DTMF-sequence"), rule("send-url-address"), rule("send-url-protocol"), rule("send-url-port"),
	rule("send-url-path"), rule("send-url-query"), rule("send-url-method"),
}

// refusedParams are the deployment service's own items: how the phone
// reaches and trusts it, and its restart.
var refusedParams = []vendors.ParamRule{
	{Prefix: "dls-mode-secure", Why: "Secure Mode is the server's own"},
	{Prefix: "dls-contact-interval", Why: "the contact gap is the server's own"},
	{Prefix: "restart-type", Why: "restarts are the server's own"},
	{Prefix: "send-solicited", Why: "the session's end is the server's own"},
}

// CheckParam implements vendors.ParamChecker: names are item names, with
// an [index] for indexed items (function-key-def[3]).
func (*Driver) CheckParam(_, name string) (bool, string) {
	if strings.HasPrefix(strings.ToLower(name), "file-") {
		return false, "file and firmware deployment items are the server's own"
	}
	return vendors.CheckParamRules(name, knownParams, refusedParams)
}
