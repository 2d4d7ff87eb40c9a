// Package vendortest is the conformance suite every vendor driver runs, in
// the manner of testing/fstest: it renders every model with and without
// secrets and checks what must hold for any driver (stable output, secrets
// present exactly when allowed, well-formed XML, no "<no value>"), and it
// checks the driver's own User-Agent and path samples.
package vendortest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
)

// Sample is a request and the identity a driver must derive from it.
type Sample struct {
	Name string // a short description for the test name
	Req  vendors.Request
	Want vendors.Identity // Score is checked only for being > 0 (or 0 when Want.Score is 0)
}

// foreignDHCP are lease requests as the sniffer hands them to the core,
// from clients whose MAC lies in no phone vendor's OUI (Apple, Raspberry
// Pi, Intel): no driver may claim one, not even when its vendor class
// names a phone (the MAC overrules the class, vendors.ScoreVendorClass).
var foreignDHCP = []vendors.Request{
	{MAC: "3c22fb112233", VendorClass: "MSFT 5.0", Hostname: "alice-laptop", Transport: "dhcp"},
	{MAC: "b827eb445566", VendorClass: "dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835", Hostname: "raspberrypi", Transport: "dhcp"},
	{MAC: "8c8caa778899", VendorClass: "android-dhcp-14", RemoteAddr: "192.0.2.77", Transport: "dhcp"},
	{MAC: "3c22fb112234", Transport: "dhcp"},
	{MAC: "3c22fb112235", VendorClass: "snomD785", Transport: "dhcp"},
	{MAC: "3c22fb112236", VendorClass: "yealink SIP-T46S", Transport: "dhcp"},
	{MAC: "3c22fb112237", VendorClass: "Gigaset_N720_DM_PRO", Hostname: "N870", Transport: "dhcp"},
	{MAC: "3c22fb112238", VendorClass: "GigasetP820", Transport: "dhcp"},
}

// Secret values SampleDevice puts on a device; the suite looks for them.
const (
	SIPSecret  = "Sip-S3cret-"
	MenuSecret = "48151623"
	WebSecret  = "Web-S3cret-Pw"
)

// The provisioning credential the suite gives every device it renders
// (vendors.Device.ProvisionUser/ProvisionPassword); a golden test of a
// vendors.Credentialer can use them too.
const (
	ProvUser   = "Prov-User-0015651a2b3c"
	ProvSecret = "Prov-S3cret-Pw-0123456789"
)

// SampleDevice returns a device of model m with min(m.Lines, 3) accounts,
// the default keys, German locale settings and secrets, ready to render.
// Golden tests can start from it.
func SampleDevice(m vendors.Model) *vendors.Device {
	zone, err := vendors.ResolveZone("Europe/Berlin", 2026)
	if err != nil {
		panic(err)
	}
	n := min(m.Lines, 3)
	d := &vendors.Device{
		MAC: "0015651a2b3c", Vendor: m.Vendor, Model: m.Name, Label: "Reception",
		Settings: vendors.Settings{
			SIPServer: "pbx.example.com", SIPPort: 5060, SIPTransport: "udp",
			OutboundProxy: "sbc.example.com:5061", NTPServer: "ntp.example.com",
			Timezone: "Europe/Berlin", Language: "de", WebLanguage: "en", ToneScheme: "DE",
		},
		Zone:         zone,
		ProvisionURL: "http://prov.example.com:8080/prov/",
		DirectoryURL: "http://prov.example.com:8080/prov/directory/" + m.Vendor + ".xml",
		WithSecrets:  true,
		MenuPassword: MenuSecret,
		WebPassword:  WebSecret,
	}
	for i := 1; i <= n; i++ {
		d.Lines = append(d.Lines, vendors.Line{
			Extension:   fmt.Sprintf("20%d", i),
			DisplayName: fmt.Sprintf("User %d <&>", i),
			AuthUser:    fmt.Sprintf("auth20%d", i),
			Password:    fmt.Sprintf("%s%d", SIPSecret, i),
		})
	}
	d.Keys = vendors.DefaultKeys(m, n)
	return d
}

