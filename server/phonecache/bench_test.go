package phonecache_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/phonecache"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/all"
)

// BenchmarkHotPath is a steady-state fetch of a per-device file (Yealink
// T54W, its secrets gone out) through the phone side reading through the
// cache, in a fleet of 1,000 and of 100,000 devices, every device fetched
// in turn (a stride), each request handed over as the HTTP edge hands it
// (ProvideBorrowed, views of a read buffer): what the fleet's size adds
// to a fetch, which is cache misses (it grows from ~0.5 to ~2 us; on the
// socket benchmark's ~25 us a request that is within bench/flat.sh's
// 20 %). The store under the cache is in memory (the steady state never
// reads it: the benchmark fails if it does); B/device is the heap the
// warm cache holds per device.
func BenchmarkHotPath(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			h := newHotPath(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			var w wire
			for i := 0; b.Loop(); i++ {
				h.get(w.request((i * 7919) % n))
			}
			b.StopTimer()
			h.check()
			b.ReportMetric(h.perDevice, "B/device")
		})
	}
}

// BenchmarkHotPathParallel is BenchmarkHotPath from 64 goroutines at once
// (GOMAXPROCS × 32), as wrk's 64 connections fetch: what the cache's and
// the sightings queue's locks cost under contention.
func BenchmarkHotPathParallel(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			h := newHotPath(b, n)
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var w wire
				for pb.Next() {
					h.get(w.request(int(next.Add(1)*7919) % n))
				}
			})
			b.StopTimer()
			h.check()
		})
	}
}

// hotPath is the phone side on a warm cache of n devices.
type hotPath struct {
	b         *testing.B
	src       *memSource
	reads     int
	get       func(vendors.Request)
	perDevice float64 // heap held per device
}

func newHotPath(b *testing.B, n int) *hotPath {
	src := newMemSource(n)
	reg, err := all.Registry("")
	if err != nil {
		b.Fatal(err)
	}
	c := phonecache.New(src, phonecache.Options{Size: max(phonecache.DefaultSize, n)})
	sg := phonecache.NewSightings(nopWriter{}, phonecache.SightingOptions{Max: n})
	p := provision.NewPhones(provision.Options{Registry: reg}, provision.PhoneStores{
		Settings: c, Accounts: c, Profiles: c, Devices: c, Files: c, Reports: sg,
		Sightings: src, Claims: nil, Credentials: nil, Counter: src})
	h := &hotPath{b: b, src: src}
	ctx := context.Background()
	h.get = func(r vendors.Request) {
		res, err := p.ProvideBorrowed(ctx, r)
		if err != nil {
			b.Error(err)
			return
		}
		res.Finish(true)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var w wire
	for i := range n { // warm: every device read and rendered once
		h.get(w.request(i))
	}
	sg.Flush(ctx)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	h.reads = src.reads
	h.perDevice = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	return h
}

// wire is a connection's read buffer, as the HTTP edge hands a request
// to the core (ProvideBorrowed): the path and User-Agent are views of
// bytes the socket was just read into, one buffer a connection, not
// strings of their own scattered over the heap (which would add cache
// misses of the benchmark's own to the fleet's).
type wire struct {
	buf     []byte // the path, then the User-Agent, each ending in the MAC
	pathEnd int
}

// request is the request of device i of newMemSource (MAC 805ec0 and i
// in six hex digits) in w's buffer, valid until the next.
func (w *wire) request(i int) vendors.Request {
	const mac = "805ec0000000"
	if len(w.buf) == 0 {
		w.buf = append(w.buf, mac+".cfg"...)
		w.pathEnd = len(w.buf)
		w.buf = append(w.buf, "Yealink SIP-T54W 96.86.0.100 "+mac...)
	}
	const hex, path = "0123456789abcdef", len(mac) - 6 // where the digits written sit in the path
	ua := len(w.buf) - 6                               // and in the User-Agent
	for d := range 6 {
		c := hex[i>>(4*(5-d))&0xf]
		w.buf[path+d], w.buf[ua+d] = c, c
	}
	return vendors.Request{Path: unsafe.String(&w.buf[0], w.pathEnd),
		UserAgent:  unsafe.String(&w.buf[w.pathEnd], len(w.buf)-w.pathEnd),
		RemoteAddr: "192.0.2.1", Transport: "http", BaseURL: "http://prov.example.com/prov/"}
}

// check fails the benchmark if the steady state read the store.
func (h *hotPath) check() {
	if h.src.reads != h.reads {
		h.b.Fatalf("the steady state read the store %d times", h.src.reads-h.reads)
	}
}

// memSource is an in-memory store of n Yealink T54W devices with one
// account each, their windows consumed; it counts the reads.
type memSource struct {
	macs     []string
	devices  map[string]autoprov.Device
	accounts map[string]autoprov.Account
	reads    int
}

func newMemSource(n int) *memSource {
	s := &memSource{devices: map[string]autoprov.Device{}, accounts: map[string]autoprov.Account{}}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		mac := fmt.Sprintf("805ec0%06x", i)
		ext := fmt.Sprintf("%d", 100000+i)
		s.macs = append(s.macs, mac)
		s.accounts[ext] = autoprov.Account{Extension: ext, DisplayName: "User " + ext, AuthUser: ext, Password: "Sip-Pass-" + ext}
		s.devices[mac] = autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned,
			Accounts: []string{ext}, Keys: []autoprov.KeySpec{}, MenuPassword: "1234", WebPassword: "Web-Pass-" + ext,
			Disclosure: autoprov.Disclosure{State: autoprov.DisclosureConsumed, OpenedAt: &at}}
	}
	return s
}

