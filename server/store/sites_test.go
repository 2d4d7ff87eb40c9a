package store

import (
	"context"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// TestOpenWindows counts the windows open at an instant: one past its end
// (not swept yet) and a device without a window do not count.
func TestOpenWindows(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		for i, w := range []time.Duration{time.Hour, 10 * time.Minute, 0} {
			mac := "805ec0aabb0" + string(rune('1'+i))
			if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W",
				State: autoprov.StateAssigned}, Window: w, At: now, Actor: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			at   time.Time
			want int
		}{{now.Add(time.Minute), 2}, {now.Add(30 * time.Minute), 1}, {now.Add(2 * time.Hour), 0}} {
			if n, err := s.OpenWindows(ctx, c.at); err != nil || n != c.want {
				t.Errorf("open windows at %v: %d %v, want %d", c.at, n, err, c.want)
			}
		}
	})
}
