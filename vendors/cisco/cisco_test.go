package cisco

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

func newDriver(t testing.TB) *Driver {
	t.Helper()
	return New(templates.MustLoad("cisco"))
}

// id is a shorthand for an expected identity; Score 1 means "recognised".
func id(model, mac, fw string, kind vendors.FileKind) vendors.Identity {
	return vendors.Identity{Vendor: Name, Model: model, MAC: mac, Firmware: fw, Kind: kind, Score: 1}
}

func ua(s string) vendors.Request   { return vendors.Request{UserAgent: s, Transport: "http"} }
func path(p string) vendors.Request { return vendors.Request{Path: p, Transport: "tftp"} }

// dhcp is a lease request as the sniffer hands it to the core.
func dhcp(mac, class string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: class, Transport: "dhcp"}
}

// samples: the real User-Agents of cisco-mpp.md §1 (MPP, SPA, Linksys),
// every file name of §2.1 in the cases phones use, DHCP classes, and
// other vendors' requests (score 0).
var samples = []vendortest.Sample{
	// User-Agents (§1).
	{Name: "mpp-8851", Req: ua("Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)"),
		Want: id("8851", "00562b0429da", "12.0.1", vendors.FileUnknown)},
	{Name: "mpp-7832", Req: ua("Cisco-CP-7832-3PCC/11.0.1 (00562b043615)"),
		Want: id("7832", "00562b043615", "11.0.1", vendors.FileUnknown)},
	{Name: "mpp-6841", Req: ua("Cisco-CP-6841-3PCC/12.0.1 (001122334455)"),
		Want: id("6841", "001122334455", "12.0.1", vendors.FileUnknown)},
	{Name: "mpp-unsupported-9861", Req: ua("Cisco-CP-9861-3PCC/12.0.1 (00562b001122)"),
		Want: id("9861", "00562b001122", "12.0.1", vendors.FileUnknown)},
	{Name: "spa508g", Req: ua("Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)"),
		Want: id("SPA508G", "0002fdff2103", "7.4.4", vendors.FileUnknown)},
	{Name: "spa525g-serial-only", Req: ua("Cisco/SPA525G-7.4.4 (CBT141900G7)"),
		Want: id("SPA525G", "", "7.4.4", vendors.FileUnknown)},
	{Name: "linksys-spa942", Req: ua("Linksys/SPA-942-6.1.5(a) (88019FA42805)"),
		Want: id("SPA942", "88019fa42805", "6.1.5(a)", vendors.FileUnknown)},
	// Files (§2.1).
	{Name: "bootstrap", Req: path("8851-3PCC.xml"),
		Want: id("8851", "", "", vendors.FileCommon)},
	{Name: "bootstrap-slash-ua", Req: vendors.Request{Path: "/8851-3PCC.xml", UserAgent: "Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)"},
		Want: id("8851", "00562b0429da", "12.0.1", vendors.FileCommon)},
	{Name: "bootstrap-cp-alias", Req: path("CP-7841-3PCC.xml"),
		Want: id("7841", "", "", vendors.FileCommon)},
	{Name: "bootstrap-lower", Req: path("6871-3pcc.xml"),
		Want: id("6871", "", "", vendors.FileCommon)},
	{Name: "spa-bootstrap", Req: path("spa508G.cfg"),
		Want: id("SPA508G", "", "", vendors.FileCommon)},
	{Name: "spa-bootstrap-ua", Req: vendors.Request{Path: "spa525G2.cfg", UserAgent: "Cisco/SPA525G2-7.6.2 (CBT1419)"},
		Want: id("SPA525G2", "", "7.6.2", vendors.FileCommon)},
	{Name: "device-xml", Req: path("00562b0429da.xml"),
		Want: id("", "00562b0429da", "", vendors.FileDevice)},
	{Name: "device-xml-upper", Req: path("00562B0429DA.xml"),
		Want: id("", "00562b0429da", "", vendors.FileDevice)},
	{Name: "fallback-cfg", Req: path("Cisco/CP-8851-3PCC/001234ab45de.cfg"),
		Want: id("8851", "001234ab45de", "", vendors.FileDevice)},
	{Name: "fallback-xml", Req: path("/Cisco/CP-8851-3PCC/001234ab45de.xml"),
		Want: id("8851", "001234ab45de", "", vendors.FileDevice)},
	{Name: "fallback-spa", Req: path("Cisco/SPA508G/0002fdff2103.cfg"),
		Want: id("SPA508G", "0002fdff2103", "", vendors.FileDevice)},
	{Name: "ua-model-wins", Req: vendors.Request{Path: "Cisco/CP-8851-3PCC/00562b0429da.cfg", UserAgent: "Cisco-CP-8861-3PCC/12.0.1 (00562b0429da)"},
		Want: id("8861", "00562b0429da", "12.0.1", vendors.FileDevice)},
	{Name: "path-mac-wins", Req: vendors.Request{Path: "00562b000001.xml", UserAgent: "Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)"},
		Want: id("8851", "00562b000001", "12.0.1", vendors.FileDevice)},
	{Name: "oui-only", Req: vendors.Request{Path: "unknown.bin", MAC: "00562b0429da"},
		Want: id("", "00562b0429da", "", vendors.FileUnknown)},
	// DHCP (§1).
	{Name: "dhcp-mpp", Req: dhcp("00562b0429da", "CP-7841-3PCC"),
		Want: id("7841", "00562b0429da", "", vendors.FileUnknown)},
	{Name: "dhcp-mpp-unsupported", Req: dhcp("00562b0429da", "CP-9851-3PCC"),
		Want: id("9851", "00562b0429da", "", vendors.FileUnknown)},
	{Name: "dhcp-spa", Req: dhcp("0002fd112233", "Cisco SPA501G"),
		Want: id("SPA501G", "0002fd112233", "", vendors.FileUnknown)},
	{Name: "dhcp-ata", Req: dhcp("0002fd112234", "CISCO ATA190"),
		Want: id("ATA190", "0002fd112234", "", vendors.FileUnknown)},
	{Name: "dhcp-linksys", Req: dhcp("000e08112233", "LINKSYS SPA-942"),
		Want: id("SPA942", "000e08112233", "", vendors.FileUnknown)},
	{Name: "dhcp-generic-spa", Req: dhcp("000e08112234", "Cisco Systems, Inc. IP Phone SPA5xxG"),
		Want: id("", "000e08112234", "", vendors.FileUnknown)},
	{Name: "dhcp-class-no-mac", Req: vendors.Request{VendorClass: "CP-8851-3PCC"},
		Want: id("8851", "", "", vendors.FileUnknown)},
	{Name: "dhcp-oui-only", Req: dhcp("00562b0429db", ""),
		Want: id("", "00562b0429db", "", vendors.FileUnknown)},
	{Name: "dhcp-cisco-class-foreign-mac", Req: dhcp("001565aabbcc", "CP-7841-3PCC")},
	{Name: "dhcp-laptop", Req: dhcp("3c22fb112233", "MSFT 5.0")},
	// Not Cisco.
	{Name: "yealink-ua", Req: ua("Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37")},
	{Name: "snom-ua", Req: ua("Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 010.1.73.16 000413A1B2C3)")},
	{Name: "browser", Req: ua("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")},
	{Name: "cisco-no-slash", Req: ua("Cisco-CP-8851-3PCC")},
	{Name: "cisco-bad-pn", Req: ua("Cisco-SEP001122334455/1.0")},
	{Name: "yealink-file", Req: path("0015651a2b3c.cfg")},
	{Name: "yealink-boot", Req: path("y000000000000.boot")},
	{Name: "spa-bare", Req: path("spa.cfg")},
	{Name: "other-dir", Req: path("Polycom/CP-8851-3PCC/00562b0429da.cfg")},
	{Name: "bad-mac", Req: path("Cisco/CP-8851-3PCC/00562b0429.cfg")},
	{Name: "empty", Req: vendors.Request{}},
}

