package yealink

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/templates"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

func newDriver(t testing.TB) *Driver {
	t.Helper()
	return New(templates.MustLoad("yealink"))
}

// id is a shorthand for an expected identity; Score 1 means "recognised".
func id(model, mac, fw string, kind vendors.FileKind) vendors.Identity {
	return vendors.Identity{Vendor: Name, Model: model, MAC: mac, Firmware: fw, Kind: kind, Score: 1}
}

func ua(s string) vendors.Request   { return vendors.Request{UserAgent: s, Transport: "http"} }
func path(p string) vendors.Request { return vendors.Request{Path: p, Transport: "tftp"} }

// dhcp is a lease request as the sniffer hands it to the core.
func dhcp(mac, class, host string) vendors.Request {
	return vendors.Request{MAC: mac, VendorClass: class, Hostname: host, Transport: "dhcp"}
}

// samples: every real User-Agent of reference §2, the PnP SIP UA, file
// names in both MAC cases, and other vendors' requests (score 0).
var samples = []vendortest.Sample{
	// 1-9: reference §2, in order.
	{Name: "T46G", Req: ua("Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37"),
		Want: id("T46G", "0015654aa937", "28.72.0.1", vendors.FileUnknown)},
	{Name: "T21P_E2", Req: ua("Yealink SIP-T21P_E2 52.80.0.3 00:15:65:4c:4c:26"),
		Want: id("T21P_E2", "0015654c4c26", "52.80.0.3", vendors.FileUnknown)},
	{Name: "T31G", Req: ua("Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72"),
		Want: id("T31G", "805ec0d57d72", "124.85.257.55", vendors.FileUnknown)},
	{Name: "T34W", Req: ua("Yealink SIP-T34W 124.86.0.75 24:9a:d8:88:d0:f4"),
		Want: id("T34W", "249ad888d0f4", "124.86.0.75", vendors.FileUnknown)},
	{Name: "VP-T49G", Req: ua("Yealink SIP VP-T49G 51.80.0.10 00:15:65:9b:5a:44"),
		Want: id("T49G", "0015659b5a44", "51.80.0.10", vendors.FileUnknown)},
	{Name: "lowercase-vendor", Req: ua("yealink SIP-T28P 2.70.0.140 00:15:65:13:ae:0b"),
		Want: id("T28P", "00156513ae0b", "2.70.0.140", vendors.FileUnknown)},
	{Name: "W52P", Req: ua("Yealink W52P 25.80.0.15 00:15:65:b8:60:05"),
		Want: id("W52P", "001565b86005", "25.80.0.15", vendors.FileUnknown)},
	{Name: "T56A-double-space-bare-mac", Req: ua("Yealink SIP-T56A  58.80.0.25 001565f429a4"),
		Want: id("T56A", "001565f429a4", "58.80.0.25", vendors.FileUnknown)},
	{Name: "glued-vendor-no-mac", Req: ua("Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0"),
		Want: id("T46G", "", "28.71.0.81", vendors.FileUnknown)},
	// 10: the SIP PnP User-Agent (no MAC).
	{Name: "pnp-W52P", Req: vendors.Request{UserAgent: "Yealink W52P 25.81.0.10"},
		Want: id("W52P", "", "25.81.0.10", vendors.FileUnknown)},
	// 11-16: variants the parser must tolerate.
	{Name: "T54W-boot", Req: vendors.Request{Path: "805ec0d57d72.boot", UserAgent: "Yealink SIP-T54W 96.86.0.70 80:5e:c0:d5:7d:72"},
		Want: id("T54W", "805ec0d57d72", "96.86.0.70", vendors.FileCommon)},
	{Name: "no-vendor-word-known-model", Req: ua("SIP-T46S 66.86.0.15 001565aabbcc"),
		Want: id("T46S", "001565aabbcc", "66.86.0.15", vendors.FileUnknown)},
	{Name: "no-vendor-word-yealink-oui", Req: ua("W59R 115.85.0.20 80:5e:c0:11:22:33"),
		Want: id("W59R", "805ec0112233", "115.85.0.20", vendors.FileUnknown)},
	{Name: "tabs-and-upper-mac", Req: ua("YEALINK\tSIP-T48U   108.86.0.90\t24:9A:D8:00:11:22"),
		Want: id("T48U", "249ad8001122", "108.86.0.90", vendors.FileUnknown)},
	{Name: "alias-T58", Req: ua("Yealink SIP-T58 58.86.0.20 001565010203"),
		Want: id("T58A", "001565010203", "58.86.0.20", vendors.FileUnknown)},
	{Name: "vendor-without-version", Req: ua("Yealink W60B"),
		Want: id("W60B", "", "", vendors.FileUnknown)},
	// 17-26: file names.
	{Name: "mac-cfg-lower", Req: path("0015651a2b3c.cfg"),
		Want: id("", "0015651a2b3c", "", vendors.FileDevice)},
	{Name: "mac-cfg-upper", Req: path("0015651A2B3C.cfg"),
		Want: id("", "0015651a2b3c", "", vendors.FileDevice)},
	{Name: "mac-boot-upper", Req: path("0015651A2B3C.BOOT"),
		Want: id("", "0015651a2b3c", "", vendors.FileCommon)},
	{Name: "common-boot", Req: path("y000000000000.boot"),
		Want: id("", "", "", vendors.FileCommon)},
	{Name: "common-boot-mac-from-ua", Req: vendors.Request{Path: "y000000000000.boot", UserAgent: "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"},
		Want: id("T46S", "001565aabbcc", "66.86.0.15", vendors.FileCommon)},
	{Name: "common-cfg-T46S", Req: path("y000000000066.cfg"),
		Want: id("T46S", "", "", vendors.FileCommon)},
	{Name: "common-cfg-shared-id", Req: path("y000000000123.cfg"),
		Want: id("", "", "", vendors.FileCommon)},
	{Name: "common-cfg-unknown-id", Req: path("y000000000999.cfg"),
		Want: id("", "", "", vendors.FileCommon)},
	{Name: "common-cfg-ua-model-wins", Req: vendors.Request{Path: "y000000000108.cfg", UserAgent: "Yealink SIP-T41U 108.86.0.90 24:9a:d8:00:00:01"},
		Want: id("T41U", "249ad8000001", "108.86.0.90", vendors.FileCommon)},
	{Name: "local-cfg-not-served", Req: path("0015651a2b3c-local.cfg"),
		Want: id("", "0015651a2b3c", "", vendors.FileUnknown)},
	// 27-28: MAC out of band with a Yealink OUI only.
	{Name: "oui-only", Req: vendors.Request{Path: "unknown.bin", MAC: "001565aabbcc"},
		Want: id("", "001565aabbcc", "", vendors.FileUnknown)},
	{Name: "slash-prefixed-path", Req: path("/001565AABBCC.cfg"),
		Want: id("", "001565aabbcc", "", vendors.FileDevice)},
	// 29-36: not Yealink.
	{Name: "snom-ua", Req: ua("Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 010.1.73.16 000413A1B2C3)")},
	{Name: "gigaset-ua", Req: ua("Gigaset N720 DM PRO/70.108.00.000.000")},
	{Name: "fanvil-ua", Req: ua("Fanvil X6U 2.12.1.3 0c:38:3e:11:22:33")},
	{Name: "browser-ua", Req: ua("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36")},
	{Name: "snom-file", Req: path("snomD785-000413A1B2C3.htm")},
	{Name: "cisco-file", Req: path("spa504g.cfg")},
	{Name: "bad-mac-file", Req: path("000000000000.cfg")},
	{Name: "empty", Req: vendors.Request{}},
	// 37-47: DHCP lease requests (MAC, option 60, option 12). Yealink's
	// option-60 values are unverified (reference §7): the vendor word
	// alone, with a model, or a model alone all count; the OUI decides
	// the vendor (reference dhcp.md §3).
	{Name: "dhcp-oui-only", Req: dhcp("805ec0aabb02", "", ""),
		Want: id("", "805ec0aabb02", "", vendors.FileUnknown)},
	{Name: "dhcp-vendor-word", Req: dhcp("805ec0aabb01", "yealink", "SIP-T54W"), // the host name is not read
		Want: id("", "805ec0aabb01", "", vendors.FileUnknown)},
	{Name: "dhcp-vendor-and-model", Req: dhcp("001565aabbcc", "yealink SIP-T46S", ""),
		Want: id("T46S", "001565aabbcc", "", vendors.FileUnknown)},
	{Name: "dhcp-glued-upper", Req: dhcp("249ad8001122", "YEALINK-T54W", ""),
		Want: id("T54W", "249ad8001122", "", vendors.FileUnknown)},
	{Name: "dhcp-model-only", Req: dhcp("249ad8001122", "SIP-T54W", ""),
		Want: id("T54W", "249ad8001122", "", vendors.FileUnknown)},
	{Name: "dhcp-unsupported-model", Req: dhcp("001565aabbcc", "yealink SIP-T19P", ""),
		Want: id("T19P", "001565aabbcc", "", vendors.FileUnknown)},
	{Name: "dhcp-class-without-mac", Req: vendors.Request{VendorClass: "yealink SIP-T46S"},
		Want: id("T46S", "", "", vendors.FileUnknown)},
	{Name: "dhcp-snom-class-yealink-mac", Req: dhcp("805ec0aabb01", "snomD785", ""), // the OUI decides
		Want: id("", "805ec0aabb01", "", vendors.FileUnknown)},
	{Name: "dhcp-yealink-class-snom-mac", Req: dhcp("000413aabbcc", "yealink SIP-T46S", "")},
	{Name: "dhcp-laptop", Req: dhcp("3c22fb112233", "MSFT 5.0", "alice-laptop")},
	{Name: "dhcp-other-class-no-mac", Req: vendors.Request{VendorClass: "MSFT 5.0"}},
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
	return vendortest.SampleDevice(m.Model)
}

