package httpd

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

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

	api.GET("/key-profiles", s.listProfiles)
	api.POST("/key-profiles", s.createProfile)
	api.GET("/key-profiles/:name", s.getProfile)
	api.PUT("/key-profiles/:name", s.putProfile)
	api.DELETE("/key-profiles/:name", s.deleteProfile)

	api.GET("/audit", s.listAudit)
}

// actor names who made an admin change, for the audit log.
func actor(c *gin.Context) string { return "api@" + c.ClientIP() }

// fail answers an error as JSON: 400 for invalid input, 404, 409, 413, else
// 500 with the detail only in the log.
func (s *Server) fail(c *gin.Context, err error) {
	var inv *provision.InvalidError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &inv):
		c.JSON(http.StatusBadRequest, apiError{Error: inv.Message, Field: inv.Field, Details: inv.Details})
	case errors.As(err, &tooBig):
		c.JSON(http.StatusRequestEntityTooLarge, apiError{Error: "request body too large"})
	case errors.Is(err, provision.ErrNotFound):
		c.JSON(http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, provision.ErrConflict):
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
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var synErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return &provision.InvalidError{Field: typeErr.Field, Message: typeMessage(reflect.TypeOf(v), typeErr)}
		case errors.As(err, &synErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return &provision.InvalidError{Message: "request body is not valid JSON"}
		}
		if msg := err.Error(); len(msg) > 20 && msg[:20] == "json: unknown field " {
			f := msg[20:]
			if len(f) > 1 && f[0] == '"' {
				f = f[1 : len(f)-1]
			}
			return &provision.InvalidError{Field: f, Message: "unknown field " + strconv.Quote(f)}
		}
		return &provision.InvalidError{Message: "request body is not valid JSON"}
	}
	// Only white space may follow. (dec.More reports a stray "]" or "}"
	// as the end, so it would let such a body through.)
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return &provision.InvalidError{Message: "request body holds more than one JSON value"}
	default:
		return &provision.InvalidError{Message: "request body is not valid JSON"}
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
	st, err := s.cfg.Core.Settings()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) putSettings(c *gin.Context) {
	st, err := s.cfg.Core.Settings()
	if err != nil {
		s.fail(c, err)
		return
	}
	// Fields left out keep their current value.
	if err := bind(c, &st); err != nil {
		s.fail(c, err)
		return
	}
	st, err = s.cfg.Core.PutSettings(st, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) listAccounts(c *gin.Context) {
	as, err := s.cfg.Core.Accounts()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, as)
}

func (s *Server) createAccount(c *gin.Context) {
	var in provision.AccountInput
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.cfg.Core.CreateAccount(in, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, a)
}

func (s *Server) getAccount(c *gin.Context) {
	a, err := s.cfg.Core.Account(c.Param("ext"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) patchAccount(c *gin.Context) {
	var in provision.AccountInput
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.cfg.Core.UpdateAccount(c.Param("ext"), in, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) deleteAccount(c *gin.Context) {
	if err := s.cfg.Core.DeleteAccount(c.Param("ext"), actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// mac reads the {mac} parameter in any common notation.
func (s *Server) mac(c *gin.Context) (string, bool) {
	m, err := provision.ParseMAC(c.Param("mac"))
	if err != nil {
		s.fail(c, err)
		return "", false
	}
	return m, true
}

func (s *Server) listDevices(c *gin.Context) {
	f := provision.DeviceFilter{Vendor: c.Query("vendor"), Model: c.Query("model"), State: c.Query("state")}
	switch f.State {
	case "", provision.StateAssigned, provision.StateUnassigned:
	default:
		s.fail(c, &provision.InvalidError{Field: "state", Message: "state must be assigned or unassigned"})
		return
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if q := c.Query(name); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 0 {
				s.fail(c, &provision.InvalidError{Field: name, Message: name + " must be a whole number, 0 or more"})
				return
			}
			*dst = n
		}
	}
	ds, total, err := s.cfg.Core.Devices(f)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The page is the body; the count of all matches is a header, so the
	// body stays the plain list scripts already read.
	c.Header("X-Total-Count", strconv.Itoa(total))
	c.JSON(http.StatusOK, ds)
}

func (s *Server) createDevice(c *gin.Context) {
	var in provision.DeviceInput
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.cfg.Core.CreateDevice(in, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, d)
}

func (s *Server) getDevice(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	d, err := s.cfg.Core.Device(mac)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) patchDevice(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	var in provision.DeviceInput
	if err := bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.cfg.Core.UpdateDevice(mac, in, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) deleteDevice(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	if err := s.cfg.Core.DeleteDevice(mac, actor(c)); err != nil {
		s.fail(c, err)
		return
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
	var keys []provision.KeySpec
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		var wrapper struct {
			Keys []provision.KeySpec `json:"keys"`
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
	d, err := s.cfg.Core.SetKeys(mac, keys, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) openDisclosure(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	d, err := s.cfg.Core.OpenDisclosure(mac, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) listFiles(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	names, err := s.cfg.Core.PreviewFiles(mac)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"files": names})
}

func (s *Server) previewFile(c *gin.Context) {
	mac, ok := s.mac(c)
	if !ok {
		return
	}
	name, err := provision.CleanPath(c.Param("name"))
	if err != nil {
		s.fail(c, &provision.InvalidError{Field: "name", Message: "invalid file name"})
		return
	}
	f, err := s.cfg.Core.Preview(mac, name, BaseURL(c.Request))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, f.ContentType, f.Body)
}

func (s *Server) listModels(c *gin.Context) {
	models := s.cfg.Core.Registry().Models()
	if models == nil {
		models = []vendors.Model{}
	}
	c.JSON(http.StatusOK, models)
}

func (s *Server) listProfiles(c *gin.Context) {
	ps, err := s.cfg.Core.KeyProfiles()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ps)
}

func (s *Server) createProfile(c *gin.Context) {
	var p provision.KeyProfile
	if err := bind(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.cfg.Core.SaveKeyProfile(p, true, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

func (s *Server) getProfile(c *gin.Context) {
	p, err := s.cfg.Core.KeyProfile(c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) putProfile(c *gin.Context) {
	var p provision.KeyProfile
	if err := bind(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	if p.Name != "" && p.Name != c.Param("name") {
		s.fail(c, &provision.InvalidError{Field: "name", Message: "name in the body differs from the URL"})
		return
	}
	p.Name = c.Param("name")
	p, err := s.cfg.Core.SaveKeyProfile(p, false, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) deleteProfile(c *gin.Context) {
	if err := s.cfg.Core.DeleteKeyProfile(c.Param("name"), actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listAudit(c *gin.Context) {
	mac := ""
	if q := c.Query("mac"); q != "" {
		m, err := provision.ParseMAC(q)
		if err != nil {
			s.fail(c, err)
			return
		}
		mac = m
	}
	limit := 100
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			s.fail(c, &provision.InvalidError{Field: "limit", Message: "limit must be between 1 and 1000"})
			return
		}
		limit = n
	}
	evs, err := s.cfg.Core.Audit(mac, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, evs)
}
