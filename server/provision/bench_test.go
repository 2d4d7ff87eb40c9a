package provision_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
)

// BenchmarkProvide measures the phone fetch path (identify, store lookup
// and sighting update, render) for a per-device file after its secrets
// went out, in a fleet of 1,000 devices. A boot storm after a power cut is
// what this path has to absorb. It runs on a real SQLite file: the store
// is most of the cost.
func BenchmarkProvide(b *testing.B) {
	for _, tc := range []struct{ model, path, ua string }{
		{"T54W", "%s.cfg", "Yealink SIP-T54W 96.86.0.100 %s"},
		{"D785", "%s.xml", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001 %s SXM:0 UXM:0)"},
		{"N870", "%s.xml", "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;%s"},
	} {
		b.Run(tc.model, func(b *testing.B) {
			st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			core, _ := newCoreOn(b, st)
			prefix := map[string]string{"T54W": "805ec0", "D785": "000413", "N870": "7c2f80"}[tc.model]
			for i := range 1000 {
				ext := fmt.Sprintf("%d", 1000+i)
				name := "User " + ext
				if _, err := core.CreateAccount(context.Background(), autoprov.AccountInput{Extension: &ext, DisplayName: &name}, "test"); err != nil {
					b.Fatal(err)
				}
				mac := fmt.Sprintf("%s%06x", prefix, i)
				model := tc.model
				if _, err := core.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Model: &model, Accounts: &[]string{ext}}, "bench"); err != nil {
					b.Fatal(err)
				}
			}
			reqs := make([]vendors.Request, 1000)
			for i := range reqs {
				mac := fmt.Sprintf("%s%06x", prefix, i)
				reqs[i] = vendors.Request{Path: fmt.Sprintf(tc.path, mac), UserAgent: fmt.Sprintf(tc.ua, mac), RemoteAddr: "192.0.2.1", Transport: "http"}
				res, err := core.Provide(context.Background(), reqs[i]) // spend the secret once
				if err != nil {
					b.Fatal(err)
				}
				res.Sending()
				res.Finish(true)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				res, err := core.Provide(context.Background(), reqs[i%len(reqs)])
				if err != nil {
					b.Fatal(err)
				}
				res.Finish(true)
			}
		})
	}
}
