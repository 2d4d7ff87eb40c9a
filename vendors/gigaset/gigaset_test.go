package gigaset

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

func driver() *Driver { return New(templates.MustLoad("gigaset")) }

func dev(id vendors.Identity) vendors.Identity {
	id.Vendor = VendorName
	id.Score = 1
	return id
}

const fd, fu = vendors.FileDevice, vendors.FileUnknown

// samples are real User-Agent strings from reference gigaset.md §2 (some
// with the XXXXXX placeholder of Gigaset's table, some with real hex), the
// file names in both MAC cases, and other vendors' requests.
func sm(name string, req vendors.Request, want vendors.Identity) vendortest.Sample {
	return vendortest.Sample{Name: name, Req: req, Want: want}
}

var samples = []vendortest.Sample{
	// Nx70, Gigaset's UA table, verbatim (placeholder MACs are no MACs).
	sm("n870-verbatim", vendors.Request{UserAgent: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX"},
		dev(vendors.Identity{Model: "N870", Firmware: "83.V2.43.0"})),
	sm("n870e-verbatim", vendors.Request{UserAgent: "Gigaset N870E IP PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX"},
		dev(vendors.Identity{Model: "N870E", Firmware: "83.V2.43.0"})),
	sm("n770-verbatim", vendors.Request{UserAgent: "Gigaset N770 IP PRO/83.V2.62.0+build.c358757;7C2F80XXXXXX"},
		dev(vendors.Identity{Model: "N770", Firmware: "83.V2.62.0"})),
	sm("n670-real-mac", vendors.Request{UserAgent: "Gigaset N670 IP PRO/83.V2.23.0+build.f68eeed;589EC600C8A9"},
		dev(vendors.Identity{Model: "N670", Firmware: "83.V2.23.0", MAC: "589ec600c8a9"})),
	sm("n610-handset", vendors.Request{UserAgent: "Gigaset N610 IP PRO/83.V2.64.0-160-g758db0bf;589EC67C2479;Handset=20"},
		dev(vendors.Identity{Model: "N610", Firmware: "83.V2.64.0-160-g758db0bf", MAC: "589ec67c2479"})),
	sm("n530-unsupported", vendors.Request{UserAgent: "Gigaset N530 IP PRO/83.V2.62.0+build.c358757;7C2F80XXXXXX"},
		dev(vendors.Identity{Model: "N530 IP PRO", Firmware: "83.V2.62.0"})),
	sm("n870-vi-handset0", vendors.Request{UserAgent: "Gigaset N870 VI PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX;Handset=0"},
		dev(vendors.Identity{Model: "N870 VI PRO", Firmware: "83.V2.43.0"})),
	// Same shapes with a real MAC, quotes, no vendor word, odd spacing.
	sm("n870-mac-path", vendors.Request{Path: "provisioning.xml", UserAgent: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80E0D605"},
		dev(vendors.Identity{Model: "N870", Firmware: "83.V2.43.0", MAC: "7c2f80e0d605", Kind: fd})),
	sm("n870-quoted", vendors.Request{UserAgent: `"Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605"`},
		dev(vendors.Identity{Model: "N870", Firmware: "83.V2.11.0", MAC: "7c2f80e0d605"})),
	sm("n870-no-vendor", vendors.Request{UserAgent: "N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80E0D605;Handset=250"},
		dev(vendors.Identity{Model: "N870", Firmware: "83.V2.43.0", MAC: "7c2f80e0d605"})),
	sm("n870-odd-space", vendors.Request{UserAgent: "  gigaset   N870  IP  PRO/83.V2.43.0;7C2F80E0D605  "},
		dev(vendors.Identity{Model: "N870", Firmware: "83.V2.43.0", MAC: "7c2f80e0d605"})),
	sm("n670-no-mac", vendors.Request{UserAgent: "Gigaset N670 IP PRO/83.V2.23.0+build.f68eeed;"},
		dev(vendors.Identity{Model: "N670", Firmware: "83.V2.23.0"})),
	// Legacy N510/N720 (WAZO common.py): vendor gigaset, reported model.
	sm("n510-mac", vendors.Request{UserAgent: "N510 IP PRO/42.245.00.000.000;7C2F804DF9A9"},
		dev(vendors.Identity{Model: "N510 IP PRO", Firmware: "42.245.00.000.000", MAC: "7c2f804df9a9"})),
	sm("n510-no-mac", vendors.Request{UserAgent: "N510 IP PRO/42.258.00.000.000"},
		dev(vendors.Identity{Model: "N510 IP PRO", Firmware: "42.258.00.000.000"})),
	sm("n720-dm", vendors.Request{UserAgent: "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4"},
		dev(vendors.Identity{Model: "N720 DM PRO", Firmware: "70.089.00.000.000", MAC: "7c2f80ca21e4"})),
	sm("n720-hyphen", vendors.Request{UserAgent: "N720-DM-PRO/70.040.00.000.000"},
		dev(vendors.Identity{Model: "N720 DM PRO", Firmware: "70.040.00.000.000"})),
	// Maxwell shapes (TANC; unverified real UA).
	sm("maxwell3-tanc", vendors.Request{UserAgent: "Gigaset Maxwell 3 2.41.0 7C:2F:80:AA:BB:D8"},
		dev(vendors.Identity{Model: "Maxwell 3", Firmware: "2.41.0", MAC: "7c2f80aabbd8"})),
	sm("maxwell-prefix", vendors.Request{UserAgent: "Maxwell 3/2.22.4;7C2F8030D21E", Path: "7C2F8030D21E.xml"},
		dev(vendors.Identity{Model: "Maxwell 3", Firmware: "2.22.4", MAC: "7c2f8030d21e", Kind: fd})),
	sm("maxwell-joined", vendors.Request{UserAgent: "Maxwell3 2.41.0"},
		dev(vendors.Identity{Model: "Maxwell 3", Firmware: "2.41.0"})),
	sm("maxwell-basic", vendors.Request{UserAgent: "Gigaset Maxwell Basic 2.41.0 7C-2F-80-AA-BB-D9"},
		dev(vendors.Identity{Model: "Maxwell Basic", Firmware: "2.41.0", MAC: "7c2f80aabbd9"})),
	sm("maxwell-lower", vendors.Request{UserAgent: "gigaset maxwell 4 2.50.1"},
		dev(vendors.Identity{Model: "Maxwell 4", Firmware: "2.50.1"})),
	sm("maxwell-10", vendors.Request{UserAgent: "Gigaset Maxwell 10 1.5.0"},
		dev(vendors.Identity{Model: "Maxwell 10", Firmware: "1.5.0"})),
	sm("maxwell-bare", vendors.Request{UserAgent: "Maxwell"},
		dev(vendors.Identity{Model: "Maxwell"})),
	// Paths.
	sm("path-upper", vendors.Request{Path: "7C2F80123456.xml"}, dev(vendors.Identity{MAC: "7c2f80123456", Kind: fd})),
	sm("path-lower", vendors.Request{Path: "7c2f80123456.xml"}, dev(vendors.Identity{MAC: "7c2f80123456", Kind: fd})),
	sm("path-slash", vendors.Request{Path: "/589EC6AABBCC.XML"}, dev(vendors.Identity{MAC: "589ec6aabbcc", Kind: fd})),
	sm("path-opt15", vendors.Request{Path: "7C2F80123456.xml.provider.example"}, dev(vendors.Identity{MAC: "7c2f80123456", Kind: fd})),
	sm("path-foreign-oui", vendors.Request{Path: "0015651A2B3C.xml"}, dev(vendors.Identity{MAC: "0015651a2b3c", Kind: fd})),
	sm("provisioning-no-mac", vendors.Request{Path: "provisioning.xml"}, dev(vendors.Identity{Kind: fd})),
	sm("provisioning-query-mac", vendors.Request{Path: "provisioning.xml", MAC: "7c2f80aabbcc"}, dev(vendors.Identity{Kind: fd, MAC: "7c2f80aabbcc"})),
	sm("oui-only", vendors.Request{Path: "unknown.bin", MAC: "14b370aabbcc"}, dev(vendors.Identity{MAC: "14b370aabbcc"})),
	sm("oui-002104", vendors.Request{MAC: "002104aabbcc"}, dev(vendors.Identity{MAC: "002104aabbcc"})),
	// Not ours.
	sm("p820", vendors.Request{Path: "000413AABBCC.xml", UserAgent: "Gigaset P820 IP PRO/10.1.33.4;000413AABBCC"}, vendors.Identity{}),
	sm("p710-no-vendor", vendors.Request{UserAgent: "P710 IP PRO/10.1.33.4"}, vendors.Identity{}),
	sm("snom-oui", vendors.Request{Path: "x.cfg", MAC: "000413aabbcc"}, vendors.Identity{}),
	sm("yealink", vendors.Request{Path: "0015651a2b3c.xml", UserAgent: "Yealink SIP-T54W 96.86.0.100 00:15:65:1a:2b:3c"}, vendors.Identity{}),
	sm("snom-ua", vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom D785 10.1.141.13)"}, vendors.Identity{}),
	sm("cisco", vendors.Request{Path: "SEP001122334455.cnf.xml", UserAgent: "Cisco-CP-8845-3PCC/11.3.7"}, vendors.Identity{}),
	sm("empty", vendors.Request{}, vendors.Identity{}),
	sm("yealink-cfg", vendors.Request{Path: "y000000000000.cfg"}, vendors.Identity{}),
	// DHCP lease requests: option 60 of the N510 and N720 (gigaset.md §7,
	// dhcp.md §3), the same shapes for the Nx70 (unverified), models as
	// the User-Agent reports them.
	sm("dhcp-n510", dhcp("7c2f804df9a9", "N510_IP_PRO"), dev(vendors.Identity{Model: "N510 IP PRO", MAC: "7c2f804df9a9"})),
	sm("dhcp-n720", dhcp("7c2f80ca21e4", "Gigaset_N720_DM_PRO"), dev(vendors.Identity{Model: "N720 DM PRO", MAC: "7c2f80ca21e4"})),
	sm("dhcp-n870", dhcp("7c2f80010203", "Gigaset_N870_IP_PRO"), dev(vendors.Identity{Model: "N870", MAC: "7c2f80010203"})),
	sm("dhcp-n870-no-vendor", dhcp("7c2f80010203", "N870_IP_PRO"), dev(vendors.Identity{Model: "N870", MAC: "7c2f80010203"})),
	sm("dhcp-n870e-spaces", dhcp("589ec6aabbcc", "gigaset n870e ip pro"), dev(vendors.Identity{Model: "N870E", MAC: "589ec6aabbcc"})),
	sm("dhcp-maxwell", dhcp("7c2f80aabbcc", "Maxwell_3"), dev(vendors.Identity{Model: "Maxwell 3", MAC: "7c2f80aabbcc"})),
	sm("dhcp-maxwell-10", dhcp("7c2f80aabbcc", "Gigaset Maxwell10"), dev(vendors.Identity{Model: "Maxwell 10", MAC: "7c2f80aabbcc"})),
	sm("dhcp-vendor-word", dhcp("7c2f80aabbcc", "Gigaset"), dev(vendors.Identity{MAC: "7c2f80aabbcc"})),
	sm("dhcp-oui-only", dhcp("002104aabbcc", ""), dev(vendors.Identity{MAC: "002104aabbcc"})),
	sm("dhcp-p-class-nx-mac", dhcp("7c2f80aabbcc", "GigasetP820"), dev(vendors.Identity{MAC: "7c2f80aabbcc"})),
	sm("dhcp-snom-class-nx-mac", dhcp("7c2f80aabbcc", "snomD785"), dev(vendors.Identity{MAC: "7c2f80aabbcc"})),
	sm("dhcp-no-mac", vendors.Request{VendorClass: "N510_IP_PRO"}, dev(vendors.Identity{Model: "N510 IP PRO"})),
	sm("dhcp-snom-mac", dhcp("000413aabbcc", "Gigaset_N720_DM_PRO"), vendors.Identity{}),
	sm("dhcp-yealink-mac", dhcp("805ec0aabb01", "N510_IP_PRO"), vendors.Identity{}),
	sm("dhcp-p-class-no-mac", vendors.Request{VendorClass: "GigasetP820"}, vendors.Identity{}),
	sm("dhcp-long-class", dhcp("3c22fb112233", "N870_"+strings.Repeat("X", 300)), vendors.Identity{}),
}

// dhcp is a lease request as the sniffer hands it to the core.
func dhcp(mac, class string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: class, Transport: "dhcp"}
}

func TestVendor(t *testing.T) {
	vendortest.TestVendor(t, driver(), samples)
}

func TestIdentifyScores(t *testing.T) {
	d := driver()
	cases := []struct {
		req  vendors.Request
		want int
	}{
		{vendors.Request{Path: "7C2F80123456.xml"}, vendors.ScorePath + vendors.ScoreOUI},
		{vendors.Request{Path: "0004131A2B3C.xml"}, vendors.ScorePath},
		{vendors.Request{Path: "provisioning.xml", UserAgent: "Gigaset N870 IP PRO/83.V2.43.0;7C2F80E0D605"},
			vendors.ScorePath + vendors.ScoreUserAgent + vendors.ScoreOUI},
		{vendors.Request{UserAgent: "N720-DM-PRO/70.040.00.000.000"}, vendors.ScoreUserAgent},
		{vendors.Request{MAC: "000413aabbcc"}, 0},
		{dhcp("7c2f804df9a9", "N510_IP_PRO"), vendors.ScoreOUI + vendors.ScoreVendorClass},
		{dhcp("7c2f804df9a9", "MSFT 5.0"), vendors.ScoreOUI},
		{vendors.Request{VendorClass: "Gigaset_N720_DM_PRO"}, vendors.ScoreVendorClass},
		{dhcp("000413aabbcc", "Gigaset_N720_DM_PRO"), 0},
		{dhcp("7c2f80aabbcc", "Maxwell"+strings.Repeat("9", 40)), vendors.ScoreOUI},
	}
	for _, c := range cases {
		if got := d.Identify(c.req).Score; got != c.want {
			t.Errorf("Identify(%+v).Score = %d, want %d", c.req, got, c.want)
		}
	}
}

func model(t *testing.T, name string) vendors.Model {
	t.Helper()
	m, ok := lookupModel(name)
	if !ok {
		t.Fatalf("model %q not found", name)
	}
	return m
}

func render(t *testing.T, name string, d *vendors.Device) string {
	t.Helper()
	f, err := driver().Render(name, d)
	if err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	if f.ContentType != ContentType {
		t.Errorf("content type %q", f.ContentType)
	}
	if err := vendortest.WellFormed(f.Body); err != nil {
		t.Fatalf("%s not well-formed: %v\n%s", name, err, f.Body)
	}
	return string(f.Body)
}

// TestGolden pins one file per family (and the Maxwell variants whose
// header differs) byte for byte.
func TestGolden(t *testing.T) {
	for _, c := range []struct{ dir, model string }{
		{"nx70-n870", "N870"}, {"nx70-n610", "N610"},
		{"maxwell-3", "Maxwell 3"}, {"maxwell-basic", "Maxwell Basic"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			d := vendortest.SampleDevice(model(t, c.model))
			d.FirmwareURL = "http://prov.example.com:8080/fw/Gigaset-Nx70-V2.65.0-build.8504c90.bin"
			d.PnPOff = c.dir == "nx70-n870" // adopted (the core sets it); the others as a common view
			name := driver().Files(d)[0]
			vendortest.Golden(t, c.dir+"/"+name, []byte(render(t, name, d)))
			nd := *d
			nd.WithSecrets = false
			nd.FirmwareURL = ""
			vendortest.Golden(t, c.dir+"/nosecrets-"+name, []byte(render(t, name, &nd)))
		})
	}
}

