package httpd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/provision"
)

// Firmware is what the firmware routes call (*firmware.Store): uploads and
// the catalogue under /api/v1/firmware, downloads under /firmware/ and
// /prov/firmware/.
type Firmware interface {
	MaxBytes() int64
	Validate(m firmware.Meta) (firmware.Meta, error)
	Receive(r io.Reader) (*firmware.Temp, error)
	Commit(ctx context.Context, t *firmware.Temp, m firmware.Meta, actor string) (autoprov.Firmware, bool, error)
	List(ctx context.Context, f autoprov.FirmwareFilter) ([]autoprov.Firmware, int, error)
	Get(ctx context.Context, id int64) (autoprov.Firmware, error)
	Delete(ctx context.Context, id int64, actor string) error
	Open(ctx context.Context, name string, who firmware.Requester) (*firmware.Download, error)
}

// Transfer deadlines of firmware uploads and downloads: the server's
// ReadTimeout and WriteTimeout bound a whole request, which a large image
// on a slow link outlasts, so these routes move the deadline on as long
// as bytes flow: an upload may pause at most uploadIdle between reads, a
// download at most downloadIdle per chunk of downloadChunk bytes.
const (
	uploadIdle    = 30 * time.Second
	downloadIdle  = 60 * time.Second
	downloadChunk = 4 << 20
	// multipartSlack is what a multipart body may carry beyond the file
	// (boundaries, headers, the fields) when its Content-Length is checked
	// against the cap before reading.
	multipartSlack = 64 << 10
	maxFormField   = 1024
)

func (s *Server) firmwareRoutes(api, upload *gin.RouterGroup) {
	upload.POST("/firmware", s.uploadFirmware)
	api.GET("/firmware", s.listFirmware)
	api.GET("/firmware/:id", s.getFirmware)
	api.DELETE("/firmware/:id", s.deleteFirmware)
}

func (s *Server) firmwareID(c *gin.Context) (int64, bool) {
	if s.cfg.Firmware == nil {
		s.fail(c, autoprov.ErrNotFound)
		return 0, false
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, autoprov.Invalid("id", "id must be a positive whole number"))
		return 0, false
	}
	return id, true
}

func (s *Server) listFirmware(c *gin.Context) {
	if s.cfg.Firmware == nil {
		s.fail(c, autoprov.ErrNotFound)
		return
	}
	limit, offset, ok := s.page(c)
	if !ok {
		return
	}
	f := autoprov.FirmwareFilter{Vendor: c.Query("vendor"), Model: c.Query("model"), Limit: limit, Offset: offset}
	fs, total, err := s.cfg.Firmware.List(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, fs, firmwareOut, total, limit, offset)
}

func (s *Server) getFirmware(c *gin.Context) {
	id, ok := s.firmwareID(c)
	if !ok {
		return
	}
	f, err := s.cfg.Firmware.Get(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, firmwareOut(f))
}

