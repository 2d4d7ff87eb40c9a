package firmware_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

func openStore(t *testing.T, opts ...firmware.Option) (*firmware.Store, *store.Store, string) {
	t.Helper()
	data := t.TempDir()
	db, err := store.Open(filepath.Join(data, "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "firmware")
	fw, err := firmware.Open(context.Background(), dir, db, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return fw, db, dir
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

var meta = firmware.Meta{Vendor: "Yealink", Models: []string{"t54w, T57W", "T54W"}, Version: "96.86.0.100", Name: "T54W-96.86.0.100.rom"}

// brokenReader yields n bytes, then fails as a client that hung up.
type brokenReader struct{ n int }

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

// TestAddFailuresLeaveNothing: a reader that breaks, an image over the
// cap, an empty one, bad fields: no file, no temporary file, no row.
func TestAddFailuresLeaveNothing(t *testing.T) {
	fw, db, dir := openStore(t, firmware.WithMaxBytes(1000))
	ctx := context.Background()
	if _, _, err := fw.Add(ctx, &brokenReader{n: 500}, meta, "t"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("broken reader: %v", err)
	}
	var tooBig *firmware.TooLargeError
	if _, _, err := fw.Add(ctx, bytes.NewReader(make([]byte, 1001)), meta, "t"); !errors.As(err, &tooBig) {
		t.Errorf("over the cap: %v", err)
	}
	if _, _, err := fw.Add(ctx, bytes.NewReader(nil), meta, "t"); !errors.Is(err, firmware.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	bad := meta
	bad.Models = []string{"T54W", "D785"}
	var inv *autoprov.InvalidError
	if _, _, err := fw.Add(ctx, bytes.NewReader([]byte("x")), bad, "t"); !errors.As(err, &inv) || !strings.Contains(inv.Message, "T54W") {
		t.Errorf("a Snom model for Yealink: %v", err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("left behind: %v", names)
	}
	if _, n, _ := db.Firmwares(ctx, autoprov.FirmwareFilter{}); n != 0 {
		t.Errorf("%d rows", n)
	}
	// Exactly the cap is fine, and canonical: vendor lower-case, models as the driver names them.
	f, created, err := fw.Add(ctx, bytes.NewReader(make([]byte, 1000)), meta, "t")
	if err != nil || !created || f.Vendor != "yealink" || strings.Join(f.Models, ",") != "T54W,T57W" {
		t.Errorf("at the cap: %+v %v", f, err)
	}
}

// TestOpenSweeps: at Open, a temporary file a crash left is removed, one
// another process is writing (it holds the lock) is kept, and a file no
// row names (a crash between link and row) is removed once it is a minute old.
func TestOpenSweeps(t *testing.T) {
	fw, db, dir := openStore(t)
	ctx := context.Background()
	f, _, err := fw.Add(ctx, strings.NewReader("image"), meta, "t")
	if err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, ".upload-crashed")
	os.WriteFile(crashed, []byte("half"), 0o600)
	orphan := filepath.Join(dir, strings.Repeat("0", 64))
	os.WriteFile(orphan, []byte("x"), 0o600)
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(orphan, old, old)
	fresh := filepath.Join(dir, strings.Repeat("1", 64))
	os.WriteFile(fresh, []byte("y"), 0o600)
	// An upload in progress in this process holds its temporary file.
	tmp, err := fw.Receive(strings.NewReader("in progress"))
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Discard()

	reg, _ := all.Registry("")
	if _, err := firmware.Open(ctx, dir, db, reg); err != nil {
		t.Fatal(err)
	}
	names := strings.Join(entries(t, dir), " ")
	for _, gone := range []string{".upload-crashed", strings.Repeat("0", 64)} {
		if strings.Contains(names, gone) {
			t.Errorf("%s not removed: %s", gone, names)
		}
	}
	for _, kept := range []string{f.SHA256, strings.Repeat("1", 64), ".upload-"} {
		if !strings.Contains(names, kept) {
			t.Errorf("%s removed: %s", kept, names)
		}
	}
}

// TestDeleteKeepsSharedFile: two entries name one file; deleting the
// first keeps it, deleting the second removes it.
func TestDeleteKeepsSharedFile(t *testing.T) {
	fw, _, dir := openStore(t)
	ctx := context.Background()
	a, _, err := fw.Add(ctx, strings.NewReader("image"), meta, "t")
	if err != nil {
		t.Fatal(err)
	}
	m2 := meta
	m2.Version = "96.86.0.101"
	b, created, err := fw.Add(ctx, strings.NewReader("image"), m2, "t")
	if err != nil || !created || b.SHA256 != a.SHA256 {
		t.Fatal(err)
	}
	// The very same upload again is the same entry.
	if again, created, err := fw.Add(ctx, strings.NewReader("image"), m2, "t"); err != nil || created || again.ID != b.ID {
		t.Errorf("again: %+v %v %v", again, created, err)
	}
	if err := fw.Delete(ctx, a.ID, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, a.SHA256)); err != nil {
		t.Errorf("shared file removed: %v", err)
	}
	if err := fw.Delete(ctx, b.ID, "t"); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("left: %v", names)
	}
	if err := fw.Delete(ctx, b.ID, "t"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}
