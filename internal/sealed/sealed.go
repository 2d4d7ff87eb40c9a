// Package sealed seals secrets at rest with AES-256-GCM (standard library
// only) under a keyring: the current key first, older ones after it. A
// sealed value is text that fits any text column:
//
//	v1:<key id>:<base64(nonce | ciphertext)>
//
// The key id is derived from the key itself (the first 4 bytes of a
// SHA-256 over it, in hex), so a key file holds nothing but keys and a
// value says which key opens it without revealing anything about it. The
// caller passes additional data naming where the value lives (a table,
// column and row), so a sealed value copied to another row or column does
// not open. The plain text is padded to a multiple of 32 bytes before
// sealing, so a value's length tells only roughly how long the secret is.
//
// Seal always uses the current key; Open uses whichever key the value
// names. A key file lists one key per line (base64 or hex of 32 bytes;
// blank lines and lines starting with # are ignored); the same keys may
// be given comma-separated in one string (an environment variable).
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// prefix starts every sealed value (format version 1).
const prefix = "v1:"

// padBlock: sealed plain text (2 length bytes + the secret) is padded to a
// multiple of this many bytes.
const padBlock = 32

// maxPlain is the longest secret Seal takes (its length is stored in 2 bytes).
const maxPlain = 1<<16 - 1

// Errors Open returns. Neither names the value or the key material.
var (
	// ErrUnknownKey: the value was sealed under a key the keyring lacks.
	ErrUnknownKey = errors.New("sealed value: its key is not in the keyring")
	// ErrCorrupt: the value is malformed, was changed, belongs to another
	// row or column (other additional data), or its key id collides.
	ErrCorrupt = errors.New("sealed value: does not open (corrupt, or moved from another row)")
)

// key is one AES-256-GCM key with its id.
type key struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

// Keyring is an ordered set of keys, the current one first. It is
// immutable and safe for concurrent use.
type Keyring struct {
	keys []key
}

// New builds a keyring from raw keys, the current one first. Each must be
// KeySize bytes; duplicates are dropped (the first occurrence stays).
func New(raw ...[]byte) (*Keyring, error) {
	if len(raw) == 0 {
		return nil, errors.New("keyring: no key")
	}
	k := &Keyring{}
	seen := map[string]bool{}
	for i, r := range raw {
		if len(r) != KeySize {
			return nil, fmt.Errorf("keyring: key %d is %d bytes, want %d", i+1, len(r), KeySize)
		}
		block, err := aes.NewCipher(r)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(r)
		if seen[id] {
			continue
		}
		seen[id] = true
		k.keys = append(k.keys, key{id: id, raw: bytes.Clone(r), aead: aead})
	}
	return k, nil
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	b := make([]byte, KeySize)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return b
}

// Generate returns a keyring holding one fresh random key.
func Generate() *Keyring {
	k, _ := New(NewKey())
	return k
}

// KeyID is the id of a raw key: 8 hex digits of a SHA-256 over it.
func KeyID(raw []byte) string {
	h := sha256.Sum256(append([]byte("autoprov sealed key id\x00"), raw...))
	return hex.EncodeToString(h[:4])
}

// Parse reads a keyring from text: keys separated by newlines or commas,
// each the base64 (standard or URL alphabet, padded or not) or hex
// encoding of KeySize bytes, the current key first. Blank lines and lines
// starting with # are ignored. Errors never quote key material.
func Parse(text string) (*Keyring, error) {
	var raw [][]byte
	for lineNo, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, field := range strings.Split(line, ",") {
			field = strings.TrimSpace(field)
			if field == "" {
				continue
			}
			b, err := decodeKey(field)
			if err != nil {
				return nil, fmt.Errorf("keyring: line %d: %v", lineNo+1, err)
			}
			raw = append(raw, b)
		}
	}
	if len(raw) == 0 {
		return nil, errors.New("keyring: no key")
	}
	return New(raw...)
}

