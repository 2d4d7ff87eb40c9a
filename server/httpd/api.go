package httpd

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// apiError is the JSON body of every API error.
type apiError struct {
	Error   string   `json:"error"`
	Field   string   `json:"field,omitempty"`
	Details []string `json:"details,omitempty"`
}

func (s *Server) routes(api *gin.RouterGroup) {
	api.GET("/settings", s.getSettings)
	api.PUT("/settings", s.putSettings)

	api.GET("/accounts", s.listAccounts)
	api.POST("/accounts", s.createAccount)
	api.GET("/accounts/:ext", s.getAccount)
	api.PATCH("/accounts/:ext", s.patchAccount)
	api.DELETE("/accounts/:ext", s.deleteAccount)

	api.GET("/devices", s.listDevices)
	api.POST("/devices", s.createDevice)
	api.GET("/devices/:mac", s.getDevice)
	api.PATCH("/devices/:mac", s.patchDevice)
	api.DELETE("/devices/:mac", s.deleteDevice)
	api.PUT("/devices/:mac/keys", s.putKeys)
	api.POST("/devices/:mac/disclosure", s.openDisclosure)
	api.GET("/devices/:mac/files", s.listFiles)
	api.GET("/devices/:mac/files/:name", s.previewFile)

	api.GET("/models", s.listModels)
	api.GET("/models/:vendor/:model/params", s.getModelParams)
	api.PUT("/models/:vendor/:model/params", s.putModelParams)

	api.GET("/key-profiles", s.listProfiles)
	api.POST("/key-profiles", s.createProfile)
	api.GET("/key-profiles/:name", s.getProfile)
	api.PUT("/key-profiles/:name", s.putProfile)
	api.DELETE("/key-profiles/:name", s.deleteProfile)

	api.GET("/audit", s.listAudit)

	api.GET("/inbox/stats", s.inboxStats)

	api.POST("/bulk", s.bulk)
	api.POST("/devices/:mac/resync", s.resyncDevice)
	api.POST("/resync", s.resyncMany)
	s.redirectRoutes(api)
	s.toolRoutes(api) // admintools.go
}

// resyncDevice tells one phone to fetch its configuration now: 200 with
// the result (sent, unsupported, failed), 404, or 409 when no address of
// the phone is known. It waits at most about 2 s for the phone.
func (s *Server) resyncDevice(c *gin.Context) {
	if s.cfg.Resync == nil {
		s.fail(c, autoprov.ErrNotFound)
		return
	}
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	var in resyncInputJSON
	if c.Request.ContentLength != 0 {
		if err := bind(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	r, err := s.cfg.Resync.ResyncDevice(c.Request.Context(), mac, in.Reboot, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, resyncOut(r))
}

// resyncMany resyncs many phones at once: one result per MAC.
func (s *Server) resyncMany(c *gin.Context) {
	if s.cfg.Resync == nil {
		s.fail(c, autoprov.ErrNotFound)
		return
	}
	var in bulkResyncInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	rs, err := s.cfg.Resync.Resync(c.Request.Context(), in.MACs, in.Reboot, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := bulkResyncJSON{Results: make([]resyncJSON, len(rs))}
	for i, r := range rs {
		out.Results[i] = resyncOut(r)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) inboxStats(c *gin.Context) {
	if s.cfg.Inbox == nil {
		s.fail(c, autoprov.ErrNotFound)
		return
	}
	st, err := s.cfg.Inbox.InboxStats(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, inboxStatsOut(st))
}

// actor names who made an admin change, for the audit log.
// A request the central sent over this site's link is the central's.
func actor(c *gin.Context) string {
	if a, ok := linkActor(c); ok {
		return a
	}
	return "api@" + c.ClientIP()
}

// fail answers an error as JSON: 400 for invalid input, 404, 409, 413, else
// 500 with the detail only in the log.
func (s *Server) fail(c *gin.Context, err error) {
	var inv *autoprov.InvalidError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &inv):
		c.JSON(http.StatusBadRequest, apiError{Error: inv.Message, Field: inv.Field, Details: inv.Details})
	case errors.As(err, &tooBig):
		c.JSON(http.StatusRequestEntityTooLarge, apiError{Error: "request body too large"})
	case errors.Is(err, autoprov.ErrNotFound):
		c.JSON(http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, autoprov.ErrConflict):
		c.JSON(http.StatusConflict, apiError{Error: err.Error()})
	default:
		s.log.Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		c.JSON(http.StatusInternalServerError, apiError{Error: "internal error"})
	}
}

// bind decodes a JSON body strictly: unknown fields and trailing data are
// refused, so a typo does not silently do nothing.
func bind(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// decodeStrict is bind's decoding of body into v.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var synErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return &autoprov.InvalidError{Field: typeErr.Field, Message: typeMessage(reflect.TypeOf(v), typeErr)}
		case errors.As(err, &synErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return &autoprov.InvalidError{Message: "request body is not valid JSON"}
		}
		if msg := err.Error(); len(msg) > 20 && msg[:20] == "json: unknown field " {
			f := msg[20:]
			if len(f) > 1 && f[0] == '"' {
				f = f[1 : len(f)-1]
			}
			return &autoprov.InvalidError{Field: f, Message: "unknown field " + strconv.Quote(f)}
		}
		return &autoprov.InvalidError{Message: "request body is not valid JSON"}
	}
	// Only white space may follow. (dec.More reports a stray "]" or "}"
	// as the end, so it would let such a body through.)
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return &autoprov.InvalidError{Message: "request body holds more than one JSON value"}
	default:
		return &autoprov.InvalidError{Message: "request body is not valid JSON"}
	}
}