func TestAliases(t *testing.T) {
	for alias, want := range map[string]string{
		"Maxwell3": "Maxwell 3", "MAXWELL 3": "Maxwell 3", "Maxwell-3": "Maxwell 3",
		"gigaset maxwell_3": "Maxwell 3", "maxwell basic": "Maxwell Basic",
		"N870 IP PRO": "N870", "n870e-ip-pro": "N870E", "Gigaset N770": "N770",
	} {
		if m, ok := lookupModel(alias); !ok || m.Name != want {
			t.Errorf("lookupModel(%q) = %q, %v; want %q", alias, m.Name, ok, want)
		}
	}
	for _, bad := range []string{"N870 VI PRO", "P820", "Maxwell 10", "N510", ""} {
		if m, ok := lookupModel(bad); ok {
			t.Errorf("lookupModel(%q) = %q, want not found", bad, m.Name)
		}
	}
}

func TestFilesAndProvisioningXML(t *testing.T) {
	d := vendortest.SampleDevice(model(t, "N870"))
	files := driver().Files(d)
	if len(files) != 1 || files[0] != "0015651A2B3C.xml" {
		t.Fatalf("Files = %v", files)
	}
	a := render(t, "0015651A2B3C.xml", d)
	if b := render(t, "0015651a2b3c.xml", d); a != b {
		t.Error("lower-case MAC renders differently")
	}
	if b := render(t, "provisioning.xml", d); a != b {
		t.Error("provisioning.xml differs from <MAC>.xml")
	}
	nd := *d
	nd.MAC = ""
	if _, err := driver().Render("provisioning.xml", &nd); !errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("provisioning.xml without MAC: err = %v, want ErrNotFound", err)
	}
	for _, name := range []string{"7C2F80123456.xml", "master.bin", "0015651A2B3C.cfg"} {
		if _, err := driver().Render(name, d); !errors.Is(err, vendors.ErrNotFound) {
			t.Errorf("Render(%q): err = %v, want ErrNotFound", name, err)
		}
	}
	bad := *d
	bad.Model = "P820"
	if _, err := driver().Render("0015651A2B3C.xml", &bad); !errors.Is(err, vendors.ErrUnsupported) {
		t.Errorf("unsupported model: err = %v", err)
	}
}