func decodeKey(s string) ([]byte, error) {
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("a key is %d bytes, want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("a key is neither base64 nor hex of %d bytes", KeySize)
}

// Encode writes the keyring as Parse reads it: a comment, then one base64
// key per line, the current one first.
func (k *Keyring) Encode() []byte {
	var b bytes.Buffer
	b.WriteString("# autoprov secret keyring: the current key first, older ones after it (see README, \"Secrets at rest\")\n")
	for _, key := range k.keys {
		b.WriteString(base64.StdEncoding.EncodeToString(key.raw))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Current returns the id of the key Seal uses.
func (k *Keyring) Current() string { return k.keys[0].id }

// IDs lists the key ids, the current one first.
func (k *Keyring) IDs() []string {
	out := make([]string, len(k.keys))
	for i, key := range k.keys {
		out[i] = key.id
	}
	return out
}

// Has reports whether the keyring holds the key with this id.
func (k *Keyring) Has(id string) bool {
	for _, key := range k.keys {
		if key.id == id {
			return true
		}
	}
	return false
}

// Rotated returns a keyring with a fresh key first and k's keys after it.
func (k *Keyring) Rotated() *Keyring {
	out := &Keyring{}
	fresh := Generate()
	out.keys = append(append(out.keys, fresh.keys[0]), k.keys...)
	return out
}

// Only returns a keyring holding those of k's keys whose id is in ids, in
// k's order; nil when none is.
func (k *Keyring) Only(ids ...string) *Keyring {
	out := &Keyring{}
	for _, key := range k.keys {
		for _, id := range ids {
			if key.id == id {
				out.keys = append(out.keys, key)
				break
			}
		}
	}
	if len(out.keys) == 0 {
		return nil
	}
	return out
}

// Ring returns k itself: a fixed keyring is its own Source.
func (k *Keyring) Ring() *Keyring { return k }

// Refresh returns k itself: a fixed keyring never changes.
func (k *Keyring) Refresh() *Keyring { return k }

// Seal seals plain under the current key, bound to ad (where the value
// lives). It panics if plain is longer than 65535 bytes.
func (k *Keyring) Seal(plain, ad string) string {
	if len(plain) > maxPlain {
		panic("sealed: secret too long")
	}
	n := 2 + len(plain)
	n += (padBlock - n%padBlock) % padBlock
	msg := make([]byte, n)
	binary.BigEndian.PutUint16(msg, uint16(len(plain)))
	copy(msg[2:], plain)
	cur := k.keys[0]
	out := make([]byte, cur.aead.NonceSize(), cur.aead.NonceSize()+n+cur.aead.Overhead())
	rand.Read(out)
	out = cur.aead.Seal(out, out, msg, []byte(ad))
	return prefix + cur.id + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// Open opens a value Seal made with one of k's keys and the same ad.
// ErrUnknownKey when its key is not in k, ErrCorrupt when it does not
// open; a value that is not sealed at all is ErrCorrupt too (check
// IsSealed first).
func (k *Keyring) Open(v, ad string) (string, error) {
	id, body, ok := split(v)
	if !ok {
		return "", ErrCorrupt
	}
	for _, key := range k.keys {
		if key.id != id {
			continue
		}
		data, err := base64.RawStdEncoding.DecodeString(body)
		ns := key.aead.NonceSize()
		if err != nil || len(data) < ns+key.aead.Overhead() {
			return "", ErrCorrupt
		}
		msg, err := key.aead.Open(nil, data[:ns], data[ns:], []byte(ad))
		if err != nil || len(msg) < 2 {
			return "", ErrCorrupt
		}
		n := int(binary.BigEndian.Uint16(msg))
		if 2+n > len(msg) {
			return "", ErrCorrupt
		}
		return string(msg[2 : 2+n]), nil
	}
	return "", ErrUnknownKey
}

// IsSealed reports whether v has the form of a sealed value.
func IsSealed(v string) bool {
	_, _, ok := split(v)
	return ok
}

// KeyOf returns the id of the key v was sealed under, if v is sealed.
func KeyOf(v string) (id string, ok bool) {
	id, _, ok = split(v)
	return id, ok
}

func split(v string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, ":")
	if !ok || len(id) != 8 || body == "" {
		return "", "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", false
	}
	return id, body, true
}

// Source gives a keyring to whoever seals and opens values: Ring is asked
// on every use and must be cheap; Refresh is asked when a value names a
// key Ring lacks, and before sealing, so a keyring changed on disk (a
// rotation) is picked up. A *Keyring is a Source that never changes; a
// *File reloads its file when it changed.
type Source interface {
	Ring() *Keyring
	Refresh() *Keyring
}

// Staged returns a keyring with k's keys and then a fresh key, last: a
// key every holder of the ring can open before anyone seals with it.
func (k *Keyring) Staged() *Keyring {
	out := &Keyring{keys: slices.Clone(k.keys)}
	out.keys = append(out.keys, Generate().keys[0])
	return out
}

// WithCurrent returns a keyring with the key id first and k's other keys
// after it, in their order; nil when k lacks id.
func (k *Keyring) WithCurrent(id string) *Keyring {
	out := &Keyring{}
	for _, key := range k.keys {
		if key.id == id {
			out.keys = append(out.keys, key)
		}
	}
	if len(out.keys) == 0 {
		return nil
	}
	for _, key := range k.keys {
		if key.id != id {
			out.keys = append(out.keys, key)
		}
	}
	return out
}

// Derive returns a 32-byte key for another purpose, named by label, made
// from the current key (HMAC-SHA256): instances sharing a keyring derive
// the same one, and it tells nothing about the key.
func (k *Keyring) Derive(label string) []byte {
	m := hmac.New(sha256.New, k.keys[0].raw)
	m.Write([]byte("autoprov derived key\x00" + label))
	return m.Sum(nil)
}
