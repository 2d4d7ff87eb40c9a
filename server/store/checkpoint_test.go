package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestWALCheckpointsLater: every connection of the pool, the ones opened
// later too, checkpoints the WAL at sqliteAutoCheckpoint pages, not at
// SQLite's 1,000 (wal_autocheckpoint is a setting of each connection).
func TestWALCheckpointsLater(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "wal.db"))
	sqlDB, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // held at once: four connections of the pool
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var n int
		if err := c.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&n); err != nil || n != sqliteAutoCheckpoint {
			t.Fatalf("connection %d: wal_autocheckpoint = %d (%v), want %d", i, n, err, sqliteAutoCheckpoint)
		}
	}
}
