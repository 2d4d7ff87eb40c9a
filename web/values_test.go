package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestDeviceWarnings: the device page shows what the phone's files cannot
// carry as asked (here a +8:45 zone the Yealink table lacks, and Poland's
// tones, written as Germany's), and nothing for values written exactly. A
// German admin reads them in German, while the REST API keeps saying the
// driver's English whatever the client's language.
func TestDeviceWarnings(t *testing.T) {
	e := newEnv(t)
	e.adopted()
	e.login()
	csrf := e.csrf()
	path := "/ui/devices/" + phoneMAC
	e.post(path+"/edit", editForm(csrf)).want(t, http.StatusSeeOther, path)
	e.get(path).want(t, http.StatusOK).lacks(t, `id="warnings"`)
	f := editForm(csrf)
	f.Set("timezone", "Australia/Eucla")
	f.Set("tone_scheme", "PL")
	e.post(path+"/edit", f).want(t, http.StatusSeeOther, path)
	zone := "Australia/Eucla is +8:45; the T46S has no such zone: +9 (+9:00) written, 15 minutes off"
	tone := "tone scheme PL (Poland): the T46S has none; Germany written"
	esc := strings.NewReplacer("+", "&#43;").Replace // html/template escapes +
	e.get(path).want(t, http.StatusOK).has(t, `id="warnings"`, "<li>"+esc(zone)+"</li>", "<li>"+esc(tone)+"</li>")

	e.get("/ui/lang/de?back="+path).want(t, http.StatusSeeOther, path)
	e.get(path).want(t, http.StatusOK).
		has(t, `id="warnings"`,
			"<li>"+esc("Australia/Eucla ist +8:45; das T46S hat keine solche Zeitzone: +9 (+9:00) geschrieben, 15 Minuten Abweichung")+"</li>",
			"<li>Tonschema PL (Polen): das T46S hat keine; Germany geschrieben</li>").
		lacks(t, "no such zone", "minutes off", "has none")

	// The API: the English sentences, unchanged, for a German client too.
	req, err := http.NewRequest("GET", e.ts.URL+"/api/v1/devices/"+phoneMAC, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", "de")
	p := e.do(http.DefaultClient, req).want(t, http.StatusOK)
	var d struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(p.body), &d); err != nil {
		t.Fatalf("API answer %q: %v", p.body, err)
	}
	if !slices.Equal(d.Warnings, []string{zone, tone}) {
		t.Errorf("API warnings %q, want %q", d.Warnings, []string{zone, tone})
	}
}