func TestSecretsLeftOut(t *testing.T) {
	for _, name := range []string{"N870", "Maxwell 3"} {
		d := vendortest.SampleDevice(model(t, name))
		d.WithSecrets = false
		body := render(t, "0015651A2B3C.xml", d)
		for _, p := range []string{"Password", "DECT_AC", "AuthPassword"} {
			if strings.Contains(body, p) {
				t.Errorf("%s without secrets still has a %s parameter", name, p)
			}
		}
		if strings.Contains(body, `value=""`) {
			t.Errorf("%s has an empty value", name)
		}
	}
	// No default password is ever invented.
	d := vendortest.SampleDevice(model(t, "Maxwell 3"))
	d.WebPassword, d.MenuPassword = "", ""
	body := render(t, "0015651A2B3C.xml", d)
	if strings.Contains(body, "WebUI.AdminPassword") || strings.Contains(body, "admin") {
		t.Error("empty web password still renders a password parameter")
	}
}

func TestNx70Content(t *testing.T) {
	d := vendortest.SampleDevice(model(t, "N870"))
	d.Settings.SIPTransport = "tls"
	d.Settings.SIPPort = 0
	d.Settings.OutboundProxy = ""
	body := render(t, "0015651A2B3C.xml", d)
	for _, want := range []string{
		`productID="e2"`,
		`<param name="SipProvider.0.TransportProtocol" value="3"/>`,
		`<param name="SipProvider.0.RegServerPort" value="5061"/>`,
		`<param name="SipProvider.0.OutboundProxyMode" value="2"/>`,
		`<oper name="add_hs" value="00003">`,
		`<param name="SipAccount.00002.AuthName" value="auth202"/>`,
		`<param name="SipAccount.00001.DisplayName" value="User 1 &lt;&amp;&gt;"/>`,
		`<param name="hs.00001.DECT_AC" value="48151623"/>`,
		`<param name="DmGlobal.0.TimeZone" value="Europe/Berlin"/>`,
		`<param name="Telephony.0.ToneScheme" value="Germany"/>`,
		`<param name="Provisioning.global.ProvisioningServer" value="http://prov.example.com:8080/prov/0015651A2B3C.xml"/>`,
		`<param name="XMLDir.1.ServerURL" value="http://prov.example.com:8080/prov/directory/gigaset.xml"/>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, "<firmware>") {
		t.Error("firmware block without FirmwareURL")
	}
	if strings.Contains(body, "OutboundProxyAddress") {
		t.Error("outbound proxy address without a proxy")
	}
	d.Settings.SIPTransport = "tcp"
	d.DirectoryURL = ""
	body = render(t, "0015651A2B3C.xml", d)
	if !strings.Contains(body, `TransportProtocol" value="2"`) || strings.Contains(body, "XMLDir") {
		t.Error("tcp transport or directory left-out wrong")
	}
}

