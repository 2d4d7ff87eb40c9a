package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ports prints n free loopback ports (tcp or udp), one a line. Another
// process may take one before the caller binds it: the scripts start
// every server before the first request, so such a clash fails loudly.
func ports(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: ports tcp|udp N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for range n {
		switch args[0] {
		case "tcp":
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				return err
			}
			closers = append(closers, l.Close)
			fmt.Println(l.Addr().(*net.TCPAddr).Port)
		case "udp":
			c, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				return err
			}
			closers = append(closers, c.Close)
			fmt.Println(c.LocalAddr().(*net.UDPAddr).Port)
		default:
			return errors.New("usage: ports tcp|udp N")
		}
	}
	return nil
}

// health polls URL/healthz every millisecond until it answers 200 and
// prints how long that took since -since (Unix nanoseconds, e.g. the
// moment the script started the process; default: now).
func health(args []string) error {
	fs := flag.NewFlagSet("health", flag.ExitOnError)
	url := fs.String("url", "", "server base URL, e.g. http://127.0.0.1:8080")
	since := fs.Int64("since", 0, "start instant, Unix nanoseconds (date +%s%N)")
	timeout := fs.Duration("timeout", 120*time.Second, "give up after")
	fs.Parse(args)
	start := time.Now()
	if *since != 0 {
		start = time.Unix(0, *since)
	}
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(*timeout)
	for time.Now().Before(deadline) {
		resp, err := c.Get(strings.TrimSuffix(*url, "/") + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Printf("%.3f\n", time.Since(start).Seconds())
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s/healthz did not answer 200 within %s", *url, *timeout)
}

// cpuTime is the CPU time process pid has used (utime + stime of
// /proc/<pid>/stat, in USER_HZ ticks, 100 a second on Linux).
func cpuTime(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, errors.New("no process id")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name (in parentheses, which may hold
	// spaces): state is field 3, utime 14 and stime 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}

// mem prints VmRSS and VmHWM of a process in MB.
func mem(args []string) error {
	fs := flag.NewFlagSet("mem", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process id")
	fs.Parse(args)
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", *pid))
	if err != nil {
		return err
	}
	defer f.Close()
	vals := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return err
		}
		vals[k] = kb / 1024
	}
	fmt.Printf("VmRSS %.1f MB, VmHWM %.1f MB\n", vals["VmRSS"], vals["VmHWM"])
	return nil
}

// wrkReqs writes the request list bench/phones.lua reads: one line per
// phone, the path, the User-Agent and (with -creds) the Basic
// Authorization header of its per-device credential, tab-separated.
func wrkReqs(args []string) error {
	fs := flag.NewFlagSet("wrkreqs", flag.ExitOnError)
	phonesFile := fs.String("phones", "", "phones.tsv")
	credsFile := fs.String("creds", "", "creds.tsv: add each phone's Basic credential")
	prefix := fs.String("prefix", "/prov/", "URL path before the file name")
	out := fs.String("out", "", "output file")
	fs.Parse(args)
	phones, err := readPhones(*phonesFile)
	if err != nil {
		return err
	}
	var creds map[string][2]string
	if *credsFile != "" {
		if creds, err = readCreds(*credsFile); err != nil {
			return err
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, p := range phones {
		auth := ""
		if creds != nil {
			c, ok := creds[p.MAC]
			if !ok {
				return fmt.Errorf("no credential for %s in %s", p.MAC, *credsFile)
			}
			auth = basic(c[0], c[1])
		}
		fmt.Fprintf(w, "%s%s\t%s\t%s\n", *prefix, devicePath(p.MAC), userAgent(p.MAC), auth)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// basic is the Authorization header value of HTTP Basic.
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// htpasswd writes one htpasswd file per phone, <dir>/<mac>, holding its
// credential as nginx's auth_basic reads it ({SSHA}: a salted SHA-1, as
// cheap to check as autoprov's comparison), so nginx guards each file
// with its own phone's credential, as autoprov does.
func htpasswd(args []string) error {
	fs := flag.NewFlagSet("htpasswd", flag.ExitOnError)
	credsFile := fs.String("creds", "", "creds.tsv")
	dir := fs.String("dir", "", "output directory")
	fs.Parse(args)
	creds, err := readCreds(*credsFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	for mac, c := range creds {
		salt := make([]byte, 8)
		rand.Read(salt)
		sum := sha1.Sum(append([]byte(c[1]), salt...))
		line := c[0] + ":{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...)) + "\n"
		if err := os.WriteFile(filepath.Join(*dir, mac), []byte(line), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cpu prints the CPU time (user + system) the given processes have used,
// in milliseconds: steady.sh reads it before and after a wrk run for the
// server's cost per request, which the machine's load inflates far less
// than the requests per second.
func cpu(args []string) error {
	fs := flag.NewFlagSet("cpu", flag.ExitOnError)
	pids := fs.String("pid", "", "process ids, comma-separated")
	fs.Parse(args)
	var total time.Duration
	for _, f := range strings.Split(*pids, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-pid: %q is not a process id", f)
		}
		t, err := cpuTime(pid)
		if err != nil {
			return err
		}
		total += t
	}
	fmt.Println(total.Milliseconds())
	return nil
}

// selfCPU is the CPU time (user + system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
