package provision

import (
	"strconv"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// TestIDMemoBoundedByBytes: a client that forges ever new User-Agents of
// the longest kept (a flood of request shapes) never makes the memo hold
// more than its bound; it starts over instead, and the shapes it holds
// are still answered from it.
func TestIDMemoBoundedByBytes(t *testing.T) {
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	const bound = 64 << 10
	p := &Phones{ids: newIDMemo(bound), renderer: renderer{reg: reg}}
	long := strings.Repeat("x", maxIDField-40)
	restarts, last := 0, 0
	for i := range 1000 {
		req := vendors.Request{Path: "805ec0aabb01.cfg", UserAgent: "Yealink SIP-T54W 96.86.0.100 " + long + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i)}
		e, id, _ := p.identify(req)
		if e == nil || id.Score == 0 {
			t.Fatalf("request %d not identified through the memo", i)
		}
		p.ids.mu.RLock()
		n, held := len(p.ids.m), p.ids.bytes
		p.ids.mu.RUnlock()
		if held > bound {
			t.Fatalf("after %d shapes the memo holds %d bytes, bound %d", i+1, held, bound)
		}
		if n < last {
			restarts++
		}
		last = n
		if again, _, _ := p.identify(req); again != e {
			t.Fatalf("request %d identified again instead of answered from the memo", i)
		}
	}
	if restarts == 0 {
		t.Fatal("1,000 shapes of 500 bytes fit in 64 KiB: the bound was not applied")
	}
}