func TestConformance(t *testing.T) {
	vendortest.TestVendor(t, newDriver(t), samples)
}

// sampleDevice is vendortest.SampleDevice for a named model.
func sampleDevice(t *testing.T, d *Driver, model string) *vendors.Device {
	t.Helper()
	m, ok := d.lookup(model)
	if !ok {
		t.Fatalf("model %s missing", model)
	}
	dev := vendortest.SampleDevice(m)
	dev.MAC = "00562b0429da"
	return dev
}

func mustRender(t *testing.T, d *Driver, name string, dev *vendors.Device) string {
	t.Helper()
	f, err := d.Render(name, dev)
	if err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	if f.ContentType != ContentType {
		t.Errorf("%s: content type %q", name, f.ContentType)
	}
	if err := vendortest.WellFormed(f.Body); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(f.Body)
}

// params parses a flat profile into element name -> text, failing on a
// root other than flat-profile or an element set twice.
func params(t *testing.T, body string) map[string]string {
	t.Helper()
	var doc struct {
		XMLName xml.Name
		Params  []struct {
			XMLName xml.Name
			UA      string `xml:"ua,attr"`
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Local != "flat-profile" {
		t.Fatalf("root %q, want flat-profile", doc.XMLName.Local)
	}
	out := map[string]string{}
	for _, p := range doc.Params {
		if _, dup := out[p.XMLName.Local]; dup {
			t.Errorf("%s set twice", p.XMLName.Local)
		}
		if p.UA != "na" {
			t.Errorf("%s: ua=%q, want na", p.XMLName.Local, p.UA)
		}
		out[p.XMLName.Local] = p.Value
	}
	return out
}

// TestGolden pins one model of each family byte for byte, with and
// without secrets, plus the bootstrap (testdata/<model>/).
func TestGolden(t *testing.T) {
	d := newDriver(t)
	for _, model := range []string{"6851", "7841", "8851"} {
		t.Run(model, func(t *testing.T) {
			dev := sampleDevice(t, d, model)
			dev.ProvisionUser, dev.ProvisionPassword = dev.MAC, vendortest.ProvSecret
			for _, name := range d.Files(dev) {
				vendortest.Golden(t, model+"/"+name, []byte(mustRender(t, d, name, dev)))
			}
			nd := *dev
			nd.WithSecrets = false
			vendortest.Golden(t, model+"/nosecrets-"+dev.MAC+".xml", []byte(mustRender(t, d, dev.MAC+".xml", &nd)))
		})
	}
}

func TestDeviceFile(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "8851")
	dev.ProvisionUser, dev.ProvisionPassword = dev.MAC, "Abc23def45"
	p := params(t, mustRender(t, d, "00562b0429da.xml", dev))
	want := map[string]string{
		"Profile_Rule":                "[--uid 00562b0429da --pwd Abc23def45]http://prov.example.com:8080/prov/$MA.xml",
		"Profile_Rule_B":              "",
		"Profile_Rule_C":              "",
		"Resync_Periodic":             "3600",
		"Resync_Error_Retry_Delay":    "3600",
		"Resync_From_SIP":             "Yes",
		"Webex_Onboard_Enable":        "No",
		"Admin_Password":              vendortest.WebSecret,
		"User_Password":               vendortest.MenuSecret,
		"Primary_NTP_Server":          "ntp.example.com",
		"Time_Zone":                   "GMT+01:00",
		"Daylight_Saving_Time_Enable": "Yes",
		"Daylight_Saving_Time_Rule":   "start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1",
		"Language_Selection":          "German",
		"Locale":                      "de-DE",
		"Station_Display_Name":        "Reception",
		"Line_Enable_1_":              "Yes",
		"Proxy_1_":                    "pbx.example.com:5060",
		"Outbound_Proxy_1_":           "sbc.example.com:5061",
		"SIP_Transport_1_":            "UDP",
		"Display_Name_1_":             "User 1 <&>",
		"User_ID_1_":                  "201",
		"Auth_ID_1_":                  "auth201",
		"Password_1_":                 vendortest.SIPSecret + "1",
		"User_ID_3_":                  "203",
		"Line_Enable_4_":              "No",
		"Line_Enable_10_":             "No",
		"Extension_1_":                "1",
		"Short_Name_1_":               "$USER",
		"Extended_Function_1_":        "",
		"Extension_3_":                "3",
		"Extension_4_":                "Disabled",
		"Extension_10_":               "Disabled",
	}
	for k, v := range want {
		if got, ok := p[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	// Every KEM key is written, empty when free, so a removed one goes away.
	for _, k := range []string{"Unit_1_Key_1_", "Unit_2_Key_36_"} {
		if v, ok := p[k]; !ok || v != "" {
			t.Errorf("%s = %q (present %v), want it empty", k, v, ok)
		}
	}
	for _, k := range []string{"Line_Enable_11_", "Extension_11_", "Number_of_Units", "Unit_3_Key_1_", "Unit_1_Key_37_", "User_ID_4_"} {
		if v, ok := p[k]; ok {
			t.Errorf("%s = %q: want it absent", k, v)
		}
	}
}

// TestSecretsLeftOut: without secrets no password element at all, and no
// Profile_Rule (which would otherwise drop the phone's credential).
func TestSecretsLeftOut(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "7861")
	dev.ProvisionUser, dev.ProvisionPassword = dev.MAC, vendortest.ProvSecret
	dev.WithSecrets = false
	p := params(t, mustRender(t, d, dev.MAC+".xml", dev))
	for _, k := range []string{"Profile_Rule", "Admin_Password", "User_Password", "Password_1_", "Password_2_", "Password_3_"} {
		if _, ok := p[k]; ok {
			t.Errorf("%s present without secrets", k)
		}
	}
	if p["User_ID_1_"] != "201" || p["Profile_Rule_B"] != "" || p["Resync_From_SIP"] != "Yes" {
		t.Errorf("the rest must stay: User_ID_1_ %q", p["User_ID_1_"])
	}
	// With secrets but no credential: the rule is left alone too.
	dev.WithSecrets, dev.ProvisionPassword = true, ""
	p = params(t, mustRender(t, d, dev.MAC+".xml", dev))
	if _, ok := p["Profile_Rule"]; ok {
		t.Error("Profile_Rule without a credential")
	}
	if p["Password_1_"] != vendortest.SIPSecret+"1" {
		t.Error("SIP password missing with secrets")
	}
}

func TestBootstrap(t *testing.T) {
	d := newDriver(t)
	common := &vendors.Device{Vendor: Name, Model: "8851", ProvisionURL: "https://prov.example.com/prov/"}
	for _, name := range []string{"8851-3PCC.xml", "CP-8851-3PCC.xml", "spa508G.cfg", "9999-3PCC.xml"} {
		p := params(t, mustRender(t, d, name, common))
		for k, v := range map[string]string{
			"Profile_Rule": "https://prov.example.com/prov/$MA.xml", "Profile_Rule_B": "https://prov.example.com/prov/$MA.xml",
			"Profile_Rule_C": "", "Profile_Rule_D": "", "Resync_On_Reset": "Yes", "Resync_From_SIP": "Yes",
			"Webex_Onboard_Enable": "No",
		} {
			if p[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, p[k], v)
			}
		}
		for _, k := range []string{"User_ID_1_", "Admin_Password", "Time_Zone"} {
			if _, ok := p[k]; ok {
				t.Errorf("%s: %s in a bootstrap", name, k)
			}
		}
	}
	// A '$' of the server's own URL must survive macro expansion.
	common.ProvisionURL = "http://p/a$b/"
	if p := params(t, mustRender(t, d, "8851-3PCC.xml", common)); p["Profile_Rule"] != "http://p/a$$b/$MA.xml" {
		t.Errorf("Profile_Rule = %q", p["Profile_Rule"])
	}
}

func TestRenderRefusesOtherPhonesNames(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "8851")
	for _, name := range []string{"00562b000001.xml", "Cisco/CP-8851-3PCC/00562b000001.cfg",
		"Cisco/CP-7841-3PCC/00562b0429da.cfg", "0015651a2b3c.cfg", "unknown.xml"} {
		if _, err := d.Render(name, dev); !errors.Is(err, vendors.ErrNotFound) {
			t.Errorf("Render(%q) = %v, want ErrNotFound", name, err)
		}
	}
	dev.Model = "9861"
	if _, err := d.Render(dev.MAC+".xml", dev); !errors.Is(err, vendors.ErrUnsupported) {
		t.Errorf("unsupported model: %v", err)
	}
}

