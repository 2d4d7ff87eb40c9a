package main

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

// Acceptance tests for function keys, key profiles, locale and the company
// directory, against the real server over HTTP.

const (
	bobPass   = "Sip-Pass-202-bob"
	carolPass = "Sip-Pass-203-carol"
)

// key, device, profile and settingsJSON are the parts of the API's JSON these
// tests read and write.
type key struct {
	Position   int    `json:"position"`
	Module     int    `json:"module,omitempty"`
	Type       string `json:"type"`
	Account    string `json:"account,omitempty"`
	Line       int    `json:"line,omitempty"`
	Value      string `json:"value,omitempty"`
	Label      string `json:"label,omitempty"`
	PickupCode string `json:"pickup_code,omitempty"`
}

type overrides struct {
	NTPServer   string `json:"ntp_server,omitempty"`
	Timezone    string `json:"timezone,omitempty"`
	Language    string `json:"language,omitempty"`
	WebLanguage string `json:"web_language,omitempty"`
	ToneScheme  string `json:"tone_scheme,omitempty"`
}

type device struct {
	Keys      []key     `json:"keys"`
	Overrides overrides `json:"overrides"`
}

type profile struct {
	Keys []key `json:"keys"`
}

type settingsJSON struct {
	Timezone string `json:"timezone"`
	Language string `json:"language"`
}

// TestKeysYealinkLayoutAndModels checks acceptance 1: a T54W with line,
// BLF (labelled by the monitored account), speed dial and an EXP50 key,
// and the T54W's capabilities in GET /api/v1/models.
func TestKeysYealinkLayoutAndModels(t *testing.T) {
	s := start(t)
	people(s)
	p := phone{"805ec0aabb01", "yealink", "T54W"}
	p.add(s)

	var dev device
	s.must(200, "PUT", "/api/v1/devices/"+p.mac+"/keys", []key{
		{Position: 1, Type: "line", Account: "201"},
		{Position: 2, Type: "blf", Account: "201", Value: "202"},
		{Position: 3, Type: "speed_dial", Value: "+4930123", Label: "Office"},
		{Module: 1, Position: 1, Type: "blf", Value: "203"},
	}, &dev)
	if len(dev.Keys) != 4 {
		t.Fatalf("stored keys: %+v", dev.Keys)
	}
	body := p.fetch(s)
	hasLines(t, body,
		"linekey.1.type = 15", "linekey.1.line = 1",
		"linekey.2.type = 16", "linekey.2.line = 1", "linekey.2.value = 202", "linekey.2.label = Bob Builder",
		"linekey.3.type = 13", "linekey.3.line = 1", "linekey.3.value = +4930123", "linekey.3.label = Office",
		"linekey.4.type = 0", "linekey.27.type = 0",
		"expansion_module.1.key.1.type = 16", "expansion_module.1.key.1.line = 1",
		"expansion_module.1.key.1.value = 203", "expansion_module.1.key.1.label = Carol & Co",
		// Free module positions are cleared, so a removed key goes away.
		"expansion_module.1.key.2.type = 0", "expansion_module.3.key.60.type = 0")
	lacks(t, body, "linekey.28.", "linekey.2.extension", "expansion_module.4.", "expansion_module.1.key.61.",
		"expansion_module.2.key.1.value", "expansion_module.1.key.2.value")

	var models []vendors.Model
	s.must(200, "GET", "/api/v1/models", nil, &models)
	i := slices.IndexFunc(models, func(m vendors.Model) bool { return m.Vendor == "yealink" && m.Name == "T54W" })
	if i < 0 {
		t.Fatalf("T54W not in /api/v1/models")
	}
	m := models[i]
	if m.Keys != 27 || len(m.Modules) != 1 || m.Modules[0].Name != "EXP50" || m.Modules[0].Keys != 60 || m.Modules[0].Max != 3 {
		t.Errorf("T54W capabilities: keys %d, modules %+v; want 27 keys and EXP50 60×3", m.Keys, m.Modules)
	}
	for _, kt := range []vendors.KeyType{"line", "blf", "speed_dial", "park", "pickup", "dnd", "forward", "intercom", "dtmf", "url", "voicemail"} {
		if !m.Supports(kt) {
			t.Errorf("T54W does not list key type %s: %v", kt, m.KeyTypes)
		}
	}
	s.leaks(sipPass, bobPass, carolPass)
}