func mustRender(t *testing.T, d *Driver, name string, dev *vendors.Device) string {
	t.Helper()
	f, err := d.Render(name, dev)
	if err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	if f.ContentType != ContentTypeConfig {
		t.Errorf("%s: content type %q", name, f.ContentType)
	}
	return string(f.Body)
}

// lines returns the "key = value" lines of a body as a map, failing on a
// key set twice.
func lines(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(l, " = ")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		if _, dup := out[k]; dup {
			t.Errorf("key %s set twice", k)
		}
		out[k] = v
	}
	return out
}

// TestGoldenCredential pins the per-device file of a device that is given
// its provisioning credential: with secrets it carries
// static.auto_provision.server.username/.password, without secrets
// neither key at all (testdata/T54W-credential/).
func TestGoldenCredential(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	dev.ProvisionUser, dev.ProvisionPassword = dev.MAC, vendortest.ProvSecret
	dev.PnPOff = true // the core sets it with the secrets and after them
	name := dev.MAC + ".cfg"
	with := mustRender(t, d, name, dev)
	vendortest.Golden(t, "T54W-credential/"+name, []byte(with))
	for _, want := range []string{"static.auto_provision.server.username = " + dev.MAC + "\n",
		"static.auto_provision.server.password = " + vendortest.ProvSecret + "\n"} {
		if !strings.Contains(with, want) {
			t.Errorf("with secrets: %q missing", want)
		}
	}
	nd := *dev
	nd.WithSecrets = false
	without := mustRender(t, d, name, &nd)
	vendortest.Golden(t, "T54W-credential/nosecrets-"+name, []byte(without))
	for _, absent := range []string{"static.auto_provision.server.username", "static.auto_provision.server.password", vendortest.ProvSecret} {
		if strings.Contains(without, absent) {
			t.Errorf("without secrets: %q present", absent)
		}
	}
}