func TestNx70HandsetCap(t *testing.T) {
	m := model(t, "N610")
	d := vendortest.SampleDevice(m)
	for len(d.Lines) < m.Lines+5 {
		d.Lines = append(d.Lines, vendors.Line{Extension: "3000", Password: "x"})
	}
	body := render(t, "0015651A2B3C.xml", d)
	if n := strings.Count(body, `name="add_hs"`); n != m.Lines {
		t.Errorf("%d handsets rendered, want %d", n, m.Lines)
	}
}

func TestNoKeysOnNx70AndBasic(t *testing.T) {
	for _, name := range []string{"N870", "Maxwell Basic"} {
		m := model(t, name)
		errs := vendors.ValidateKeys(m, []vendors.Key{{Position: 1, Type: vendors.KeyBLF, Value: "201"}}, 1)
		if len(errs) != 1 {
			t.Errorf("%s accepted a BLF key", name)
		}
	}
	body := render(t, "0015651A2B3C.xml", vendortest.SampleDevice(model(t, "Maxwell Basic")))
	if strings.Contains(body, "FunctionKeys") {
		t.Error("Maxwell Basic renders function keys")
	}
}

func TestMaxwellKeys(t *testing.T) {
	m := model(t, "Maxwell 3")
	d := vendortest.SampleDevice(m)
	d.Keys = []vendors.Key{
		{Position: 1, Type: vendors.KeyLine, Line: 1},
		{Position: 2, Type: vendors.KeyLine, Line: 2, Label: "Second"},
		{Position: 3, Type: vendors.KeyBLF, Value: "205", Label: "Bob", PickupCode: "*8"},
		{Position: 4, Type: vendors.KeySpeedDial, Value: "0049301234", Label: "HQ"},
		{Position: 5, Type: vendors.KeyForward, Value: "206"},
		{Position: 6, Type: vendors.KeyDTMF, Value: "*21#"},
		{Position: 7, Type: vendors.KeyURL, Value: "http://x.example/a?b=1&c=2"},
		{Position: 8, Type: vendors.KeyNone},
	}
	if errs := vendors.ValidateKeys(m, d.Keys, len(d.Lines)); len(errs) > 0 {
		t.Fatalf("keys refused: %v", errs)
	}
	body := render(t, "0015651A2B3C.xml", d)
	for _, want := range []string{
		`FunctionKeys.0.Type" value="0"`, `FunctionKeys.0.Connection" value="0"`,
		`FunctionKeys.0.DisplayName" value="User 1 &lt;&amp;&gt;"`,
		`FunctionKeys.1.Connection" value="1"`, `FunctionKeys.1.DisplayName" value="Second"`,
		`FunctionKeys.2.Type" value="4"`, `FunctionKeys.2.PhoneNumber" value="205"`,
		`FunctionKeys.2.CallPickupCode" value="*8"`, `FunctionKeys.2.DisplayName" value="Bob"`,
		`FunctionKeys.3.Type" value="3"`, `FunctionKeys.3.PhoneNumber" value="0049301234"`,
		`FunctionKeys.4.Type" value="6"`, `FunctionKeys.4.PhoneNumber" value="206"`,
		`FunctionKeys.5.Type" value="7"`, `FunctionKeys.5.EnableCode" value="*21#"`,
		`FunctionKeys.6.Type" value="8"`, `FunctionKeys.6.URL" value="http://x.example/a?b=1&amp;c=2"`,
		`FunctionKeys.7.Type" value="-1"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, "FunctionKeys.8.") {
		t.Error("key beyond the 8 function keys")
	}
	// Unset positions are cleared explicitly.
	d.Keys = d.Keys[:1]
	body = render(t, "0015651A2B3C.xml", d)
	if !strings.Contains(body, `FunctionKeys.5.Type" value="-1"`) {
		t.Error("unset key position not cleared")
	}
	// Capabilities refuse modules and unsupported types.
	if errs := vendors.ValidateKeys(m, []vendors.Key{{Position: 1, Module: 1, Type: vendors.KeyBLF, Value: "1"},
		{Position: 2, Type: vendors.KeyPark, Value: "700"}, {Position: 9, Type: vendors.KeyNone}}, 1); len(errs) != 3 {
		t.Errorf("ValidateKeys = %v, want 3 errors", errs)
	}
}

