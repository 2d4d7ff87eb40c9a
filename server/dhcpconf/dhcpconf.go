// Package dhcpconf writes ready-to-paste DHCP server configuration that
// points desk phones at this server: option 66 per vendor, 114 for
// Gigaset Nx70/Maxwell, 160 (and 150) for Cisco MPP and, when a DLS
// address is given, 43 for OpenStage, each scoped to the vendor by its
// OUIs or its DHCP vendor class (option 60) where the DHCP server can
// match them. The facts are those of /work/shared/reference/dhcp.md (see
// README.md here). It uses the standard library only.
package dhcpconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Servers are the DHCP servers Generate writes for.
var Servers = []string{"isc", "kea", "dnsmasq", "mikrotik", "windows"}

// MaxGigasetURL is the longest option 114 Gigaset Nx70 and Maxwell bases
// take (gigaset.md §7).
const MaxGigasetURL = 74

// Config is what the snippets point at.
type Config struct {
	// BaseURL is the provisioning base phones fetch from, e.g.
	// "http://prov.example.com:8080/prov/" (a trailing "/" is added).
	BaseURL string
	// TFTP is this server's IPv4 address for Cisco's option 150 (a list of
	// TFTP server addresses); "" leaves option 150 out.
	TFTP string
	// DLS is the OpenStage Deployment Service host (option 43 sub-option
	// 3, sdlp://DLS:18443); "" leaves OpenStage out (autoprov is no DLS).
	DLS string
}

// vendor is one class of phones and what it gets.
type vendor struct {
	name  string   // class name
	title string   // comment
	ouis  []string // 6 lower-case hex digits
	class string   // prefix of option 60, "" none
}

// The vendor classes (reference dhcp.md §3; the drivers' OUI lists).
var (
	yealink = vendor{name: "yealink", title: "Yealink: option 66",
		ouis: []string{"001565", "805ec0", "805e0c", "249ad8", "44dbd2", "644f56", "ec1da9", "3497d7", "b061a9", "c4fc22", "f01653", "e434d7"}}
	snom = vendor{name: "snom", title: "Snom and Gigaset P-series: option 66 ({mac} is replaced by the phone)",
		ouis: []string{"000413", "00087b"}, class: "snom"}
	gigaset = vendor{name: "gigaset", title: "Gigaset Nx70 and Maxwell: option 114 (at most 74 characters)",
		ouis: []string{"7c2f80", "589ec6", "002104", "14b370"}}
	cisco = vendor{name: "cisco-mpp", title: "Cisco MPP 6800/7800/8800: option 160 (150: TFTP servers, when asked for)", class: "CP-"}
	// openStage sends a fixed vendor class (openstage.md §10).
	openStage = vendor{name: "openstage", title: "OpenStage: option 43, the DLS address", class: "OptiIpPhone"}
)

// values are the option values of one Config.
type values struct {
	yealink, snom, gigaset, cisco string
	tftp                          string // "" no option 150
	dls                           string // "" no OpenStage
}

func (c Config) values() (values, error) {
	u, err := url.Parse(strings.TrimSpace(c.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return values{}, errors.New("the provisioning URL must be http(s)://host[:port]/path/ (e.g. http://prov.example.com:8080/prov/)")
	}
	base := u.String()
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if err := plain(base); err != nil {
		return values{}, err
	}
	v := values{yealink: base, snom: base + "{mac}.xml", gigaset: base, cisco: strings.TrimSuffix(base, "/")}
	if len(v.gigaset) > MaxGigasetURL {
		return values{}, fmt.Errorf("the provisioning URL %s has %d characters: Gigaset's option 114 takes at most %d (use a shorter host name or --public-url)",
			v.gigaset, len(v.gigaset), MaxGigasetURL)
	}
	if c.TFTP != "" {
		a, err := netip.ParseAddr(c.TFTP)
		if err != nil || !a.Is4() {
			return values{}, fmt.Errorf("the TFTP address %q must be an IPv4 address (option 150 carries addresses)", c.TFTP)
		}
		v.tftp = a.String()
	}
	if c.DLS != "" {
		if err := host(c.DLS); err != nil {
			return values{}, fmt.Errorf("the DLS address %q: %w", c.DLS, err)
		}
		v.dls = "sdlp://" + c.DLS + ":18443"
	}
	return v, nil
}

// plain refuses characters that a configuration's quoting would have to
// escape (quotes, backslashes, spaces, controls) or that a DHCP server
// would expand.
func plain(s string) error {
	for _, r := range s {
		if r <= ' ' || r > '~' || strings.ContainsRune(`"'\;$`+"`", r) {
			return fmt.Errorf("the provisioning URL %q has a character the snippets cannot carry (%q)", s, r)
		}
	}
	return nil
}

// host accepts a host name or IP address.
func host(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if len(s) > 253 || s == "" {
		return errors.New("not a host name or IP address")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return errors.New("not a host name or IP address")
		}
	}
	return nil
}

