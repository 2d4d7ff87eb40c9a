package snom

import (
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

func newDECT() *Driver { return NewDECT(templates.MustLoad("snom")) }

// dectSamples: the HTTP User-Agent of an M900 (snom.md §2, WAZO
// common_dect), the SIP/PnP User-Agent of an M700 (Snom M300/M700
// provisioning guide), file names as WAZO serves them.
var dectSamples = []vendortest.Sample{
	{Name: "M900 HTTP UA", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)"},
		Want: id("M900", "000413b60680", "05.20.0001", vendors.FileUnknown)},
	{Name: "M700 HTTP UA and device file", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; Snom M700 05.20.0001 000413b60681)", Path: "000413B60681.xml"},
		Want: id("M700", "000413b60681", "05.20.0001", vendors.FileDevice)},
	{Name: "M700 SIP UA", Req: vendors.Request{UserAgent: "snomM700/V0500B0130 (MAC=000413A1B2C3; SER=1234; HW=2)"},
		Want: id("M700", "000413a1b2c3", "", vendors.FileUnknown)},
	{Name: "M300 container", Req: vendors.Request{Path: "snomM300.htm"},
		Want: id("M300", "", "", vendors.FileCommon)},
	{Name: "M400 common settings", Req: vendors.Request{Path: "SNOMM400.XML"},
		Want: id("M400", "", "", vendors.FileCommon)},
	{Name: "M700 per-base container", Req: vendors.Request{Path: "snomM700-000413B60682.htm"},
		Want: id("M700", "000413b60682", "", vendors.FileCommon)},
	{Name: "DHCP snomM700", Req: dhcp("000413b60680", "snomM700"),
		Want: id("M700", "000413b60680", "", vendors.FileUnknown)},
	{Name: "DHCP snomD785 is a desk phone", Req: dhcp("000413b60680", "snomD785"),
		Want: id("", "000413b60680", "", vendors.FileUnknown)},
	{Name: "desk UA", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 000413922D24)"}, Want: notMine},
	{Name: "desk file", Req: vendors.Request{Path: "snomD785.htm"}, Want: notMine},
	{Name: "other M model is the desk driver's", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; Snom M500 05.20.0001 000413b60681)"}, Want: notMine},
	{Name: "firmware name is not served", Req: vendors.Request{Path: "snomM700-firmware.xml"}, Want: notMine},
	{Name: "Gigaset P MAC", Req: vendors.Request{MAC: "000413e51234"}, Want: notMine},
	{Name: "Gigaset UA", Req: vendors.Request{UserAgent: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80123456"}, Want: notMine},
	{Name: "empty", Req: vendors.Request{}, Want: notMine},
}

func TestDECTConformance(t *testing.T) {
	vendortest.TestVendor(t, newDECT(), dectSamples)
}

// TestDECTGolden pins every file of each base; review against README
// ("DECT bases") and WAZO common_dect.
func TestDECTGolden(t *testing.T) {
	d := newDECT()
	for _, name := range []string{"M300", "M400", "M700", "M900"} {
		m := model(t, d, name)
		dev := vendortest.SampleDevice(m)
		dev.PnPOff = true
		dev.FirmwareURL = "http://prov.example.com/fw/ignored.fwu" // no firmware on a base yet
		for _, f := range d.Files(dev) {
			vendortest.Golden(t, "snom-"+m.Name+"/"+f, []byte(render(t, d, f, dev)))
		}
	}
}

// TestDECTHandsetMapping: account n is extension n on handset n, each
// with the one SIP server; the handset registration code is the menu PIN,
// a secret; the provisioning credential is never written (unsupported).
func TestDECTHandsetMapping(t *testing.T) {
	d := newDECT()
	m := model(t, d, "M700")
	dev := &vendors.Device{Vendor: "snom", Model: "M700", MAC: "000413b60680", WithSecrets: true,
		ProvisionURL: "http://prov.example.com/prov/", MenuPassword: "4711", WebPassword: "Web-Secret-1",
		ProvisionUser: "000413b60680", ProvisionPassword: "Prov-Secret-1",
		Settings: vendors.Settings{SIPServer: "pbx.example.com", SIPPort: 5061, SIPTransport: "tls",
			OutboundProxy: "sbc.example.com:5070", Language: "de", WebLanguage: "de", ToneScheme: "DE", NTPServer: "ntp.example.com"},
		Lines: []vendors.Line{{Extension: "201", DisplayName: "Anna Groß", AuthUser: "a201", Password: "Sip-201"},
			{Extension: "202", Password: "Sip-202"}}}
	body := render(t, d, "000413B60680.xml", dev)
	for _, want := range []string{
		`<user_host idx="1">pbx.example.com:5061</user_host>`,
		`<user_outbound idx="1">sbc.example.com:5070</user_outbound>`,
		`<srv_sip_transport idx="1">tls</srv_sip_transport>`,
		`<user_name idx="1">201</user_name>`, `<user_pname idx="1">a201</user_pname>`,
		`<user_realname idx="1">Anna Groß</user_realname>`, `<user_pass idx="1">Sip-201</user_pass>`,
		`<subscr_sip_hs_idx idx="1">1</subscr_sip_hs_idx>`, `<subscr_sip_ua_data_server_id idx="1">1</subscr_sip_ua_data_server_id>`,
		`<subscr_dect_ac_code idx="1">4711</subscr_dect_ac_code>`,
		`<user_name idx="2">202</user_name>`, `<user_pname idx="2">202</user_pname>`, `<user_realname idx="2">202</user_realname>`,
		`<subscr_sip_hs_idx idx="2">2</subscr_sip_hs_idx>`, `<user_active idx="3">off</user_active>`,
		`<user_active idx="` + "1000" + `">off</user_active>`,
		`<http_user>admin</http_user>`, `<http_pass>Web-Secret-1</http_pass>`,
		`<language>Deutsch</language>`, `<web_language>Deutsch</web_language>`, `<tone_scheme>GER</tone_scheme>`,
		`<ntp_server>ntp.example.com</ntp_server>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("device file lacks %s", want)
		}
	}
	if strings.Contains(body, `idx="1001"`) || strings.Contains(body, "Prov-Secret-1") || strings.Contains(body, "http_client") {
		t.Errorf("device file beyond the M700's %d extensions or with the provisioning credential:\n%s", m.Lines, body)
	}
	nd := *dev
	nd.WithSecrets = false
	without := render(t, d, "000413B60680.xml", &nd)
	for _, s := range []string{"Sip-201", "Sip-202", "4711", "Web-Secret-1", "subscr_dect_ac_code", "user_pass", "http_pass"} {
		if strings.Contains(without, s) {
			t.Errorf("device file without secrets contains %q", s)
		}
	}
	for _, f := range d.Files(dev)[1:] {
		c := render(t, d, f, dev)
		for _, s := range []string{"Sip-201", "4711", "Web-Secret-1", "Prov-Secret-1", "user_name", "pnp_config"} {
			if strings.Contains(c, s) {
				t.Errorf("common file %s contains %q", f, s)
			}
		}
	}
	if d.ProvisioningAuth() != nil {
		t.Error("the DECT bases offer a provisioning credential; no source documents one")
	}
}

func TestDECTFilesAndRegistry(t *testing.T) {
	d := newDECT()
	dev := vendortest.SampleDevice(model(t, d, "M700"))
	got := strings.Join(d.Files(dev), " ")
	want := "0015651A2B3C.xml snomM700.htm snomM700.xml snomM700-0015651A2B3C.htm"
	if got != want {
		t.Errorf("Files = %s, want %s", got, want)
	}
	reg := vendors.NewRegistry(newSnom(), newDECT(), newGigaset())
	for _, ua := range []string{"Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)", "snomM700/530 (MAC=000413B4C5D6; SER=1234; HW=3)"} {
		if _, v := reg.Identify(vendors.Request{UserAgent: ua, Path: "snomM700.htm"}); v == nil || !v.(*Driver).dect {
			t.Errorf("%s: not the DECT driver", ua)
		}
	}
	for _, p := range []string{"snomM700.htm", "snomM900-000413B60680.htm"} {
		if _, v := reg.Identify(vendors.Request{Path: p}); v == nil || !v.(*Driver).dect {
			t.Errorf("%s: not the DECT driver", p)
		}
	}
	if _, v := reg.Identify(dhcp("000413b60680", "snomM700")); v == nil || !v.(*Driver).dect {
		t.Error("DHCP snomM700: not the DECT driver")
	}
	if v, m, err := reg.Lookup("snom", "M700"); err != nil || !v.(*Driver).dect || m.Kind != "dect" {
		t.Errorf("Lookup snom M700 = %+v %v", m, err)
	}
	if v, _, err := reg.Lookup("snom", "D785"); err != nil || v.(*Driver).dect {
		t.Errorf("Lookup snom D785: %v", err)
	}
}