func TestMaxwellContent(t *testing.T) {
	d := vendortest.SampleDevice(model(t, "Maxwell 3"))
	body := render(t, "0015651A2B3C.xml", d)
	for _, want := range []string{
		`<provisioning version="1.1" productID="mx3b">`,
		`<param name="WebUI.AdminPassword" value="Web-S3cret-Pw"/>`,
		`<param name="WebUI.UserPassword" value="48151623"/>`,
		`<param name="SIP.Account.0.Username" value="201"/>`,
		`<param name="SIP.Account.2.AuthPassword" value="Sip-S3cret-3"/>`,
		`<param name="SIP.Account.1.RegistrationServer.Address" value="pbx.example.com"/>`,
		`<param name="SIP.Account.0.OutboundProxy.Mode" value="0"/>`,
		`<param name="SIP.Account.0.OutboundProxy.Address" value="sbc.example.com"/>`,
		`<param name="SIP.Account.0.OutboundProxy.Port" value="5061"/>`,
		`<param name="SIP.TransportProtocol" value="1"/>`,
		`<param name="System.DateAndTime.TimeServer" value="ntp.example.com"/>`,
		`<param name="System.DateAndTime.TimeZone" value="GMT+1.Europe/Amsterdam"/>`,
		`<param name="PhoneUI.Settings.Language" value="de-de"/>`,
		`<param name="WebUI.Language" value="en-us"/>`,
		`<param name="Telephony.ToneScheme" value="DEU"/>`,
		`<param name="System.Provision.ProvisioningServer" value="http://prov.example.com:8080/prov/%MACD.xml"/>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, name := range []string{"Maxwell 2", "Maxwell 4", "Maxwell Basic"} {
		body := render(t, "0015651A2B3C.xml", vendortest.SampleDevice(model(t, name)))
		if strings.Contains(body, "productID") {
			t.Errorf("%s: unverified productID emitted", name)
		}
	}
	d.Settings.SIPTransport = "tls"
	d.FirmwareURL = "http://fw.example/maxwell-2.50.1.bin"
	body = render(t, "0015651A2B3C.xml", d)
	if !strings.Contains(body, `SIP.TransportProtocol" value="2"`) {
		t.Error("tls is not 2")
	}
	if !strings.Contains(body, `<file version="2.50.1" url="http://fw.example/maxwell-2.50.1.bin"/>`) {
		t.Error("firmware block")
	}
}

