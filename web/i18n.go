package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// The UI speaks English and German. The English text is the message id:
// templates write {{t "Devices"}} (or {{t "%d of %d" .From .Total}}), Go
// code u.tr(c, "Device saved."), and the German catalogue (catalog_de.go)
// maps each English text to its German one. A text without a German entry
// is shown in English, and TestCatalogueComplete fails, so a page added
// later is translated by adding its texts there. See web/README.md.

// Languages of the UI; the first is the default.
var uiLangs = []string{"en", "de"}

// catalogues holds, per language other than English, English text ->
// translation.
var catalogues = map[string]map[string]string{"de": catalogueDE}

const (
	langCookie = "autoprov_lang"
	langKey    = "web.lang" // the request's language in the gin context
)

// translate returns msg in lang, formatted with args (fmt verbs) when
// there are any.
func translate(lang, msg string, args ...any) string {
	if m, ok := catalogues[lang][msg]; ok {
		msg = m
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// translateText words a message of the core (vendors.Text) in lang: its
// English format through the catalogue, filled in with its arguments, of
// which a Text or a *vendors.TextError is translated the same way. The
// API says the English (t.String()); a format without a German entry
// stays English (TestCatalogueComplete finds the formats in the source).
func translateText(lang string, t vendors.Text) string {
	args := make([]any, len(t.Args))
	for i, a := range t.Args {
		switch v := a.(type) {
		case vendors.Text:
			args[i] = translateText(lang, v)
		case *vendors.TextError:
			args[i] = translateTextError(lang, v)
		default:
			args[i] = a
		}
	}
	f := t.Format
	if m, ok := catalogues[lang][f]; ok {
		f = m
	}
	return fmt.Sprintf(f, args...)
}

// translateTextError words e in lang: its Text, then its cause's English
// (a cause is a sentinel such as "conflict"; explain drops that one).
func translateTextError(lang string, e *vendors.TextError) string {
	if e.Err == nil {
		return translateText(lang, e.Text)
	}
	return translateText(lang, e.Text) + ": " + e.Err.Error()
}

// errText is err in lang: translated when err is a *vendors.TextError
// that no other error wraps with context of its own (the whole message
// is the Text), else its English.
func errText(lang string, err error) string {
	var te *vendors.TextError
	if errors.As(err, &te) && te.Error() == err.Error() {
		return translateTextError(lang, te)
	}
	return err.Error()
}

// textOr is t in lang, or en (the English of a message built without a
// Text) when t has no Format.
func textOr(lang string, t vendors.Text, en string) string {
	if t.Format == "" {
		return en
	}
	return translateText(lang, t)
}

// invalid is a refused input's message in the request's language: its
// Text translated, or its English Message when it was built without one.
func (u *UI) invalid(c *gin.Context, inv *autoprov.InvalidError) string {
	return textOr(u.lang(c), inv.Text, inv.Message)
}

// bulkRow is a bulk change's refused row's message in the request's
// language.
func (u *UI) bulkRow(c *gin.Context, r autoprov.BulkRowError) string {
	return textOr(u.lang(c), r.Text, r.Message)
}

// tr translates msg into the request's language.
func (u *UI) tr(c *gin.Context, msg string, args ...any) string {
	return translate(u.lang(c), msg, args...)
}

// lang is the request's language: the switch's cookie, else the best of
// Accept-Language the UI speaks, else English.
func (u *UI) lang(c *gin.Context) string {
	if l, ok := c.Get(langKey); ok {
		return l.(string)
	}
	l := pickLang(c.Request)
	c.Set(langKey, l)
	return l
}

func pickLang(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && slices.Contains(uiLangs, ck.Value) {
		return ck.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage picks the UI language an Accept-Language header prefers
// most (by q, then by order), English when it names none of them.
func acceptLanguage(h string) string {
	best, bestQ := uiLangs[0], 0.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if slices.Contains(uiLangs, base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// setLang is the language switch: GET /ui/lang/{de|en}?back=/ui/...
// remembers the choice in a cookie for a year and goes back to the page.
// It changes nothing on the server, so it needs no session or CSRF token.
func (u *UI) setLang(c *gin.Context) {
	l := c.Param("lang")
	if !slices.Contains(uiLangs, l) {
		u.fail(c, http.StatusNotFound, "No such language.")
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusSeeOther, localBack(c.Query("back")))
}

// localBack keeps a back link on this UI: a path under /ui/ (never
// "//host" or a scheme), else /ui/.
func localBack(back string) string {
	if !strings.HasPrefix(back, "/ui/") || strings.ContainsAny(back, "\\\r\n") || strings.Contains(back, "//") {
		return "/ui/"
	}
	return back
}

// zones caches the fleet's time zone by its IANA name.
type zones struct {
	mu   sync.Mutex
	name string
	loc  *time.Location
}

// set makes name (an IANA name; "" or an unknown one: UTC) the zone times
// are shown in.
func (z *zones) set(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.loc != nil && z.name == name {
		return
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	z.name, z.loc = name, loc
}

// current is the zone times are shown in.
func (z *zones) current() *time.Location {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.loc == nil {
		return time.UTC
	}
	return z.loc
}
