package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// storm is a boot storm: -n distinct phones, spread over -phones (every
// len/n-th), -workers at a time, each on its own connection from its own
// loopback address, fetch their common file, then their per-device file,
// whose window is open: the first fetch carries the secrets. It reports
// the wall time and checks that each phone's SIP password was in its
// per-device answer and not in its common one; then (not timed) every
// per-device file is fetched again and must not carry it: the secrets
// left exactly once.
func storm(args []string) error {
	fs := flag.NewFlagSet("storm", flag.ExitOnError)
	base := fs.String("url", "", "base URL of the phone files, e.g. http://127.0.0.1:8080/prov/")
	phonesFile := fs.String("phones", "", "phones.tsv")
	n := fs.Int("n", 10000, "phones that boot")
	workers := fs.Int("workers", 64, "phones booting at once")
	verifyURL := fs.String("verify-url", "", "base URL of the second fetch (default -url): HTTPS, where it presents the phone's credential with Basic")
	pid := fs.Int("pid", 0, "the server's process id: print the CPU time it spent in the storm (STORM-CPU)")
	fs.Parse(args)
	all, err := readPhones(*phonesFile)
	if err != nil {
		return err
	}
	*n = min(*n, len(all))
	phones := make([]phone, *n)
	for i := range phones {
		phones[i] = all[i*len(all)/(*n)]
	}
	var mu sync.Mutex
	var lat []time.Duration
	to, err := url.Parse(*base)
	if err != nil {
		return err
	}
	get := func(c *phoneConn, file, mac string) ([]byte, error) {
		t := time.Now()
		body, err := c.get(to.Path+file, userAgent(mac))
		d := time.Since(t)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		return body, err
	}
	got := make([]bool, len(phones))        // the phone's SIP password was in its per-device answer
	creds := make([][2]string, len(phones)) // the provisioning credential that answer carried
	cpu0, _ := cpuTime(*pid)
	self0 := selfCPU()
	start := time.Now()
	failed := runPhones(len(phones), *workers, func(i int) error {
		p := phones[i]
		c, err := dialPhone(i, to)
		if err != nil {
			return fmt.Errorf("%s: connect: %w", p.MAC, err)
		}
		defer c.close()
		common, err := get(c, commonFile, p.MAC)
		if err != nil {
			return fmt.Errorf("%s: common file: %w", p.MAC, err)
		}
		dev, err := get(c, devicePath(p.MAC), p.MAC)
		if err != nil {
			return fmt.Errorf("%s: per-device file: %w", p.MAC, err)
		}
		pw := []byte(p.Password)
		if bytes.Contains(common, pw) {
			return fmt.Errorf("%s: the common file carries the SIP password", p.MAC)
		}
		if bytes.Count(dev, pw) != 1 {
			return fmt.Errorf("%s: the per-device file carries the SIP password %d times, want once", p.MAC, bytes.Count(dev, pw))
		}
		got[i] = true
		creds[i][0], creds[i][1] = credential(dev)
		return nil
	})
	wall := time.Since(start)
	cpu1, cpuErr := cpuTime(*pid)
	self := selfCPU() - self0
	slices.Sort(lat)
	pct := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*q))]) / float64(time.Millisecond)
	}
	fmt.Printf("STORM phones=%d requests=%d wall_s=%.2f phones_per_s=%.0f errors=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
		len(phones), len(lat), wall.Seconds(), float64(len(phones))/wall.Seconds(), failed, pct(0.5), pct(0.99), pct(1))
	if *pid != 0 && cpuErr == nil {
		// The server's CPU time: what the machine's load does not inflate
		// much, unlike the wall time.
		// And the phones' own (this process's): on a machine of two
		// cores the wall time is about the sum of both over the cores.
		fmt.Printf("STORM-CPU server_cpu_s=%.2f ms_per_phone=%.2f cores=%.2f client_cpu_s=%.2f client_ms_per_phone=%.2f\n", (cpu1 - cpu0).Seconds(),
			float64((cpu1-cpu0).Microseconds())/1000/float64(len(phones)), (cpu1-cpu0).Seconds()/wall.Seconds(),
			self.Seconds(), float64(self.Microseconds())/1000/float64(len(phones)))
	}

	// Not timed: the secrets must not go out a second time. A phone whose
	// storm failed before its secrets left may get them now (its window is
	// still open): it is counted as such, not as a second disclosure. The
	// phone presents the credential its secrets carried (once its secrets
	// transfer is complete, its file needs it).
	if *verifyURL == "" {
		*verifyURL = *base
	}
	client := pooledClient(*workers)
	var late, twice sync.Map
	again := runPhones(len(phones), *workers, func(i int) error {
		p := phones[i]
		req, _ := http.NewRequest("GET", *verifyURL+devicePath(p.MAC), nil)
		req.Header.Set("User-Agent", userAgent(p.MAC))
		if creds[i][0] != "" && strings.HasPrefix(*verifyURL, "https:") {
			req.Header.Set("Authorization", basic(creds[i][0], creds[i][1]))
		}
		body, err := do(client, req)
		if err != nil {
			return fmt.Errorf("%s: second fetch: %w", p.MAC, err)
		}
		if bytes.Contains(body, []byte(p.Password)) {
			if !got[i] {
				late.Store(i, true)
				return nil
			}
			twice.Store(i, true)
			return fmt.Errorf("%s: the SIP password went out a second time", p.MAC)
		}
		return nil
	})
	count := func(m *sync.Map) (n int) {
		m.Range(func(any, any) bool { n++; return true })
		return n
	}
	once := 0
	for _, g := range got {
		if g {
			once++
		}
	}
	once -= count(&twice)
	fmt.Printf("STORM-VERIFY phones=%d secrets_exactly_once=%d twice=%d not_in_storm=%d (of which got them on the second fetch: %d) second_fetch_errors=%d\n",
		len(phones), once, count(&twice), len(phones)-count(&twice)-once, count(&late), again-count(&twice))
	if failed+again > 0 {
		return fmt.Errorf("%d phones failed in the storm, %d in the second fetch", failed, again)
	}
	return nil
}
