package httpd

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestInternerKeepsOneCopyWithinItsBound: the same bytes give the very
// same string (no new copy), and past its byte bound it starts over
// rather than grow.
func TestInternerKeepsOneCopyWithinItsBound(t *testing.T) {
	in := newInterner(10 * (internOverhead + 20))
	ua := []byte("Yealink SIP-T54W 96.86.0.100 80:5e:c0:00:00:01")
	a, b := in.of(ua), in.of(append([]byte(nil), ua...))
	if a != string(ua) || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same bytes gave two copies")
	}
	if n := testing.AllocsPerRun(100, func() { in.of(ua) }); n != 0 {
		t.Fatalf("an interned string costs %v allocations", n)
	}
	for i := range 1000 {
		s := fmt.Sprintf("path-%015d", i)
		if got := in.of([]byte(s)); got != s {
			t.Fatalf("%q gave %q", s, got)
		}
		if in.bytes > in.maxBytes {
			t.Fatalf("%d bytes held, bound %d", in.bytes, in.maxBytes)
		}
	}
	if len(in.m) > 10 {
		t.Fatalf("%d strings held past the bound", len(in.m))
	}
}