// Generate returns the configuration for server (one of Servers).
func Generate(server string, c Config) (string, error) {
	v, err := c.values()
	if err != nil {
		return "", err
	}
	var out string
	switch server {
	case "isc":
		out = isc(v)
	case "kea":
		if out, err = kea(v); err != nil {
			return "", err
		}
	case "dnsmasq":
		out = dnsmasq(v)
	case "mikrotik":
		out = mikrotik(v)
	case "windows":
		out = windows(v)
	default:
		return "", fmt.Errorf("unknown DHCP server %q (want one of %s)", server, strings.Join(Servers, ", "))
	}
	if h := loopback(c.BaseURL); h != "" {
		comment := "# "
		if server == "kea" {
			comment = "// "
		}
		out = comment + "WARNING: the provisioning URL names " + h + ", this machine's own loopback address:\n" +
			comment + "no phone can reach it. Give the address phones reach (url=, --url or --public-url).\n" + out
	}
	return out, nil
}

// loopback returns the host of a provisioning URL that only this machine
// reaches (a loopback address, localhost, the unspecified address), else
// "": the URL the API and the UI default to is the address the admin
// reached, which is 127.0.0.1 through an SSH tunnel or on the host itself.
func loopback(base string) string {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return ""
	}
	h := u.Hostname()
	if a, err := netip.ParseAddr(h); err == nil {
		if a.IsLoopback() || a.IsUnspecified() {
			return h
		}
		return ""
	}
	if h = strings.ToLower(strings.TrimSuffix(h, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return h
	}
	return ""
}

// colon writes an OUI as ISC and dnsmasq do: 80:5e:c0.
func colon(oui string) string {
	return oui[0:2] + ":" + oui[2:4] + ":" + oui[4:6]
}

func isc(v values) string {
	var b strings.Builder
	b.WriteString(`# ISC dhcpd (dhcpd.conf), written by autoprov: paste at the top level or
# inside a shared-network/subnet. Check with: dhcpd -t -cf /etc/dhcp/dhcpd.conf
# Option 66 is "tftp-server-name", 114 is "default-url" (built in).
option cisco-prov-url code 160 = text;
`)
	if v.tftp != "" {
		b.WriteString("option cisco-tftp-servers code 150 = array of ip-address;\n")
	}
	if v.dls != "" {
		b.WriteString(`option space OpenStage;
option OpenStage.vendor code 1 = text;
option OpenStage.dls-url code 3 = text;
`)
	}
	match := func(vd vendor) string {
		var m []string
		for _, o := range vd.ouis {
			m = append(m, "substring(hardware, 1, 3) = "+colon(o))
		}
		if vd.class != "" {
			m = append(m, fmt.Sprintf("substring(option vendor-class-identifier, 0, %d) = %q", len(vd.class), vd.class))
		}
		return strings.Join(m, "\n        or ")
	}
	class := func(vd vendor, body string) {
		fmt.Fprintf(&b, "\n# %s\nclass %q {\n  match if %s;\n%s}\n", vd.title, vd.name, match(vd), body)
	}
	class(yealink, fmt.Sprintf("  option tftp-server-name %q;\n", v.yealink))
	class(snom, fmt.Sprintf("  option tftp-server-name %q;\n", v.snom))
	// Sent even when the phone did not ask for it (0x72 = 114).
	class(gigaset, fmt.Sprintf("  option default-url %q;\n  option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, 72);\n", v.gigaset))
	body := fmt.Sprintf("  option cisco-prov-url %q;\n", v.cisco)
	list := "a0"
	if v.tftp != "" {
		body += "  option cisco-tftp-servers " + v.tftp + ";\n"
		list = "a0, 96"
	}
	class(cisco, body+"  option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, "+list+");\n")
	if v.dls != "" {
		class(openStage, fmt.Sprintf("  vendor-option-space OpenStage;\n  option OpenStage.vendor \"Siemens\";\n  option OpenStage.dls-url %q;\n", v.dls))
	}
	return b.String()
}

