// Package firmware is the firmware store: image files kept once per content
// under <data>/firmware/ (named by their SHA-256), a catalogue of them in
// the database (vendor, models, version, original name, size, SHA-256, who
// uploaded it and when), and the downloads phones make of them, recorded
// per device. See README.md.
//
// Uploads are streamed to a temporary file in the same directory while
// they are hashed, synced and renamed to their SHA-256: an upload is never
// held in memory, and one that fails (client gone, over the size cap, bad
// fields) leaves neither a file nor a catalogue row.
package firmware

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// DefaultMaxBytes is the size cap of one image unless WithMaxBytes says
// otherwise: 512 MiB.
const DefaultMaxBytes int64 = 512 << 20

// PathPrefixLen is how many hex digits of the SHA-256 a download path
// carries (see Path).
const PathPrefixLen = 16

// tempPrefix starts the names of uploads in progress; nothing else in the
// directory starts with a dot.
const tempPrefix = ".upload-"

// Catalogue is the database side of the store (server/store satisfies it).
type Catalogue interface {
	CreateFirmware(ctx context.Context, f autoprov.Firmware, actor string) (autoprov.Firmware, error)
	Firmware(ctx context.Context, id int64) (autoprov.Firmware, error)
	FirmwareFor(ctx context.Context, vendor, model, version string) (autoprov.Firmware, error)
	FirmwareByFile(ctx context.Context, shaPrefix, name string) (autoprov.Firmware, error)
	Firmwares(ctx context.Context, f autoprov.FirmwareFilter) ([]autoprov.Firmware, int, error)
	DeleteFirmware(ctx context.Context, id int64, actor string) (autoprov.Firmware, bool, error)
	FirmwareFileUsed(ctx context.Context, sha256 string) (bool, error)
}

// Devices tells who downloads: the device last seen at an address, and
// whether a MAC (from a User-Agent) is in the inventory.
type Devices interface {
	DeviceAt(ctx context.Context, ip string) (string, error)
	DeviceKnown(ctx context.Context, mac string) (bool, error)
}

// Downloads records each device's last download of each firmware.
type Downloads interface {
	StartDownload(ctx context.Context, d autoprov.FirmwareDownload, token string) error
	EndDownload(ctx context.Context, mac string, id int64, token string, at time.Time, bytes int64, outcome string, whole bool) error
}

// DB is everything the store needs from the database.
type DB interface {
	Catalogue
	Devices
	Downloads
}

// Option configures a Store.
type Option func(*Store)

// WithMaxBytes sets the size cap of one image (values <= 0 keep DefaultMaxBytes).
func WithMaxBytes(n int64) Option {
	return func(s *Store) {
		if n > 0 {
			s.max = n
		}
	}
}