// TestGolden pins one model per family byte for byte: testdata/<model>/.
func TestGolden(t *testing.T) {
	d := newDriver(t)
	for _, model := range []string{"T31G", "T46S", "T46U", "T54W", "T27G", "W70B"} {
		t.Run(model, func(t *testing.T) {
			dev := sampleDevice(t, d, model)
			for _, name := range d.Files(dev) {
				vendortest.Golden(t, model+"/"+name, []byte(mustRender(t, d, name, dev)))
			}
			nd := *dev
			nd.WithSecrets = false
			vendortest.Golden(t, model+"/nosecrets-"+dev.MAC+".cfg", []byte(mustRender(t, d, dev.MAC+".cfg", &nd)))
		})
	}
}

func TestDeviceFileBasics(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T46S")
	body := mustRender(t, d, "0015651a2b3c.cfg", dev)
	if !strings.HasPrefix(body, "#!version:1.0.0.1\n") {
		t.Fatalf("first line is not #!version:1.0.0.1: %q", strings.SplitN(body, "\n", 2)[0])
	}
	kv := lines(t, body)
	want := map[string]string{
		"static.auto_provision.server.url":      "http://prov.example.com:8080/prov/",
		"account.1.enable":                      "1",
		"account.1.label":                       "User 1 <&>",
		"account.1.user_name":                   "201",
		"account.1.auth_name":                   "auth201",
		"account.1.password":                    vendortest.SIPSecret + "1",
		"account.1.display_name":                "User 1 <&>",
		"account.1.sip_server.1.address":        "pbx.example.com",
		"account.1.sip_server.1.port":           "5060",
		"account.1.sip_server.1.transport_type": "0",
		"account.1.outbound_proxy_enable":       "1",
		"account.1.outbound_proxy.1.address":    "sbc.example.com",
		"account.1.outbound_proxy.1.port":       "5061",
		"account.2.outbound_proxy.1.address":    "sbc.example.com",
		"account.3.user_name":                   "203",
		"account.3.password":                    vendortest.SIPSecret + "3",
		"account.4.enable":                      "0",
		"account.16.enable":                     "0",
		"static.security.user_password":         "admin:" + vendortest.WebSecret,
		"phone_setting.phone_lock.unlock_pin":   vendortest.MenuSecret,
		"local_time.ntp_server1":                "ntp.example.com",
		"local_time.time_zone":                  "+1",
		"local_time.summer_time":                "1",
		"lang.gui":                              "German",
		"lang.wui":                              "English",
		"voice.tone.country":                    "Germany",
		"remote_phonebook.data.1.url":           "http://prov.example.com:8080/prov/directory/yealink.xml",
		"remote_phonebook.data.1.name":          "Directory",
		"linekey.1.type":                        "15",
		"linekey.1.line":                        "1",
		"linekey.3.line":                        "3",
		"linekey.4.type":                        "0",
		"linekey.27.type":                       "0",
	}
	for k, v := range want {
		if got := kv[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// No module key, so no module lines (a module key brings every
	// position: TestYealinkRemovedModuleKeyCleared).
	for _, k := range []string{"account.17.enable", "linekey.28.type", "static.firmware.url",
		"expansion_module.1.key.1.type", "expansion_module.6.key.40.type", "expansion_module.7.key.1.type", "expansion_module.1.key.41.type", "expansion_module.1.key.1.value",
		"account.1.outbound_proxy.2.address"} {
		if got, ok := kv[k]; ok {
			t.Errorf("%s = %q: want it absent", k, got)
		}
	}
}

func TestSecretsLeftOut(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	dev.WithSecrets = false
	kv := lines(t, mustRender(t, d, dev.MAC+".cfg", dev))
	for _, k := range []string{"account.1.password", "account.2.password", "static.security.user_password",
		"phone_setting.phone_lock.unlock_pin"} {
		if v, ok := kv[k]; ok {
			t.Errorf("%s present without secrets (%d chars)", k, len(v))
		}
	}
	if kv["account.1.user_name"] != "201" {
		t.Errorf("account.1.user_name = %q: the rest of the account must stay", kv["account.1.user_name"])
	}
	// With secrets but empty passwords: left out too, never an empty value.
	dev.WithSecrets = true
	dev.WebPassword, dev.MenuPassword = "", ""
	dev.Lines[0].Password = ""
	kv = lines(t, mustRender(t, d, dev.MAC+".cfg", dev))
	if _, ok := kv["static.security.user_password"]; ok {
		t.Error("empty web password rendered")
	}
	if _, ok := kv["phone_setting.phone_lock.unlock_pin"]; ok {
		t.Error("empty menu PIN rendered")
	}
}

// TestAcceptanceT54WKeys is the brief's acceptance case.
func TestAcceptanceT54WKeys(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	dev.Keys = []vendors.Key{
		{Position: 1, Type: vendors.KeyLine, Line: 1},
		{Position: 2, Type: vendors.KeyBLF, Value: "202", Label: "Bob", PickupCode: "*8"},
		{Position: 3, Type: vendors.KeySpeedDial, Value: "123", Label: "Voicemail box", Line: 2},
		{Module: 1, Position: 1, Type: vendors.KeyBLF, Value: "204", Label: "Dave"},
		{Module: 2, Position: 60, Type: vendors.KeyPark, Value: "700"},
	}
	m, _ := d.lookup("T54W")
	if errs := vendors.ValidateKeys(m.Model, dev.Keys, len(dev.Lines)); len(errs) > 0 {
		t.Fatalf("ValidateKeys: %v", errs)
	}
	body := mustRender(t, d, dev.MAC+".cfg", dev)
	vendortest.Golden(t, "T54W-keys/"+dev.MAC+".cfg", []byte(body))
	kv := lines(t, body)
	want := map[string]string{
		"linekey.1.type": "15", "linekey.1.line": "1",
		"linekey.2.type": "16", "linekey.2.value": "202", "linekey.2.label": "Bob",
		"linekey.2.line": "1", "linekey.2.extension": "*8",
		"linekey.3.type": "13", "linekey.3.value": "123", "linekey.3.line": "2",
		"linekey.4.type":                 "0",
		"expansion_module.1.key.1.type":  "16",
		"expansion_module.1.key.1.value": "204",
		"expansion_module.1.key.1.label": "Dave",
		"expansion_module.1.key.1.line":  "1",
		"expansion_module.2.key.60.type": "10",
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	if _, ok := kv["linekey.1.extension"]; ok {
		t.Error("linekey.1.extension set without a pickup code")
	}
}

func TestKeyTypeCodes(t *testing.T) {
	want := map[vendors.KeyType]int{vendors.KeyLine: 15, vendors.KeyBLF: 16, vendors.KeySpeedDial: 13,
		vendors.KeyPark: 10, vendors.KeyPickup: 9, vendors.KeyDND: 5, vendors.KeyForward: 2,
		vendors.KeyIntercom: 14, vendors.KeyDTMF: 11, vendors.KeyURL: 17, vendors.KeyVoicemail: 12,
		vendors.KeyNone: 0}
	for _, kt := range vendors.AllKeyTypes {
		code, ok := keyCode(kt)
		if !ok || code != want[kt] {
			t.Errorf("keyCode(%s) = %d, %v; want %d", kt, code, ok, want[kt])
		}
	}
	if _, ok := keyCode("bogus"); ok {
		t.Error("keyCode accepted an unknown type")
	}
}

func TestKeysThatDoNotFitAreRefused(t *testing.T) {
	d := newDriver(t)
	for _, c := range []struct {
		model string
		key   vendors.Key
	}{
		{"T31G", vendors.Key{Position: 3, Type: vendors.KeyBLF, Value: "1"}},
		{"T31G", vendors.Key{Module: 1, Position: 1, Type: vendors.KeyBLF, Value: "1"}},
		{"T46S", vendors.Key{Module: 7, Position: 1, Type: vendors.KeyBLF, Value: "1"}},
		{"T46S", vendors.Key{Module: 1, Position: 41, Type: vendors.KeyBLF, Value: "1"}},
	} {
		dev := sampleDevice(t, d, c.model)
		dev.Keys = []vendors.Key{c.key}
		if _, err := d.Render(dev.MAC+".cfg", dev); !errors.Is(err, vendors.ErrUnsupported) {
			t.Errorf("%s %+v: err = %v, want ErrUnsupported", c.model, c.key, err)
		}
	}
}

func TestModelCapabilities(t *testing.T) {
	d := newDriver(t)
	cases := []struct {
		model       string
		lines, keys int
		module      string
		modKeys     int
		modMax      int
		family      string
	}{
		{"T30", 1, 0, "", 0, 0, "T3x"},
		{"T31G", 2, 2, "", 0, 0, "T3x"},
		{"T33G", 4, 12, "", 0, 0, "T3x"},
		{"T41S", 6, 15, "", 0, 0, "T4xS"},
		{"T46S", 16, 27, "EXP40", 40, 6, "T4xS"},
		{"T48S", 16, 29, "EXP40", 40, 6, "T4xS"},
		{"T43U", 12, 21, "EXP43", 60, 3, "T4xU"},
		{"T46U", 16, 27, "EXP43", 60, 3, "T4xU"},
		{"T48U", 16, 29, "EXP43", 60, 3, "T4xU"},
		{"T54W", 16, 27, "EXP50", 60, 3, "T5x"},
		{"T53W", 12, 21, "EXP50", 60, 3, "T5x"},
		{"T57W", 16, 29, "EXP50", 60, 3, "T5x"},
		{"T27G", 6, 21, "EXP40", 40, 6, "T2x"},
		{"W70B", 10, 0, "", 0, 0, "DECT"},
	}
	for _, c := range cases {
		m, ok := d.lookup(c.model)
		if !ok {
			t.Errorf("%s missing", c.model)
			continue
		}
		if m.Lines != c.lines || m.Keys != c.keys || m.Family != c.family {
			t.Errorf("%s: lines %d keys %d family %s; want %d %d %s", c.model, m.Lines, m.Keys, m.Family, c.lines, c.keys, c.family)
		}
		if c.module == "" {
			if len(m.Modules) != 0 {
				t.Errorf("%s: modules %v, want none", c.model, m.Modules)
			}
		} else if len(m.Modules) == 0 || (m.Modules[0].Name != c.module || m.Modules[0].Keys != c.modKeys || m.Modules[0].Max != c.modMax) {
			t.Errorf("%s: modules %v, want %s %d x%d", c.model, m.Modules, c.module, c.modKeys, c.modMax)
		}
		if (m.Keys > 0) != m.Supports(vendors.KeyBLF) {
			t.Errorf("%s: keys %d but BLF support %v", c.model, m.Keys, m.Supports(vendors.KeyBLF))
		}
	}
	if _, ok := d.lookup("SIP-T54W"); !ok {
		t.Error("alias SIP-T54W not found")
	}
	// Models() hands out copies: changing one must not change the driver.
	ms := d.Models()
	ms[0].Aliases[0] = "changed"
	ms[0].Lines = 99
	if m := d.Models()[0]; m.Lines == 99 || m.Aliases[0] == "changed" {
		t.Error("Models() exposes the driver's state")
	}
}

func TestTimeZones(t *testing.T) {
	d := newDriver(t)
	cases := []struct {
		zone                   string
		tz, summer, start, end string
		offset                 string
	}{
		{"Europe/Berlin", "+1", "1", "3/5/7/2", "10/5/7/3", "60"},
		{"America/New_York", "-5", "1", "3/2/7/2", "11/1/7/2", "60"},
		{"Australia/Sydney", "+10", "1", "10/1/7/2", "4/1/7/3", "60"},
		{"Asia/Kolkata", "+5:30", "0", "", "", ""},
		{"Asia/Kathmandu", "+5:45", "0", "", "", ""},
		{"America/St_Johns", "-3:30", "1", "3/2/7/2", "11/1/7/2", "60"},
		{"UTC", "0", "0", "", "", ""},
	}
	for _, c := range cases {
		z, err := vendors.ResolveZone(c.zone, 2026)
		if err != nil {
			t.Fatal(err)
		}
		dev := &vendors.Device{Model: "T46S", Vendor: Name, Zone: z, ProvisionURL: "http://p/",
			Settings: vendors.Settings{Language: "en", WebLanguage: "en", ToneScheme: "US"}}
		kv := lines(t, mustRender(t, d, "y000000000066.cfg", dev))
		got := []string{kv["local_time.time_zone"], kv["local_time.summer_time"], kv["local_time.start_time"],
			kv["local_time.end_time"], kv["local_time.offset_time"]}
		want := []string{c.tz, c.summer, c.start, c.end, c.offset}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got %q, want %q", c.zone, got, want)
		}
		if c.summer == "1" && kv["local_time.dst_time_type"] != "1" {
			t.Errorf("%s: dst_time_type = %q, want 1 (by week)", c.zone, kv["local_time.dst_time_type"])
		}
	}
}

func TestLanguagesAndTones(t *testing.T) {
	valid := map[string]bool{"English": true, "German": true, "French": true, "Italian": true, "Spanish": true,
		"Portuguese": true, "Polish": true, "Russian": true, "Turkish": true}
	for code := range vendors.Languages {
		if !valid[language(code)] {
			t.Errorf("language(%s) = %q", code, language(code))
		}
	}
	for code, want := range map[string]string{"de": "German", "fr": "French", "tr": "Turkish", "nl": "English", "da": "English", "xx": "English"} {
		if got := language(code); got != want {
			t.Errorf("language(%s) = %q, want %q", code, got, want)
		}
	}
	// The T5x admin guide's voice.tone.country list.
	tones := map[string]bool{}
	for _, s := range strings.Split("Custom, Australia, Austria, Brazil, Belgium, Chile, China, Czech, Czech ETSI, Denmark, Finland, "+
		"France, Germany, Great Britain, Greece, Hungary, Lithuania, India, Italy, Japan, Mexico, New "+
		"Zealand, Netherlands, Norway, Portugal, Spain, Switzerland, Sweden, Russia, United States", ", ") {
		tones[s] = true
	}
	for cc := range vendors.ToneSchemes {
		if !tones[toneCountry(cc)] {
			t.Errorf("toneCountry(%s) = %q: not a Yealink value", cc, toneCountry(cc))
		}
	}
	if toneCountry("GB") != "Great Britain" || toneCountry("CH") != "Switzerland" || toneCountry("ZZ") != "United States" {
		t.Error("tone mapping")
	}
}

func TestTransportAndProxy(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T31G")
	dev.Settings.SIPTransport = "tls"
	dev.Settings.SIPPort = 0
	dev.Settings.OutboundProxy = "[2001:db8::1]"
	kv := lines(t, mustRender(t, d, dev.MAC+".cfg", dev))
	if kv["account.1.sip_server.1.transport_type"] != "2" || kv["account.1.sip_server.1.port"] != "5061" {
		t.Errorf("tls: transport %q port %q", kv["account.1.sip_server.1.transport_type"], kv["account.1.sip_server.1.port"])
	}
	if kv["account.1.outbound_proxy.1.address"] != "2001:db8::1" || kv["account.1.outbound_proxy.1.port"] != "5061" {
		t.Errorf("proxy %q port %q", kv["account.1.outbound_proxy.1.address"], kv["account.1.outbound_proxy.1.port"])
	}
	dev.Settings.SIPTransport = "tcp"
	dev.Settings.OutboundProxy = ""
	kv = lines(t, mustRender(t, d, dev.MAC+".cfg", dev))
	if kv["account.1.sip_server.1.transport_type"] != "1" || kv["account.1.outbound_proxy_enable"] != "0" {
		t.Errorf("tcp without proxy: %q %q", kv["account.1.sip_server.1.transport_type"], kv["account.1.outbound_proxy_enable"])
	}
	if _, ok := kv["account.1.outbound_proxy.1.address"]; ok {
		t.Error("proxy address without a proxy")
	}
}

func TestFirmwareAndDirectoryOptional(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T46U")
	dev.DirectoryURL = ""
	kv := lines(t, mustRender(t, d, dev.MAC+".cfg", dev))
	if _, ok := kv["static.firmware.url"]; ok {
		t.Error("firmware URL without FirmwareURL")
	}
	if _, ok := kv["remote_phonebook.data.1.url"]; ok {
		t.Error("phone book without DirectoryURL")
	}
	dev.FirmwareURL = "http://prov.example.com/fw/T46U-108.86.0.90.rom"
	kv = lines(t, mustRender(t, d, dev.MAC+".cfg", dev))
	if kv["static.firmware.url"] != dev.FirmwareURL {
		t.Errorf("static.firmware.url = %q", kv["static.firmware.url"])
	}
}

func TestBootFiles(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	want := "#!version:1.0.0.1\ninclude:config \"y000000000096.cfg\"\ninclude:config \"0015651a2b3c.cfg\"\noverwrite_mode = 1\n"
	for _, name := range []string{"0015651a2b3c.boot", "y000000000000.boot", "0015651A2B3C.boot"} {
		if got := mustRender(t, d, name, dev); got != want {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, want)
		}
	}
	// Without a MAC the common boot file does not exist.
	common := &vendors.Device{Model: "T54W", Vendor: Name, ProvisionURL: dev.ProvisionURL, Settings: dev.Settings, Zone: dev.Zone}
	if _, err := d.Render("y000000000000.boot", common); !errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("y000000000000.boot without MAC: err = %v, want ErrNotFound", err)
	}
	// Another phone's file is never rendered from this device.
	if _, err := d.Render("001565ffffff.cfg", dev); !errors.Is(err, vendors.ErrNotFound) {
		t.Errorf("other MAC: err = %v, want ErrNotFound", err)
	}
	// T41U: no known common-file ID, so the boot file includes only <mac>.cfg.
	dev41 := sampleDevice(t, d, "T41U")
	if got := mustRender(t, d, dev41.MAC+".boot", dev41); strings.Contains(got, "y000") {
		t.Errorf("T41U boot includes a common file:\n%s", got)
	}
	for _, name := range []string{"0015651a2b3c-local.cfg", "y000000000000.cfg.bak", "contacts.xml", ""} {
		if _, err := d.Render(name, dev); !errors.Is(err, vendors.ErrNotFound) {
			t.Errorf("Render(%q): err = %v, want ErrNotFound", name, err)
		}
	}
}

