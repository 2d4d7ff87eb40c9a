package vendors_test

import (
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

func TestSecretParam(t *testing.T) {
	for name, want := range map[string]bool{
		"account.1.password": true, "user_pass": true, "http_pass": true, "Admin_Passwd": true,
		"SIP.Account.0.AuthPassword": true, "phone_setting.phone_lock.unlock_pin": true,
		"static.auto_provision.aes_key_16.mac": true, "api_token": true, "wifi.1.psk": true,
		"static.network.vlan.internet_port_vid": false, "codec_priority_list": false,
		"dnd.bypass": false, "features.pickup.direct_pickup_code": false, "Preferred_Codec_1_": false,
		// DECT handset registration codes (Snom M-series, Gigaset Nx70).
		"subscr_dect_ac_code[1]": true, "ac_code": true, "hs.1.DECT_AC": true,
		"dect_active": false, "ac_power": false,
	} {
		if got := vendors.SecretParam(name); got != want {
			t.Errorf("SecretParam(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCheckParamName(t *testing.T) {
	for _, ok := range []string{"static.network.vlan.internet_port_enable", "user_srtp[1]", "Line_Enable_1_", "SIP.Account.0.Active", "a-b"} {
		if why := vendors.CheckParamName(ok, "1"); why != "" {
			t.Errorf("%q: %s", ok, why)
		}
	}
	for _, bad := range []string{"", "1abc", "a b", "a<b", "a[1][2]", "a[x]", "<script>", "a\nb", string(make([]byte, 200))} {
		if vendors.CheckParamName(bad, "1") == "" {
			t.Errorf("%q accepted", bad)
		}
	}
	if vendors.CheckParamName("a", "x\ny") == "" {
		t.Error("a value with a line feed accepted")
	}
}

func TestParamRule(t *testing.T) {
	r := vendors.ParamRule{Prefix: "Profile_Rule", Fold: true}
	if !r.Match("profile_rule") || r.Match("Profile_Rule_B") {
		t.Error("exact rule")
	}
	p := vendors.ParamRule{Prefix: "static.auto_provision."}
	if !p.Match("static.auto_provision.server.url") || p.Match("static.auto_provisionx") {
		t.Error("prefix rule")
	}
	if known, why := vendors.CheckParamRules("account.1.password", []vendors.ParamRule{{Prefix: "account."}}, nil); known || why == "" {
		t.Error("a secret under a known family is refused")
	}
}