// TestKeysSnomAndMaxwellBLF checks acceptance 2: BLF keys (with and
// without pickup code) on a Snom D785 and a Gigaset Maxwell 3.
func TestKeysSnomAndMaxwellBLF(t *testing.T) {
	s := start(t)
	people(s)
	snom := phone{"000413aabb02", "snom", "D785"}
	maxwell := phone{"7c2f80aabb04", "gigaset", "Maxwell 3"}
	snom.add(s)
	maxwell.add(s)

	cases := []struct {
		p    phone
		keys []key
		want []string
		not  []string
	}{
		{snom, []key{
			{Position: 2, Type: "blf", Account: "201", Value: "202"},
			{Position: 3, Type: "blf", Value: "202", PickupCode: "*8", Label: "Bob pickup"},
		}, []string{
			`<fkey idx="1" context="1" label="Bob Builder" perm="R">blf 202</fkey>`,
			`<fkey idx="2" context="active" label="Bob pickup" perm="R">blf 202|*8</fkey>`,
			`<fkey idx="3" context="active" label="" perm="R">none</fkey>`,
			`<fkey idx="23" context="active" label="" perm="R">none</fkey>`,
		}, []string{`fkey idx="96"`, `idx="24" context="active" label="" perm="R">blf`}},
		{maxwell, []key{
			{Position: 2, Type: "blf", Account: "201", Value: "202", PickupCode: "*8"},
		}, []string{
			`<param name="PhoneUI.Keys.FunctionKeys.0.Type" value="0"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.0.Connection" value="0"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.1.Type" value="4"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.1.DisplayName" value="Bob Builder"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.1.PhoneNumber" value="202"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.1.CallPickupCode" value="*8"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.2.Type" value="-1"/>`,
			`<param name="PhoneUI.Keys.FunctionKeys.7.Type" value="-1"/>`,
		}, []string{"FunctionKeys.8."}},
	}
	for _, c := range cases {
		t.Run(c.p.model, func(t *testing.T) {
			s.must(200, "PUT", "/api/v1/devices/"+c.p.mac+"/keys", c.keys, nil)
			body := c.p.fetch(s)
			hasLines(t, body, c.want...)
			lacks(t, body, c.not...)
		})
	}
	s.leaks(sipPass, bobPass, carolPass)
}