// TestKeys is the acceptance's BLF on position 3, with the other key
// types and expansion-module keys on an 8851.
func TestKeys(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "8851")
	dev.Keys = []vendors.Key{
		{Position: 1, Type: vendors.KeyLine, Line: 1},
		{Position: 2, Type: vendors.KeyLine, Line: 2, Label: "Sales"},
		{Position: 3, Type: vendors.KeyBLF, Value: "202", Label: "Bob"},
		{Position: 4, Type: vendors.KeySpeedDial, Value: "123", Label: "Voicemail box", Line: 2},
		{Position: 5, Type: vendors.KeyPark, Value: "700"},
		{Position: 6, Type: vendors.KeyDND},
		{Position: 7, Type: vendors.KeyURL, Value: "http://x.example/a?b=1;c=$2"},
		{Position: 8, Type: vendors.KeyVoicemail, Value: "8000", Label: "Group"},
		{Position: 9, Type: vendors.KeySpeedDial, Value: "alice@pbx.example.com", Label: "A;li$ce"},
		{Position: 10, Type: vendors.KeyNone},
		{Module: 1, Position: 1, Type: vendors.KeyBLF, Value: "204", Label: "Dave"},
		{Module: 2, Position: 36, Type: vendors.KeyPark},
	}
	m, _ := d.lookup("8851")
	if errs := vendors.ValidateKeys(m, dev.Keys, len(dev.Lines)); len(errs) > 0 {
		t.Fatalf("ValidateKeys: %v", errs)
	}
	body := mustRender(t, d, dev.MAC+".xml", dev)
	vendortest.Golden(t, "8851-keys/"+dev.MAC+".xml", []byte(body))
	p := params(t, body)
	want := map[string]string{
		"Extension_1_": "1", "Short_Name_1_": "$USER", "Extended_Function_1_": "",
		"Extension_2_": "2", "Short_Name_2_": "Sales",
		"Extension_3_": "Disabled", "Short_Name_3_": "Bob", "Extended_Function_3_": "fnc=blf+sd+cp;sub=202@$PROXY;vid=1;nme=Bob",
		"Extended_Function_4_":  "fnc=sd;ext=123@$PROXY;vid=2;nme=Voicemail box",
		"Extended_Function_5_":  "fnc=prk;sub=700@$PROXY;vid=1",
		"Extended_Function_6_":  "fnc=dnd;vid=1",
		"Extended_Function_7_":  "fnc=xml;url=http://x.example/a?b=1,c=$$2;vid=1",
		"Extended_Function_8_":  "fnc=mwi+sd;ext=8000@$PROXY;sub=8000@$PROXY;vid=1;nme=Group",
		"Extended_Function_9_":  "fnc=sd;ext=alice@pbx.example.com;vid=1;nme=A,li$$ce",
		"Short_Name_9_":         "A;li$$ce",
		"Extension_10_":         "Disabled",
		"Extended_Function_10_": "",
		"Number_of_Units":       "2",
		"PoE_Power_Required":    "Maximum",
		"Unit_1_Key_1_":         "fnc=blf+sd+cp;sub=204@$PROXY;vid=1;nme=Dave",
		"Unit_2_Key_36_":        "fnc=prk;vid=1",
	}
	for k, v := range want {
		if got := p[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// TestKeysThatDoNotFit: what ValidateKeys refuses at save (the core asks
// it with the model table), Render refuses too.
func TestKeysThatDoNotFit(t *testing.T) {
	d := newDriver(t)
	for _, c := range []struct {
		model string
		key   vendors.Key
	}{
		{"6821", vendors.Key{Position: 3, Type: vendors.KeyBLF, Value: "1"}},
		{"7841", vendors.Key{Position: 5, Type: vendors.KeyBLF, Value: "1"}},
		{"8841", vendors.Key{Module: 1, Position: 1, Type: vendors.KeyBLF, Value: "1"}},
		{"8851", vendors.Key{Module: 3, Position: 1, Type: vendors.KeyBLF, Value: "1"}},
		{"8861", vendors.Key{Module: 1, Position: 37, Type: vendors.KeyBLF, Value: "1"}},
		{"8851", vendors.Key{Position: 11, Type: vendors.KeyBLF, Value: "1"}},
	} {
		m, _ := d.lookup(c.model)
		if errs := vendors.ValidateKeys(m, []vendors.Key{c.key}, 2); len(errs) != 1 {
			t.Errorf("%s %+v: ValidateKeys = %v, want one error", c.model, c.key, errs)
		}
		dev := sampleDevice(t, d, c.model)
		dev.Keys = []vendors.Key{c.key}
		if _, err := d.Render(dev.MAC+".xml", dev); !errors.Is(err, vendors.ErrUnsupported) {
			t.Errorf("%s %+v: err = %v, want ErrUnsupported", c.model, c.key, err)
		}
	}
	m, _ := d.lookup("8851")
	for _, kt := range []vendors.KeyType{vendors.KeyForward, vendors.KeyIntercom, vendors.KeyDTMF, vendors.KeyPickup} {
		if errs := vendors.ValidateKeys(m, []vendors.Key{{Position: 3, Type: kt, Value: "1"}}, 1); len(errs) != 1 {
			t.Errorf("%s: not refused at save", kt)
		}
	}
}

func TestModels(t *testing.T) {
	d := newDriver(t)
	cases := []struct {
		model       string
		lines, keys int
		family      string
		kemMax      int
	}{
		{"6821", 2, 2, "68xx", 0}, {"6841", 4, 4, "68xx", 0}, {"6851", 4, 4, "68xx", 0}, {"6861", 4, 4, "68xx", 0},
		{"6871", 6, 6, "68xx", 0}, {"7811", 1, 0, "78xx", 0}, {"7821", 2, 2, "78xx", 0}, {"7832", 1, 0, "78xx", 0},
		{"7841", 4, 4, "78xx", 0}, {"7861", 16, 16, "78xx", 0}, {"8811", 10, 10, "88xx", 0}, {"8832", 1, 0, "88xx", 0},
		{"8841", 10, 10, "88xx", 0}, {"8845", 10, 10, "88xx", 0}, {"8851", 10, 10, "88xx", 2}, {"8861", 10, 10, "88xx", 3},
		{"8865", 10, 10, "88xx", 3},
	}
	if got := len(d.Models()); got != len(cases) {
		t.Errorf("%d models, want %d", got, len(cases))
	}
	for _, c := range cases {
		m, ok := d.lookup(c.model)
		if !ok {
			t.Errorf("%s missing", c.model)
			continue
		}
		if m.Lines != c.lines || m.Keys != c.keys || m.Family != c.family {
			t.Errorf("%s: %d lines %d keys %s", c.model, m.Lines, m.Keys, m.Family)
		}
		if c.kemMax == 0 && len(m.Modules) != 0 || c.kemMax > 0 && (len(m.Modules) != 1 || m.Modules[0].Name != "KEM" || m.Modules[0].Keys != 36 || m.Modules[0].Max != c.kemMax || m.Modules[0].Reserved != nil) {
			t.Errorf("%s: modules %v", c.model, m.Modules)
		}
		for _, alias := range []string{"CP-" + c.model + "-3PCC", c.model + "-3pcc"} {
			if mm, ok := d.lookup(alias); !ok || mm.Name != c.model {
				t.Errorf("alias %s", alias)
			}
		}
	}
	ms := d.Models()
	ms[0].Aliases[0], ms[0].Lines = "changed", 99
	if m := d.Models()[0]; m.Lines == 99 || m.Aliases[0] == "changed" {
		t.Error("Models() exposes the driver's state")
	}
}

func TestTimeZones(t *testing.T) {
	d := newDriver(t)
	for _, c := range []struct{ zone, tz, rule string }{
		{"Europe/Berlin", "GMT+01:00", "start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1"},
		{"America/New_York", "GMT-05:00", "start=3/8/7/2:0:0;end=11/1/7/2:0:0;save=1"},
		{"Australia/Sydney", "GMT+10:00", "start=10/1/7/2:0:0;end=4/1/7/3:0:0;save=1"},
		{"Asia/Kolkata", "GMT+05:30", ""},
		{"UTC", "GMT", ""},
	} {
		z, err := vendors.ResolveZone(c.zone, 2026)
		if err != nil {
			t.Fatal(err)
		}
		dev := sampleDevice(t, d, "7841")
		dev.Zone = z
		p := params(t, mustRender(t, d, dev.MAC+".xml", dev))
		enable := "Yes"
		if c.rule == "" {
			enable = "No"
		}
		if p["Time_Zone"] != c.tz || p["Daylight_Saving_Time_Rule"] != c.rule || p["Daylight_Saving_Time_Enable"] != enable {
			t.Errorf("%s: %q %q %q", c.zone, p["Time_Zone"], p["Daylight_Saving_Time_Enable"], p["Daylight_Saving_Time_Rule"])
		}
	}
}

func TestTransportProxyLanguage(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "6821")
	dev.Settings.SIPTransport, dev.Settings.SIPPort, dev.Settings.OutboundProxy = "tls", 0, "[2001:db8::1]"
	dev.Settings.Language = "xx"
	p := params(t, mustRender(t, d, dev.MAC+".xml", dev))
	if p["SIP_Transport_1_"] != "TLS" || p["Proxy_1_"] != "pbx.example.com" || p["Outbound_Proxy_2_"] != "[2001:db8::1]" {
		t.Errorf("tls: %q %q %q", p["SIP_Transport_1_"], p["Proxy_1_"], p["Outbound_Proxy_2_"])
	}
	if p["Language_Selection"] != "English-US" || p["Locale"] != "en-US" {
		t.Errorf("language %q %q", p["Language_Selection"], p["Locale"])
	}
	dev.Settings.SIPTransport, dev.Settings.OutboundProxy = "tcp", ""
	p = params(t, mustRender(t, d, dev.MAC+".xml", dev))
	if p["SIP_Transport_1_"] != "TCP" || p["Outbound_Proxy_1_"] != "" {
		t.Errorf("tcp: %q %q", p["SIP_Transport_1_"], p["Outbound_Proxy_1_"])
	}
}

// TestValuesAreEscaped: markup in any value stays text.
func TestValuesAreEscaped(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "8851")
	dev.Label = `</Station_Display_Name><Admin_Password>x</Admin_Password>`
	dev.Lines[0].DisplayName = `a"b'c<d>&e`
	dev.Keys = append(dev.Keys, vendors.Key{Position: 5, Type: vendors.KeyBLF, Value: "2<0>2", Label: "&amp;"})
	p := params(t, mustRender(t, d, dev.MAC+".xml", dev))
	if p["Station_Display_Name"] != dev.Label || p["Display_Name_1_"] != dev.Lines[0].DisplayName {
		t.Errorf("escaped values: %q %q", p["Station_Display_Name"], p["Display_Name_1_"])
	}
	if p["Admin_Password"] != vendortest.WebSecret {
		t.Error("the injected element took effect")
	}
	if p["Extended_Function_5_"] != "fnc=blf+sd+cp;sub=2<0>2@$PROXY;vid=1;nme=&amp," {
		t.Errorf("key: %q", p["Extended_Function_5_"])
	}
}

