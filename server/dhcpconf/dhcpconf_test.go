package dhcpconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var full = Config{BaseURL: "http://prov.example.com:8080/prov/", TFTP: "192.0.2.10", DLS: "192.0.2.10"}

// checker runs a Debian DHCP server's own syntax check on the snippet,
// skipping when the server is not installed (CI installs it).
func checker(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if _, err := os.Stat(filepath.Join(dir, bin)); err == nil {
				return filepath.Join(dir, bin)
			}
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (.ci/run installs it)", bin)
		}
		t.Skipf("%s is not installed", bin)
	}
	return p
}

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gen(t *testing.T, server string, c Config) string {
	t.Helper()
	out, err := Generate(server, c)
	if err != nil {
		t.Fatalf("Generate(%s): %v", server, err)
	}
	return out
}

func TestISCAcceptedByDhcpd(t *testing.T) {
	bin := checker(t, "dhcpd")
	for _, c := range []Config{full, {BaseURL: full.BaseURL}, {BaseURL: "http://127.0.0.1:8080/prov/"}} {
		out := gen(t, "isc", c)
		cf := write(t, "dhcpd.conf", out+"\nsubnet 192.0.2.0 netmask 255.255.255.0 {\n  range 192.0.2.100 192.0.2.200;\n}\n")
		lf := filepath.Join(t.TempDir(), "leases")
		if b, err := exec.Command(bin, "-t", "-4", "-q", "-cf", cf, "-lf", lf).CombinedOutput(); err != nil {
			t.Fatalf("dhcpd -t refuses the snippet: %v\n%s\n%s", err, b, out)
		}
	}
	// The checker is not a rubber stamp: a broken snippet fails.
	cf := write(t, "bad.conf", strings.Replace(gen(t, "isc", full), "option default-url", "option default-urll", 1))
	if exec.Command(bin, "-t", "-4", "-q", "-cf", cf).Run() == nil {
		t.Fatal("dhcpd -t accepted a misspelt option")
	}
}

func TestKeaAcceptedByKeaDhcp4(t *testing.T) {
	bin := checker(t, "kea-dhcp4")
	for _, c := range []Config{full, {BaseURL: full.BaseURL}, {BaseURL: "http://127.0.0.1:8080/prov/"}} {
		out := gen(t, "kea", c)
		cf := write(t, "kea-dhcp4.conf", out)
		if b, err := exec.Command(bin, "-t", cf).CombinedOutput(); err != nil {
			t.Fatalf("kea-dhcp4 -t refuses the snippet: %v\n%s\n%s", err, b, out)
		}
	}
	cf := write(t, "bad.conf", strings.Replace(gen(t, "kea", full), "v4-captive-portal", "v4-captive-portall", 1))
	if exec.Command(bin, "-t", cf).Run() == nil {
		t.Fatal("kea-dhcp4 -t accepted an unknown option name")
	}
}

func TestDnsmasqAcceptsSnippet(t *testing.T) {
	bin := checker(t, "dnsmasq")
	for _, c := range []Config{full, {BaseURL: full.BaseURL}, {BaseURL: "http://127.0.0.1:8080/prov/"}} {
		out := gen(t, "dnsmasq", c)
		cf := write(t, "dnsmasq.conf", out)
		if b, err := exec.Command(bin, "--test", "--conf-file="+cf).CombinedOutput(); err != nil {
			t.Fatalf("dnsmasq --test refuses the snippet: %v\n%s\n%s", err, b, out)
		}
	}
	cf := write(t, "bad.conf", strings.Replace(gen(t, "dnsmasq", full), "dhcp-option-force=tag:gigaset", "dhcp-optionn-force=tag:gigaset", 1))
	if exec.Command(bin, "--test", "--conf-file="+cf).Run() == nil {
		t.Fatal("dnsmasq --test accepted a misspelt directive")
	}
}