// TestKeysRefused checks acceptance 3: keys a model cannot take are refused
// with 400 naming each key and the reason, and nothing is stored.
func TestKeysRefused(t *testing.T) {
	s := start(t)
	people(s)
	setup(s, "805ec0aabb21", "T31G")
	setup(s, "7c2f80aabb22", "N870")
	setup(s, "805ec0aabb23", "T54W")
	// A valid key first, so "nothing stored" means "still the old keys".
	prior := []key{{Position: 2, Type: "speed_dial", Value: "100", Label: "Desk"}}
	s.must(200, "PUT", "/api/v1/devices/805ec0aabb21/keys", prior, nil)
	s.must(200, "PUT", "/api/v1/devices/805ec0aabb23/keys", prior, nil)

	cases := []struct {
		name, mac string
		body      any
		details   []string // one substring per refused key, in order
	}{
		{"T31G position 40", "805ec0aabb21", []key{{Position: 40, Type: "blf", Value: "202"}},
			[]string{"key 1 (blf at position 40): position must be between 1 and 2 on the T31G"}},
		{"N870 BLF", "7c2f80aabb22", []key{{Position: 1, Type: "blf", Value: "202"}},
			[]string{"key 1 (blf at position 1): the N870 has no programmable keys"}},
		{"several bad keys", "805ec0aabb23", map[string]any{"keys": []key{
			{Position: 40, Type: "blf", Value: "202"},
			{Position: 2, Type: "teleport"},
			{Position: 3, Type: "blf"},
			{Module: 4, Position: 1, Type: "blf", Value: "202"},
			{Position: 5, Type: "speed_dial", Value: "1"}, // fine, but the request fails as a whole
		}}, []string{
			"key 1 (blf at position 40): position must be between 1 and 27 on the T54W",
			`key 2 (teleport at position 2): unknown key type "teleport"`,
			"key 3 (blf at position 3): blf key needs a monitored extension in value",
			"key 4 (blf at module 4 position 1): the T54W takes at most 3 EXP50 modules",
		}},
		{"account not on the device", "805ec0aabb23", []key{{Position: 2, Type: "blf", Account: "203", Value: "202"}},
			[]string{"key 1 (blf at position 2): account 203 is not on the device"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before device
			s.must(200, "GET", "/api/v1/devices/"+c.mac, nil, &before)
			e := s.fail(400, "PUT", "/api/v1/devices/"+c.mac+"/keys", c.body)
			if e.Field != "keys" || len(e.Details) != len(c.details) {
				t.Errorf("field %q, details %q; want field keys and %d details", e.Field, e.Details, len(c.details))
			}
			for i, want := range c.details {
				if !strings.Contains(e.Error, want) {
					t.Errorf("message %q does not say %q", e.Error, want)
				}
				if i < len(e.Details) && !strings.Contains(e.Details[i], want) {
					t.Errorf("details[%d] = %q, want %q", i, e.Details[i], want)
				}
			}
			var after device
			s.must(200, "GET", "/api/v1/devices/"+c.mac, nil, &after)
			if fmt.Sprint(after.Keys) != fmt.Sprint(before.Keys) {
				t.Errorf("keys changed by a refused request: %+v -> %+v", before.Keys, after.Keys)
			}
		})
	}
	s.leaks(sipPass, bobPass, carolPass)
}

// TestKeysLabelFollowsRename checks acceptance 4: renaming the monitored
// account relabels an unlabelled BLF key on the next fetch (Yealink, Snom).
func TestKeysLabelFollowsRename(t *testing.T) {
	s := start(t)
	people(s)
	yea := phone{"805ec0aabb31", "yealink", "T54W"}
	snom := phone{"000413aabb32", "snom", "D785"}
	blf := []key{{Position: 2, Type: "blf", Account: "201", Value: "202"}}
	for _, p := range []phone{yea, snom} {
		p.add(s)
		s.must(200, "PUT", "/api/v1/devices/"+p.mac+"/keys", blf, nil)
	}
	label := map[string]func(string) string{
		"T54W": func(n string) string { return "linekey.2.label = " + n },
		"D785": func(n string) string { return `<fkey idx="1" context="1" label="` + n + `" perm="R">blf 202</fkey>` },
	}
	for _, p := range []phone{yea, snom} {
		hasLines(t, p.fetch(s), label[p.model]("Bob Builder"))
	}
	s.must(200, "PATCH", "/api/v1/accounts/202", map[string]any{"display_name": "Robert Builder"}, nil)
	for _, p := range []phone{yea, snom} {
		body := p.fetch(s)
		hasLines(t, body, label[p.model]("Robert Builder"))
		lacks(t, body, "Bob Builder")
	}
	s.leaks(sipPass, bobPass, carolPass)
}

