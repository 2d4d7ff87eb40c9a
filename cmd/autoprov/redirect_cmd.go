package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// redirectCmd is "autoprov redirect register --service S MAC...": queue
// the registration of MACs with a redirect service through a running
// server's API (see README "Phones that find us from anywhere").
func redirectCmd(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	return redirectCommand(ctx, args, lookupEnv, os.Stdout, stderr)
}

func redirectCommand(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	const usage = "usage: autoprov redirect register --service yealink-rps|snom-sraps [--server URL] MAC... (MACs also one a line on stdin with -)"
	if len(args) > 0 && isHelp(args[0]) {
		_, err := fmt.Fprintln(stdout, usage+" (autoprov redirect register --help lists the flags)")
		return err
	}
	if len(args) == 0 || args[0] != "register" {
		return errors.New(usage)
	}
	var service, server, cacert string
	flags, pos := splitArgs(args[1:])
	c, _, err := cmdFlags("redirect register", flags, lookupEnv, stderr, 0, func(fs *flag.FlagSet) {
		fs.StringVar(&service, "service", "", "yealink-rps or snom-sraps")
		fs.StringVar(&server, "server", "http://127.0.0.1:8080", "the running server's base URL")
		fs.StringVar(&cacert, "cacert", "", "PEM CA to trust for an https --server (e.g. <data>/tls/cert.pem)")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if service == "" || len(pos) == 0 {
		return errors.New(usage)
	}
	var macs []string
	for _, p := range pos {
		if p != "-" {
			macs = append(macs, p)
			continue
		}
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 16<<20))
		if err != nil {
			return err
		}
		macs = append(macs, strings.Fields(string(b))...)
	}
	cl, err := newAPIClient(server, cacert, c.data, lookupEnv)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"macs": macs})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.base+"/redirect-services/"+service+"/register", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	var out struct{ Queued int }
	if err := cl.do(req, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "queued %d registration(s) with %s; see GET /api/v1/redirect-services/%s/queue\n", out.Queued, service, service)
	return nil
}
