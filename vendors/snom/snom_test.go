package snom

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

func newSnom() *Driver    { return New(templates.MustLoad("snom")) }
func newGigaset() *Driver { return NewGigasetP(templates.MustLoad("snom")) }

func id(model, mac, fw string, kind vendors.FileKind) vendors.Identity {
	return vendors.Identity{Vendor: "snom", Model: model, MAC: mac, Firmware: fw, Kind: kind, Score: 1}
}

func gid(model, mac, fw string, kind vendors.FileKind) vendors.Identity {
	i := id(model, mac, fw, kind)
	i.Vendor = "gigaset"
	return i
}

var notMine = vendors.Identity{}

// Real User-Agent strings: snom.md §2 (WAZO common.py, FPBX index.php,
// GS3 settings.php); other vendors' from gigaset.md §2 and yealink.md.
var snomSamples = []vendortest.Sample{
	{Name: "D785 fw10", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)"},
		Want: id("D785", "000413922d24", "10.1.33.33", vendors.FileUnknown)},
	{Name: "D785 build date", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 UXM:0 UXMC:0)", Path: "00041396D9B4.xml"},
		Want: id("D785", "00041396d9b4", "10.1.169.16", vendors.FileDevice)},
	{Name: "710 with MAC", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)"},
		Want: id("D710", "000413741767", "8.7.5.35", vendors.FileUnknown)},
	{Name: "760 no MAC, MAC from path", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom760-SIP 8.7.3.19 2010.06)", Path: "snom760-000413AABBCC.htm"},
		Want: id("760", "000413aabbcc", "8.7.3.19", vendors.FileCommon)},
	{Name: "320 no MAC", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)", Path: "snom320.htm"},
		Want: id("320", "", "8.4.18", vendors.FileCommon)},
	{Name: "360 ramdisk", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom360-SIP 6.5.2; snom360 ramdisk v3.31; snom360 linux 3.25)", MAC: "000413010203"},
		Want: id("360", "000413010203", "6.5.2", vendors.FileUnknown)},
	{Name: "snom lid", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom lid 3605)"},
		Want: id("", "", "", vendors.FileUnknown)},
	// The DECT bases are NewDECT's (dect_test.go); an M model it does not
	// serve stays here, as reported.
	{Name: "DECT M900 is NewDECT's", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)"}, Want: notMine},
	{Name: "DECT M700 SIP UA is NewDECT's", Req: vendors.Request{UserAgent: "snomM700/V0500B0130 (MAC=000413A1B2C3; SER=1234; HW=2)"}, Want: notMine},
	{Name: "DECT M700 file is NewDECT's", Req: vendors.Request{Path: "snomM700.htm"}, Want: notMine},
	{Name: "other M model as reported", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; Snom M500 05.20.0001 000413b60681)"},
		Want: id("M500", "000413b60681", "05.20.0001", vendors.FileUnknown)},
	{Name: "lower-case vendor, odd spacing", Req: vendors.Request{UserAgent: "  mozilla/4.0 (compatible;   SNOMd120-SIP   10.1.54.13   000413aabb01 )"},
		Want: id("D120", "000413aabb01", "10.1.54.13", vendors.FileUnknown)},
	{Name: "no vendor word", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; D865-SIP 10.1.100.1 000413AABB02)"},
		Want: id("D865", "000413aabb02", "10.1.100.1", vendors.FileUnknown)},
	{Name: "715 UA and path", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snom715-SIP 10.1.215.13 000413AABB03)", Path: "snom715.htm"},
		Want: id("D715", "000413aabb03", "10.1.215.13", vendors.FileCommon)},
	{Name: "device path upper", Req: vendors.Request{Path: "000413AABB04.xml"},
		Want: id("", "000413aabb04", "", vendors.FileDevice)},
	{Name: "device path lower", Req: vendors.Request{Path: "000413aabb04.xml"},
		Want: id("", "000413aabb04", "", vendors.FileDevice)},
	{Name: "general file", Req: vendors.Request{Path: "snomD785.htm"},
		Want: id("D785", "", "", vendors.FileCommon)},
	{Name: "general file xml", Req: vendors.Request{Path: "SNOMD785.XML"},
		Want: id("D785", "", "", vendors.FileCommon)},
	{Name: "per-phone container lower MAC", Req: vendors.Request{Path: "snomD120-000413aabb05.htm"},
		Want: id("D120", "000413aabb05", "", vendors.FileCommon)},
	{Name: "firmware file in folder", Req: vendors.Request{Path: "snomD785/snomD785-firmware.htm"},
		Want: id("D785", "", "", vendors.FileCommon)},
	{Name: "OUI only", Req: vendors.Request{MAC: "000413aabb06"},
		Want: id("", "000413aabb06", "", vendors.FileUnknown)},
	{Name: "second OUI", Req: vendors.Request{MAC: "00087baabb07"},
		Want: id("", "00087baabb07", "", vendors.FileUnknown)},
	{Name: "Gigaset sub-range OUI is not snom", Req: vendors.Request{MAC: "000413e51234"}, Want: notMine},
	{Name: "Gigaset P UA", Req: vendors.Request{UserAgent: "Gigaset P820 IP PRO/10.1.33.33;000413E51234"}, Want: notMine},
	{Name: "Gigaset Nx70 UA", Req: vendors.Request{UserAgent: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80123456"}, Want: notMine},
	{Name: "Yealink UA", Req: vendors.Request{UserAgent: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33"}, Want: notMine},
	{Name: "Gigaset file", Req: vendors.Request{Path: "GigasetP820.htm"}, Want: notMine},
	{Name: "Yealink boot file", Req: vendors.Request{Path: "805ec0112233.boot"}, Want: notMine},
	{Name: "empty", Req: vendors.Request{}, Want: notMine},
	// DHCP lease requests: option 60 is snom<model> (snom.md §7, dhcp.md §3).
	{Name: "DHCP snomD785", Req: dhcp("000413123456", "snomD785"),
		Want: id("D785", "000413123456", "", vendors.FileUnknown)},
	{Name: "DHCP any case", Req: dhcp("000413123456", "SNOMd785"),
		Want: id("D785", "000413123456", "", vendors.FileUnknown)},
	{Name: "DHCP snom715", Req: dhcp("000413123458", "snom715"),
		Want: id("D715", "000413123458", "", vendors.FileUnknown)},
	{Name: "DHCP snomD120", Req: dhcp("00087b123459", "snomD120"),
		Want: id("D120", "00087b123459", "", vendors.FileUnknown)},
	{Name: "DHCP snomD717 renewing", Req: vendors.Request{MAC: "000413123457", VendorClass: "snomD717", RemoteAddr: "192.0.2.57", Transport: "dhcp"},
		Want: id("D717", "000413123457", "", vendors.FileUnknown)},
	{Name: "DHCP unsupported model as reported", Req: dhcp("000413123456", "snomD999"),
		Want: id("D999", "000413123456", "", vendors.FileUnknown)},
	{Name: "DHCP DECT base: the OUI only", Req: dhcp("000413b60680", "snomM700"),
		Want: id("", "000413b60680", "", vendors.FileUnknown)},
	{Name: "DHCP vendor word only", Req: dhcp("000413123456", "snom"),
		Want: id("", "000413123456", "", vendors.FileUnknown)},
	{Name: "DHCP no class", Req: dhcp("000413123456", ""),
		Want: id("", "000413123456", "", vendors.FileUnknown)},
	{Name: "DHCP class without MAC", Req: vendors.Request{VendorClass: "snomD785"},
		Want: id("D785", "", "", vendors.FileUnknown)},
	{Name: "DHCP Gigaset class on a Snom MAC", Req: dhcp("000413123456", "Gigaset_N720_DM_PRO"),
		Want: id("", "000413123456", "", vendors.FileUnknown)},
	{Name: "DHCP snom class, Gigaset P MAC", Req: dhcp("000413e51234", "snomD785"), Want: notMine},
	{Name: "DHCP snom class, Yealink MAC", Req: dhcp("805ec0aabb01", "snomD785"), Want: notMine},
	{Name: "DHCP snom class, laptop MAC", Req: dhcp("3c22fb112233", "snomD785"), Want: notMine},
}

var gigasetSamples = []vendortest.Sample{
	{Name: "P820 Gigaset-style UA", Req: vendors.Request{UserAgent: "Gigaset P820 IP PRO/10.1.33.33;000413E51234"},
		Want: gid("P820", "000413e51234", "10.1.33.33", vendors.FileUnknown)},
	{Name: "P855 Snom-style UA", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; GigasetP855-SIP 10.1.54.13 2010.12-00004-g9ba52f5 00ACDCE3AABB UXM:0)", Path: "GigasetP855-00ACDCE3AABB.htm"},
		Want: gid("P855", "00acdce3aabb", "10.1.54.13", vendors.FileCommon)},
	{Name: "P710 lower-case, no MAC", Req: vendors.Request{UserAgent: "gigaset p710 ip pro/10.1.2.3", Path: "000413E7AABB.xml"},
		Want: gid("P710", "000413e7aabb", "10.1.2.3", vendors.FileDevice)},
	{Name: "P82x family file", Req: vendors.Request{Path: "GigasetP82x.htm"},
		Want: gid("P82x", "", "", vendors.FileCommon)},
	{Name: "general file", Req: vendors.Request{Path: "gigasetp820.htm"},
		Want: gid("P820", "", "", vendors.FileCommon)},
	{Name: "firmware file", Req: vendors.Request{Path: "GigasetP850-firmware.htm"},
		Want: gid("P850", "", "", vendors.FileCommon)},
	{Name: "device file", Req: vendors.Request{Path: "00acdce4aabb.xml"},
		Want: gid("", "00acdce4aabb", "", vendors.FileDevice)},
	{Name: "OUI sub-range 00041380", Req: vendors.Request{MAC: "000413809d01"},
		Want: gid("", "000413809d01", "", vendors.FileUnknown)},
	{Name: "OUI sub-range 000413d8", Req: vendors.Request{MAC: "000413d85001"},
		Want: gid("", "000413d85001", "", vendors.FileUnknown)},
	{Name: "outside sub-range 000413d8", Req: vendors.Request{MAC: "000413d85081"}, Want: notMine},
	{Name: "snom OUI", Req: vendors.Request{MAC: "000413aabbcc"}, Want: notMine},
	{Name: "Snom UA", Req: vendors.Request{UserAgent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)"}, Want: notMine},
	{Name: "Nx70 UA", Req: vendors.Request{UserAgent: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80123456"}, Want: notMine},
	{Name: "N610 UA", Req: vendors.Request{UserAgent: "Gigaset N610 IP PRO/83.V2.64.0-160-g758db0bf;589EC67C2479;Handset=20"}, Want: notMine},
	{Name: "N510 UA", Req: vendors.Request{UserAgent: "N510 IP PRO/42.245.00.000.000;7C2F804DF9A9"}, Want: notMine},
	{Name: "Maxwell UA", Req: vendors.Request{UserAgent: "Gigaset Maxwell 3 2.41.0 7C:2F:80:AA:BB:D8"}, Want: notMine},
	{Name: "Nx70 MAC", Req: vendors.Request{MAC: "7c2f80aabbcc"}, Want: notMine},
	{Name: "snom file", Req: vendors.Request{Path: "snomD785.htm"}, Want: notMine},
	{Name: "Nx70 provisioning.xml", Req: vendors.Request{Path: "provisioning.xml"}, Want: notMine},
	// DHCP lease requests. No P-series option-60 value is documented
	// (gigaset.md §7): "Gigaset" with a P model is accepted.
	{Name: "DHCP OUI only", Req: dhcp("000413e51234", ""),
		Want: gid("", "000413e51234", "", vendors.FileUnknown)},
	{Name: "DHCP GigasetP820", Req: dhcp("000413e51234", "GigasetP820"),
		Want: gid("P820", "000413e51234", "", vendors.FileUnknown)},
	{Name: "DHCP Gigaset_P855_IP_PRO", Req: dhcp("00acdce3aabb", "Gigaset_P855_IP_PRO"),
		Want: gid("P855", "00acdce3aabb", "", vendors.FileUnknown)},
	{Name: "DHCP P-family as reported", Req: dhcp("000413e51234", "Gigaset P82x"),
		Want: gid("P82x", "000413e51234", "", vendors.FileUnknown)},
	{Name: "DHCP snom class on a P MAC", Req: dhcp("000413e51234", "snomD785"), // the OUI decides
		Want: gid("", "000413e51234", "", vendors.FileUnknown)},
	{Name: "DHCP Nx70 class on a P MAC", Req: dhcp("000413e51234", "Gigaset_N720_DM_PRO"),
		Want: gid("", "000413e51234", "", vendors.FileUnknown)},
	{Name: "DHCP P class without MAC", Req: vendors.Request{VendorClass: "GigasetP820"},
		Want: gid("P820", "", "", vendors.FileUnknown)},
	{Name: "DHCP P class, Nx70 MAC", Req: dhcp("7c2f80aabbcc", "GigasetP820"), Want: notMine},
	{Name: "DHCP P class, Snom MAC", Req: dhcp("000413aabbcc", "GigasetP820"), Want: notMine},
	{Name: "DHCP Nx70 class without MAC", Req: vendors.Request{VendorClass: "Gigaset_N720_DM_PRO"}, Want: notMine},
}

// dhcp is a lease request as the sniffer hands it to the core.
func dhcp(mac, class string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: class, Transport: "dhcp"}
}

func TestSnomConformance(t *testing.T) {
	vendortest.TestVendor(t, newSnom(), snomSamples)
}

func TestGigasetPConformance(t *testing.T) {
	vendortest.TestVendor(t, newGigaset(), gigasetSamples)
}

func model(t *testing.T, d *Driver, name string) vendors.Model {
	t.Helper()
	for _, m := range d.Models() {
		if m.Matches(name) {
			return m
		}
	}
	t.Fatalf("no model %s", name)
	return vendors.Model{}
}

func render(t *testing.T, d *Driver, name string, dev *vendors.Device) string {
	t.Helper()
	f, err := d.Render(name, dev)
	if err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	if f.ContentType != ContentType {
		t.Errorf("content type %q", f.ContentType)
	}
	if err := vendortest.WellFormed(f.Body); err != nil {
		t.Errorf("%s not well-formed: %v\n%s", name, err, f.Body)
	}
	return string(f.Body)
}

// Golden files per family: review them against snom.md §3 and §4.
// TestGoldenCredential pins the per-device file of a device that is given
// its provisioning credential (testdata/<vendor>-<model>-credential/): a
// Snom's with secrets carries http_client_user/http_client_pass, without
// secrets neither element at all; a Gigaset P-series (no documented
// setting: unsupported) never carries them.
func TestGoldenCredential(t *testing.T) {
	for _, c := range []struct {
		d      *Driver
		model  string
		offers bool
	}{{newSnom(), "D785", true}, {newGigaset(), "P820", false}} {
		m := model(t, c.d, c.model)
		dev := vendortest.SampleDevice(m)
		dev.ProvisionUser, dev.ProvisionPassword = dev.MAC, vendortest.ProvSecret
		dev.PnPOff = true // the core sets it with the secrets and after them
		name := c.d.Files(dev)[0]
		dir := c.d.name + "-" + m.Name + "-credential/"
		with := render(t, c.d, name, dev)
		vendortest.Golden(t, dir+name, []byte(with))
		for _, want := range []string{`<http_client_user perm="R">` + dev.MAC + `</http_client_user>`,
			`<http_client_pass perm="R">` + vendortest.ProvSecret + `</http_client_pass>`} {
			if strings.Contains(with, want) != c.offers {
				t.Errorf("%s with secrets: %q present=%v, want %v", m.Name, want, !c.offers, c.offers)
			}
		}
		nd := *dev
		nd.WithSecrets = false
		without := render(t, c.d, name, &nd)
		vendortest.Golden(t, dir+"nosecrets-"+name, []byte(without))
		for _, absent := range []string{"http_client_user", "http_client_pass", vendortest.ProvSecret} {
			if strings.Contains(without, absent) {
				t.Errorf("%s without secrets: %q present", m.Name, absent)
			}
		}
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		d     *Driver
		model string
		fw    bool
	}{
		{newSnom(), "D120", false}, {newSnom(), "D315", false}, {newSnom(), "D785", true},
		{newSnom(), "D715", false}, {newSnom(), "D865", false}, {newGigaset(), "P820", true},
	}
	for _, c := range cases {
		m := model(t, c.d, c.model)
		dev := vendortest.SampleDevice(m)
		if c.fw {
			dev.FirmwareURL = "http://prov.example.com:8080/fw/" + c.d.prefix + m.Name + "-10.1.215.13-SIP-r.bin"
		}
		for _, name := range c.d.Files(dev) {
			vendortest.Golden(t, c.d.name+"-"+m.Name+"/"+name, []byte(render(t, c.d, name, dev)))
		}
	}
}

func TestFilesNames(t *testing.T) {
	d := newSnom()
	dev := vendortest.SampleDevice(model(t, d, "D715"))
	got := strings.Join(d.Files(dev), " ")
	want := "0015651A2B3C.xml snom715.htm snom715-0015651A2B3C.htm"
	if got != want {
		t.Errorf("Files = %q, want %q", got, want)
	}
	g := newGigaset()
	dev = vendortest.SampleDevice(model(t, g, "P820"))
	dev.FirmwareURL = "http://fw.example.com/p820.bin"
	got = strings.Join(g.Files(dev), " ")
	want = "0015651A2B3C.xml GigasetP820.htm GigasetP820-0015651A2B3C.htm GigasetP820-firmware.htm"
	if got != want {
		t.Errorf("Files = %q, want %q", got, want)
	}
	dev.MAC = ""
	if got := strings.Join(g.Files(dev), " "); got != "GigasetP820.htm GigasetP820-firmware.htm" {
		t.Errorf("Files without MAC = %q", got)
	}
}

func TestDeviceFile(t *testing.T) {
	d := newSnom()
	dev := vendortest.SampleDevice(model(t, d, "D785"))
	body := render(t, d, "0015651A2B3C.xml", dev)
	for _, want := range []string{
		`<setting_server perm="R">http://prov.example.com:8080/prov/{mac}.xml</setting_server>`,
		`<user_name idx="1" perm="R">201</user_name>`,
		`<user_pname idx="2" perm="R">auth202</user_pname>`,
		`<user_realname idx="1" perm="R">User 1 &lt;&amp;&gt;</user_realname>`,
		`<user_pass idx="3" perm="R">Sip-S3cret-3</user_pass>`,
		`<user_host idx="1" perm="R">pbx.example.com:5060</user_host>`,
		`<user_outbound idx="1" perm="R">sbc.example.com:5061;transport=udp</user_outbound>`,
		`<user_active idx="4" perm="R">off</user_active>`,
		`<user_active idx="12" perm="R">off</user_active>`,
		`<http_user perm="R">admin</http_user>`,
		`<http_pass perm="R">Web-S3cret-Pw</http_pass>`,
		`<admin_mode_password perm="R">48151623</admin_mode_password>`,
		`<timezone perm="R">GER+1</timezone>`,
		`<language perm="R">Deutsch</language>`,
		`<web_language perm="R">English</web_language>`,
		`<tone_scheme perm="R">GER</tone_scheme>`,
		`<ntp_server perm="R">ntp.example.com</ntp_server>`,
		`<dkey_directory perm="R">url http://prov.example.com:8080/prov/directory/snom.xml</dkey_directory>`,
		`<fkey idx="0" context="1" label="" perm="R">line</fkey>`,
		`<fkey idx="23" context="active" label="" perm="R">none</fkey>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("device file lacks %s", want)
		}
	}
	// Every D7C position of the D785's four modules is cleared: 24 + 4*18.
	if !strings.Contains(body, `<fkey idx="95" context="active" label="" perm="R">none</fkey>`) {
		t.Errorf("device file does not clear the last module key")
	}
	for _, bad := range []string{"user_active idx=\"13\"", "fkey idx=\"96\"", "firmware", "update_policy"} {
		if strings.Contains(body, bad) {
			t.Errorf("device file has %s", bad)
		}
	}
}

func TestSecretsLeftOut(t *testing.T) {
	for _, d := range []*Driver{newSnom(), newGigaset()} {
		m := d.Models()[len(d.Models())-1]
		dev := vendortest.SampleDevice(m)
		dev.WithSecrets = false
		body := render(t, d, d.Files(dev)[0], dev)
		for _, tag := range []string{"<user_pass", "<http_pass", "<admin_mode_password"} {
			if strings.Contains(body, tag) {
				t.Errorf("%s %s without secrets has %s", d.name, m.Name, tag)
			}
		}
		// The rest of the account stays.
		if !strings.Contains(body, `<user_name idx="1" perm="R">201</user_name>`) || !strings.Contains(body, "<http_user") {
			t.Errorf("%s: non-secret settings missing without secrets:\n%s", d.name, body)
		}
	}
}

func TestCommonFilesCarryNoAccounts(t *testing.T) {
	d := newSnom()
	m := model(t, d, "D785")
	full := vendortest.SampleDevice(m)
	full.FirmwareURL = "http://fw.example.com/snomD785.bin"
	common := &vendors.Device{Vendor: "snom", Model: "D785", Settings: full.Settings, Zone: full.Zone,
		ProvisionURL: full.ProvisionURL, FirmwareURL: full.FirmwareURL}
	for _, name := range []string{"snomD785.htm", "snomD785-firmware.htm", "snomD785-0015651A2B3C.htm"} {
		a := render(t, d, name, full)
		b := render(t, d, name, common)
		if a != b {
			t.Errorf("%s differs between a full device and a common-file device:\n%s\n---\n%s", name, a, b)
		}
		for _, bad := range []string{"user_", "fkey", "http_", "admin_mode", "dkey_directory"} {
			if strings.Contains(a, bad) {
				t.Errorf("%s contains %s", name, bad)
			}
		}
	}
	gen := render(t, d, "snomD785.htm", common)
	for _, want := range []string{"<timezone perm=\"R\">GER+1</timezone>",
		`<firmware perm="R">http://fw.example.com/snomD785.bin</firmware>`,
		`<update_policy perm="R">auto_update</update_policy>`} {
		if !strings.Contains(gen, want) {
			t.Errorf("general file lacks %s:\n%s", want, gen)
		}
	}
	idx := render(t, d, "snomd785-0015651a2b3c.htm", common)
	if !strings.Contains(idx, `<file url="http://prov.example.com:8080/prov/0015651A2B3C.xml"/>`) {
		t.Errorf("container lacks the device file link:\n%s", idx)
	}
	fw := render(t, d, "snomD785-firmware.htm", common)
	if !strings.Contains(fw, `<firmware perm="R">http://fw.example.com/snomD785.bin</firmware>`) {
		t.Errorf("firmware file:\n%s", fw)
	}
}

func TestRenderNotFound(t *testing.T) {
	d := newSnom()
	dev := vendortest.SampleDevice(model(t, d, "D785"))
	common := &vendors.Device{Vendor: "snom", Model: "D785", Settings: dev.Settings, Zone: dev.Zone, ProvisionURL: dev.ProvisionURL}
	for _, c := range []struct {
		name string
		dev  *vendors.Device
	}{
		{"snomD785-firmware.htm", dev},    // no firmware URL
		{"snomD120.htm", dev},             // another model
		{"0015651A2B3C.xml", common},      // device file without a MAC
		{"001565FFFFFF.xml", dev},         // another phone's file
		{"y000000000000.cfg", dev},        // not ours
		{"GigasetP820.htm", dev},          // the other driver's
		{"snomD785-123.htm", dev},         // bad MAC
		{"../snomD785.htm/../x.txt", dev}, // not a settings file
	} {
		_, err := d.Render(c.name, c.dev)
		if !errors.Is(err, vendors.ErrNotFound) {
			t.Errorf("Render(%q) error = %v, want ErrNotFound", c.name, err)
		}
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	d := New(templates.MustLoad("snom"))
	dev := vendortest.SampleDevice(model(t, d, "D785"))
	dev.Model = "nope"
	_, err := d.Render("0015651A2B3C.xml", dev)
	if err == nil || strings.Contains(err.Error(), vendortest.SIPSecret) || strings.Contains(err.Error(), vendortest.WebSecret) {
		t.Errorf("error %v", err)
	}
}

func TestKeys(t *testing.T) {
	d := newSnom()
	m := model(t, d, "D785")
	dev := vendortest.SampleDevice(m)
	dev.Keys = []vendors.Key{
		{Position: 1, Type: vendors.KeyLine, Line: 2, Label: "Line 2"},
		{Position: 2, Type: vendors.KeyBLF, Value: "202", Label: "Bob"},
		{Position: 3, Type: vendors.KeyBLF, Value: "203", PickupCode: "*8", Line: 1, Label: "Eve & Co"},
		{Position: 4, Type: vendors.KeySpeedDial, Value: "+4930123"},
		{Position: 5, Type: vendors.KeyIntercom, Value: "204"},
		{Position: 6, Type: vendors.KeyDTMF, Value: "*1"},
		{Position: 7, Type: vendors.KeyURL, Value: "http://x.example/a?b=1&c=2"},
		{Position: 8, Type: vendors.KeyPark, Value: "701"},
		{Position: 9, Type: vendors.KeyPark},
		{Position: 10, Type: vendors.KeyPickup},
		{Position: 11, Type: vendors.KeyPickup, Value: "*8"},
		{Position: 12, Type: vendors.KeyDND},
		{Position: 13, Type: vendors.KeyForward},
		{Position: 14, Type: vendors.KeyForward, Value: "300"},
		{Position: 15, Type: vendors.KeyVoicemail},
		{Position: 16, Type: vendors.KeyVoicemail, Value: "*97"},
		{Position: 17, Type: vendors.KeyNone},
		{Position: 1, Module: 1, Type: vendors.KeyBLF, Value: "210", Label: "M1"},
		{Position: 18, Module: 2, Type: vendors.KeySpeedDial, Value: "299"},
	}
	if errs := vendors.ValidateKeys(m, dev.Keys, len(dev.Lines)); len(errs) > 0 {
		t.Fatalf("test keys invalid: %v", errs)
	}
	body := render(t, d, "0015651A2B3C.xml", dev)
	for _, want := range []string{
		`<fkey idx="0" context="2" label="Line 2" perm="R">line</fkey>`,
		`<fkey idx="1" context="active" label="Bob" perm="R">blf 202</fkey>`,
		`<fkey idx="2" context="1" label="Eve &amp; Co" perm="R">blf 203|*8</fkey>`,
		`<fkey idx="3" context="active" label="" perm="R">speed +4930123</fkey>`,
		`<fkey idx="4" context="active" label="" perm="R">icom 204</fkey>`,
		`<fkey idx="5" context="active" label="" perm="R">dtmf *1</fkey>`,
		`<fkey idx="6" context="active" label="" perm="R">url http://x.example/a?b=1&amp;c=2</fkey>`,
		`<fkey idx="7" context="active" label="" perm="R">orbit 701</fkey>`,
		`<fkey idx="8" context="active" label="" perm="R">keyevent F_PARK</fkey>`,
		`<fkey idx="9" context="active" label="" perm="R">keyevent F_PICKUP</fkey>`,
		`<fkey idx="10" context="active" label="" perm="R">speed *8</fkey>`,
		`<fkey idx="11" context="active" label="" perm="R">keyevent F_DND</fkey>`,
		`<fkey idx="12" context="active" label="" perm="R">keyevent F_REDIRECT</fkey>`,
		`<fkey idx="13" context="active" label="" perm="R">redirect 300</fkey>`,
		`<fkey idx="14" context="active" label="" perm="R">keyevent F_RETRIEVE</fkey>`,
		`<fkey idx="15" context="active" label="" perm="R">speed *97</fkey>`,
		`<fkey idx="16" context="active" label="" perm="R">none</fkey>`,
		// module 1 key 1 -> 24 + 0; module 2 key 18 -> 24 + 18 + 17 = 59
		`<fkey idx="24" context="active" label="M1" perm="R">blf 210</fkey>`,
		`<fkey idx="59" context="active" label="" perm="R">speed 299</fkey>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("keys lack %s", want)
		}
	}
	if n := strings.Count(body, "<fkey "); n != 24+4*18 {
		t.Errorf("%d fkeys, want %d (phone + every position of the four modules)", n, 24+4*18)
	}
}

// TestPickupKeys: a pickup key dials the PBX's pickup code before the
// extension; "speed <ext>" alone would call the colleague instead of
// taking the call. Without a code the key is a BLF on the extension (the
// phone's own pickup of a ringing call), a value that is a feature code
// is dialled as is, and a code alone is the group pickup.
func TestPickupKeys(t *testing.T) {
	d := newSnom()
	m := model(t, d, "D785")
	dev := vendortest.SampleDevice(m)
	dev.Keys = []vendors.Key{
		{Position: 1, Type: vendors.KeyPickup, Value: "202", PickupCode: "*8", Label: "Bob"},
		{Position: 2, Type: vendors.KeyPickup, Value: "203"},
		{Position: 3, Type: vendors.KeyPickup, Value: "**204"},
		{Position: 4, Type: vendors.KeyPickup, PickupCode: "*8"},
		{Position: 5, Type: vendors.KeyPickup},
	}
	if errs := vendors.ValidateKeys(m, dev.Keys, len(dev.Lines)); len(errs) > 0 {
		t.Fatalf("test keys invalid: %v", errs)
	}
	body := render(t, d, "0015651A2B3C.xml", dev)
	for _, want := range []string{
		`<fkey idx="0" context="active" label="Bob" perm="R">speed *8202</fkey>`,
		`<fkey idx="1" context="active" label="" perm="R">blf 203</fkey>`,
		`<fkey idx="2" context="active" label="" perm="R">speed **204</fkey>`,
		`<fkey idx="3" context="active" label="" perm="R">speed *8</fkey>`,
		`<fkey idx="4" context="active" label="" perm="R">keyevent F_PICKUP</fkey>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("keys lack %s", want)
		}
	}
}

func TestD8xxModuleKeys(t *testing.T) {
	d := newSnom()
	m := model(t, d, "D865")
	dev := vendortest.SampleDevice(m)
	dev.Keys = append(dev.Keys, vendors.Key{Module: 3, Position: 60, Type: vendors.KeyBLF, Value: "299"})
	if errs := vendors.ValidateKeys(m, dev.Keys, len(dev.Lines)); len(errs) > 0 {
		t.Fatalf("invalid: %v", errs)
	}
	body := render(t, d, "0015651A2B3C.xml", dev)
	want := `<fkey idx="215" context="active" label="" perm="R">blf 299</fkey>` // 36 + 2*60 + 59
	if !strings.Contains(body, want) {
		t.Errorf("lacks %s", want)
	}
}

func TestCapabilities(t *testing.T) {
	d := newSnom()
	cases := []struct {
		name        string
		keys, mkeys int
		max         int
	}{
		{"D120", 2, 0, 0}, {"D140", 2, 18, 3}, {"D385", 48, 18, 3}, {"D717", 3, 18, 3},
		{"D785", 24, 18, 4}, {"D810", 4, 60, 3}, {"D892", 36, 60, 3},
	}
	for _, c := range cases {
		m := model(t, d, c.name)
		mk, mx := 0, 0
		if len(m.Modules) > 0 {
			mk, mx = m.Modules[0].Keys, m.Modules[0].Max
		}
		if m.Keys != c.keys || mk != c.mkeys || mx != c.max {
			t.Errorf("%s: keys %d module %dx%d, want %d %dx%d", c.name, m.Keys, mk, mx, c.keys, c.mkeys, c.max)
		}
	}
	if m := model(t, d, "D785"); m.Lines != 12 {
		t.Errorf("D785 lines = %d", m.Lines)
	}
	g := newGigaset()
	if m := model(t, g, "P855"); m.Vendor != "gigaset" || m.Keys != 36 || m.Modules[0].Keys != 60 {
		t.Errorf("P855 = %+v", m)
	}
	for _, alias := range []string{"snomD785", "D785", "785", "snom715", "715"} {
		found := false
		for _, m := range d.Models() {
			if m.Matches(alias) {
				found = true
			}
		}
		if !found {
			t.Errorf("no model matches %q", alias)
		}
	}
	// Aliases never name two models.
	for _, drv := range []*Driver{d, g} {
		seen := map[string]string{}
		for _, m := range drv.Models() {
			for _, a := range append([]string{m.Name}, m.Aliases...) {
				k := strings.ToLower(a)
				if other, dup := seen[k]; dup && other != m.Name {
					t.Errorf("alias %q names %s and %s", a, other, m.Name)
				}
				seen[k] = m.Name
			}
		}
	}
}

func TestTimezone(t *testing.T) {
	cases := map[string]string{
		"Europe/Berlin": "GER+1", "Europe/London": "GBR-0", "America/New_York": "USA-5",
		"America/Phoenix": "USA2-7", "Australia/Sydney": "AUS+10", "Australia/Brisbane": "AUS2+10",
		"Europe/Zurich": "CHE+1", "Europe/Istanbul": "EAT+3", // by offset: +3 without DST
		"Africa/Lagos": "WAT+1", "Europe/Andorra": "GER+1", "Asia/Kathmandu": "IND+5.5",
		"Pacific/Kiritimati": "TON+13", "UTC": "GBR-0",
	}
	for name, want := range cases {
		z, err := vendors.ResolveZone(name, 2026)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := snomTimezone(z); got != want {
			t.Errorf("snomTimezone(%s) = %q, want %q", name, got, want)
		}
	}
	if got := snomTimezone(vendors.Zone{}); got != "" {
		t.Errorf("unresolved zone gives %q", got)
	}
}

func TestLanguagesAndTones(t *testing.T) {
	for code := range vendors.Languages {
		if _, ok := languages[code]; !ok {
			t.Errorf("language %s not mapped", code)
		}
	}
	for cc := range vendors.ToneSchemes {
		if _, ok := toneSchemes[cc]; !ok {
			t.Errorf("tone scheme %s not mapped", cc)
		}
	}
	if snomLanguage("xx") != "English" || snomLanguage("") != "" || snomLanguage("fr") != "Français" {
		t.Error("language fallback")
	}
	if snomToneScheme("CH") != "SWI" || snomToneScheme("ZZ") != "USA" || snomToneScheme("") != "" {
		t.Error("tone scheme mapping")
	}
	d := newSnom()
	dev := vendortest.SampleDevice(model(t, d, "D315"))
	dev.Settings.Language, dev.Settings.WebLanguage, dev.Settings.ToneScheme = "", "", ""
	body := render(t, d, "snomD315.htm", dev)
	for _, tag := range []string{"<language", "<web_language", "<tone_scheme"} {
		if strings.Contains(body, tag) {
			t.Errorf("unset %s rendered", tag)
		}
	}
}

func TestTransportAndProxy(t *testing.T) {
	d := newSnom()
	dev := vendortest.SampleDevice(model(t, d, "D315"))
	dev.Settings.SIPTransport, dev.Settings.OutboundProxy = "tls", ""
	body := render(t, d, "0015651A2B3C.xml", dev)
	if !strings.Contains(body, `<user_outbound idx="1" perm="R">pbx.example.com:5060;transport=tls</user_outbound>`) {
		t.Errorf("outbound without proxy:\n%s", body)
	}
	dev.Settings.OutboundProxy = "sbc.example.com"
	body = render(t, d, "0015651A2B3C.xml", dev)
	if !strings.Contains(body, `<user_outbound idx="1" perm="R">sbc.example.com;transport=tls</user_outbound>`) {
		t.Errorf("outbound proxy without port:\n%s", body)
	}
}

func TestDirectory(t *testing.T) {
	for _, d := range []*Driver{newSnom(), newGigaset()} {
		var r vendors.DirectoryRenderer = d
		f, err := r.RenderDirectory([]vendors.DirectoryEntry{{Name: "Alice <A&B>", Extension: "201"}, {Name: "Bob", Extension: "202"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := vendortest.WellFormed(f.Body); err != nil {
			t.Fatalf("directory not well-formed: %v", err)
		}
		if f.ContentType != ContentType {
			t.Errorf("content type %q", f.ContentType)
		}
		for _, want := range []string{"<SnomIPPhoneDirectory>", "<Name>Alice &lt;A&amp;B&gt;</Name>", "<Telephone>202</Telephone>"} {
			if !bytes.Contains(f.Body, []byte(want)) {
				t.Errorf("directory lacks %s:\n%s", want, f.Body)
			}
		}
		vendortest.Golden(t, d.name+"-directory.xml", f.Body)
		if _, err := r.RenderDirectory(nil); err != nil {
			t.Errorf("empty directory: %v", err)
		}
	}
}

func TestRegistryPicksTheRightDriver(t *testing.T) {
	reg := vendors.NewRegistry(newSnom(), newGigaset())
	cases := []struct {
		req    vendors.Request
		vendor string
	}{
		{vendors.Request{Path: "000413AABBCC.xml"}, "snom"},
		{vendors.Request{Path: "000413E5AABB.xml"}, "gigaset"},
		{vendors.Request{Path: "00ACDCE4AABB.xml"}, "gigaset"},
		{vendors.Request{Path: "000413E5AABB.xml", UserAgent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 000413E5AABB)"}, "snom"},
		{vendors.Request{Path: "GigasetP820-000413AABBCC.htm"}, "gigaset"},
	}
	for _, c := range cases {
		id, _ := reg.Identify(c.req)
		if id.Vendor != c.vendor {
			t.Errorf("Identify(%+v) = %+v, want vendor %s", c.req, id, c.vendor)
		}
	}
	if _, m, err := reg.Lookup("", "P820"); err != nil || m.Vendor != "gigaset" {
		t.Errorf("Lookup P820 = %+v %v", m, err)
	}
}

func FuzzIdentify(f *testing.F) {
	for _, s := range append(append(append([]vendortest.Sample{}, snomSamples...), gigasetSamples...), dectSamples...) {
		f.Add(s.Req.Path, s.Req.UserAgent, s.Req.MAC, s.Req.VendorClass, s.Req.Hostname)
	}
	drivers := []*Driver{newSnom(), newGigaset(), newDECT()}
	f.Fuzz(func(t *testing.T, path, ua, mac, class, host string) {
		for _, d := range drivers {
			id := d.Identify(vendors.Request{Path: path, UserAgent: ua, MAC: mac, VendorClass: class, Hostname: host})
			if id.Score == 0 {
				if id != (vendors.Identity{}) {
					t.Fatalf("score 0 with identity %+v", id)
				}
				continue
			}
			if id.Vendor != d.name {
				t.Fatalf("vendor %q", id.Vendor)
			}
			if id.MAC != "" {
				if _, err := vendors.ParseMAC(id.MAC); err != nil || id.MAC != strings.ToLower(id.MAC) {
					t.Fatalf("bad MAC %q", id.MAC)
				}
			}
		}
	})
}

func TestVendorClassScores(t *testing.T) {
	for _, c := range []struct {
		d    *Driver
		req  vendors.Request
		want int
	}{
		{newSnom(), dhcp("000413123456", "snomD785"), vendors.ScoreOUI + vendors.ScoreVendorClass},
		{newSnom(), dhcp("000413123456", "snom"), vendors.ScoreOUI + vendors.ScoreVendorClass},
		{newSnom(), dhcp("000413123456", "MSFT 5.0"), vendors.ScoreOUI},
		{newSnom(), vendors.Request{VendorClass: "snomD785"}, vendors.ScoreVendorClass},
		{newSnom(), dhcp("000413e51234", "snomD785"), 0},
		{newGigaset(), dhcp("000413e51234", "GigasetP820"), vendors.ScoreOUI + vendors.ScoreVendorClass},
		{newGigaset(), dhcp("000413e51234", "snomD785"), vendors.ScoreOUI},
	} {
		if got := c.d.Identify(c.req).Score; got != c.want {
			t.Errorf("%s: Identify(%+v).Score = %d, want %d", c.d.name, c.req, got, c.want)
		}
	}
}

// TestPnPOff: pnp_config off and PnP out of provisioning_order only in the
// per-device file of an adopted device (Snom); the P-series
// documents no pnp_config, so only its order changes.
func TestPnPOff(t *testing.T) {
	for _, c := range []struct {
		d                 *Driver
		model             string
		orderOn, orderOff string
		config            bool
	}{
		{newSnom(), "D785", "pnp:stop dhcp:stop", "dhcp:stop", true},
		{newGigaset(), "P820", "pnp:stop dhcp114:stop dhcp:stop", "dhcp114:stop dhcp:stop", false},
	} {
		dev := vendortest.SampleDevice(model(t, c.d, c.model))
		order := func(s string) string { return `<provisioning_order perm="R">` + s + `</provisioning_order>` }
		for _, name := range c.d.Files(dev) {
			body := render(t, c.d, name, dev)
			if strings.Contains(body, "pnp_config") || strings.Contains(body, "<provisioning_order") && !strings.Contains(body, order(c.orderOn)) {
				t.Errorf("%s %s without PnPOff:\n%s", c.model, name, body)
			}
		}
		dev.PnPOff = true
		body := render(t, c.d, c.d.Files(dev)[0], dev)
		if !strings.Contains(body, order(c.orderOff)) || strings.Contains(body, `<pnp_config perm="R">off</pnp_config>`) != c.config {
			t.Errorf("%s with PnPOff:\n%s", c.model, body)
		}
	}
}

// TestResync: check-sync with reboot=false or reboot=true, Snom and P-series.
func TestResync(t *testing.T) {
	for _, d := range []*Driver{newSnom(), newGigaset()} {
		dev := vendortest.SampleDevice(d.Models()[0])
		for reboot, ev := range map[bool]string{false: "check-sync;reboot=false", true: "check-sync;reboot=true"} {
			reqs, err := d.Resync(dev, reboot)
			if err != nil || len(reqs) != 1 || reqs[0].Method != "NOTIFY" || reqs[0].Event != ev {
				t.Errorf("%s Resync(reboot=%v) = %+v, %v", d.name, reboot, reqs, err)
			}
		}
	}
}
