package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// firmwareCmd is "autoprov firmware add|list": see README "Firmware".
func firmwareCmd(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	return firmwareCommand(ctx, args, lookupEnv, os.Stdout, stderr)
}

// fwEntry is a catalogue entry as the API writes it and the CLI prints it.
type fwEntry struct {
	ID         int64     `json:"id"`
	Vendor     string    `json:"vendor"`
	Models     []string  `json:"models"`
	Version    string    `json:"version"`
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Path       string    `json:"path"`
	UploadedAt time.Time `json:"uploaded_at"`
	UploadedBy string    `json:"uploaded_by"`
}

func entryOf(f autoprov.Firmware) fwEntry {
	return fwEntry{ID: f.ID, Vendor: f.Vendor, Models: f.Models, Version: f.Version, Name: f.Name, Size: f.Size,
		SHA256: f.SHA256, Path: "/" + firmware.Path(f), UploadedAt: f.UploadedAt, UploadedBy: f.UploadedBy}
}

// firmwareCommand runs "firmware add FILE ..." or "firmware list",
// against the data directory (and --db), or with --server against a
// running server's API (token: AUTOPROV_ADMIN_TOKEN, else
// <data>/admin-token).
func firmwareCommand(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	const usage = "usage: autoprov firmware add FILE --vendor V --models M1,M2 --version X [--name N] | autoprov firmware list [--vendor V] [--model M] (with --server URL to use a running server; autoprov firmware add --help lists the flags)"
	if len(args) > 0 && isHelp(args[0]) {
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return errors.New(usage)
	}
	sub := args[0]
	var vendor, models, version, name, server, cacert string
	var maxBytes int64
	positional := 0
	if sub == "add" {
		positional = 1
	}
	flags, pos := splitArgs(args[1:])
	c, _, err := cmdFlags("firmware "+sub, append(flags, pos...), lookupEnv, stderr, positional, func(fs *flag.FlagSet) {
		fs.StringVar(&vendor, "vendor", "", "vendor, e.g. yealink")
		fs.StringVar(&models, "models", "", "models the image is for, comma-separated (add)")
		fs.StringVar(&models, "model", "", "only entries for this model (list)")
		fs.StringVar(&version, "version", "", "the image's version, as the vendor spells it (add)")
		fs.StringVar(&name, "name", "", "file name phones get (add; default: FILE's base name)")
		fs.StringVar(&server, "server", "", "a running server's base URL, e.g. http://127.0.0.1:8080 (default: work on --data/--db directly)")
		fs.StringVar(&cacert, "cacert", "", "PEM CA to trust for an https --server (e.g. <data>/tls/cert.pem)")
		fs.Int64Var(&maxBytes, "firmware-max-bytes", firmware.DefaultMaxBytes, "size cap (without --server)")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var file string
	if sub == "add" {
		file = pos[0]
		if name == "" {
			name = filepath.Base(file)
		}
	}
	if server != "" {
		cl, err := newAPIClient(server, cacert, c.data, lookupEnv)
		if err != nil {
			return err
		}
		if sub == "add" {
			e, err := cl.add(ctx, file, vendor, models, version, name)
			if err != nil {
				return err
			}
			printAdded(stdout, e)
			return nil
		}
		es, err := cl.list(ctx, vendor, models)
		if err != nil {
			return err
		}
		printList(stdout, es)
		return nil
	}

	// add may be a data directory's first use (images added before the
	// server's first start): it makes the directory and its keyring, as
	// that start would (the database it creates needs one). list wants
	// them there.
	if sub == "add" {
		err = secureDataDir(c.data, c.log)
	} else {
		err = c.needData()
	}
	if err != nil {
		return fmt.Errorf("firmware %s: %w", sub, err)
	}
	k, err := loadKeyring(c.data, c.secretKey, true)
	if err != nil {
		return err
	}
	st, err := openStore(c.db, k, store.WithoutUpgrade())
	if err != nil {
		return fmt.Errorf("database (--db): %w", err)
	}
	defer st.Close()
	reg, err := all.Registry(filepath.Join(c.data, "templates"))
	if err != nil {
		return err
	}
	fw, err := firmware.Open(ctx, filepath.Join(c.data, "firmware"), st, reg, firmware.WithMaxBytes(maxBytes), firmware.WithLog(c.log))
	if err != nil {
		return err
	}
	if sub == "list" {
		fs, _, err := fw.List(ctx, autoprov.FirmwareFilter{Vendor: vendor, Model: models})
		if err != nil {
			return err
		}
		es := make([]fwEntry, len(fs))
		for i, f := range fs {
			es[i] = entryOf(f)
		}
		printList(stdout, es)
		return nil
	}
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	host, _ := os.Hostname()
	f, _, err := fw.Add(ctx, in, firmware.Meta{Vendor: vendor, Models: []string{models}, Version: version, Name: name}, "cli@"+host)
	if err != nil {
		return err
	}
	printAdded(stdout, entryOf(f))
	return nil
}

// splitArgs separates flags (each with its value: every flag of the
// firmware command takes one) from positional arguments, so FILE may come
// before the flags.
func splitArgs(args []string) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(pos, args[i+1:]...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && a != "-h" && a != "--help" && a != "-help" {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return flags, pos
}

func printAdded(w io.Writer, e fwEntry) {
	fmt.Fprintf(w, "firmware %d: %s %s %s, %s, %d bytes, sha256 %s, served at %s\n",
		e.ID, e.Vendor, strings.Join(e.Models, ","), e.Version, e.Name, e.Size, e.SHA256, e.Path)
}

func printList(w io.Writer, es []fwEntry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVENDOR\tMODELS\tVERSION\tNAME\tSIZE\tSHA256\tUPLOADED")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Vendor, strings.Join(e.Models, ","), e.Version, e.Name,
			e.Size, e.SHA256[:16], e.UploadedAt.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}

// apiClient talks to a running server's admin API.
type apiClient struct {
	server, base, token string
	http                *http.Client
}

func newAPIClient(server, cacert, data string, lookupEnv func(string) (string, bool)) (*apiClient, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want http(s)://host:port", server)
	}
	token, _ := lookupEnv("AUTOPROV_ADMIN_TOKEN")
	if token == "" {
		b, err := os.ReadFile(filepath.Join(data, "admin-token"))
		if err != nil {
			return nil, errors.New("--server needs the admin token: set AUTOPROV_ADMIN_TOKEN (or give --data with its admin-token)")
		}
		token = strings.TrimSpace(string(b))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificate", cacert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &apiClient{server: server, base: strings.TrimRight(server, "/") + "/api/v1", token: token, http: &http.Client{Transport: tr}}, nil
}

// send sends req with the admin token. When nothing answers at the
// server's address (the admin did not start it, or it listens
// elsewhere), the error says so and names --server, where the bare
// "connection refused" left the admin guessing.
func (c *apiClient) send(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	var op *net.OpError
	if err != nil && errors.As(err, &op) && op.Op == "dial" {
		return nil, fmt.Errorf("no autoprov server answers at %s: start it, or give --server with the URL it serves (%w)", c.server, err)
	}
	return resp, err
}

func (c *apiClient) do(req *http.Request, v any) error {
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("server: %s (%s)", e.Error, resp.Status)
		}
		return fmt.Errorf("server: %s", resp.Status)
	}
	return json.Unmarshal(body, v)
}

func (c *apiClient) add(ctx context.Context, file, vendor, models, version, name string) (fwEntry, error) {
	in, err := os.Open(file)
	if err != nil {
		return fwEntry{}, err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fwEntry{}, err
	}
	q := url.Values{"vendor": {vendor}, "models": {models}, "version": {version}, "name": {name}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/firmware?"+q.Encode(), in)
	if err != nil {
		return fwEntry{}, err
	}
	req.ContentLength = info.Size()
	req.Header.Set("Content-Type", "application/octet-stream")
	var e fwEntry
	return e, c.do(req, &e)
}

func (c *apiClient) list(ctx context.Context, vendor, model string) ([]fwEntry, error) {
	q := url.Values{}
	if vendor != "" {
		q.Set("vendor", vendor)
	}
	if model != "" {
		q.Set("model", model)
	}
	var all []fwEntry
	for offset := 0; ; {
		q.Set("limit", "500")
		q.Set("offset", strconv.Itoa(offset))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/firmware?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items []fwEntry `json:"items"`
			Total int       `json:"total"`
		}
		if err := c.do(req, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if len(page.Items) == 0 || len(all) >= page.Total {
			return all, nil
		}
		offset += len(page.Items)
	}
}