func kea(v values) (string, error) {
	type opt struct {
		Name       string `json:"name"`
		Code       int    `json:"code,omitempty"`
		Space      string `json:"space,omitempty"`
		Data       string `json:"data,omitempty"`
		AlwaysSend bool   `json:"always-send,omitempty"`
	}
	type def struct {
		Name        string `json:"name"`
		Code        int    `json:"code"`
		Type        string `json:"type"`
		Array       bool   `json:"array,omitempty"`
		Space       string `json:"space"`
		Encapsulate string `json:"encapsulate,omitempty"`
	}
	type class struct {
		Name       string `json:"name"`
		Test       string `json:"test"`
		OptionDef  []def  `json:"option-def,omitempty"`
		OptionData []opt  `json:"option-data"`
	}
	test := func(vd vendor) string {
		var t []string
		for _, o := range vd.ouis {
			t = append(t, "substring(pkt4.mac, 0, 3) == 0x"+o)
		}
		if vd.class != "" {
			t = append(t, fmt.Sprintf("substring(option[60].text, 0, %d) == '%s'", len(vd.class), vd.class))
		}
		return strings.Join(t, " or ")
	}
	defs := []def{{Name: "cisco-prov-url", Code: 160, Type: "string", Space: "dhcp4"}}
	ciscoOpts := []opt{{Name: "cisco-prov-url", Data: v.cisco, AlwaysSend: true}}
	if v.tftp != "" {
		defs = append(defs, def{Name: "cisco-tftp-servers", Code: 150, Type: "ipv4-address", Array: true, Space: "dhcp4"})
		ciscoOpts = append(ciscoOpts, opt{Name: "cisco-tftp-servers", Data: v.tftp, AlwaysSend: true})
	}
	classes := []class{
		{Name: yealink.name, Test: test(yealink), OptionData: []opt{{Name: "tftp-server-name", Data: v.yealink}}},
		{Name: snom.name, Test: test(snom), OptionData: []opt{{Name: "tftp-server-name", Data: v.snom}}},
		// Kea names 114 v4-captive-portal (RFC 8910) and refuses to redefine it.
		{Name: gigaset.name, Test: test(gigaset), OptionData: []opt{{Name: "v4-captive-portal", Data: v.gigaset, AlwaysSend: true}}},
		{Name: cisco.name, Test: test(cisco), OptionData: ciscoOpts},
	}
	if v.dls != "" {
		defs = append(defs, def{Name: "vendor", Code: 1, Type: "string", Space: "openstage"},
			def{Name: "dls-url", Code: 3, Type: "string", Space: "openstage"})
		classes = append(classes, class{Name: openStage.name, Test: test(openStage),
			OptionDef: []def{{Name: "vendor-encapsulated-options", Code: 43, Type: "empty", Space: "dhcp4", Encapsulate: "openstage"}},
			OptionData: []opt{{Name: "vendor-encapsulated-options"},
				{Name: "vendor", Space: "openstage", Data: "Siemens"}, {Name: "dls-url", Space: "openstage", Data: v.dls}}})
	}
	doc := map[string]any{"Dhcp4": map[string]any{"option-def": defs, "client-classes": classes}}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", err
	}
	return "// Kea DHCPv4, written by autoprov: merge \"option-def\" and \"client-classes\" into the\n" +
		"// \"Dhcp4\" map of kea-dhcp4.conf. Check with: kea-dhcp4 -t /etc/kea/kea-dhcp4.conf\n" + string(out) + "\n", nil
}