// TestCertMAC reads S= only (cisco-mpp.md §1), not the serial in L= nor
// a MAC elsewhere.
func TestCertMAC(t *testing.T) {
	d := newDriver(t)
	cert := func(cn, l, s string, dns ...string) *x509.Certificate {
		n := pkix.Name{CommonName: cn, OrganizationalUnit: []string{"CP-8841-3PCC"}}
		if l != "" {
			n.Locality = []string{l}
		}
		if s != "" {
			n.Province = []string{s}
		}
		return &x509.Certificate{Subject: n, DNSNames: dns}
	}
	for _, c := range []struct {
		cert *x509.Certificate
		mac  string
	}{
		{cert("", "88012BA01234", "000e08abcdef"), "000e08abcdef"},
		{cert("", "", "00:0E:08:AB:CD:EF"), "000e08abcdef"},
		{cert("00562b0429da", "", "000e08abcdef", "00562b000001.example"), "000e08abcdef"},
		{cert("00562b0429da", "00562b0429db", ""), ""},
		{cert("", "", "not a mac"), ""},
		{nil, ""},
	} {
		mac, ok := d.CertMAC(c.cert)
		if mac != c.mac || ok != (c.mac != "") {
			t.Errorf("CertMAC = %q %v, want %q", mac, ok, c.mac)
		}
	}
	if mac, ok := vendors.CertMAC(d, cert("", "", "000e08abcdef")); !ok || mac != "000e08abcdef" {
		t.Error("vendors.CertMAC does not ask the driver")
	}
}

