// Command benchtool is the Go half of the scripts in bench/: it seeds a
// data directory through server/store and the core, and plays phones
// against a running autoprov (and against nginx or in.tftpd serving the
// same bytes). It is not part of autoprov; see bench/README.md.
//
//	benchtool seed   -data DIR -devices N            a data directory with N adopted Yealink phones
//	benchtool fetch  -url URL -phones FILE ...        every phone fetches its per-device file once
//	benchtool storm  -url URL -phones FILE -n 10000   a boot storm: common + per-device file per phone
//	benchtool tftp   -addr HOST:PORT -phones FILE ... phones fetching their files over TFTP
//	benchtool wrkreqs -phones FILE ...                the request list for bench/phones.lua
//	benchtool htpasswd -creds FILE -dir DIR           one nginx htpasswd file per phone
//	benchtool ports  tcp|udp N                        N free loopback ports
//	benchtool health -url URL                         wait for /healthz, print the time it took
//	benchtool mem    -pid PID                         VmRSS and VmHWM of a process
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool seed|fetch|storm|tftp|wrkreqs|htpasswd|ports|health|mem ... (see bench/README.md)")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"seed": seed, "fetch": fetch, "storm": storm, "tftp": tftpBench,
		"wrkreqs": wrkReqs, "htpasswd": htpasswd, "ports": ports, "health": health, "mem": mem,
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

// The phones: adopted Yealink T54W, MAC 80:5e:c0 + the index, one account
// each. Their common file is the T54W's.
const (
	model      = "T54W"
	commonFile = "y000000000096.cfg"
	macPrefix  = "805ec0"
)

// phone is one seeded phone as phones.tsv lists it: MAC (12 lower-case hex
// digits), extension and SIP password (what must leave the server once).
type phone struct {
	MAC, Ext, Password string
}

// macOf is the MAC of the i-th seeded phone.
func macOf(i int) string { return fmt.Sprintf("%s%06x", macPrefix, i) }

// userAgent is what a T54W sends: "Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33".
func userAgent(mac string) string {
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(mac[i : i+2])
	}
	return "Yealink SIP-T54W 96.86.0.100 " + b.String()
}

// devicePath is the per-device file's name.
func devicePath(mac string) string { return mac + ".cfg" }

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
		out = append(out, phone{p[0], p[1], p[2]})
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