func dnsmasq(v values) string {
	var b strings.Builder
	b.WriteString(`# dnsmasq, written by autoprov: put in /etc/dnsmasq.d/autoprov.conf.
# Check with: dnsmasq --test
`)
	tags := func(vd vendor, tag string) {
		fmt.Fprintf(&b, "\n# %s\n", vd.title)
		for _, o := range vd.ouis {
			fmt.Fprintf(&b, "dhcp-mac=set:%s,%s:*:*:*\n", tag, colon(o))
		}
		if vd.class != "" {
			fmt.Fprintf(&b, "dhcp-vendorclass=set:%s,%s\n", tag, vd.class)
		}
	}
	tags(yealink, "yealink")
	fmt.Fprintf(&b, "dhcp-option=tag:yealink,66,%q\n", v.yealink)
	tags(snom, "snom")
	fmt.Fprintf(&b, "dhcp-option=tag:snom,66,%q\n", v.snom)
	tags(gigaset, "gigaset")
	fmt.Fprintf(&b, "dhcp-option-force=tag:gigaset,114,%q\n", v.gigaset)
	tags(cisco, "cisco")
	fmt.Fprintf(&b, "dhcp-option-force=tag:cisco,160,%q\n", v.cisco)
	if v.tftp != "" {
		fmt.Fprintf(&b, "dhcp-option-force=tag:cisco,150,%s\n", v.tftp)
	}
	if v.dls != "" {
		fmt.Fprintf(&b, "\n# %s\ndhcp-option=vendor:%s,1,\"Siemens\"\ndhcp-option=vendor:%s,3,%q\n", openStage.title, openStage.class, openStage.class, v.dls)
	}
	return b.String()
}

// mikrotik writes RouterOS 7 commands: options, option sets and, where
// RouterOS can match option 60, matchers (RouterOS cannot match an OUI:
// the OUI-only vendors get their option set per lease or network).
func mikrotik(v values) string {
	var b strings.Builder
	b.WriteString(`# MikroTik RouterOS 7, written by autoprov: paste into a terminal; set server=
# to your DHCP server's name. RouterOS matches option 60 (matchers), not OUIs:
# give Yealink and Gigaset phones their option set on their static leases
# (/ip dhcp-server lease set [find mac-address~"^80:5E:C0"] dhcp-option-set=autoprov-yealink).
/ip dhcp-server option
`)
	q := func(s string) string { return "\"'" + s + "'\"" }
	fmt.Fprintf(&b, "add name=autoprov-yealink-66 code=66 value=%s\n", q(v.yealink))
	fmt.Fprintf(&b, "add name=autoprov-snom-66 code=66 value=%s\n", q(v.snom))
	fmt.Fprintf(&b, "add name=autoprov-gigaset-114 code=114 value=%s\n", q(v.gigaset))
	fmt.Fprintf(&b, "add name=autoprov-cisco-160 code=160 value=%s\n", q(v.cisco))
	sets := map[string]string{"yealink": "autoprov-yealink-66", "snom": "autoprov-snom-66", "gigaset": "autoprov-gigaset-114", "cisco": "autoprov-cisco-160"}
	if v.tftp != "" {
		fmt.Fprintf(&b, "add name=autoprov-cisco-150 code=150 value=0x%s\n", hexIP(v.tftp))
		sets["cisco"] += ",autoprov-cisco-150"
	}
	if v.dls != "" {
		fmt.Fprintf(&b, "add name=autoprov-openstage-43 code=43 value=0x%s\n", tlv(1, "Siemens")+tlv(3, v.dls))
		sets["openstage"] = "autoprov-openstage-43"
	}
	b.WriteString("/ip dhcp-server option sets\n")
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "add name=autoprov-%s options=%s\n", n, sets[n])
	}
	b.WriteString("/ip dhcp-server matcher\n")
	fmt.Fprintf(&b, "add name=autoprov-snom server=all code=60 value=%q matching-type=substring option-set=autoprov-snom\n", snom.class)
	fmt.Fprintf(&b, "add name=autoprov-cisco server=all code=60 value=%q matching-type=substring option-set=autoprov-cisco\n", cisco.class)
	if v.dls != "" {
		fmt.Fprintf(&b, "add name=autoprov-openstage server=all code=60 value=%q matching-type=substring option-set=autoprov-openstage\n", openStage.class)
	}
	return b.String()
}

