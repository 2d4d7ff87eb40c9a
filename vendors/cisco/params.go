package cisco

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

func rule(p string) vendors.ParamRule { return vendors.ParamRule{Prefix: p, Fold: true} }

// knownParams are the parameters of cisco-mpp.md §4-§5 and their
// families (lines, keys, regional, VLAN, codecs): a raw parameter outside
// them is written with a warning.
var knownParams = []vendors.ParamRule{
	rule("Line_Enable_"), rule("Display_Name_"), rule("User_ID_"), rule("Auth_ID_"), rule("Proxy_"),
	rule("SIP_Transport_"), rule("Outbound_Proxy_"), rule("Use_Outbound_Proxy_"), rule("Extension_"),
	rule("Short_Name_"), rule("Extended_Function_"), rule("Unit_"), rule("Time_Zone"),
	rule("Time_Offset"), rule("Daylight_Saving_Time_Enable"), rule("Daylight_Saving_Time_Rule"),
	rule("Language_Selection"), rule("Locale"), rule("Station_Display_Name"), rule("Dictionary_Server_Script"),
	rule("Primary_NTP_Server"), rule("Secondary_NTP_Server"), rule("Enable_VLAN"), rule("VLAN_ID"),
	rule("Preferred_Codec_"), rule("Use_Pref_Codec_Only_"), rule("Number_of_Units"), rule("Upgrade_Rule"),
	rule("Default_Ring_"), rule("Ringtone"), rule("Text_Logo"), rule("Select_Logo"), rule("Voice_Mail_Number"),
	rule("Dial_Tone"), rule("Busy_Tone"), rule("Reorder_Tone"), rule("Ring_Back_Tone"),
}

// refusedParams are the provisioning server's own settings: the profile
// rules (where the phone fetches from, with its credential), whether it
// provisions at all, when it resyncs, and whom it trusts over HTTPS.
var refusedParams = []vendors.ParamRule{
	{Prefix: "Profile_Rule", Fold: true, Why: "the profile rule (provisioning URL and credential) is the server's own"},
	{Prefix: "Profile_Rule_", Fold: true, Why: "the profile rules (provisioning URL and credential) are the server's own"},
	{Prefix: "Provision_Enable", Fold: true, Why: "provisioning itself is the server's own"},
	{Prefix: "Resync_", Fold: true, Why: "resync settings are the server's own"},
	{Prefix: "Custom_CA_Rule", Fold: true, Why: "the CA the phone trusts for provisioning is the server's own"},
}

// CheckParam implements vendors.ParamChecker.
func (d *Driver) CheckParam(model, name string) (bool, string) {
	if strings.ContainsRune(name, '[') {
		return false, "Cisco parameter names take no [index]"
	}
	return vendors.CheckParamRules(name, knownParams, refusedParams)
}