func TestLanguagesAndTones(t *testing.T) {
	for code := range vendors.Languages {
		if _, ok := maxwellLanguages[code]; !ok {
			t.Errorf("language %s not mapped", code)
		}
	}
	for cc := range vendors.ToneSchemes {
		if _, ok := maxwellTones[cc]; !ok {
			t.Errorf("tone scheme %s not mapped for Maxwell", cc)
		}
		if nx70ToneScheme(cc) == "" {
			t.Errorf("tone scheme %s empty for Nx70", cc)
		}
	}
	if maxwellLanguage("xx") != "en-us" || maxwellToneScheme("XX") != "INT" || nx70ToneScheme("IT") != "Retail" {
		t.Error("fallbacks")
	}
}

func TestTimeZones(t *testing.T) {
	cases := []struct{ iana, nx70, maxwell string }{
		{"Europe/Berlin", "Europe/Berlin", "GMT+1.Europe/Amsterdam"},
		{"Europe/London", "Europe/London", "GMT.Europe/London"},
		{"UTC", "Greenwich", "GMT.Europe/London"},
		{"America/New_York", "America/New_York", "GMT-5.America/New_York"},
		{"America/Toronto", "America/New_York", "GMT-5.America/New_York"},
		{"America/Phoenix", "America/Denver", "GMT-7.America/Denver"},
		{"Asia/Kolkata", "Asia/Karachi", "GMT+5.Asia/Karachi"},
		{"Asia/Shanghai", "Asia/Hong_Kong", "GMT+8.Asia/Hong_Kong"},
		{"Australia/Melbourne", "Australia/Sydney", "GMT+10.Australia/Sydney"},
		{"Australia/Adelaide", "Australia/Adelaide", "GMT+9:30.Australia/Adelaide"},
		{"Africa/Johannesburg", "Europe/Kaliningrad", "GMT+2.Europe/Kaliningrad"},
		{"Europe/Kyiv", "Europe/Athens", "GMT+2.Europe/Athens"},
		{"Pacific/Auckland", "Pacific/Noumea", "GMT+11.Pacific/Noumea"},
	}
	for _, c := range cases {
		z, err := vendors.ResolveZone(c.iana, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if got := nx70TimeZone(z); got != c.nx70 {
			t.Errorf("nx70TimeZone(%s) = %q, want %q", c.iana, got, c.nx70)
		}
		if got := maxwellTimeZone(z); got != c.maxwell {
			t.Errorf("maxwellTimeZone(%s) = %q, want %q", c.iana, got, c.maxwell)
		}
	}
	if nx70TimeZone(vendors.Zone{}) != "" || maxwellTimeZone(vendors.Zone{}) != "" {
		t.Error("empty zone must give no value")
	}
}

func TestDeterministic(t *testing.T) {
	d := vendortest.SampleDevice(model(t, "Maxwell 4"))
	a, b := render(t, "0015651A2B3C.xml", d), render(t, "0015651A2B3C.xml", d)
	if !bytes.Equal([]byte(a), []byte(b)) {
		t.Error("renders differ")
	}
}

func FuzzIdentify(f *testing.F) {
	for _, s := range samples {
		f.Add(s.Req.Path, s.Req.UserAgent, s.Req.MAC, s.Req.VendorClass, s.Req.Hostname)
	}
	d := driver()
	f.Fuzz(func(t *testing.T, path, ua, mac, class, host string) {
		id := d.Identify(vendors.Request{Path: path, UserAgent: ua, MAC: mac, VendorClass: class, Hostname: host})
		if ua == "" && len(id.Model) > maxReported {
			t.Fatalf("model of %d bytes from a vendor class", len(id.Model))
		}
		if id.Score == 0 {
			if id != (vendors.Identity{}) {
				t.Fatalf("score 0 with identity %+v", id)
			}
			return
		}
		if id.Vendor != VendorName {
			t.Fatalf("vendor %q", id.Vendor)
		}
		if id.MAC != "" {
			if c, err := vendors.ParseMAC(id.MAC); err != nil || c != id.MAC {
				t.Fatalf("non-canonical MAC %q", id.MAC)
			}
		}
	})
}

func TestRenderDirectory(t *testing.T) {
	f, err := driver().RenderDirectory([]vendors.DirectoryEntry{
		{Name: "Alice <Sales> & Co", Extension: "201"}, {Name: "Bob", Extension: "202"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := vendortest.WellFormed(f.Body); err != nil {
		t.Fatalf("directory not well-formed: %v\n%s", err, f.Body)
	}
	if f.ContentType != ContentType {
		t.Errorf("content type %q", f.ContentType)
	}
	vendortest.Golden(t, "directory.xml", f.Body)
	body := string(f.Body)
	for _, want := range []string{`total="2" first="1" last="2"`, `<entry id="2">`,
		`<ln>Alice &lt;Sales&gt; &amp; Co</ln>`, `<hm>202</hm>`} {
		if !strings.Contains(body, want) {
			t.Errorf("directory lacks %s", want)
		}
	}
	empty, err := driver().RenderDirectory(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := vendortest.WellFormed(empty.Body); err != nil || !strings.Contains(string(empty.Body), `total="0"`) {
		t.Errorf("empty directory: %v\n%s", err, empty.Body)
	}
}

// TestPnPOff: SipMulticastEnabled=0 only for the Nx70 models Gigaset's page
// lists, and only with PnPOff; N770 and Maxwell never.
func TestPnPOff(t *testing.T) {
	const off = `<param name="SystemSettings.global.SipMulticastEnabled" value="0"/>`
	for m, documented := range map[string]bool{"N610": true, "N670": true, "N870": true, "N870E": true, "N770": false, "Maxwell 3": false} {
		d := vendortest.SampleDevice(model(t, m))
		name := driver().Files(d)[0]
		if strings.Contains(render(t, name, d), "SipMulticast") {
			t.Errorf("%s without PnPOff mentions SipMulticast", m)
		}
		d.PnPOff = true
		if got := strings.Contains(render(t, name, d), off); got != documented {
			t.Errorf("%s with PnPOff: switch written %v, want %v", m, got, documented)
		}
	}
}

// TestResync: check-sync;reboot=false; a reboot is unsupported.
func TestResync(t *testing.T) {
	d := vendortest.SampleDevice(model(t, "N870"))
	reqs, err := driver().Resync(d, false)
	if err != nil || len(reqs) != 1 || reqs[0].Method != "NOTIFY" || reqs[0].Event != "check-sync;reboot=false" {
		t.Errorf("Resync = %+v, %v", reqs, err)
	}
	if _, err := driver().Resync(d, true); !errors.Is(err, vendors.ErrUnsupported) {
		t.Errorf("Resync(reboot) err = %v, want ErrUnsupported", err)
	}
}