// windows writes PowerShell for the Windows Server DHCP role: option
// definitions for 160 (and 150), and one policy per vendor matching its
// OUIs or vendor class.
func windows(v values) string {
	var b strings.Builder
	b.WriteString(`# Windows Server DHCP (PowerShell, DhcpServer module), written by autoprov:
# run in an elevated PowerShell on the DHCP server; server-wide policies.
Add-DhcpServerv4OptionDefinition -OptionId 160 -Name "Cisco provisioning URL" -Type String
`)
	if v.tftp != "" {
		b.WriteString("Add-DhcpServerv4OptionDefinition -OptionId 150 -Name \"Cisco TFTP servers\" -Type IPv4Address -MultiValued\n")
	}
	classes := []vendor{snom, cisco}
	if v.dls != "" {
		classes = append(classes, openStage)
	}
	for _, vd := range classes {
		{
			fmt.Fprintf(&b, "Add-DhcpServerv4Class -Name \"autoprov-%s\" -Type Vendor -Data \"%s\"\n", vd.name, vd.class)
		}
	}
	policy := func(vd vendor, opts ...string) {
		fmt.Fprintf(&b, "\n# %s\n", vd.title)
		cond := ""
		if len(vd.ouis) > 0 {
			macs := make([]string, len(vd.ouis))
			for i, o := range vd.ouis {
				macs[i] = "\"" + strings.ToUpper(o) + "*\""
			}
			cond += " -MacAddress EQ," + strings.Join(macs, ",")
		}
		if vd.class != "" {
			cond += " -VendorClass EQ,\"autoprov-" + vd.name + "*\""
		}
		fmt.Fprintf(&b, "Add-DhcpServerv4Policy -Name \"autoprov-%s\" -Condition OR%s\n", vd.name, cond)
		for _, o := range opts {
			fmt.Fprintf(&b, "Set-DhcpServerv4OptionValue -PolicyName \"autoprov-%s\" %s\n", vd.name, o)
		}
	}
	policy(yealink, fmt.Sprintf("-OptionId 66 -Value %q", v.yealink))
	policy(snom, fmt.Sprintf("-OptionId 66 -Value %q", v.snom))
	policy(gigaset, fmt.Sprintf("-OptionId 114 -Value %q", v.gigaset))
	opts := []string{fmt.Sprintf("-OptionId 160 -Value %q", v.cisco)}
	if v.tftp != "" {
		opts = append(opts, fmt.Sprintf("-OptionId 150 -Value %q", v.tftp))
	}
	policy(cisco, opts...)
	if v.dls != "" {
		policy(openStage, "-OptionId 43 -Value "+byteList(tlv(1, "Siemens")+tlv(3, v.dls)))
	}
	return b.String()
}

// tlv is one encapsulated sub-option in hex.
func tlv(code int, s string) string {
	return fmt.Sprintf("%02x%02x%x", code, len(s), s)
}

func hexIP(s string) string {
	a := netip.MustParseAddr(s).As4()
	return fmt.Sprintf("%02x%02x%02x%02x", a[0], a[1], a[2], a[3])
}

// byteList writes hex as PowerShell's list of byte values: 0x01,0x07,...
func byteList(hex string) string {
	out := make([]string, 0, len(hex)/2)
	for i := 0; i+1 < len(hex); i += 2 {
		out = append(out, "0x"+hex[i:i+2])
	}
	return strings.Join(out, ",")
}
