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
	"path/filepath"
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/csvio"
	"github.com/autoprov/autoprov/server/dhcpconf"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// The admin's CSV and DHCP commands (README "CSV import and export",
// "DHCP snippets"):
//
//	autoprov import FILE [--dry-run] [--server URL]
//	autoprov export [--out FILE] [--server URL]
//	autoprov dhcp-config --server isc|kea|dnsmasq|mikrotik|windows [--url URL] [--tftp IP] [--dls HOST]
//
// import and export work on the data directory (--data, --db), or with
// --server through a running server's API (token: AUTOPROV_ADMIN_TOKEN,
// else <data>/admin-token).

func importCmd(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	return importCommand(ctx, args, lookupEnv, os.Stdout, stderr)
}

func exportCmd(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	return exportCommand(ctx, args, lookupEnv, os.Stdout, stderr)
}

func dhcpConfigCmd(_ context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	return dhcpConfigCommand(args, lookupEnv, os.Stdout, stderr)
}

// boolFlags separates flags from positional arguments, so FILE may come
// before the flags; the flags named in bools take no value.
func boolFlags(args []string, bools ...string) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		switch {
		case a == "--":
			return flags, append(pos, args[i+1:]...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			bool := name == "h" || name == "help"
			for _, b := range bools {
				bool = bool || name == b
			}
			if !bool && !strings.Contains(a, "=") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return flags, pos
}

// inventory opens the data directory's store and the core's admin side.
func inventory(c cmdConfig) (*provision.Inventory, func(), error) {
	if err := c.needData(); err != nil {
		return nil, nil, err
	}
	k, err := loadKeyring(c.data, c.secretKey, true)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(c.db, k, store.WithoutUpgrade())
	if err != nil {
		return nil, nil, fmt.Errorf("database (--db): %w", err)
	}
	reg, err := all.Registry(filepath.Join(c.data, "templates"))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	_, inv := provision.New(provision.Options{Registry: reg, Log: c.log}, st)
	return inv, func() { st.Close() }, nil
}

func cliActor() string {
	host, _ := os.Hostname()
	return "cli@" + host
}

// importCommand imports a CSV file as one bulk change: every error by
// line, nothing written when there is one; --dry-run only says what
// would change.
func importCommand(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	var dry bool
	var server, cacert string
	flags, pos := boolFlags(args, "dry-run")
	c, rest, err := cmdFlags("import", append(flags, pos...), lookupEnv, stderr, 1, func(fs *flag.FlagSet) {
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: autoprov import FILE [--dry-run] [--server URL] [--data DIR] [--db DSN]\n\n"+
				"Imports accounts and devices from a CSV file (columns: "+strings.Join(csvio.Columns, ", ")+
				") in one transaction: every error is listed by line number and then nothing is written.")
			fs.PrintDefaults()
		}
		fs.BoolVar(&dry, "dry-run", false, "list what would change (and every error) without writing anything")
		fs.StringVar(&server, "server", "", "a running server's base URL, e.g. http://127.0.0.1:8080 (default: work on --data/--db directly)")
		fs.StringVar(&cacert, "cacert", "", "PEM CA to trust for an https --server")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	body, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	var res bulkSummary
	var lines []csvio.LineError
	if server != "" {
		cl, err := newAPIClient(server, cacert, c.data, lookupEnv)
		if err != nil {
			return err
		}
		res, lines, err = cl.importCSV(ctx, body, dry)
		if err != nil {
			return err
		}
	} else {
		im, err := csvio.Read(bytes.NewReader(body))
		var le *csvio.Error
		if errors.As(err, &le) {
			lines = le.Errors
		} else if err != nil {
			return err
		} else {
			inv, done, err := inventory(c)
			if err != nil {
				return err
			}
			defer done()
			r, err := inv.Bulk(ctx, im.Input, dry, cliActor())
			var be *autoprov.BulkError
			switch {
			case errors.As(err, &be):
				lines = im.Lines(be).Errors
			case err != nil:
				return err
			default:
				res = bulkSummary{DryRun: dry}
				res.Accounts.CreatedKeys, res.Accounts.UpdatedKeys = r.AccountsCreated, r.AccountsUpdated
				res.Devices.CreatedKeys, res.Devices.UpdatedKeys = r.DevicesCreated, r.DevicesUpdated
			}
		}
	}
	if len(lines) > 0 {
		for _, l := range lines {
			field := ""
			if l.Field != "" {
				field = l.Field + ": "
			}
			fmt.Fprintf(stdout, "%s:%d: %s%s\n", rest[0], l.Line, field, l.Message)
		}
		return fmt.Errorf("import: %d line(s) of %s are invalid; nothing was written", len(lines), rest[0])
	}
	verb := "imported"
	if dry {
		verb = "dry run, nothing written; would import"
	}
	fmt.Fprintf(stdout, "%s: accounts %d created, %d updated; devices %d created, %d updated\n", verb,
		len(res.Accounts.CreatedKeys), len(res.Accounts.UpdatedKeys), len(res.Devices.CreatedKeys), len(res.Devices.UpdatedKeys))
	for _, l := range []struct {
		what string
		keys []string
	}{{"account created", res.Accounts.CreatedKeys}, {"account updated", res.Accounts.UpdatedKeys},
		{"device created", res.Devices.CreatedKeys}, {"device updated", res.Devices.UpdatedKeys}} {
		for _, k := range l.keys {
			fmt.Fprintf(stdout, "  %s %s\n", l.what, k)
		}
	}
	return nil
}

// bulkSummary is the API's answer to a bulk change.
type bulkSummary struct {
	DryRun   bool `json:"dry_run"`
	Accounts struct {
		CreatedKeys []string `json:"created_keys"`
		UpdatedKeys []string `json:"updated_keys"`
	} `json:"accounts"`
	Devices struct {
		CreatedKeys []string `json:"created_keys"`
		UpdatedKeys []string `json:"updated_keys"`
	} `json:"devices"`
}

func (c *apiClient) importCSV(ctx context.Context, body []byte, dry bool) (bulkSummary, []csvio.LineError, error) {
	u := c.base + "/bulk"
	if dry {
		u += "?dry_run=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return bulkSummary{}, nil, err
	}
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	resp, err := c.send(req)
	if err != nil {
		return bulkSummary{}, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return bulkSummary{}, nil, err
	}
	if resp.StatusCode == http.StatusBadRequest {
		var e struct {
			Error  string `json:"error"`
			Errors []struct {
				Line         int
				Field, Error string
			} `json:"errors"`
		}
		if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
			out := make([]csvio.LineError, len(e.Errors))
			for i, l := range e.Errors {
				out[i] = csvio.LineError{Line: l.Line, Field: l.Field, Message: l.Error}
			}
			return bulkSummary{}, out, nil
		}
	}
	if resp.StatusCode != http.StatusOK {
		return bulkSummary{}, nil, fmt.Errorf("server: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var s bulkSummary
	return s, nil, json.Unmarshal(b, &s)
}

// exportCommand writes every account and adopted device as CSV (no
// password) to stdout or --out.
func exportCommand(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	var server, cacert, out string
	c, _, err := cmdFlags("export", args, lookupEnv, stderr, 0, func(fs *flag.FlagSet) {
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: autoprov export [--out FILE] [--server URL] [--data DIR] [--db DSN]\n\n"+
				"Writes every account and adopted device as CSV (the file autoprov import takes), never a password.")
			fs.PrintDefaults()
		}
		fs.StringVar(&out, "out", "", "write to this file (mode 0600) instead of standard output")
		fs.StringVar(&server, "server", "", "a running server's base URL, e.g. http://127.0.0.1:8080 (default: work on --data/--db directly)")
		fs.StringVar(&cacert, "cacert", "", "PEM CA to trust for an https --server")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var b bytes.Buffer
	if server != "" {
		cl, err := newAPIClient(server, cacert, c.data, lookupEnv)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+"/export", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+cl.token)
		resp, err := cl.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("server: %s", resp.Status)
		}
		if _, err := io.Copy(&b, resp.Body); err != nil {
			return err
		}
	} else {
		inv, done, err := inventory(c)
		if err != nil {
			return err
		}
		defer done()
		as, err := inv.Accounts(ctx)
		if err != nil {
			return err
		}
		ds, err := provision.AllDevices(ctx, inv.Devices, autoprov.DeviceFilter{State: autoprov.StateAssigned})
		if err != nil {
			return err
		}
		if err := csvio.Write(&b, as, ds); err != nil {
			return err
		}
	}
	if out == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o600)
}