func (s *memSource) Settings(context.Context) (autoprov.Settings, error) {
	s.reads++
	return autoprov.Settings{SIPServer: "pbx.example.com", SIPPort: 5060, SIPTransport: "udp", NTPServer: "pool.ntp.org", Timezone: "Europe/Berlin", Language: "de"}, nil
}

func (s *memSource) Account(_ context.Context, ext string) (autoprov.Account, error) {
	s.reads++
	a, ok := s.accounts[ext]
	if !ok {
		return a, autoprov.ErrNotFound
	}
	return a, nil
}

func (s *memSource) Accounts(context.Context) ([]autoprov.Account, error) {
	s.reads++
	return nil, nil
}

func (s *memSource) AccountsByExtension(_ context.Context, exts []string) (map[string]autoprov.Account, error) {
	s.reads++
	out := map[string]autoprov.Account{}
	for _, e := range exts {
		if a, ok := s.accounts[e]; ok {
			out[e] = a
		}
	}
	return out, nil
}

func (s *memSource) KeyProfile(context.Context, string) (autoprov.KeyProfile, error) {
	s.reads++
	return autoprov.KeyProfile{}, autoprov.ErrNotFound
}

func (s *memSource) KeyProfiles(context.Context) ([]autoprov.KeyProfile, error) {
	s.reads++
	return nil, nil
}

func (s *memSource) Device(_ context.Context, mac string) (autoprov.Device, error) {
	s.reads++
	d, ok := s.devices[mac]
	if !ok {
		return d, autoprov.ErrNotFound
	}
	return d, nil
}

func (s *memSource) Changes(_ context.Context, after int64, _ int) (autoprov.Changes, error) {
	return autoprov.Changes{Rev: after}, nil
}
func (s *memSource) Revision(context.Context) (int64, error)   { return 0, nil }
func (s *memSource) PruneChanges(context.Context, int64) error { return nil }
func (s *memSource) Seen(context.Context, autoprov.Sighting) (bool, error) {
	panic("the steady state recorded a sighting synchronously")
}
func (s *memSource) CountDevices(context.Context, autoprov.DeviceFilter) (int, error) { return 0, nil }

type nopWriter struct{}

func (nopWriter) SeenBatch(context.Context, []autoprov.Sighting) error { return nil }

var benchSizes = []int{1_000, 100_000}

func (m *memSource) ModelParams(context.Context, string, string) ([]autoprov.Param, error) {
	return nil, nil
}