// TestVendor runs the conformance suite on v with its samples.
func TestVendor(t *testing.T, v vendors.Vendor, samples []Sample) {
	t.Helper()
	if v.Name() == "" || strings.ToLower(v.Name()) != v.Name() {
		t.Fatalf("Name() = %q: want a non-empty lower-case name", v.Name())
	}
	models := v.Models()
	if len(models) == 0 {
		t.Fatal("Models() is empty")
	}
	seen := map[string]bool{}
	for _, m := range models {
		t.Run("model/"+m.Name, func(t *testing.T) {
			checkModel(t, v, m)
			if seen[strings.ToLower(m.Name)] {
				t.Errorf("model %s listed twice", m.Name)
			}
			seen[strings.ToLower(m.Name)] = true
			checkRender(t, v, m)
			checkParams(t, v, m)
		})
	}
	for i, req := range foreignDHCP {
		t.Run(fmt.Sprintf("foreign-dhcp/%02d", i+1), func(t *testing.T) {
			if id := v.Identify(req); id.Score != 0 {
				t.Errorf("Identify(%+v) = %+v: a DHCP client outside the vendor's OUIs is not its phone, whatever its vendor class says", req, id)
			}
		})
	}
	for i, s := range samples {
		t.Run(fmt.Sprintf("identify/%02d-%s", i+1, s.Name), func(t *testing.T) {
			got := v.Identify(s.Req)
			if (s.Want.Score > 0) != (got.Score > 0) {
				t.Fatalf("Identify(%+v) score = %d, want recognised=%v", s.Req, got.Score, s.Want.Score > 0)
			}
			if s.Want.Score == 0 {
				return
			}
			got.Score, s.Want.Score = 0, 0
			if got != s.Want {
				t.Errorf("Identify(%+v)\n got  %+v\n want %+v", s.Req, got, s.Want)
			}
		})
	}
}

func checkModel(t *testing.T, v vendors.Vendor, m vendors.Model) {
	if m.Vendor != v.Name() {
		t.Errorf("model %s: Vendor = %q, want %q", m.Name, m.Vendor, v.Name())
	}
	if m.Lines < 1 {
		t.Errorf("model %s: Lines = %d", m.Name, m.Lines)
	}
	if m.Kind != "desk" && m.Kind != "dect" {
		t.Errorf("model %s: Kind = %q, want desk or dect", m.Name, m.Kind)
	}
	if m.Keys > 0 && len(m.KeyTypes) == 0 {
		t.Errorf("model %s has %d keys but no key types", m.Name, m.Keys)
	}
	for _, mod := range m.Modules {
		if mod.Name == "" || mod.Keys < 1 || mod.Max < 1 {
			t.Errorf("model %s: bad module %+v", m.Name, mod)
		}
	}
}

// checkParams: a driver that takes raw parameters writes them in the
// per-device file, after everything else the file sets (the last
// occurrence of the SIP server comes before them), in the order given;
// and in no common file.
func checkParams(t *testing.T, v vendors.Vendor, m vendors.Model) {
	if _, ok := v.(vendors.ParamChecker); !ok {
		return
	}
	d := SampleDevice(m)
	d.Params = []vendors.Param{{Name: "autoprov_probe_a", Value: "raw-value-1"}, {Name: "autoprov_probe_b", Value: "raw <&> 2"}}
	names := v.Files(d)
	for i, name := range names {
		body := render(t, v, name, d).Body
		a, b := bytes.Index(body, []byte("raw-value-1")), bytes.Index(body, []byte("autoprov_probe_b"))
		if i > 0 {
			if (a >= 0 || b >= 0) && v.Identify(vendors.Request{Path: name}).Kind != vendors.FileDevice {
				t.Errorf("%s %s: raw parameters in %s, not a per-device file", v.Name(), m.Name, name)
			}
			continue
		}
		last := bytes.LastIndex(body, []byte(d.Settings.SIPServer))
		if a < 0 || b < a || last > a {
			t.Errorf("%s %s: raw parameters not written last in %s:\n%s", v.Name(), m.Name, name, body)
		}
		if WellFormed(body) != nil && bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
			t.Errorf("%s %s: %s with raw parameters is not well-formed: %v", v.Name(), m.Name, name, WellFormed(body))
		}
	}
}