// dhcpConfigCommand prints the DHCP snippets for one DHCP server.
func dhcpConfigCommand(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("autoprov dhcp-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: autoprov dhcp-config --server "+strings.Join(dhcpconf.Servers, "|")+" [--url URL] [--tftp IP] [--dls HOST]\n\n"+
			"Prints DHCP server configuration, ready to paste, that points the phones at this server\n"+
			"(option 66 per vendor, 114 for Gigaset, 160/150 for Cisco, 43 for OpenStage with --dls).")
		fs.PrintDefaults()
	}
	var server, base, tftp, dls string
	def := ""
	if v, ok := lookupEnv("AUTOPROV_PUBLIC_URL"); ok && v != "" {
		def = strings.TrimSuffix(v, "/") + "/prov/"
	}
	fs.StringVar(&server, "server", "", "the DHCP server: "+strings.Join(dhcpconf.Servers, ", "))
	fs.StringVar(&base, "url", def, "the provisioning URL phones get, e.g. http://prov.example.com:8080/prov/ (default: AUTOPROV_PUBLIC_URL + prov/)")
	fs.StringVar(&tftp, "tftp", "", "this server's IPv4 address for Cisco's option 150 (TFTP servers); empty: no option 150")
	fs.StringVar(&dls, "dls", "", "the OpenStage DLS host for option 43 (sdlp://HOST:18443); empty: no OpenStage")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("dhcp-config: unexpected arguments %q", fs.Args())
	}
	if server == "" {
		return errors.New("dhcp-config: --server is required (" + strings.Join(dhcpconf.Servers, ", ") + ")")
	}
	if base == "" {
		return errors.New("dhcp-config: --url is required (or set AUTOPROV_PUBLIC_URL): the provisioning URL, e.g. http://prov.example.com:8080/prov/")
	}
	out, err := dhcpconf.Generate(server, dhcpconf.Config{BaseURL: base, TFTP: tftp, DLS: dls})
	if err != nil {
		return fmt.Errorf("dhcp-config: %w", err)
	}
	_, err = io.WriteString(stdout, out)
	return err
}