// TestKeyProfiles checks acceptance 5: a shared profile of 10 BLF keys,
// device keys overriding it per position, updates validated against every
// device using it, and no deleting a profile in use.
func TestKeyProfiles(t *testing.T) {
	s := start(t)
	people(s)
	yea := phone{"805ec0aabb41", "yealink", "T54W"} // 27 keys
	snom := phone{"000413aabb42", "snom", "D785"}   // 24 keys
	yea.add(s)
	snom.add(s)

	var reception []key
	for i := 1; i <= 10; i++ {
		reception = append(reception, key{Position: i + 1, Type: "blf", Line: 1, Value: fmt.Sprint(300 + i), Label: fmt.Sprint("Room ", i)})
	}
	s.must(201, "POST", "/api/v1/key-profiles", map[string]any{"name": "reception", "description": "front desk", "keys": reception}, nil)
	for _, p := range []phone{yea, snom} {
		s.must(200, "PATCH", "/api/v1/devices/"+p.mac, map[string]any{"key_profile": "reception"}, nil)
	}
	want := func(p phone, pos, room int) []string {
		n := fmt.Sprint(300 + room)
		if p.vendor == "snom" {
			return []string{fmt.Sprintf(`<fkey idx="%d" context="1" label="Room %d" perm="R">blf %s</fkey>`, pos-1, room, n)}
		}
		return []string{fmt.Sprintf("linekey.%d.type = 16", pos), fmt.Sprintf("linekey.%d.line = 1", pos),
			fmt.Sprintf("linekey.%d.value = %s", pos, n), fmt.Sprintf("linekey.%d.label = Room %d", pos, room)}
	}
	for _, p := range []phone{yea, snom} {
		body := p.fetch(s)
		for i := 1; i <= 10; i++ {
			hasLines(t, body, want(p, i+1, i)...)
		}
	}

	// The Yealink's own key at 12 (free in the profile) is fine; a profile
	// update that adds 12 is accepted, and the device's key still wins there.
	s.must(200, "PUT", "/api/v1/devices/"+yea.mac+"/keys", []key{{Position: 12, Type: "dnd", Label: "DND"}}, nil)
	updated := append(slices.Clone(reception), key{Position: 12, Type: "blf", Line: 1, Value: "311", Label: "Room 11"})
	updated[9].Label = "Room X"
	if code, out := s.api("PUT", "/api/v1/key-profiles/reception", map[string]any{"keys": updated}); code != 200 {
		t.Errorf("profile update both devices can take: %d %s; want 200", code, out)
	}
	hasLines(t, snom.fetch(s), `<fkey idx="10" context="1" label="Room X" perm="R">blf 310</fkey>`,
		`<fkey idx="11" context="1" label="Room 11" perm="R">blf 311</fkey>`)
	hasLines(t, yea.fetch(s), "linekey.12.type = 5", "linekey.12.label = DND", "linekey.11.label = Room X")

	// The Yealink's own key at position 2 wins over the profile's there.
	own := []key{{Position: 2, Type: "speed_dial", Value: "555", Label: "Boss"}, {Position: 12, Type: "dnd", Label: "DND"}}
	if code, out := s.api("PUT", "/api/v1/devices/"+yea.mac+"/keys", own); code != 200 {
		t.Errorf("device key over a profile key at the same position: %d %s; want 200", code, out)
	}
	body := yea.fetch(s)
	hasLines(t, body, "linekey.2.type = 13", "linekey.2.value = 555", "linekey.2.label = Boss", "linekey.12.type = 5")
	hasLines(t, body, want(yea, 3, 2)...)
	hasLines(t, snom.fetch(s), want(snom, 2, 1)...)

	// Position 26 fits the T54W but not the D785: refused, profile unchanged.
	var before profile
	s.must(200, "GET", "/api/v1/key-profiles/reception", nil, &before)
	tooFar := append(slices.Clone(before.Keys), key{Position: 26, Type: "blf", Line: 1, Value: "399", Label: "Far"})
	e := s.fail(400, "PUT", "/api/v1/key-profiles/reception", map[string]any{"keys": tooFar})
	if !strings.Contains(e.Error, snom.mac) || !strings.Contains(e.Error, "position must be between 1 and 24 on the D785") || e.Field != "keys" {
		t.Errorf("refusal does not name the device and the reason: %+v", e)
	}
	var after profile
	s.must(200, "GET", "/api/v1/key-profiles/reception", nil, &after)
	if fmt.Sprint(after.Keys) != fmt.Sprint(before.Keys) {
		t.Errorf("refused update changed the profile:\n%+v\n->\n%+v", before.Keys, after.Keys)
	}
	lacks(t, yea.fetch(s), "linekey.26.type = 16")

	// In use: 409; once no device uses it, it can go.
	s.fail(409, "DELETE", "/api/v1/key-profiles/reception", nil)
	s.must(200, "GET", "/api/v1/key-profiles/reception", nil, nil)
	for _, p := range []phone{yea, snom} {
		s.must(200, "PATCH", "/api/v1/devices/"+p.mac, map[string]any{"key_profile": ""}, nil)
	}
	s.must(204, "DELETE", "/api/v1/key-profiles/reception", nil, nil)
	hasLines(t, snom.fetch(s), `<fkey idx="1" context="active" label="" perm="R">none</fkey>`)
	s.leaks(sipPass, bobPass, carolPass)
}