func TestScores(t *testing.T) {
	d := newDriver(t)
	full := d.Identify(vendors.Request{Path: "Cisco/CP-8851-3PCC/00562b0429da.cfg", UserAgent: "Cisco-CP-8851-3PCC/12.0.1 (00562b0429da)"})
	if full.Score != vendors.ScoreUserAgent+vendors.ScorePath+vendors.ScoreOUI {
		t.Errorf("full score %d", full.Score)
	}
	if s := d.Identify(dhcp("00562b0429da", "CP-7841-3PCC")).Score; s != vendors.ScoreOUI+vendors.ScoreVendorClass {
		t.Errorf("dhcp score %d", s)
	}
}

func FuzzIdentify(f *testing.F) {
	for _, s := range samples {
		f.Add(s.Req.Path, s.Req.UserAgent, s.Req.MAC, s.Req.VendorClass)
	}
	d := newDriver(f)
	f.Fuzz(func(t *testing.T, p, ua, mac, class string) {
		id := d.Identify(vendors.Request{Path: p, UserAgent: ua, MAC: mac, VendorClass: class})
		if id.Score == 0 {
			if id != (vendors.Identity{}) {
				t.Fatalf("score 0 with identity %+v", id)
			}
			return
		}
		if id.Vendor != Name {
			t.Fatalf("vendor %q", id.Vendor)
		}
		if id.MAC != "" {
			if m, err := vendors.ParseMAC(id.MAC); err != nil || m != id.MAC {
				t.Fatalf("MAC %q is not canonical", id.MAC)
			}
		}
		if id.Model != "" && !isMPPModel(id.Model) && !spaModel(id.Model) {
			t.Fatalf("model %q", id.Model)
		}
		if id.Firmware != "" && firmware(id.Firmware) != id.Firmware {
			t.Fatalf("firmware %q", id.Firmware)
		}
		if id.Kind != vendors.FileUnknown && id.Score < vendors.ScorePath {
			t.Fatalf("kind %v without a path score", id.Kind)
		}
		if !vendors.SafeText(id.Model) || !vendors.SafeText(id.Firmware) || strings.ContainsAny(id.Model+id.Firmware, "<>&\" ") {
			t.Fatalf("unsafe text %q %q", id.Model, id.Firmware)
		}
	})
}

