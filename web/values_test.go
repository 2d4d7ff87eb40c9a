package web_test

import (
	"net/http"
	"testing"
)

// TestDeviceWarnings: the device page shows what the phone's files cannot
// carry as asked (here a +8:45 zone the Yealink table lacks), and nothing
// for a zone written exactly.
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
	e.post(path+"/edit", f).want(t, http.StatusSeeOther, path)
	e.get(path).want(t, http.StatusOK).has(t, `id="warnings"`,
		"Australia/Eucla is &#43;8:45; the T46S has no such zone: &#43;9 (&#43;9:00) written, 15 minutes off") // html/template escapes +
}