// TestLocalePerVendor checks acceptance 6: Europe/Berlin and German in each
// vendor's own form, a per-device override touching only that device, and
// unknown zones and languages refused with their field.
func TestLocalePerVendor(t *testing.T) {
	s := start(t)
	cases := []struct {
		p               phone
		berlin, newYork []string
	}{
		{phone{"805ec0aabb51", "yealink", "T54W"}, []string{
			"local_time.time_zone = +1", "local_time.summer_time = 1", "local_time.dst_time_type = 1",
			"local_time.start_time = 3/5/7/2", "local_time.end_time = 10/5/7/3", "local_time.offset_time = 60",
			"lang.gui = German",
		}, []string{
			"local_time.time_zone = -5", "local_time.summer_time = 1", "local_time.dst_time_type = 1", "local_time.offset_time = 60",
			"local_time.start_time = 3/2/7/2", "local_time.end_time = 11/1/7/2", "lang.gui = French",
		}},
		{phone{"000413aabb52", "snom", "D785"}, []string{
			`<timezone perm="R">GER+1</timezone>`, `<language perm="R">Deutsch</language>`,
		}, []string{
			`<timezone perm="R">USA-5</timezone>`, `<language perm="R">Français</language>`,
		}},
		{phone{"7c2f80aabb53", "gigaset", "Maxwell 3"}, []string{
			`<param name="System.DateAndTime.TimeZone" value="GMT+1.Europe/Amsterdam"/>`,
			`<param name="System.DateAndTime.AutoAdjustClockForDST" value="AutomatedDaylightSavingEnabled"/>`,
			`<param name="PhoneUI.Settings.Language" value="de-de"/>`,
		}, []string{
			`<param name="System.DateAndTime.TimeZone" value="GMT-5.America/New_York"/>`,
			`<param name="System.DateAndTime.AutoAdjustClockForDST" value="AutomatedDaylightSavingEnabled"/>`,
			`<param name="PhoneUI.Settings.Language" value="fr-fr"/>`,
		}},
		{phone{"7c2f80aabb54", "gigaset", "N870"}, []string{
			`<param name="DmGlobal.0.TimeZone" value="Europe/Berlin"/>`,
		}, []string{
			`<param name="DmGlobal.0.TimeZone" value="America/New_York"/>`,
		}},
	}
	control := phone{"805ec0aabb59", "yealink", "T54W"} // never overridden
	control.add(s)
	for _, c := range cases {
		c.p.add(s)
	}
	berlinYealink := cases[0].berlin
	for _, c := range cases {
		hasLines(t, c.p.fetch(s), c.berlin...)
	}
	for _, c := range cases {
		s.must(200, "PATCH", "/api/v1/devices/"+c.p.mac, map[string]any{"overrides": map[string]string{"timezone": "America/New_York", "language": "fr"}}, nil)
		t.Run(c.p.model, func(t *testing.T) {
			body := c.p.fetch(s)
			hasLines(t, body, c.newYork...)
			for _, l := range c.berlin {
				if !slices.Contains(c.newYork, l) {
					lacks(t, body, l)
				}
			}
		})
	}
	hasLines(t, control.fetch(s), berlinYealink...)

	refused := []struct {
		method, path string
		body         any
		field        string
	}{
		{"PUT", "/api/v1/settings", map[string]any{"timezone": "Mars/Olympus"}, "timezone"},
		{"PUT", "/api/v1/settings", map[string]any{"language": "tlh"}, "language"},
		{"PATCH", "/api/v1/devices/" + control.mac, map[string]any{"overrides": map[string]string{"timezone": "Atlantis/Capital"}}, "timezone"},
		{"PATCH", "/api/v1/devices/" + control.mac, map[string]any{"overrides": map[string]string{"language": "xx"}}, "language"},
	}
	for _, r := range refused {
		if e := s.fail(400, r.method, r.path, r.body); e.Field != r.field {
			t.Errorf("%s %s %v: field %q, want %q", r.method, r.path, r.body, e.Field, r.field)
		}
	}
	var st settingsJSON
	s.must(200, "GET", "/api/v1/settings", nil, &st)
	var dev device
	s.must(200, "GET", "/api/v1/devices/"+control.mac, nil, &dev)
	if st.Timezone != "Europe/Berlin" || st.Language != "de" || dev.Overrides != (overrides{}) {
		t.Errorf("refused changes were stored: settings %s/%s, overrides %+v", st.Timezone, st.Language, dev.Overrides)
	}
	hasLines(t, control.fetch(s), berlinYealink...)
	s.leaks(sipPass)
}