func TestCommonFile(t *testing.T) {
	d := newDriver(t)
	full := sampleDevice(t, d, "T46S")
	common := &vendors.Device{Model: "T46S", Vendor: Name, Settings: full.Settings, Zone: full.Zone, ProvisionURL: full.ProvisionURL}
	body := mustRender(t, d, "y000000000066.cfg", common)
	if !strings.HasPrefix(body, "#!version:1.0.0.1\n") {
		t.Error("common file lacks the version line")
	}
	for _, bad := range []string{"account.", "password", "linekey.", "remote_phonebook", "unlock_pin"} {
		if strings.Contains(body, bad) {
			t.Errorf("common file contains %q", bad)
		}
	}
	kv := lines(t, body)
	if kv["static.auto_provision.server.url"] != full.ProvisionURL || kv["lang.gui"] != "German" || kv["voice.tone.country"] != "Germany" {
		t.Errorf("common file settings: %v", kv)
	}
	// Any y000000000NNN.cfg renders, also for an unknown or empty model.
	common.Model = ""
	if b := mustRender(t, d, "y000000000999.cfg", common); !strings.Contains(b, "lang.gui = German") {
		t.Error("unknown-model common file")
	}
	// The common part of <mac>.cfg equals the common file.
	dev := mustRender(t, d, full.MAC+".cfg", full)
	for k, v := range kv {
		if got := lines(t, dev)[k]; got != v {
			t.Errorf("<mac>.cfg %s = %q, common file %q", k, got, v)
		}
	}
}

