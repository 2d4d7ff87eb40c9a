package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/central"
	"github.com/autoprov/autoprov/vendors"
)

var (
	// {{t "..."}} and (t "...") in templates.
	tmplMsg = regexp.MustCompile(`(?:\{\{-?|\()\s*t\s+("(?:[^"\\]|\\.)*")`)
	// u.tr(c, "..."), translate(lang, "..."), tr("..."), Title: "...",
	// u.fail(c, status, "...") in Go.
	goMsg = regexp.MustCompile(`(?:u\.tr\(c,|translate\(lang,|\btr\(|Title:|u\.fail\(c, [^,"]+,)\s*("(?:[^"\\]|\\.)*")`)
)

// dynamicMsgs are texts the templates translate from data ({{t .State}}):
// states, choices and the locale names of the settings.
func dynamicMsgs() []string {
	out := []string{autoprov.StateAssigned, autoprov.StateUnassigned, "all", "Resync", "Reboot",
		autoprov.DisclosureNone, autoprov.CredentialIssued, autoprov.CredentialApplied, autoprov.CredentialUnsupported,
		autoprov.ResyncSent, autoprov.ResyncUnsupported, autoprov.ResyncFailed, autoprov.ResyncNoAddress, autoprov.ResyncNotFound, autoprov.ResyncQueued,
		// Sites by state (the central) and a site's link by state.
		central.SitePending, central.SiteConnected, central.SiteDisconnected, central.SiteRevoked,
		central.StateNone, central.StateGrace, central.StateExpired,
		"MAC", "Vendor", "Model", "Label", "Last seen", "device", "model default",
		// The onboarding details the core words itself (redirect.go).
		"found on the network (its own fetch, DHCP, plug-and-play) or added by hand", "the phone presented its own credential", "its secrets went out"}
	// The error page's title: http.StatusText of each status u.fail and
	// u.explain answer with.
	for _, code := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
		http.StatusRequestEntityTooLarge, http.StatusInternalServerError} {
		out = append(out, http.StatusText(code))
	}
	out = append(out, autoprov.OnboardingStates...)
	out = append(out, firmwareFilters...)
	for _, l := range keyTypeLabels {
		out = append(out, l)
	}
	for _, s := range seenFilters {
		out = append(out, s.Label)
	}
	for _, m := range []map[string]string{vendors.Languages, vendors.ToneSchemes} {
		for _, v := range m {
			out = append(out, v)
		}
	}
	return out
}

