package snom

import "github.com/autoprov/autoprov/vendors"

func rule(p string) vendors.ParamRule { return vendors.ParamRule{Prefix: p} }

// knownParams are the setting families of snom.md §3.1 and Snom's
// settings reference (VLAN, codecs, LDAP, display, keys...): a raw
// parameter outside them is written with a warning. A name may carry
// Snom's index as "name[n]" (written idx="n").
var knownParams = []vendors.ParamRule{
	rule("user_"), rule("vlan_"), rule("codec_"), rule("ntp_"), rule("ntp_server"), rule("timezone"),
	rule("language"), rule("web_language"), rule("tone_scheme"), rule("webserver_"), rule("http_"),
	rule("ldap_"), rule("dnd_"), rule("call_waiting"), rule("ring_"), rule("alert_"), rule("dkey_"),
	rule("fkey_"), rule("keyboard_"), rule("display_"), rule("date_"), rule("time_"),
	rule("update_policy"), rule("firmware_status"), rule("firmware"), rule("dhcp"), rule("network_"),
	rule("lldp_"), rule("action_"), rule("answer_"), rule("redirect_"), rule("forward_"),
	rule("mwi_"), rule("srtp_"), rule("sip_"), rule("rtp_"), rule("dtmf_"), rule("audio_"),
}

// dectKnownParams add the DECT bases' own families (WAZO common_dect:
// per-server srv_*, per-extension subscr_*, the base's ac_code and
// auto_dect_register, phonebook_*).
var dectKnownParams = append(append([]vendors.ParamRule{}, knownParams...),
	rule("srv_"), rule("subscr_"), rule("ac_code"), rule("auto_dect_register"), rule("phonebook_"))

// refusedParams are the provisioning server's own settings (snom.md §6):
// where the phone fetches from, in which order, plug-and-play, and the
// credential it presents.
var refusedParams = []vendors.ParamRule{
	{Prefix: "setting_server", Fold: true, Why: "the provisioning URL is the server's own"},
	{Prefix: "provisioning_order", Fold: true, Why: "the provisioning order is the server's own"},
	{Prefix: "pnp_config", Fold: true, Why: "plug-and-play is switched by the server (PnP off once provisioned)"},
	{Prefix: "http_client_", Fold: true, Why: "the provisioning credential is the server's own and a secret"},
	{Prefix: "http_user", Fold: true, Why: "the web user goes with the web password, from the device's own field"},
}

// CheckParam implements vendors.ParamChecker.
func (d *Driver) CheckParam(model, name string) (bool, string) {
	if d.dect {
		return vendors.CheckParamRules(name, dectKnownParams, refusedParams)
	}
	return vendors.CheckParamRules(name, knownParams, refusedParams)
}