// TestDirectoryPerVendor checks acceptance 7: the directory URL written into
// each phone's file serves well-formed XML listing every account.
func TestDirectoryPerVendor(t *testing.T) {
	s := start(t)
	people(s)
	cases := []struct {
		p     phone
		urlRE string // captures the directory URL in the phone's file
		entry string // format of one entry: name, extension
	}{
		{phone{"805ec0aabb61", "yealink", "T54W"}, `(?m)^remote_phonebook\.data\.1\.url = (\S+)$`,
			`<DirectoryEntry>\s*<Name>%s</Name>\s*<Telephone>%s</Telephone>\s*</DirectoryEntry>`},
		{phone{"000413aabb62", "snom", "D785"}, `<dkey_directory perm="R">url (\S+)</dkey_directory>`,
			`<DirectoryEntry>\s*<Name>%s</Name>\s*<Telephone>%s</Telephone>\s*</DirectoryEntry>`},
		{phone{"7c2f80aabb63", "gigaset", "N870"}, `<param name="XMLDir.1.ServerURL" value="(\S+)"/>`,
			`<entry id="\d+">\s*<ln>%s</ln>\s*<hm>%s</hm>\s*</entry>`},
	}
	accounts := [][2]string{{"Alice Example", "201"}, {"Bob Builder", "202"}, {"Carol &amp; Co", "203"}}
	for _, c := range cases {
		c.p.add(s)
		t.Run(c.p.model, func(t *testing.T) {
			m := regexp.MustCompile(c.urlRE).FindStringSubmatch(c.p.fetch(s))
			want := s.base + "/prov/directory/" + c.p.vendor + "/" + url.PathEscape(c.p.model) + ".xml"
			if m == nil || m[1] != want {
				t.Fatalf("directory URL %q, want %q", m, want)
			}
			code, body, hdr := s.get(strings.TrimPrefix(m[1], s.base), c.p.ua())
			if code != 200 || !strings.Contains(hdr.Get("Content-Type"), "xml") {
				t.Fatalf("%s: %d %s", m[1], code, hdr.Get("Content-Type"))
			}
			if err := vendortest.WellFormed(body); err != nil {
				t.Fatalf("directory not well-formed: %v\n%s", err, body)
			}
			for _, a := range accounts {
				re := fmt.Sprintf(c.entry, regexp.QuoteMeta(a[0]), a[1])
				if !regexp.MustCompile(re).Match(body) {
					t.Errorf("directory lacks %s <%s>:\n%s", a[0], a[1], body)
				}
			}
			if n := len(regexp.MustCompile(fmt.Sprintf(c.entry, `[^<]*`, `[^<]*`)).FindAll(body, -1)); n != len(accounts) {
				t.Errorf("directory has %d entries, want %d:\n%s", n, len(accounts), body)
			}
		})
	}
	s.leaks(sipPass, bobPass, carolPass)
}

// ---- helpers ----

// people adds accounts 202 and 203 next to setup's 201.
func people(s *server) {
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob Builder", "password": bobPass}, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "203", "display_name": "Carol & Co", "password": carolPass}, nil)
}