// usedMsgs collects every text the UI translates.
func usedMsgs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	add := func(q string) {
		s, err := strconv.Unquote(q)
		if err != nil {
			t.Fatalf("unquote %s: %v", q, err)
		}
		seen[s] = true
	}
	err := fs.WalkDir(assets, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, p)
		for _, m := range tmplMsg.FindAllSubmatch(b, -1) {
			add(string(m[1]))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	gos, _ := filepath.Glob("*.go")
	for _, p := range gos {
		if strings.HasSuffix(p, "_test.go") || p == "catalog_de.go" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goMsg.FindAllSubmatch(b, -1) {
			add(string(m[1]))
		}
	}
	for _, s := range dynamicMsgs() {
		seen[s] = true
	}
	// The core's messages (vendors.Text) the UI translates.
	for _, s := range coreFormats(t) {
		seen[s] = true
	}
	var out []string
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// TestCatalogueComplete: every text the UI shows has its German entry
// with the same format verbs, and the catalogue holds nothing unused. A
// page added later fails here until its texts are in catalog_de.go
// (AUTOPROV_I18N_MISSING=1 prints the missing ones as Go lines).
func TestCatalogueComplete(t *testing.T) {
	used := usedMsgs(t)
	var missing []string
	for _, s := range used {
		de, ok := catalogueDE[s]
		if !ok {
			missing = append(missing, fmt.Sprintf("\t%q: %q,", s, s))
			continue
		}
		if a, b := verb.FindAllString(s, -1), verb.FindAllString(de, -1); !slices.Equal(a, b) {
			t.Errorf("%q: German %q has verbs %v, want %v", s, de, b, a)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("AUTOPROV_I18N_MISSING") != "" {
			fmt.Println(strings.Join(missing, "\n"))
		}
		t.Errorf("%d texts lack a German entry in catalog_de.go, e.g. %s", len(missing), missing[0])
	}
	for k := range catalogueDE {
		if !slices.Contains(used, k) {
			t.Errorf("catalogue entry %q is not used by any page", k)
		}
	}
	if len(used) < 100 {
		t.Errorf("only %d texts found: the extraction is broken", len(used))
	}
}

// germanTerms are the product's words and their German, which every
// German text that speaks of the thing uses (the UI's labels and the
// core's messages were written apart, and an admin who reads
// "Durchwahl" on the form and "Nebenstelle" in its error wonders whether
// they are two things): an English text matching the pattern has a German
// one matching the German pattern, or keeps the English word as it is (a
// field or column name as the API spells it).
var germanTerms = []struct{ en, de string }{
	{`(?i)\bextensions?\b`, `Nebenstelle`},
	{`(?i)\bkey profiles?\b`, `Tastenprofil`},
	{`(?i)\bdevices?\b`, `Gerät`},
	{`(?i)\baccounts?\b`, `Kont[oe]`},
	{`(?i)\bresync`, `abruf`},
	{`(?i)\bgrace\b`, `Karenzzeit`},
	{`(?i)\bsecret windows?\b`, `Geheimnisfenster`},
	{`(?i)(^|[^-\w])sites?\b`, `Standort`},
	{`(?i)\badopt`, `übernahme|übernehm|übernimm|übernomm`},
	{`(?i)\bvendors?\b`, `Hersteller`},
	{`(?i)\btone schemes?\b`, `Tonschema`},
}

// TestGermanTerms: the German catalogue (the UI's and the core's) says
// each of the product's things with one word (germanTerms).
func TestGermanTerms(t *testing.T) {
	for _, term := range germanTerms {
		en, de := regexp.MustCompile(term.en), regexp.MustCompile(`(?i)`+term.de)
		n := 0
		for e, g := range catalogueDE {
			w := en.FindString(e)
			if w == "" {
				continue
			}
			n++
			if !de.MatchString(g) && !strings.Contains(g, strings.TrimLeftFunc(w, func(r rune) bool { return !unicode.IsLetter(r) })) {
				t.Errorf("%q: German %q does not say %s", e, g, term.de)
			}
		}
		if n == 0 {
			t.Errorf("no text speaks of %s: the pattern is wrong", term.en)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                        "en",
		"de":                      "de",
		"de-DE,de;q=0.9,en;q=0.8": "de",
		"en-US,en;q=0.9,de;q=0.8": "en",
		"fr-FR,fr;q=0.9,de;q=0.5": "de",
		"fr":                      "en",
		"en;q=0.2, de;q=0.7":      "de",
		"de;q=0, en;q=0.1":        "en",
		"de;q=bogus, en":          "en",
		"*":                       "en",
	} {
		if got := acceptLanguage(h); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", h, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/ui/", nil)
	r.Header.Set("Accept-Language", "de")
	r.AddCookie(&http.Cookie{Name: langCookie, Value: "en"})
	if got := pickLang(r); got != "en" {
		t.Errorf("the switch's cookie en with Accept-Language de: %s, want en", got)
	}
}

func TestLocalBack(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/devices?q=1": "/ui/devices?q=1", "": "/ui/", "//evil.example/ui/": "/ui/", "https://evil.example/": "/ui/",
		"/ui//evil.example": "/ui/", "/ui/\\evil": "/ui/", "/api/v1/devices": "/ui/",
	} {
		if got := localBack(in); got != want {
			t.Errorf("localBack(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestInheritIsNotAdopt: the empty choice of a device's language, web
// language and tone scheme (English "inherit": the fleet's setting) does
// not say "übernehmen" in German, the word of the inbox's Adopt button:
// "Sprache: übernehmen" read as an action, not as "as the fleet".
func TestInheritIsNotAdopt(t *testing.T) {
	de, ok := catalogueDE["inherit"]
	if !ok {
		t.Fatal(`no German for "inherit"`)
	}
	if strings.Contains(strings.ToLower(de), "übernehm") || strings.EqualFold(de, catalogueDE["Adopt"]) {
		t.Errorf(`German of "inherit" is %q, the verb of adopting a phone`, de)
	}
}