// typeMessage says in the API's words which JSON kind a wrong-typed value
// should have had, never in Go's: "sip_port must be a whole number",
// "accounts must be a list of strings", "request body must be a JSON
// object". For a wrong list element the error names the element's type
// under the list's name, so the type declared at the error's field path
// is looked up from root, the type decoded into.
func typeMessage(root reflect.Type, e *json.UnmarshalTypeError) string {
	t, path := root, e.Field
	for t != nil && path != "" {
		var name string
		name, path, _ = strings.Cut(path, ".")
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		var field reflect.Type
		for i := 0; t.Kind() == reflect.Struct && i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.IsExported() && tag != "-" && (tag == name || tag == "" && strings.EqualFold(f.Name, name)) {
				field = f.Type
				break
			}
		}
		t = field
	}
	if t == nil {
		t = e.Type
	}
	kind := jsonKind(t)
	if e.Field == "" {
		return "request body must be a JSON " + strings.TrimPrefix(strings.TrimPrefix(kind, "an "), "a ")
	}
	return e.Field + " must be " + kind
}

// jsonKind names the JSON a value of Go type t is written as, with its
// article: "an object", "a list of strings", "a whole number".
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return "a string" // base64
		}
		switch elem := jsonKind(t.Elem()); {
		case elem == "true or false":
			return "a list of true or false values"
		case strings.HasPrefix(elem, "a list"):
			return "a list of lists"
		default: // "an object" -> "objects", "a whole number" -> "whole numbers"
			return "a list of " + strings.TrimPrefix(strings.TrimPrefix(elem, "an "), "a ") + "s"
		}
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a JSON value"
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (s *Server) getSettings(c *gin.Context) {
	st, err := s.cfg.Inventory.Settings(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, settingsOut(st))
}

func (s *Server) putSettings(c *gin.Context) {
	// Fields left out keep their current value.
	var in settingsPatchJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.cfg.Inventory.PutSettings(c.Request.Context(), in.domain(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, settingsOut(st))
}

func (s *Server) listAccounts(c *gin.Context) {
	limit, offset, ok := s.page(c)
	if !ok {
		return
	}
	as, total, err := s.cfg.Inventory.ListAccounts(c.Request.Context(), autoprov.AccountFilter{Q: c.Query("q"), Limit: limit, Offset: offset})
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, as, accountOut, total, limit, offset)
}