func checkRender(t *testing.T, v vendors.Vendor, m vendors.Model) {
	d := SampleDevice(m)
	d.ProvisionUser, d.ProvisionPassword = ProvUser, ProvSecret
	names := v.Files(d)
	if len(names) == 0 {
		t.Fatalf("Files() of a %s is empty", m.Name)
	}
	// The per-device file (the first) must be identified as such.
	id := v.Identify(vendors.Request{Path: names[0]})
	if id.Kind != vendors.FileDevice || id.MAC != d.MAC {
		t.Errorf("Identify(%q) = %+v: want kind device with MAC %s", names[0], id, d.MAC)
	}
	for _, name := range names {
		with := render(t, v, name, d)
		again := render(t, v, name, d)
		if !bytes.Equal(with.Body, again.Body) {
			t.Errorf("%s: two renders differ", name)
		}
		nd := *d
		nd.WithSecrets = false
		without := render(t, v, name, &nd)
		for _, s := range secrets(d) {
			if bytes.Contains(without.Body, []byte(s)) {
				t.Errorf("%s rendered without secrets still contains a secret value", name)
			}
		}
		checkCredential(t, v, name, d, with.Body, without.Body)
		if i := v.Identify(vendors.Request{Path: name}); i.Kind == vendors.FileDevice {
			for _, s := range secrets(d) {
				if !bytes.Contains(with.Body, []byte(s)) {
					t.Errorf("%s rendered with secrets lacks secret %q", name, s)
				}
			}
		} else if !bytes.Equal(with.Body, without.Body) {
			t.Errorf("%s is not a per-device file but depends on WithSecrets", name)
		}
	}
}

// checkCredential: the provisioning credential (user and password) is in
// no file rendered without secrets; with secrets it is in the per-device
// file of a driver that offers one (a vendors.Credentialer with schemes)
// and in no other file, nor in any file of another driver; and with no
// password set neither is rendered.
func checkCredential(t *testing.T, v vendors.Vendor, name string, d *vendors.Device, with, without []byte) {
	t.Helper()
	offers := false
	if c, ok := v.(vendors.Credentialer); ok {
		offers = len(c.ProvisioningAuth()) > 0
	}
	perDevice := v.Identify(vendors.Request{Path: name}).Kind == vendors.FileDevice
	for _, s := range []string{ProvUser, ProvSecret} {
		if bytes.Contains(without, []byte(s)) {
			t.Errorf("%s rendered without secrets contains the provisioning credential (%q)", name, s)
		}
		switch in := bytes.Contains(with, []byte(s)); {
		case offers && perDevice && !in:
			t.Errorf("%s: the per-device file rendered with secrets lacks the provisioning credential (%q)", name, s)
		case !perDevice && in:
			t.Errorf("%s is not the per-device file but contains the provisioning credential (%q)", name, s)
		case !offers && in:
			t.Errorf("%s contains the provisioning credential (%q), but the driver offers none (vendors.Credentialer)", name, s)
		}
	}
	nd := *d
	nd.ProvisionPassword = ""
	if f := render(t, v, name, &nd); bytes.Contains(f.Body, []byte(ProvUser)) {
		t.Errorf("%s renders the provisioning user without a password", name)
	}
}

func secrets(d *vendors.Device) []string {
	var s []string
	for _, l := range d.Lines {
		s = append(s, l.Password)
	}
	return append(s, d.MenuPassword, d.WebPassword)
}

// Render renders the file name of v for d with the suite's checks of
// any rendered file (no error, a content type, no "<no value>",
// well-formed XML when it says XML); tests outside the suite that render
// a driver's files (vendors/all's registry guards) use it too.
func Render(t *testing.T, v vendors.Vendor, name string, d *vendors.Device) *vendors.File {
	t.Helper()
	return render(t, v, name, d)
}

func render(t *testing.T, v vendors.Vendor, name string, d *vendors.Device) *vendors.File {
	t.Helper()
	f, err := v.Render(name, d)
	if err != nil {
		t.Fatalf("Render(%q): %v", name, err)
	}
	if f.ContentType == "" {
		t.Errorf("%s: empty content type", name)
	}
	if bytes.Contains(f.Body, []byte("<no value>")) {
		t.Errorf("%s contains <no value>", name)
	}
	if strings.Contains(f.ContentType, "xml") {
		if err := WellFormed(f.Body); err != nil {
			t.Errorf("%s is not well-formed XML: %v", name, err)
		}
	}
	return f
}

// WellFormed reports whether body parses as one XML document.
func WellFormed(body []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 {
		return fmt.Errorf("%d root elements", roots)
	}
	return nil
}
