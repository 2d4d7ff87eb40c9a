package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSeedCommand runs the seed command as the scripts do, with 100
// phones: it writes a data directory and phones.tsv listing every phone.
func TestSeedCommand(t *testing.T) {
	dir := t.TempDir()
	data, list := filepath.Join(dir, "data"), filepath.Join(dir, "phones.tsv")
	if err := seed([]string{"-data", data, "-devices", "100", "-phones", list}); err != nil {
		t.Fatal(err)
	}
	phones, err := readPhones(list)
	if err != nil {
		t.Fatal(err)
	}
	if len(phones) != 100 || phones[99].MAC != "805ec0000063" || phones[99].Ext != "100099" || phones[99].Password == "" {
		t.Fatalf("phones.tsv: %d phones, last %+v", len(phones), phones[len(phones)-1])
	}
	if err := seed([]string{"-data", data, "-devices", "1", "-phones", filepath.Join(dir, "again.tsv")}); err == nil {
		t.Fatal("seeding over an existing database succeeded")
	}
}

// TestCredential reads the provisioning credential from a Yealink file.
func TestCredential(t *testing.T) {
	u, p := credential([]byte("#!version:1.0.0.1\nstatic.auto_provision.server.username = 805ec0000001\nstatic.auto_provision.server.password = s3cret = x\n"))
	if u != "805ec0000001" || p != "s3cret = x" {
		t.Fatalf("got %q %q", u, p)
	}
}

// TestCPUTime reads this process's CPU time, which grows as it spins.
func TestCPUTime(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for x := 0; time.Now().Before(deadline); x++ {
		for range 1_000_000 {
			x ^= x << 1
		}
		now, err := cpuTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			return
		}
	}
	t.Fatal("the CPU time did not grow in 10 s of spinning")
}

// TestPhoneConn: a phone's requests go over one connection from its own
// loopback address, with its User-Agent, over HTTP and over HTTPS; a
// 200's body comes back, any other status is an error.
func TestPhoneConn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(http.Handler) *httptest.Server
	}{{"http", httptest.NewServer}, {"https", httptest.NewTLSServer}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var remotes []string
			srv := tc.start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				remotes = append(remotes, r.RemoteAddr)
				mu.Unlock()
				if r.URL.Path != "/prov/a.cfg" {
					http.NotFound(w, r)
					return
				}
				io.WriteString(w, "ua="+r.UserAgent())
			}))
			defer srv.Close()
			base, err := url.Parse(srv.URL + "/prov/")
			if err != nil {
				t.Fatal(err)
			}
			c, err := dialPhone(251, base)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			for range 2 {
				body, err := c.get(base.Path+"a.cfg", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:00:00:01")
				if err != nil || string(body) != "ua=Yealink SIP-T54W 96.86.0.100 80:5e:c0:00:00:01" {
					t.Fatalf("get = %q, %v", body, err)
				}
			}
			if _, err := c.get(base.Path+"b.cfg", "x"); err == nil || !strings.Contains(err.Error(), "status 404") {
				t.Errorf("a 404 answered %v, want its status as an error", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(remotes) != 3 || remotes[0] != remotes[1] || remotes[1] != remotes[2] || !strings.HasPrefix(remotes[0], "127.1.1.2:") {
				t.Errorf("the requests came from %v, want one connection from 127.1.1.2", remotes)
			}
		})
	}
}