// TestResync: NOTIFY "Event: resync" to line 1's extension; a reboot is
// unsupported (none documented).
func TestResync(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "8851")
	reqs, err := d.Resync(dev, false)
	if err != nil || len(reqs) != 1 || reqs[0].Method != "NOTIFY" || reqs[0].Event != "resync" ||
		reqs[0].User != dev.Lines[0].Extension || dev.Lines[0].Extension == "" {
		t.Errorf("Resync = %+v, %v", reqs, err)
	}
	if _, err := d.Resync(dev, true); !errors.Is(err, vendors.ErrUnsupported) {
		t.Errorf("Resync(reboot) err = %v, want ErrUnsupported", err)
	}
}

// TestUpgradeRule: an offered firmware renders an Upgrade_Rule with the
// $SWVER condition; without one the rule is written empty (a flat profile
// keeps what it leaves out); load names and User-Agent versions compare
// alike.
func TestUpgradeRule(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "8851")
	if p := params(t, mustRender(t, d, "00562b0429da.xml", dev)); p["Upgrade_Rule"] != "" {
		t.Errorf("Upgrade_Rule without an offer: %q", p["Upgrade_Rule"])
	}
	dev.FirmwareURL, dev.FirmwareVersion = "http://p.example/prov/firmware/0123456789abcdef/sip88xx.12-0-7MPP0201-66.loads", "sip88xx.12-0-7MPP0201-66"
	p := params(t, mustRender(t, d, "00562b0429da.xml", dev))
	if want := `($$SWVER ne "sip88xx.12-0-7MPP0201-66")? http://p.example/prov/firmware/0123456789abcdef/sip88xx.12-0-7MPP0201-66.loads`; p["Upgrade_Rule"] != strings.ReplaceAll(want, "$$", "$") || p["Upgrade_Enable"] != "Yes" {
		t.Errorf("Upgrade_Rule %q, Upgrade_Enable %q", p["Upgrade_Rule"], p["Upgrade_Enable"])
	}
	for _, c := range [][2]string{{"12.0.7", "sip88xx.12-0-7MPP0201-66"}, {"11.0.1", "sip78xx.11-0-1MPP"}} {
		if !vendors.SameFirmware(d, c[0], c[1]) {
			t.Errorf("%s and %s should compare alike", c[0], c[1])
		}
	}
	if vendors.SameFirmware(d, "12.0.1", "sip88xx.12-0-7MPP0201-66") {
		t.Error("12.0.1 taken for 12.0.7")
	}
}