func TestValuesCannotInjectLines(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T46S")
	dev.Lines[0].DisplayName = "Eve\nstatic.security.user_password = admin:x"
	if _, err := d.Render(dev.MAC+".cfg", dev); err == nil {
		t.Fatal("a display name with a newline rendered")
	}
	dev = sampleDevice(t, d, "T46S")
	dev.WebPassword = "pw\r\nsecret-tail"
	_, err := d.Render(dev.MAC+".cfg", dev)
	if err == nil {
		t.Fatal("a password with CR LF rendered")
	}
	if strings.Contains(err.Error(), "secret-tail") {
		t.Errorf("error message leaks the value: %v", err)
	}
}

func TestRenderDirectory(t *testing.T) {
	d := newDriver(t)
	f, err := d.RenderDirectory([]vendors.DirectoryEntry{
		{Name: "Alice & Bob <Sales>", Extension: "201"},
		{Name: "Zoë \"Z\"", Extension: "202"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.ContentType != ContentTypeDirectory {
		t.Errorf("content type %q", f.ContentType)
	}
	if err := vendortest.WellFormed(f.Body); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, f.Body)
	}
	for _, s := range []string{"<YealinkIPPhoneDirectory>", "<DirectoryEntry>", "<Name>Alice &amp; Bob &lt;Sales&gt;</Name>", "<Telephone>202</Telephone>"} {
		if !bytes.Contains(f.Body, []byte(s)) {
			t.Errorf("directory lacks %s:\n%s", s, f.Body)
		}
	}
	vendortest.Golden(t, "directory.xml", f.Body)
	empty, err := d.RenderDirectory(nil)
	if err != nil || vendortest.WellFormed(empty.Body) != nil {
		t.Errorf("empty directory: %v\n%s", err, empty.Body)
	}
}

func TestFiles(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	got := strings.Join(d.Files(dev), " ")
	if want := "0015651a2b3c.cfg 0015651a2b3c.boot y000000000000.boot y000000000096.cfg"; got != want {
		t.Errorf("Files = %s, want %s", got, want)
	}
	common := &vendors.Device{Model: "T54W"}
	if got := strings.Join(d.Files(common), " "); got != "y000000000096.cfg" {
		t.Errorf("Files without MAC = %s", got)
	}
	// Every listed file is identified as ours with the right kind.
	for i, name := range d.Files(dev) {
		got := d.Identify(vendors.Request{Path: name})
		want := vendors.FileCommon
		if i == 0 {
			want = vendors.FileDevice
		}
		if got.Kind != want || got.Score < vendors.ScorePath {
			t.Errorf("Identify(%s) = %+v", name, got)
		}
	}
}

func TestScores(t *testing.T) {
	d := newDriver(t)
	full := d.Identify(vendors.Request{Path: "805ec0d57d72.cfg", UserAgent: "Yealink SIP-T54W 96.86.0.70 80:5e:c0:d5:7d:72"})
	if want := vendors.ScoreUserAgent + vendors.ScorePath + vendors.ScoreOUI; full.Score != want {
		t.Errorf("UA + path + OUI score = %d, want %d", full.Score, want)
	}
	p := d.Identify(vendors.Request{Path: "0004131a2b3c.cfg"})
	if p.Score != vendors.ScorePath {
		t.Errorf("path only (non-Yealink OUI) score = %d, want %d", p.Score, vendors.ScorePath)
	}
	other := d.Identify(vendors.Request{Path: "0015651a2b3c.cfg", UserAgent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 010.1.73.16 000413A1B2C3)"})
	if other.Score != vendors.ScorePath+vendors.ScoreOUI {
		t.Errorf("snom UA must add nothing: score %d", other.Score)
	}
	for _, c := range []struct {
		req  vendors.Request
		want int
	}{
		{dhcp("805ec0aabb01", "yealink SIP-T46S", ""), vendors.ScoreOUI + vendors.ScoreVendorClass},
		{dhcp("805ec0aabb01", "yealink", ""), vendors.ScoreOUI + vendors.ScoreVendorClass},
		{dhcp("805ec0aabb01", "MSFT 5.0", ""), vendors.ScoreOUI},
		{vendors.Request{VendorClass: "SIP-T54W"}, vendors.ScoreVendorClass},
		{dhcp("000413aabbcc", "yealink", ""), 0},
	} {
		if got := d.Identify(c.req).Score; got != c.want {
			t.Errorf("Identify(%+v).Score = %d, want %d", c.req, got, c.want)
		}
	}
}

var versionRE = regexp.MustCompile(`^\d+(\.\d+){3}$`)

func FuzzIdentify(f *testing.F) {
	for _, s := range samples {
		f.Add(s.Req.Path, s.Req.UserAgent, s.Req.MAC, s.Req.VendorClass, s.Req.Hostname)
	}
	d := newDriver(f)
	f.Fuzz(func(t *testing.T, p, ua, mac, class, host string) {
		id := d.Identify(vendors.Request{Path: p, UserAgent: ua, MAC: mac, VendorClass: class, Hostname: host})
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
		if id.Model != "" && !isModelName(id.Model) {
			t.Fatalf("model %q", id.Model)
		}
		if id.Firmware != "" && !versionRE.MatchString(id.Firmware) {
			t.Fatalf("firmware %q", id.Firmware)
		}
		if id.Kind != vendors.FileUnknown && id.Score < vendors.ScorePath {
			t.Fatalf("kind %v without a path score", id.Kind)
		}
	})
}

// TestPnPOff: an adopted device (Device.PnPOff) has
// static.auto_provision.pnp_enable = 0 in its per-device file; without it,
// and in every common file, nothing about PnP (factory default on).
func TestPnPOff(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	const off = "\nstatic.auto_provision.pnp_enable = 0\n"
	if body := mustRender(t, d, dev.MAC+".cfg", dev); strings.Contains(body, "pnp_enable") {
		t.Errorf("PnPOff false: the file mentions pnp_enable:\n%s", body)
	}
	dev.PnPOff = true
	if body := mustRender(t, d, dev.MAC+".cfg", dev); !strings.Contains(body, off) {
		t.Errorf("PnPOff true: %q missing:\n%s", off, body)
	}
	for _, name := range d.Files(dev)[1:] {
		if body := mustRender(t, d, name, dev); strings.Contains(body, "pnp_enable") {
			t.Errorf("common file %s mentions pnp_enable", name)
		}
	}
}

// TestResync: check-sync, reboot=false or true, to the first account.
func TestResync(t *testing.T) {
	d := newDriver(t)
	dev := sampleDevice(t, d, "T54W")
	for reboot, ev := range map[bool]string{false: "check-sync;reboot=false", true: "check-sync;reboot=true"} {
		reqs, err := d.Resync(dev, reboot)
		if err != nil || len(reqs) != 1 || reqs[0].Method != "NOTIFY" || reqs[0].Event != ev || reqs[0].User != dev.Lines[0].Extension {
			t.Errorf("Resync(reboot=%v) = %+v, %v", reboot, reqs, err)
		}
	}
}
