package main

import (
	"flag"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/autoprov/autoprov/server/store"
)

// secretFlagEnv names the flags that can carry a secret and the
// environment variable that carries it instead: a process's command line
// is readable by every local user (ps, /proc/<pid>/cmdline), its
// environment only by its owner and root.
var secretFlagEnv = map[string]string{"enroll-token": "AUTOPROV_ENROLL_TOKEN", "db": "AUTOPROV_DB"}

// argvSecrets returns the flags of fs given a secret on the command line:
// --enroll-token, and --db when its PostgreSQL DSN spells out a password.
func argvSecrets(fs *flag.FlagSet) []string {
	var names []string
	fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		switch {
		case f.Name == "enroll-token" && v != "",
			f.Name == "db" && dsnHasPassword(v):
			names = append(names, f.Name)
		}
	})
	return names
}

// warnArgvSecrets logs one warning per flag argvSecrets found, naming the
// environment variable to use instead, never the value.
func warnArgvSecrets(log *slog.Logger, names []string) {
	for _, n := range names {
		log.Warn("a secret was given on the command line, where every local user can read it (ps, /proc/<pid>/cmdline): give it in the environment instead",
			"flag", "--"+n, "env", secretFlagEnv[n])
	}
}

// pgPassword finds the password keyword of a key=value DSN (libpq allows
// spaces around the '=').
var pgPassword = regexp.MustCompile(`(^|\s)password\s*=`)

// dsnHasPassword reports whether dsn is a PostgreSQL DSN with a password
// in it: in the URL's user part or query, or as a password keyword (not
// one taken from PGPASSWORD or a password file).
func dsnHasPassword(dsn string) bool {
	if !store.IsPostgres(dsn) {
		return false
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return true // cannot tell: warn
		}
		_, ok := u.User.Password()
		return ok || u.Query().Has("password")
	}
	return pgPassword.MatchString(dsn)
}

// hideSecretDefaults keeps a secret that came from the environment out of
// fs's usage text: flag prints each flag's default, here its environment
// variable's value, on -h and after any bad flag, and a service's output
// goes to its log. A --db DSN with a password is shown as store.Describe
// gives it. Call it once every flag is defined, before fs.Parse.
func hideSecretDefaults(fs *flag.FlagSet) {
	if f := fs.Lookup("db"); f != nil && dsnHasPassword(f.DefValue) {
		f.DefValue = store.Describe(f.DefValue)
	}
}