func (s *Server) deleteFirmware(c *gin.Context) {
	id, ok := s.firmwareID(c)
	if !ok {
		return
	}
	if err := s.cfg.Firmware.Delete(c.Request.Context(), id, actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// uploadFirmware is POST /api/v1/firmware: the image as the body, with
// vendor, version, models and name in the query; or multipart/form-data
// with those fields and the part "file" (its file name is the default
// name). The body is streamed to disk; the fields are checked before the
// first byte of the file is read when they come first (the query, or
// form fields before the file part).
func (s *Server) uploadFirmware(c *gin.Context) {
	fw := s.cfg.Firmware
	if fw == nil {
		s.fail(c, autoprov.ErrNotFound)
		return
	}
	rc := http.NewResponseController(c.Writer)
	body := &idleReader{r: c.Request.Body, rc: rc, idle: uploadIdle}
	q := c.Request.URL.Query()
	meta := firmware.Meta{Vendor: q.Get("vendor"), Version: q.Get("version"), Name: q.Get("name"), Models: q["models"]}
	max := fw.MaxBytes()
	mediaType, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))

	var tmp *firmware.Temp
	defer func() {
		if tmp != nil {
			tmp.Discard()
		}
	}()
	var err error
	if mediaType == "multipart/form-data" {
		if c.Request.ContentLength > max+multipartSlack {
			s.tooLarge(c, max)
			return
		}
		tmp, meta, err = s.receiveMultipart(c, fw, body, meta)
	} else {
		if c.Request.ContentLength > max {
			s.tooLarge(c, max)
			return
		}
		if _, err = fw.Validate(meta); err == nil {
			tmp, err = fw.Receive(body)
		}
	}
	if err == nil {
		var f autoprov.Firmware
		var created bool
		f, created, err = fw.Commit(c.Request.Context(), tmp, meta, actor(c))
		tmp = nil
		if err == nil {
			rc.SetWriteDeadline(time.Now().Add(downloadIdle))
			code := http.StatusCreated
			if !created {
				code = http.StatusOK
			}
			c.JSON(code, firmwareOut(f))
			return
		}
	}
	var tooBig *firmware.TooLargeError
	var inv *autoprov.InvalidError
	switch {
	case errors.As(err, &tooBig):
		s.tooLarge(c, max)
	case errors.As(err, &inv), errors.Is(err, autoprov.ErrConflict), errors.Is(err, autoprov.ErrNotFound):
		s.fail(c, err)
	case body.err != nil:
		// The client broke off (or paused too long): nothing was kept.
		s.log.Info("firmware upload broken off", "remote", c.ClientIP(), "bytes", body.n, "err", body.err)
		c.JSON(http.StatusBadRequest, apiError{Error: "upload broken off"})
	default:
		s.fail(c, err)
	}
}

func (s *Server) tooLarge(c *gin.Context, max int64) {
	c.Header("Connection", "close")
	c.JSON(http.StatusRequestEntityTooLarge, apiError{Error: "firmware file too large: the limit is " + strconv.FormatInt(max, 10) + " bytes (--firmware-max-bytes)"})
}

// receiveMultipart reads the form: short fields into meta, the part
// "file" into a temporary file.
func (s *Server) receiveMultipart(c *gin.Context, fw Firmware, body io.Reader, meta firmware.Meta) (*firmware.Temp, firmware.Meta, error) {
	c.Request.Body = io.NopCloser(body)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, meta, &autoprov.InvalidError{Message: "the body is not multipart/form-data: " + err.Error()}
	}
	var tmp *firmware.Temp
	fail := func(err error) (*firmware.Temp, firmware.Meta, error) {
		if tmp != nil {
			tmp.Discard()
		}
		return nil, meta, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch name := part.FormName(); name {
		case "file":
			if tmp != nil {
				return fail(autoprov.Invalid("file", "more than one file part"))
			}
			if meta.Name == "" {
				meta.Name = path.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
			}
			// Every field there already: refuse a wrong one before the file.
			if meta.Vendor != "" && meta.Version != "" && len(meta.Models) > 0 && meta.Name != "" {
				if _, err := fw.Validate(meta); err != nil {
					return fail(err)
				}
			}
			if tmp, err = fw.Receive(part); err != nil {
				return fail(err)
			}
		case "vendor", "version", "models", "name":
			b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
			if err != nil {
				return fail(err)
			}
			if len(b) > maxFormField {
				return fail(autoprov.Invalid(name, "%s is too long", name))
			}
			v := strings.TrimSpace(string(b))
			switch name {
			case "vendor":
				meta.Vendor = v
			case "version":
				meta.Version = v
			case "models":
				meta.Models = append(meta.Models, v)
			case "name":
				meta.Name = v
			}
		default:
			return fail(autoprov.Invalid(name, "unknown field %q (fields: vendor, version, models, name, file)", name))
		}
	}
	if tmp == nil {
		return nil, meta, autoprov.Invalid("file", "the part \"file\" with the image is missing")
	}
	return tmp, meta, nil
}

