package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/csvio"
)

// BenchmarkImportCSV10k is issue [13]'s "10,000 rows import in seconds":
// a 10,000-row sheet (one phone and one account per row, MACs in dashed
// notation) read by csvio and made by the real core's bulk change into an
// empty SQLite file, as POST /api/v1/bulk with text/csv and autoprov
// import do. Reports seconds and CPU seconds per import.
func BenchmarkImportCSV10k(b *testing.B) {
	const n = 10_000
	var src strings.Builder
	src.WriteString("mac,model,label,extension,display_name\n")
	for i := range n {
		fmt.Fprintf(&src, "80-5E-C0-%02X-%02X-%02X,T54W,Desk %d,%d,User %d\n", i>>16, (i>>8)&0xff, i&0xff, i, 10000+i, i)
	}
	sheet := src.String()
	for b.Loop() {
		b.StopTimer()
		s := open(b, filepath.Join(b.TempDir(), "bench.db"))
		inv := bulkCore(b, s)
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		im, err := csvio.Read(strings.NewReader(sheet))
		if err != nil {
			b.Fatal(err)
		}
		res, err := inv.Bulk(context.Background(), im.Input, false, "bench")
		if err != nil {
			b.Fatal(err)
		}
		took, used := time.Since(start), cpuTime()-cpu
		b.StopTimer()
		if len(res.DevicesCreated) != n || len(res.AccountsCreated) != n {
			b.Fatalf("created %d devices, %d accounts", len(res.DevicesCreated), len(res.AccountsCreated))
		}
		b.ReportMetric(took.Seconds(), "s/import")
		b.ReportMetric(used.Seconds(), "cpu-s/import")
		s.Close()
		b.StartTimer()
	}
}
