package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

// buildVersion is set at link time:
//
//	go build -ldflags "-X main.buildVersion=1.2.3" ./cmd/autoprov
//
// Without it, the version is the module's from the build information
// (v1.2.3 for "go install ...@v1.2.3", "(devel)" in a checkout) with the
// VCS revision when the build recorded one.
var buildVersion string

// version is the version this binary reports.
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && v == "(devel)" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if dirty {
			v += "+dirty"
		}
	}
	return v
}

// versionCmd is "autoprov version": the version, the Go release and the
// platform, on standard output.
func versionCmd(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	return versionCommand(args, os.Stdout, stderr)
}

func versionCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("autoprov version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: autoprov version\n\nPrints the version autoprov was built as, the Go release and the platform.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("autoprov version: unexpected arguments %q", fs.Args())
	}
	_, err := fmt.Fprintf(stdout, "autoprov %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
