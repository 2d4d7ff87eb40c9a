package provision_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors"
)

// TestRecentMisses: the latest misses, newest first, with their reason;
// the same miss again within a minute is kept once (as the log does), and
// the ring holds the latest 50.
func TestRecentMisses(t *testing.T) {
	c, clk := newCore(t)
	ctx := context.Background()
	miss := func(path string) {
		t.Helper()
		if _, err := c.Provide(ctx, vendors.Request{Path: path, UserAgent: "curl/8", RemoteAddr: "192.0.2.9", Transport: "http"}); err == nil {
			t.Fatalf("%s served", path)
		}
	}
	if got := c.RecentMisses(10); len(got) != 0 {
		t.Fatalf("misses before any: %+v", got)
	}
	miss("a.txt")
	miss("a.txt") // the same within a minute: one
	clk.Add(time.Second)
	miss("b.txt")
	got := c.RecentMisses(10)
	if len(got) != 2 || got[0].Path != "b.txt" || got[1].Path != "a.txt" || got[0].Reason == "" || got[0].RemoteAddr != "192.0.2.9" ||
		got[0].Transport != "http" || !got[0].At.Equal(clk.Now()) {
		t.Fatalf("misses: %+v", got)
	}
	for i := range 60 {
		miss(fmt.Sprintf("x%02d.txt", i))
	}
	got = c.RecentMisses(100)
	if len(got) != 50 || got[0].Path != "x59.txt" || got[49].Path != "x10.txt" {
		t.Errorf("after 62 misses: %d kept, newest %s, oldest %s", len(got), got[0].Path, got[len(got)-1].Path)
	}
	if got := c.RecentMisses(3); len(got) != 3 || got[2].Path != "x57.txt" {
		t.Errorf("the latest 3: %+v", got)
	}
}
