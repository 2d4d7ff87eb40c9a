package sealed

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k := Generate()
	for _, plain := range []string{"", "x", "s3cret-201", strings.Repeat("p", 30), strings.Repeat("ä", 100)} {
		v := k.Seal(plain, "accounts.password\x00201")
		if !IsSealed(v) || !strings.HasPrefix(v, "v1:"+k.Current()+":") {
			t.Fatalf("Seal = %q", v)
		}
		if len(plain) >= 8 && strings.Contains(v, plain) { // a short one may occur in base64 by chance
			t.Fatalf("sealed value contains the plain text: %q", v)
		}
		got, err := k.Open(v, "accounts.password\x00201")
		if err != nil || got != plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
		// Bound to its place: another row or column does not open it.
		if _, err := k.Open(v, "accounts.password\x00202"); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open with other ad: %v, want ErrCorrupt", err)
		}
	}
	// Same secret twice: different values (fresh nonce).
	if a, b := k.Seal("same", "x"), k.Seal("same", "x"); a == b {
		t.Fatal("two seals of one secret are equal")
	}
	// Length is padded: 1 and 29 bytes give the same length.
	if a, b := k.Seal("a", "x"), k.Seal(strings.Repeat("a", 29), "x"); len(a) != len(b) {
		t.Fatalf("lengths differ: %d vs %d", len(a), len(b))
	}
	// Tampering is detected.
	v := k.Seal("secret", "x")
	b := []byte(v)
	b[len(b)-3] ^= 1
	if _, err := k.Open(string(b), "x"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("tampered: %v", err)
	}
	if _, err := Generate().Open(v, "x"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other key: %v, want ErrUnknownKey", err)
	}
	for _, s := range []string{"", "secret", "v1:", "v1:zzzzzzzz:abc", "v1:0011223:abc", "v1:00112233:"} {
		if IsSealed(s) {
			t.Errorf("IsSealed(%q)", s)
		}
	}
}

func TestRingOrder(t *testing.T) {
	old := Generate()
	v := old.Seal("pw", "ad")
	ring := old.Rotated()
	if ring.Current() == old.Current() || len(ring.IDs()) != 2 || ring.IDs()[1] != old.Current() {
		t.Fatalf("Rotated ids = %v (old %s)", ring.IDs(), old.Current())
	}
	if got, err := ring.Open(v, "ad"); err != nil || got != "pw" {
		t.Fatalf("old value through the rotated ring: %q, %v", got, err)
	}
	if id, _ := KeyOf(ring.Seal("pw", "ad")); id != ring.Current() {
		t.Fatalf("sealed under %s, want the current %s", id, ring.Current())
	}
	if only := ring.Only(ring.Current()); len(only.IDs()) != 1 || only.Current() != ring.Current() {
		t.Fatalf("Only = %v", only.IDs())
	}
	if ring.Only("00000000") != nil {
		t.Fatal("Only(unknown) not nil")
	}
}

func TestParse(t *testing.T) {
	a, b := NewKey(), NewKey()
	want := []string{KeyID(a), KeyID(b)}
	for _, text := range []string{
		base64.StdEncoding.EncodeToString(a) + "\n" + base64.StdEncoding.EncodeToString(b) + "\n",
		"# comment\n\n" + hex.EncodeToString(a) + "\r\n" + base64.RawURLEncoding.EncodeToString(b),
		base64.StdEncoding.EncodeToString(a) + ", " + hex.EncodeToString(b),
		string(mustNew(t, a, b).Encode()),
	} {
		k, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if got := k.IDs(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("ids = %v, want %v", got, want)
		}
	}
	for _, text := range []string{"", "# only a comment\n", "not a key", base64.StdEncoding.EncodeToString(a[:16])} {
		if _, err := Parse(text); err == nil {
			t.Errorf("Parse(%q) accepted", text)
		} else if len(text) > 8 && strings.Contains(err.Error(), text) {
			t.Errorf("error quotes the input: %v", err)
		}
	}
}

func mustNew(t *testing.T, raw ...[]byte) *Keyring {
	k, err := New(raw...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	f, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateFile = %v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	first := f.Ring().Current()
	again, created, err := LoadOrCreateFile(path)
	if err != nil || created || again.Ring().Current() != first {
		t.Fatalf("second load: created=%v err=%v", created, err)
	}
	// A rotation written by another process is picked up by Refresh.
	rotated := f.Ring().Rotated()
	if err := WriteFile(path, rotated); err != nil {
		t.Fatal(err)
	}
	if f.Ring().Current() != first {
		t.Fatal("Ring changed without Refresh")
	}
	if got := f.Refresh(); got.Current() != rotated.Current() || !got.Has(first) {
		t.Fatalf("after Refresh: %v", got.IDs())
	}
	// A broken file keeps the last good ring.
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := f.Refresh(); got.Current() != rotated.Current() {
		t.Fatalf("broken file replaced the ring: %v", got.IDs())
	}
}

func TestStagedWithCurrent(t *testing.T) {
	k := Generate()
	st := k.Staged()
	ids := st.IDs()
	if len(ids) != 2 || ids[0] != k.Current() {
		t.Fatalf("Staged = %v", ids)
	}
	promoted := st.WithCurrent(ids[1])
	if got := promoted.IDs(); len(got) != 2 || got[0] != ids[1] || got[1] != ids[0] {
		t.Fatalf("WithCurrent = %v", got)
	}
	if st.WithCurrent("00000000") != nil {
		t.Fatal("WithCurrent(unknown) not nil")
	}
}

// Derive gives holders of one keyring one key per label, and another
// keyring or label another one.
func TestDerive(t *testing.T) {
	k := Generate()
	same, err := Parse(string(k.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := k.Derive("x"), same.Derive("x"); string(a) != string(b) || len(a) != 32 {
		t.Fatal("one keyring, one label: different keys")
	}
	if string(k.Derive("x")) == string(k.Derive("y")) || string(k.Derive("x")) == string(Generate().Derive("x")) {
		t.Fatal("another label or keyring gave the same key")
	}
}