// add puts the settings, account 201 and the phone (with account 201) on
// the server, like setup but naming the vendor.
func (p phone) add(s *server) {
	s.t.Helper()
	s.must(200, "PUT", "/api/v1/settings", settings, nil)
	if code, _ := s.api("GET", "/api/v1/accounts/201", nil); code == 404 {
		s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice Example", "password": sipPass}, nil)
	}
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": p.mac, "vendor": p.vendor, "model": p.model, "accounts": []string{"201"}}, nil)
}

// phone is a device as the tests fetch it: MAC (12 lower-case hex digits),
// vendor and model.
type phone struct{ mac, vendor, model string }

func (p phone) colonMAC() string {
	var parts []string
	for i := 0; i < 12; i += 2 {
		parts = append(parts, p.mac[i:i+2])
	}
	return strings.Join(parts, ":")
}

// ua is the User-Agent the phone sends.
func (p phone) ua() string {
	up := strings.ToUpper(p.mac)
	switch {
	case p.vendor == "yealink":
		return fmt.Sprintf("Yealink SIP-%s 96.86.0.100 %s", p.model, p.colonMAC())
	case p.vendor == "snom":
		return fmt.Sprintf("Mozilla/4.0 (compatible; snom%s-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) %s SXM:0 UXM:0 UXMC:0)", p.model, up)
	case strings.HasPrefix(p.model, "Maxwell"):
		return fmt.Sprintf("Gigaset %s 2.41.0 %s", p.model, strings.ToUpper(p.colonMAC()))
	}
	return fmt.Sprintf("Gigaset %s IP PRO/83.V2.43.0+build.5f0a106;%s", p.model, up)
}

// fetch gets the phone's per-device file over HTTP; XML must be well-formed.
// Like the phone, it keeps the provisioning credential its secrets carried
// and presents it when challenged (as it must once that transfer is
// complete).
func (p phone) fetch(s *server) string {
	s.t.Helper()
	path := "/prov/" + strings.ToUpper(p.mac) + ".xml"
	if p.vendor == "yealink" {
		path = "/prov/" + p.mac + ".cfg"
	}
	mac := strings.ToLower(p.mac)
	s.mu.Lock()
	pass := s.creds[mac]
	s.mu.Unlock()
	code, body, _ := s.getAs(path, p.ua(), mac, pass)
	if m := provCred.FindSubmatch(body); code == 200 && m != nil {
		s.mu.Lock()
		if s.creds == nil {
			s.creds = map[string]string{}
		}
		s.creds[mac] = string(m[1]) + string(m[2])
		s.mu.Unlock()
	}
	if code != 200 {
		s.t.Fatalf("%s %s: status %d: %s", p.model, path, code, body)
	}
	if p.vendor != "yealink" {
		if err := vendortest.WellFormed(body); err != nil {
			s.t.Fatalf("%s %s: %v\n%s", p.model, path, err, body)
		}
	}
	return string(body)
}

// apiErr is the API's error body.
type apiErr struct {
	Error   string   `json:"error"`
	Field   string   `json:"field"`
	Details []string `json:"details"`
}

// fail calls the API expecting the error status want and returns the error body.
func (s *server) fail(want int, method, path string, body any) apiErr {
	s.t.Helper()
	var e apiErr
	s.must(want, method, path, body, &e)
	if e.Error == "" {
		s.t.Errorf("%s %s: %d without an error message", method, path, want)
	}
	return e
}

// hasLines fails unless every wanted line is a whole line of body
// (leading and trailing white space aside).
func hasLines(t *testing.T, body string, want ...string) {
	t.Helper()
	lines := map[string]bool{}
	for l := range strings.SplitSeq(body, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	var missing []string
	for _, w := range want {
		if !lines[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("file lacks the lines\n\t%s\nfile:\n%s", strings.Join(missing, "\n\t"), body)
	}
}

// lacks fails when body contains any of the strings.
func lacks(t *testing.T, body string, not ...string) {
	t.Helper()
	for _, n := range not {
		if strings.Contains(body, n) {
			t.Errorf("file contains %q", n)
		}
	}
}