// WithLog sets the logger (default: discard).
func WithLog(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Store is the firmware store. It is safe for concurrent use.
type Store struct {
	dir string
	db  DB
	reg *vendors.Registry
	max int64
	log *slog.Logger

	// mu orders the link of a file with the catalogue: a file is linked
	// and its row written, or its last row deleted and the file removed,
	// under mu, so a delete never removes a file an upload just linked.
	mu sync.Mutex
}

// Open opens the store in dir (created 0700), removing what an earlier
// process left behind: uploads in progress that no live process holds,
// and files no catalogue row names (a crash between the link and the row).
func Open(ctx context.Context, dir string, db DB, reg *vendors.Registry, opts ...Option) (*Store, error) {
	s := &Store{dir: dir, db: db, reg: reg, max: DefaultMaxBytes, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "firmware")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("firmware directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("firmware directory: %w", err)
	}
	if err := s.sweep(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// MaxBytes is the size cap of one image.
func (s *Store) MaxBytes() int64 { return s.max }

// Dir is the directory the files are in.
func (s *Store) Dir() string { return s.dir }

// sweep removes stale temporary files and files no row names.
func (s *Store) sweep(ctx context.Context) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("firmware directory: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(s.dir, name)
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if !tempAbandoned(p) {
				continue // another process (autoprov firmware add) is writing it
			}
			if err := os.Remove(p); err == nil {
				s.log.Info("removed an interrupted upload", "file", p)
			}
		case isSHA256(name):
			info, err := e.Info()
			if err != nil || time.Since(info.ModTime()) < time.Minute {
				continue // maybe linked a moment ago by another process, its row not yet written
			}
			used, err := s.db.FirmwareFileUsed(ctx, name)
			if err != nil {
				return err
			}
			if !used {
				if err := os.Remove(p); err == nil {
					s.log.Info("removed a firmware file no catalogue entry names", "file", p)
				}
			}
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Path is where a catalogue entry is served, relative to the provisioning
// base: "firmware/<first 16 hex digits of its SHA-256>/<original name>".
// Over HTTP it is answered at /firmware/... and /prov/firmware/..., over
// TFTP as "firmware/..." (or "prov/firmware/..."). The hash part names the
// bytes, so the URL of an image never serves other bytes; the name is the
// vendor's own, which some phones check.
func Path(f autoprov.Firmware) string {
	return "firmware/" + f.SHA256[:PathPrefixLen] + "/" + f.Name
}

// Meta is what an upload says about its file.
type Meta struct {
	Vendor  string
	Models  []string // may be one comma-separated element
	Version string
	Name    string // the original file name
}

// maxField bounds version and name.
const maxField = 128

// Validate checks and canonicalises the fields (vendor lower-case, models
// as the registry names them, sorted, without repeats). A wrong vendor or
// model is an *autoprov.InvalidError naming the supported ones.
func (s *Store) Validate(m Meta) (Meta, error) {
	m.Vendor = strings.ToLower(strings.TrimSpace(m.Vendor))
	if m.Vendor == "" {
		return m, autoprov.Invalid("vendor", "vendor is required (supported: %s)", strings.Join(s.reg.VendorNames(), ", "))
	}
	if !s.reg.HasVendor(m.Vendor) {
		return m, autoprov.Invalid("vendor", "unknown vendor %q (supported: %s)", m.Vendor, strings.Join(s.reg.VendorNames(), ", "))
	}
	var models []string
	seen := map[string]bool{}
	for _, part := range m.Models {
		for _, name := range strings.Split(part, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			_, md, err := s.reg.Lookup(m.Vendor, name)
			if err != nil {
				return m, autoprov.Invalid("models", "unknown %s model %q (supported: %s)",
					m.Vendor, name, strings.Join(s.reg.ModelNames(m.Vendor), ", "))
			}
			if !seen[md.Name] {
				seen[md.Name] = true
				models = append(models, md.Name)
			}
		}
	}
	if len(models) == 0 {
		return m, autoprov.Invalid("models", "models is required: the %s models the image is for (supported: %s)",
			m.Vendor, strings.Join(s.reg.ModelNames(m.Vendor), ", "))
	}
	sort.Strings(models)
	m.Models = models
	if err := token("version", m.Version); err != nil {
		return m, err
	}
	if err := token("name", m.Name); err != nil {
		return m, err
	}
	if strings.HasPrefix(m.Name, ".") {
		return m, autoprov.Invalid("name", "name must not start with a dot")
	}
	return m, nil
}

// token checks a version or a file name: 1 to 128 of A-Z a-z 0-9 . _ + -
// (what firmware versions and file names use; nothing a URL, a TFTP name
// or a phone's config would need to escape).
func token(field, v string) error {
	if v == "" {
		return autoprov.Invalid(field, "%s is required", field)
	}
	if len(v) > maxField {
		return autoprov.Invalid(field, "%s is longer than %d characters", field, maxField)
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '+' || c == '-') {
			return autoprov.Invalid(field, "%s may hold only letters, digits and . _ + -", field)
		}
	}
	return nil
}

// TooLargeError is an upload over the size cap.
type TooLargeError struct{ Max int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("firmware file is larger than the limit of %d bytes", e.Max)
}

// ErrEmpty is an upload with no bytes.
var ErrEmpty = &autoprov.InvalidError{Field: "file", Message: "the firmware file is empty", Text: autoprov.T("the firmware file is empty")}

// Temp is an upload received into a temporary file, not yet in the
// catalogue. Commit it or Discard it.
type Temp struct {
	s      *Store
	f      *os.File
	path   string
	size   int64
	sha256 string
}

// Size and SHA256 describe the received bytes.
func (t *Temp) Size() int64 { return t.size }

// SHA256 is the hex SHA-256 of the received bytes.
func (t *Temp) SHA256() string { return t.sha256 }

// Discard removes the temporary file. It is a no-op after Commit.
func (t *Temp) Discard() {
	if t.f == nil {
		return
	}
	t.f.Close()
	os.Remove(t.path)
	t.f = nil
}

// Receive streams r into a temporary file (0600) beside the store's
// files, hashing as it writes, and syncs it. More than MaxBytes is a
// *TooLargeError; an error reading r (the client hung up) is returned as
// is. On any error nothing is left on disk.
func (s *Store) Receive(r io.Reader) (*Temp, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	p := filepath.Join(s.dir, tempPrefix+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	t := &Temp{s: s, f: f, path: p}
	ok := false
	defer func() {
		if !ok {
			t.Discard()
		}
	}()
	if err := holdTemp(f); err != nil {
		return nil, fmt.Errorf("firmware: lock %s: %w", p, err)
	}
	h := sha256.New()
	n, err := copyCapped(io.MultiWriter(f, h), r, s.max)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrEmpty
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	t.size, t.sha256 = n, hexSum(h)
	ok = true
	return t, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// copyCapped copies r to w, failing with *TooLargeError past max bytes.
func copyCapped(w io.Writer, r io.Reader, max int64) (int64, error) {
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(w, io.LimitReader(r, max+1), buf)
	if err != nil {
		return n, err
	}
	if n > max {
		return n, &TooLargeError{Max: max}
	}
	return n, nil
}

// Commit validates m, links the file under its SHA-256 (unless that file
// is already there: the same bytes are stored once) and writes the
// catalogue row. The same upload again (same vendor, version, models,
// name and bytes) returns the existing row with created false. On any
// error the temporary file is removed and no row written.
func (s *Store) Commit(ctx context.Context, t *Temp, m Meta, actor string) (f autoprov.Firmware, created bool, err error) {
	defer t.Discard()
	if m, err = s.Validate(m); err != nil {
		return f, false, err
	}
	if existing, ok, err := s.same(ctx, t, m); err != nil || ok {
		return existing, false, err
	}
	final := filepath.Join(s.dir, t.sha256)
	s.mu.Lock()
	defer s.mu.Unlock()
	linked := false
	if _, err := os.Stat(final); errors.Is(err, os.ErrNotExist) {
		if err := t.f.Close(); err != nil {
			return f, false, fmt.Errorf("firmware: %w", err)
		}
		if err := os.Rename(t.path, final); err != nil {
			return f, false, fmt.Errorf("firmware: %w", err)
		}
		t.f = nil
		linked = true
		syncDir(s.dir)
	} else if err != nil {
		return f, false, fmt.Errorf("firmware: %w", err)
	}
	f, err = s.db.CreateFirmware(ctx, autoprov.Firmware{Vendor: m.Vendor, Models: m.Models, Version: m.Version, Name: m.Name,
		Size: t.size, SHA256: t.sha256, UploadedAt: time.Now(), UploadedBy: actor}, actor)
	if err != nil {
		if linked {
			os.Remove(final)
		}
		return f, false, err
	}
	s.log.Info("firmware added", "id", f.ID, "vendor", f.Vendor, "models", strings.Join(f.Models, ","), "version", f.Version,
		"name", f.Name, "size", f.Size, "sha256", f.SHA256, "stored", map[bool]string{true: "new file", false: "file already stored"}[linked], "by", actor)
	return f, true, nil
}

// same finds the row this very upload made before, if any.
func (s *Store) same(ctx context.Context, t *Temp, m Meta) (autoprov.Firmware, bool, error) {
	f, err := s.db.FirmwareFor(ctx, m.Vendor, m.Models[0], m.Version)
	if errors.Is(err, autoprov.ErrNotFound) {
		return f, false, nil
	}
	if err != nil {
		return f, false, err
	}
	if f.SHA256 == t.sha256 && f.Name == m.Name && strings.Join(f.Models, ",") == strings.Join(m.Models, ",") {
		return f, true, nil
	}
	return f, false, nil
}

// Add is Receive and Commit: it validates m first, so a wrong field is
// refused before any byte is read.
func (s *Store) Add(ctx context.Context, r io.Reader, m Meta, actor string) (autoprov.Firmware, bool, error) {
	if _, err := s.Validate(m); err != nil {
		return autoprov.Firmware{}, false, err
	}
	t, err := s.Receive(r)
	if err != nil {
		return autoprov.Firmware{}, false, err
	}
	return s.Commit(ctx, t, m, actor)
}

// List pages through the catalogue, newest first, with the count of all matches.
func (s *Store) List(ctx context.Context, f autoprov.FirmwareFilter) ([]autoprov.Firmware, int, error) {
	return s.db.Firmwares(ctx, f)
}

// Get returns one catalogue entry.
func (s *Store) Get(ctx context.Context, id int64) (autoprov.Firmware, error) {
	return s.db.Firmware(ctx, id)
}

// Delete removes a catalogue entry, and its file when no other entry names
// it. An entry a model or device targets is autoprov.ErrConflict.
func (s *Store) Delete(ctx context.Context, id int64, actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, shared, err := s.db.DeleteFirmware(ctx, id, actor)
	if err != nil {
		return err
	}
	if !shared {
		if err := os.Remove(filepath.Join(s.dir, f.SHA256)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error("remove firmware file", "sha256", f.SHA256, "err", err)
		}
	}
	s.log.Info("firmware deleted", "id", f.ID, "vendor", f.Vendor, "version", f.Version, "file_removed", !shared, "by", actor)
	return nil
}

// syncDir makes a rename in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