// page reads ?limit= (1 to autoprov.MaxPageLimit, default
// autoprov.DefaultPageLimit) and ?offset= (0 or more) of a list; a bad
// one is answered 400.
func (s *Server) page(c *gin.Context) (limit, offset int, ok bool) {
	limit = autoprov.DefaultPageLimit
	if q, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > autoprov.MaxPageLimit {
			s.fail(c, autoprov.Invalid("limit", "limit must be between 1 and %d", autoprov.MaxPageLimit))
			return 0, 0, false
		}
		limit = n
	}
	if q, set := c.GetQuery("offset"); set {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			s.fail(c, autoprov.Invalid("offset", "offset must be a whole number, 0 or more"))
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

// list answers one page of a list: its items, the number of all matches
// (also in X-Total-Count) and the page's limit and offset.
func list[T, U any](c *gin.Context, items []T, f func(T) U, total, limit, offset int) {
	c.Header("X-Total-Count", strconv.Itoa(total))
	c.JSON(http.StatusOK, listJSON[U]{Items: each(items, f), Total: total, Limit: limit, Offset: offset})
}

func (s *Server) createAccount(c *gin.Context) {
	var in accountInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.cfg.Inventory.CreateAccount(c.Request.Context(), in.domain(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, accountOut(a))
}

func (s *Server) getAccount(c *gin.Context) {
	a, err := s.cfg.Inventory.Account(c.Request.Context(), c.Param("ext"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, accountOut(a))
}

func (s *Server) patchAccount(c *gin.Context) {
	var in accountInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.cfg.Inventory.UpdateAccount(c.Request.Context(), c.Param("ext"), in.domain(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, accountOut(a))
}

func (s *Server) deleteAccount(c *gin.Context) {
	if err := s.cfg.Inventory.DeleteAccount(c.Request.Context(), c.Param("ext"), actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// mac reads the {mac} parameter in any common notation.
func (s *Server) mac(c *gin.Context) (string, bool) {
	m, err := autoprov.ParseMAC(c.Param("mac"))
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	return m, true
}

func (s *Server) listDevices(c *gin.Context) {
	f := autoprov.DeviceFilter{Vendor: c.Query("vendor"), Model: c.Query("model"), State: c.Query("state"), Q: c.Query("q"),
		Onboarding: c.Query("onboarding")}
	if f.Onboarding != "" && !slices.Contains(autoprov.OnboardingStates, f.Onboarding) {
		s.fail(c, autoprov.Invalid("onboarding", "onboarding must be one of %s", strings.Join(autoprov.OnboardingStates, ", ")))
		return
	}
	switch f.State {
	case "", autoprov.StateAssigned, autoprov.StateUnassigned:
	default:
		s.fail(c, autoprov.Invalid("state", "state must be assigned or unassigned"))
		return
	}
	for name, dst := range map[string]*time.Time{"seen_before": &f.SeenBefore, "seen_after": &f.SeenAfter} {
		if q := c.Query(name); q != "" {
			t, err := time.Parse(time.RFC3339, q)
			if err != nil {
				s.fail(c, autoprov.Invalid(name, "%s must be a time in RFC 3339 form, e.g. 2026-01-02T15:04:05Z", name))
				return
			}
			*dst = t
		}
	}
	var ok bool
	if f.Limit, f.Offset, ok = s.page(c); !ok {
		return
	}
	ds, total, err := s.cfg.Inventory.Devices(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, ds, deviceOut, total, f.Limit, f.Offset)
}

func (s *Server) createDevice(c *gin.Context) {
	var in deviceInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.cfg.Inventory.CreateDevice(c.Request.Context(), in.domain(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, deviceOut(d))
}

// deviceAnswer answers one device as GET /devices/{mac} does: with its
// firmware status and, for a dialogue phone, its dialogue.
func (s *Server) deviceAnswer(c *gin.Context, d autoprov.Device) {
	out := deviceOut(d)
	if err := s.withFirmware(c, &out); err != nil {
		s.fail(c, err)
		return
	}
	s.withDialogue(c.Request.Context(), &out)
	c.JSON(http.StatusOK, out)
}

func (s *Server) getDevice(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	d, err := s.cfg.Inventory.Device(c.Request.Context(), mac)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.deviceAnswer(c, d)
}

func (s *Server) patchDevice(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// "firmware" (the device's own target) is the rollout's: set it
	// first (a bad one changes nothing), then the rest as before.
	rest, fwSet, fw, err := deviceFirmwarePatch(body)
	if err != nil {
		s.fail(c, err)
		return
	}
	var d autoprov.Device
	if fwSet {
		if s.cfg.Rollout == nil {
			s.fail(c, autoprov.Invalid("firmware", "firmware targets are not available on this server"))
			return
		}
		if err := s.cfg.Rollout.SetDeviceFirmware(c.Request.Context(), mac, fw, actor(c)); err != nil {
			s.fail(c, err)
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(rest))
	}
	if fwSet && string(rest) == "{}" {
		d, err = s.cfg.Inventory.Device(c.Request.Context(), mac)
	} else {
		var in deviceInputJSON
		if err := bind(c, &in); err != nil {
			s.fail(c, err)
			return
		}
		d, err = s.cfg.Inventory.UpdateDevice(c.Request.Context(), mac, in.domain(), actor(c))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.deviceAnswer(c, d)
}

func (s *Server) deleteDevice(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	deregister, ok := s.boolQuery(c, "deregister")
	if !ok {
		return
	}
	var d autoprov.Device
	if deregister {
		if s.cfg.Redirects == nil {
			s.fail(c, autoprov.Invalid("deregister", "no redirect services are configured"))
			return
		}
		var err error
		if d, err = s.cfg.Inventory.Device(c.Request.Context(), mac); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err := s.cfg.Inventory.DeleteDevice(c.Request.Context(), mac, actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	if deregister {
		// Queued, never waited for: the worker calls the service.
		if _, err := s.cfg.Redirects.Deregister(c.Request.Context(), d, actor(c)); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.Status(http.StatusNoContent)
}

// putKeys takes a JSON list of keys, or {"keys": [...]}.
func (s *Server) putKeys(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	var keys []keyJSON
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		var wrapper struct {
			Keys []keyJSON `json:"keys"`
		}
		err = bind(c, &wrapper)
		keys = wrapper.Keys
	} else {
		err = bind(c, &keys)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.cfg.Inventory.SetKeys(c.Request.Context(), mac, keysIn(keys), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, deviceOut(d))
}

func (s *Server) openDisclosure(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	d, err := s.cfg.Inventory.OpenDisclosure(c.Request.Context(), mac, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, disclosureOut(d))
}

func (s *Server) listFiles(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	names, err := s.cfg.Inventory.PreviewFiles(c.Request.Context(), mac)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.cfg.Inventory.Device(c.Request.Context(), mac)
	if err != nil {
		s.fail(c, err)
		return
	}
	warnings := vendors.Strings(d.Warnings)
	if warnings == nil {
		warnings = []string{}
	}
	c.JSON(http.StatusOK, gin.H{"files": names, "warnings": warnings})
}

func (s *Server) previewFile(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	name, err := provision.CleanPath(c.Param("name"))
	if err != nil {
		s.fail(c, autoprov.Invalid("name", "invalid file name"))
		return
	}
	f, err := s.cfg.Inventory.Preview(c.Request.Context(), mac, name, BaseURL(c.Request))
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.cfg.Inventory.Device(c.Request.Context(), mac)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The file is the phone's, byte for byte: the warnings go beside it,
	// one X-Autoprov-Warning header each (ASCII: zone names, codes).
	for _, w := range d.Warnings {
		c.Writer.Header().Add("X-Autoprov-Warning", asciiHeader(w.String()))
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, f.ContentType, f.Body)
}

// getModelParams answers a model's raw vendor parameters.
func (s *Server) getModelParams(c *gin.Context) {
	m, ps, err := s.cfg.Inventory.ModelParams(c.Request.Context(), c.Param("vendor"), c.Param("model"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, modelParamsJSON{Vendor: m.Vendor, Model: m.Name, Params: paramsOut(ps), Warnings: []string{}})
}

// putModelParams replaces a model's raw vendor parameters: 200 with them
// and the warnings (names the driver does not know), 400 for a refused one.
func (s *Server) putModelParams(c *gin.Context) {
	var in struct {
		Params []paramJSON `json:"params"`
	}
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	ps := paramsIn(in.Params)
	m, warnings, err := s.cfg.Inventory.SetModelParams(c.Request.Context(), c.Param("vendor"), c.Param("model"), ps, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	if warnings == nil {
		warnings = []string{}
	}
	c.JSON(http.StatusOK, modelParamsJSON{Vendor: m.Vendor, Model: m.Name, Params: paramsOut(ps), Warnings: warnings})
}

func (s *Server) listModels(c *gin.Context) {
	models := s.cfg.Inventory.Models()
	if models == nil {
		models = []vendors.Model{}
	}
	c.JSON(http.StatusOK, models)
}

func (s *Server) listProfiles(c *gin.Context) {
	limit, offset, ok := s.page(c)
	if !ok {
		return
	}
	ps, total, err := s.cfg.Inventory.ListKeyProfiles(c.Request.Context(), limit, offset)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, ps, profileOut, total, limit, offset)
}

func (s *Server) createProfile(c *gin.Context) {
	var in keyProfileInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.cfg.Inventory.SaveKeyProfile(c.Request.Context(), in.domain(), true, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, profileOut(p))
}

func (s *Server) getProfile(c *gin.Context) {
	p, err := s.cfg.Inventory.KeyProfile(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, profileOut(p))
}

func (s *Server) putProfile(c *gin.Context) {
	var in keyProfileInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.Name != "" && in.Name != c.Param("name") {
		s.fail(c, autoprov.Invalid("name", "name in the body differs from the URL"))
		return
	}
	in.Name = c.Param("name")
	p, err := s.cfg.Inventory.SaveKeyProfile(c.Request.Context(), in.domain(), false, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, profileOut(p))
}

func (s *Server) deleteProfile(c *gin.Context) {
	if err := s.cfg.Inventory.DeleteKeyProfile(c.Request.Context(), c.Param("name"), actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listAudit(c *gin.Context) {
	f := autoprov.AuditFilter{}
	if q := c.Query("mac"); q != "" {
		m, err := autoprov.ParseMAC(q)
		if err != nil {
			s.fail(c, err)
			return
		}
		f.MAC = m
	}
	var ok bool
	if f.Limit, f.Offset, ok = s.page(c); !ok {
		return
	}
	evs, total, err := s.cfg.Inventory.ListAudit(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, evs, auditOut, total, f.Limit, f.Offset)
}

// boolQuery reads the query parameter name as a boolean (false when
// absent); anything strconv.ParseBool does not read is answered 400 and
// ok is false.
func (s *Server) boolQuery(c *gin.Context, name string) (v, ok bool) {
	q := c.Query(name)
	if q == "" {
		return false, true
	}
	v, err := strconv.ParseBool(q)
	if err != nil {
		s.fail(c, autoprov.Invalid(name, "%s must be true or false", name))
		return false, false
	}
	return v, true
}

// bulk creates or changes many accounts and devices in one transaction
// (?dry_run=true: only says what it would do).
func (s *Server) bulk(c *gin.Context) {
	dry, ok := s.boolQuery(c, "dry_run")
	if !ok {
		return
	}
	if isCSV(c) {
		s.bulkCSV(c, dry) // admintools.go
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in bulkInputJSON
	if err := decodeStrict(body, &in); err != nil {
		if rows := bulkRowErrors(body); rows != nil {
			c.JSON(http.StatusBadRequest, bulkErrorOut(rows))
			return
		}
		s.fail(c, err)
		return
	}
	res, err := s.cfg.Inventory.Bulk(c.Request.Context(), in.domain(), dry, actor(c))
	var bulkErr *autoprov.BulkError
	if errors.As(err, &bulkErr) {
		c.JSON(http.StatusBadRequest, bulkErrorOut(bulkErr))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, bulkResultOut(res))
}

// bulkRowErrors locates what made a bulk body undecodable in its rows
// (an unknown field, a wrong type): every such row's error, or nil when
// the rows decode (the fault is elsewhere in the body).
func bulkRowErrors(body []byte) *autoprov.BulkError {
	var raw struct {
		Accounts []json.RawMessage `json:"accounts"`
		Devices  []json.RawMessage `json:"devices"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	var bad []autoprov.BulkRowError
	row := func(kind string, i int, r json.RawMessage, v any) {
		var inv *autoprov.InvalidError
		if err := decodeStrict(r, v); errors.As(err, &inv) {
			msg := inv.Message
			if inv.Field == "" {
				msg = "each " + kind + " must be a JSON object"
			}
			bad = append(bad, autoprov.BulkRowError{Kind: kind, Index: i, Field: inv.Field, Message: msg})
		}
	}
	for i, r := range raw.Accounts {
		row("account", i, r, &accountInputJSON{})
	}
	for i, r := range raw.Devices {
		row("device", i, r, &deviceInputJSON{})
	}
	if len(bad) == 0 {
		return nil
	}
	return &autoprov.BulkError{Errors: bad}
}

// asciiHeader keeps printable ASCII and writes anything else as '?', so
// a header value stays one clean line.
func asciiHeader(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