func TestValuesPerVendor(t *testing.T) {
	for server, want := range map[string][]string{
		"isc": {`option tftp-server-name "http://prov.example.com:8080/prov/";`,
			`option tftp-server-name "http://prov.example.com:8080/prov/{mac}.xml";`,
			`option default-url "http://prov.example.com:8080/prov/";`,
			`option cisco-prov-url "http://prov.example.com:8080/prov";`,
			`option cisco-tftp-servers 192.0.2.10;`,
			`option OpenStage.dls-url "sdlp://192.0.2.10:18443";`,
			`substring(hardware, 1, 3) = 80:5e:c0`, `substring(option vendor-class-identifier, 0, 3) = "CP-"`},
		"kea": {`"data": "http://prov.example.com:8080/prov/{mac}.xml"`, `"name": "v4-captive-portal"`,
			`substring(pkt4.mac, 0, 3) == 0x7c2f80`, `"data": "sdlp://192.0.2.10:18443"`},
		"dnsmasq": {`dhcp-mac=set:yealink,80:5e:c0:*:*:*`, `dhcp-vendorclass=set:snom,snom`,
			`dhcp-option-force=tag:gigaset,114,"http://prov.example.com:8080/prov/"`,
			`dhcp-option-force=tag:cisco,160,"http://prov.example.com:8080/prov"`, `dhcp-option=vendor:OptiIpPhone,3,"sdlp://192.0.2.10:18443"`},
		"mikrotik": {`add name=autoprov-cisco-160 code=160 value="'http://prov.example.com:8080/prov'"`,
			`add name=autoprov-cisco-150 code=150 value=0xc000020a`, "matching-type=substring option-set=autoprov-snom"},
		"windows": {`Add-DhcpServerv4OptionDefinition -OptionId 160`, `-MacAddress EQ,"001565*"`,
			`Set-DhcpServerv4OptionValue -PolicyName "autoprov-gigaset" -OptionId 114 -Value "http://prov.example.com:8080/prov/"`},
	} {
		out := gen(t, server, full)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", server, w, out)
			}
		}
	}
	// Without a DLS address, no OpenStage; without a TFTP address, no 150.
	for _, s := range Servers {
		out := gen(t, s, Config{BaseURL: "http://10.0.0.1:8080/prov"})
		if strings.Contains(out, "sdlp") || strings.Contains(out, "150 ") || strings.Contains(out, ",150") || strings.Contains(out, "-150") {
			t.Errorf("%s: OpenStage or option 150 without asking:\n%s", s, out)
		}
		if !strings.Contains(out, "http://10.0.0.1:8080/prov/") {
			t.Errorf("%s: the base URL lacks its trailing slash:\n%s", s, out)
		}
	}
}

func TestRefusals(t *testing.T) {
	long := "http://provisioning-server.branch-office.example.com:8080/autoprov/provisioning/"
	for _, c := range []struct {
		server string
		cfg    Config
		want   string
	}{
		{"isc", Config{BaseURL: long}, "at most 74"},
		{"isc", Config{BaseURL: "ftp://x/"}, "http(s)://"},
		{"isc", Config{BaseURL: `http://x/"; evil`}, "cannot carry"},
		{"isc", Config{BaseURL: "http://x/$PSN/"}, "cannot carry"},
		{"isc", Config{BaseURL: "http://x/", TFTP: "prov.example.com"}, "IPv4"},
		{"isc", Config{BaseURL: "http://x/", DLS: "a b"}, "DLS"},
		{"bind", Config{BaseURL: "http://x/"}, "unknown DHCP server"},
	} {
		_, err := Generate(c.server, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Generate(%s, %+v) = %v, want an error with %q", c.server, c.cfg, err, c.want)
		}
	}
	// 74 characters exactly is fine.
	ok := "http://p.example.com/" + strings.Repeat("a", MaxGigasetURL-len("http://p.example.com/")-1) + "/"
	if len(ok) != MaxGigasetURL {
		t.Fatal(len(ok))
	}
	if _, err := Generate("isc", Config{BaseURL: ok}); err != nil {
		t.Errorf("74 characters refused: %v", err)
	}
}

// TestLoopbackURLWarns: a provisioning URL only this machine reaches (the
// API's and the UI's default when the admin came through 127.0.0.1, an
// SSH tunnel) is written with a warning at the top, in each server's
// comment syntax (the checkers above take it); a URL phones can reach
// has none.
func TestLoopbackURLWarns(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:18080/prov/", "http://[::1]:8080/prov/", "http://localhost:8080/prov/", "http://0.0.0.0/prov/"} {
		for _, server := range Servers {
			out := gen(t, server, Config{BaseURL: base})
			comment := "# "
			if server == "kea" {
				comment = "// "
			}
			if !strings.HasPrefix(out, comment+"WARNING: the provisioning URL names ") || !strings.Contains(out, "no phone can reach it") {
				t.Errorf("%s with %s: no warning at the top:\n%s", server, base, out)
			}
		}
	}
	for _, base := range []string{full.BaseURL, "http://192.0.2.10:8080/prov/", "http://localhost.example.com/prov/"} {
		for _, server := range Servers {
			if out := gen(t, server, Config{BaseURL: base}); strings.Contains(out, "WARNING") {
				t.Errorf("%s with %s warns:\n%s", server, base, out)
			}
		}
	}
}
