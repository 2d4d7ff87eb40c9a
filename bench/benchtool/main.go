// Command benchtool is the Go half of the scripts in bench/: it seeds a
// data directory through server/store and the core, and plays phones
// against a running autoprov (and against nginx or in.tftpd serving the
// same bytes). It is not part of autoprov; see bench/README.md.
//
//	benchtool seed   -data DIR -devices N            a data directory with N adopted Yealink phones
//	benchtool seed-api -url URL -token-file F ...   the same through POST /api/v1/bulk, when the server has it
//	benchtool fetch  -url URL -phones FILE ...        every phone fetches its per-device file once
//	benchtool storm  -url URL -phones FILE -n 10000   a boot storm: common + per-device file per phone
//	benchtool tftp   -addr HOST:PORT -phones FILE ... phones fetching their files over TFTP
//	benchtool tftp-allow -url URL -token-file F ... tftp_allowed on the first n phones (admin API)
//	benchtool wrkreqs -phones FILE ...                the request list for bench/phones.lua
//	benchtool htpasswd -creds FILE -dir DIR           one nginx htpasswd file per phone
//	benchtool ports  tcp|udp N                        N free loopback ports
//	benchtool health -url URL                         wait for /healthz, print the time it took
//	benchtool mem    -pid PID                         VmRSS and VmHWM of a process
//	benchtool cpu    -pid PID[,PID...]                CPU milliseconds the processes used
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/autoprov/autoprov/bench"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool seed|seed-api|fetch|storm|tftp|wrkreqs|htpasswd|ports|health|mem|cpu ... (see bench/README.md)")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"seed": seed, "seed-api": seedAPI, "tftp-allow": tftpAllow, "fetch": fetch, "storm": storm, "tftp": tftpBench,
		"wrkreqs": wrkReqs, "htpasswd": htpasswd, "ports": ports, "health": health, "mem": mem, "cpu": cpu,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchtool: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// phone is one seeded phone, as phones.tsv lists it.
type phone = bench.Phone

// The fleet's names (bench/fleet.go).
var (
	userAgent  = bench.UserAgent
	devicePath = bench.DeviceFile
)

const commonFile = bench.CommonFile

// readPhones reads phones.tsv (MAC, extension, password, tab-separated).
func readPhones(path string) ([]phone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []phone
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		out = append(out, phone{MAC: p[0], Ext: p[1], Password: p[2]})
	}
	return out, sc.Err()
}

// readCreds reads creds.tsv (MAC, user, password), as fetch -creds-out writes it.
func readCreds(path string) (map[string][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			return nil, fmt.Errorf("%s: bad line", path)
		}
		out[p[0]] = [2]string{p[1], p[2]}
	}
	return out, sc.Err()
}
