package provision_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors"
)

// BenchmarkProvide measures the phone fetch path (identify, store lookup
// and sighting update, render) for a per-device file after its secrets
// went out, in a fleet of 1,000 devices, each fetch presenting the
// phone's own credential (Basic over HTTPS) where its vendor takes one, as
// the phone does from then on. A boot storm after a power cut is what this
// path has to absorb. It runs on a real SQLite file: the store is most of
// the cost.
func BenchmarkProvide(b *testing.B) {
	for _, tc := range []struct {
		model, path, ua string
		cred            *regexp.Regexp // the phone's credential in its first file; nil: its vendor takes none
	}{
		{"T54W", "%s.cfg", "Yealink SIP-T54W 96.86.0.100 %s", provPass},
		{"D785", "%s.xml", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001 %s SXM:0 UXM:0)",
			regexp.MustCompile(`<http_client_pass perm="R">([^<]+)</http_client_pass>`)},
		{"N870", "%s.xml", "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;%s", nil},
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
				path := fmt.Sprintf(tc.path, mac)
				reqs[i] = vendors.Request{Path: path, UserAgent: fmt.Sprintf(tc.ua, mac), RemoteAddr: "192.0.2.1", Transport: "http"}
				res, err := core.Provide(context.Background(), reqs[i]) // spend the secret once
				if err != nil {
					b.Fatal(err)
				}
				if err := res.Sending(); err != nil {
					b.Fatal(err)
				}
				res.Finish(true)
				if tc.cred == nil {
					continue
				}
				m := tc.cred.FindSubmatch(res.File.Body)
				if m == nil {
					b.Fatalf("%s: the first file carries no credential", path)
				}
				reqs[i].Transport, reqs[i].Target = "https", "/prov/"+path
				reqs[i].Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(mac+":"+string(m[1])))
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