// TestRedirect: the bootstrap and the per-device names get a profile whose
// Profile_Rule is the target's $MA.xml; an unknown name or a target a rule
// cannot carry gets none.
func TestRedirect(t *testing.T) {
	d := newDriver(t)
	for _, name := range []string{"8851-3PCC.xml", "Cisco/CP-8851-3PCC/00562b0429da.cfg", "00562b0429da.xml"} {
		f, ok := d.Redirect(name, "https://other.example.com/prov/")
		if !ok {
			t.Fatalf("%s: no redirect", name)
		}
		p := params(t, string(f.Body))
		if p["Profile_Rule"] != "https://other.example.com/prov/$MA.xml" || p["Profile_Rule_B"] != "" || p["Resync_On_Reset"] != "Yes" {
			t.Errorf("%s: %v", name, p)
		}
		if strings.Contains(string(f.Body), "Password") || strings.Contains(string(f.Body), "User_ID") {
			t.Errorf("%s carries an account:\n%s", name, f.Body)
		}
	}
	if _, ok := d.Redirect("readme.txt", "https://other.example.com/prov/"); ok {
		t.Error("an unknown file got a redirect")
	}
	if _, ok := d.Redirect("00562b0429da.xml", "https://other.example.com/a b/"); ok {
		t.Error("a target with a space got a redirect")
	}
}
