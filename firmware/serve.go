package firmware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// Requester is who asks for a file: what the edge knows of the client.
type Requester struct {
	RemoteIP  string
	UserAgent string
	Transport string // "http", "https", "tftp"
}

// Download is one download of a catalogue entry's file in progress. The
// edge streams File (positioned at 0) and calls Begin when the body starts
// to go out (not for a HEAD or a 304) and End exactly once.
type Download struct {
	Firmware autoprov.Firmware
	File     *os.File
	ModTime  time.Time

	s     *Store
	who   Requester
	mac   string // the device, "" when unknown
	token string

	mu      sync.Mutex
	begun   bool
	started time.Time
	size    int64
	ended   bool
}

// recordTimeout bounds each write of a download record.
const recordTimeout = 5 * time.Second

// Open finds the file a phone asked for: name is "firmware/<hash
// prefix>/<original name>" as Path makes it (a leading "prov/" is the
// edge's to drop). A name no entry has, or an entry whose file is missing,
// is autoprov.ErrNotFound (the reason is logged for the second). The
// device is found from the User-Agent's MAC (when the inventory has it),
// else from the address it was last seen at.
func (s *Store) Open(ctx context.Context, name string, who Requester) (*Download, error) {
	rest, ok := strings.CutPrefix(name, "firmware/")
	if !ok {
		return nil, fmt.Errorf("firmware %q: %w", name, autoprov.ErrNotFound)
	}
	prefix, file, ok := strings.Cut(rest, "/")
	if !ok || len(prefix) != PathPrefixLen || !isHex(prefix) || token("name", file) != nil {
		return nil, fmt.Errorf("firmware %q: %w", name, autoprov.ErrNotFound)
	}
	f, err := s.db.FirmwareByFile(ctx, strings.ToLower(prefix), file)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(filepath.Join(s.dir, f.SHA256))
	if err != nil {
		s.log.Error("firmware file missing for its catalogue entry", "id", f.ID, "sha256", f.SHA256, "err", err)
		return nil, fmt.Errorf("firmware %d: file: %w", f.ID, autoprov.ErrNotFound)
	}
	info, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if info.Size() != f.Size {
		fh.Close()
		s.log.Error("firmware file has the wrong size", "id", f.ID, "sha256", f.SHA256, "size", info.Size(), "want", f.Size)
		return nil, fmt.Errorf("firmware %d: file: %w", f.ID, autoprov.ErrNotFound)
	}
	return &Download{Firmware: f, File: fh, ModTime: f.UploadedAt, s: s, who: who}, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// identify finds the requesting device's MAC, or "".
func (s *Store) identify(ctx context.Context, who Requester) string {
	if who.UserAgent != "" && s.reg != nil {
		id, _ := s.reg.Identify(vendors.Request{UserAgent: who.UserAgent, RemoteAddr: who.RemoteIP, Transport: who.Transport})
		if id.MAC != "" {
			if known, err := s.db.DeviceKnown(ctx, id.MAC); err == nil && known {
				return id.MAC
			}
		}
	}
	if who.RemoteIP == "" {
		return ""
	}
	mac, err := s.db.DeviceAt(ctx, who.RemoteIP)
	if err != nil {
		if !errors.Is(err, autoprov.ErrNotFound) {
			s.log.Error("find the device downloading firmware", "remote", who.RemoteIP, "err", err)
		}
		return ""
	}
	return mac
}

// Begin records that size bytes (the whole file, or a Range's slice)
// start to go out.
func (d *Download) Begin(ctx context.Context, size int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.begun {
		return
	}
	d.begun, d.started, d.size = true, time.Now(), size
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	d.mac = d.s.identify(ctx, d.who)
	f := d.Firmware
	d.s.log.Debug("firmware download started", "id", f.ID, "file", Path(f), "mac", d.mac, "remote", d.who.RemoteIP,
		"transport", d.who.Transport, "size", size)
	if d.mac == "" {
		return
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	d.token = hex.EncodeToString(rnd[:])
	if err := d.s.db.StartDownload(ctx, autoprov.FirmwareDownload{MAC: d.mac, FirmwareID: f.ID, Transport: d.who.Transport,
		RemoteIP: d.who.RemoteIP, StartedAt: d.started, Size: size}, d.token); err != nil {
		d.s.log.Error("record firmware download", "id", f.ID, "mac", d.mac, "err", err)
		d.token = ""
	}
}

// End closes the file and, if the download begun, records how it ended:
// sent bytes of the size Begin announced, and the transfer's error (nil:
// it completed).
func (d *Download) End(sent int64, xerr error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended {
		return
	}
	d.ended = true
	d.File.Close()
	if !d.begun {
		return
	}
	outcome := autoprov.DownloadCompleted
	if xerr != nil || sent < d.size {
		outcome = autoprov.DownloadBroken
	}
	whole := outcome == autoprov.DownloadCompleted && d.size == d.Firmware.Size
	f := d.Firmware
	attrs := []any{"id", f.ID, "file", Path(f), "mac", d.mac, "remote", d.who.RemoteIP, "transport", d.who.Transport,
		"started", d.started.UTC().Format(time.RFC3339Nano), "bytes", sent, "size", d.size, "outcome", outcome,
		"duration", time.Since(d.started).Round(time.Millisecond)}
	if xerr != nil {
		attrs = append(attrs, "reason", xerr.Error())
	}
	d.s.log.Info("firmware download", attrs...)
	if d.token == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := d.s.db.EndDownload(ctx, d.mac, f.ID, d.token, time.Now(), sent, outcome, whole); err != nil {
		d.s.log.Error("record firmware download", "id", f.ID, "mac", d.mac, "err", err)
	}
}