// idleReader moves the connection's read deadline on before every read
// and remembers how the body ended.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	n    int64
	err  error
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.rc.SetReadDeadline(time.Now().Add(r.idle))
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// firmwareGet serves GET and HEAD /firmware/<hash prefix>/<name> (and the
// same under /prov/) from the file on disk: Range (206), ETag (the
// SHA-256) with If-None-Match (304), Content-Length; on plain HTTP the
// body goes out with sendfile. A miss is a bare 404, as for every phone
// file; the download is recorded per device (firmware.Download).
func (s *Server) firmwareGet(c *gin.Context, name string) {
	if s.cfg.Firmware == nil {
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	transport := "http"
	if c.Request.TLS != nil {
		transport = "https"
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ProvideTimeout)
	dl, err := s.cfg.Firmware.Open(ctx, name, firmware.Requester{RemoteIP: c.ClientIP(), UserAgent: c.Request.UserAgent(), Transport: transport})
	cancel()
	if err != nil {
		if !errors.Is(err, autoprov.ErrNotFound) {
			s.log.Error("firmware request failed", "path", name, "remote", c.ClientIP(), "err", err)
		} else {
			s.refused(slog.LevelInfo, "firmware not found", name, c.ClientIP())
		}
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	w := &downloadWriter{gin: c.Writer, raw: unwrap(c.Writer), dl: dl, ctx: c.Request.Context(), get: c.Request.Method == http.MethodGet}
	w.rc = http.NewResponseController(w.raw)
	h := c.Writer.Header()
	h.Set("ETag", `"`+dl.Firmware.SHA256+`"`)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, c.Request, dl.Firmware.Name, dl.ModTime, dl.File)
	if w.err == nil && w.begun {
		if err := w.rc.Flush(); err != nil {
			w.err = err
		}
	}
	dl.End(w.n, w.err)
}

// unwrap returns the net/http writer beneath gin's.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// downloadWriter is the ResponseWriter http.ServeContent writes a
// firmware file to: headers through gin's writer (so the access log sees
// the status), the body straight to net/http's, whose ReadFrom uses
// sendfile for the *os.File ServeContent passes; the write deadline moves
// on with every chunk, and the bytes are counted.
type downloadWriter struct {
	gin   gin.ResponseWriter
	raw   http.ResponseWriter
	rc    *http.ResponseController
	dl    *firmware.Download
	ctx   context.Context
	get   bool
	begun bool
	n     int64
	err   error
}

func (w *downloadWriter) Header() http.Header { return w.gin.Header() }

func (w *downloadWriter) WriteHeader(code int) {
	w.gin.WriteHeader(code)
	w.gin.WriteHeaderNow()
	if w.get && (code == http.StatusOK || code == http.StatusPartialContent) && !w.begun {
		size, _ := strconv.ParseInt(w.gin.Header().Get("Content-Length"), 10, 64)
		w.begun = true
		w.dl.Begin(w.ctx, size)
	}
}

func (w *downloadWriter) Write(p []byte) (int, error) {
	if !w.gin.Written() {
		w.WriteHeader(http.StatusOK)
	}
	w.rc.SetWriteDeadline(time.Now().Add(downloadIdle))
	n, err := w.raw.Write(p)
	w.n += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// ReadFrom sends src in chunks of downloadChunk, each with a fresh write
// deadline, handing net/http an *io.LimitedReader over the *os.File so it
// can use sendfile.
func (w *downloadWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.gin.Written() {
		w.WriteHeader(http.StatusOK)
	}
	rf, ok := w.raw.(io.ReaderFrom)
	lr, limited := src.(*io.LimitedReader)
	var f *os.File
	if limited {
		f, _ = lr.R.(*os.File)
	}
	if !ok || f == nil {
		return io.CopyBuffer(writerOnly{w}, src, make([]byte, 256<<10))
	}
	var total int64
	for lr.N > 0 {
		w.rc.SetWriteDeadline(time.Now().Add(downloadIdle))
		chunk := min(lr.N, downloadChunk)
		n, err := rf.ReadFrom(&io.LimitedReader{R: f, N: chunk})
		lr.N -= n
		total += n
		w.n += n
		if err != nil {
			if w.err == nil {
				w.err = err
			}
			return total, err
		}
		if n < chunk {
			break // the file ended early (truncated on disk)
		}
	}
	return total, nil
}

// writerOnly hides ReadFrom, so io.Copy uses Write.
type writerOnly struct{ io.Writer }

// firmwareFile serves GET and HEAD /firmware/<file>, the same files as
// /prov/firmware/<file> (phoneGet hands those over).
func (s *Server) firmwareFile(c *gin.Context) {
	name, err := provision.CleanPath(c.Param("file"))
	if err != nil {
		s.refused(slog.LevelWarn, "refused phone path", c.Request.URL.Path, c.ClientIP(), "reason", err)
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	s.firmwareGet(c, "firmware/"+name)
}
