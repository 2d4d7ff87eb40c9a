package main

import (
	"archive/tar"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/server/store"
)

// commandFunc runs one of the maintenance commands.
type commandFunc func(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error

// commands are autoprov's subcommands besides serve, in the order "autoprov
// help" lists them. Each takes --help.
var commands = []struct {
	name string
	run  commandFunc
}{
	{"firmware", firmwareCmd},
	{"redirect", redirectCmd},
	{"rotate-key", rotateKey},
	{"backup", backup},
	{"restore", restore},
	{"import", importCmd},
	{"export", exportCmd},
	{"dhcp-config", dhcpConfigCmd},
	{"version", versionCmd},
}

// summaries are the commands' one-line descriptions, for help.
var summaries = map[string]string{
	"serve":       "run the server (the default)",
	"firmware":    "add firmware images to the catalogue, list it (add|list; --server to use a running server)",
	"redirect":    "queue MACs for registration with a vendor redirect service, through a running server (register --service S [--server URL] MAC...)",
	"rotate-key":  "put a new key first in the keyring and re-seal every secret under it",
	"backup":      "write a consistent copy of the SQLite database and its keyring to one file",
	"restore":     "put a backup's database and keyring back (the server must be stopped)",
	"import":      "create and update accounts and devices from a CSV file, all or nothing (--dry-run; --server to use a running server)",
	"export":      "write the inventory as CSV, without passwords (--server to use a running server)",
	"dhcp-config": "print DHCP server configuration pointing phones here (--server isc|kea|dnsmasq|mikrotik|windows)",
	"version":     "print the version",
}

// command returns the subcommand name, or nil ("serve" is not one).
func command(name string) commandFunc {
	if isHelp(name) {
		return helpCmd
	}
	for _, c := range commands {
		if c.name == name {
			return c.run
		}
	}
	return nil
}

// helpCmd is "autoprov help" (and --help): the commands, on standard
// output.
func helpCmd(_ context.Context, _ []string, _ func(string) (string, bool), _ io.Writer) error {
	return usage(os.Stdout)
}

func usage(w io.Writer) error {
	var b strings.Builder
	b.WriteString("usage: autoprov [serve] [flags]    run the server (autoprov serve --help lists its flags)\n")
	b.WriteString("       autoprov COMMAND [flags]   (autoprov COMMAND --help)\n\ncommands:\n")
	fmt.Fprintf(&b, "  %-11s %s\n", "serve", summaries["serve"])
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, summaries[c.name])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// commandNames lists the commands for error messages.
func commandNames() string {
	names := []string{"serve"}
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// cmdConfig is what every maintenance command needs.
type cmdConfig struct {
	data, db, secretKey string
	log                 *slog.Logger
}

// cmdFlags parses --data and --db (and the command's own flags, added by
// more) with their environment variables, and wants exactly positional
// arguments.
func cmdFlags(name string, args []string, lookupEnv func(string) (string, bool), stderr io.Writer, positional int, more func(*flag.FlagSet)) (cmdConfig, []string, error) {
	env := func(k, def string) string {
		if v, ok := lookupEnv(k); ok && v != "" {
			return v
		}
		return def
	}
	var c cmdConfig
	fs := flag.NewFlagSet("autoprov "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		args := ""
		for range positional {
			args += " FILE"
		}
		fmt.Fprintf(fs.Output(), "usage: autoprov %s [flags]%s\n", name, args)
		if sum := summaries[strings.Fields(name)[0]]; sum != "" {
			fmt.Fprintf(fs.Output(), "\n%s\n", sum)
		}
		fmt.Fprintln(fs.Output(), "\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.data, "data", env("AUTOPROV_DATA", "./data"), "data directory (AUTOPROV_DATA)")
	fs.StringVar(&c.db, "db", env("AUTOPROV_DB", ""), "database (default <data>/autoprov.db) (AUTOPROV_DB)")
	if more != nil {
		more(fs)
	}
	hideSecretDefaults(fs)
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if fs.NArg() != positional {
		return c, nil, fmt.Errorf("autoprov %s: want %d argument(s), got %q", name, positional, fs.Args())
	}
	if c.db == "" {
		c.db = filepath.Join(c.data, "autoprov.db")
	}
	c.secretKey, _ = lookupEnv("AUTOPROV_SECRET_KEY")
	c.log = slog.New(slog.NewTextHandler(stderr, nil)).With("command", name)
	warnArgvSecrets(c.log, argvSecrets(fs))
	// A data directory that is not there is not made here: a command
	// working on it wants it to exist (needData), one given --server does
	// not touch it, and restore and firmware add make it themselves.
	if _, err := os.Stat(c.data); os.IsNotExist(err) {
		restrictUmask()
		return c, fs.Args(), nil
	}
	return c, fs.Args(), secureDataDir(c.data, c.log)
}

// needData is the first step of a command that works on the data
// directory itself: the directory must exist when the command uses
// something in it (a SQLite database under it, or secret.key when
// AUTOPROV_SECRET_KEY is not set). A typo in --data would otherwise get a
// new, empty data directory: import would write into a database no server
// reads, export would print an empty inventory. An existing directory
// without a database yet (made for a server not started yet) is taken:
// the command makes the database, as that start would.
func (c cmdConfig) needData() error {
	if store.IsPostgres(c.db) && c.secretKey != "" {
		return nil // nothing of the data directory is used
	}
	if _, err := os.Stat(c.data); os.IsNotExist(err) {
		return fmt.Errorf("data directory %s (--data) does not exist: give the one the server runs with (its first start makes it)", c.data)
	} else if err != nil {
		return fmt.Errorf("data directory %s (--data): %w", c.data, err)
	}
	return nil
}

// rotateKey is "autoprov rotate-key": see README "Secrets at rest".
//
//	(no flag)   a new key first in secret.key, every secret re-sealed under
//	            it, then the old keys dropped from the file once no secret
//	            uses them (one instance; a server running on the same data
//	            directory picks the file up by itself)
//	--stage     a new key appended last: every instance that gets this file
//	            can open it, none seals with it yet
//	--use ID    that key first, every secret re-sealed; the other keys stay
//	            (instances that lack this file still seal under them)
//	--finish    every secret re-sealed under the current key, unused keys
//	            dropped (after other instances wrote under an older one)
func rotateKey(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	var stage, finish bool
	var use string
	var batch int
	c, _, err := cmdFlags("rotate-key", args, lookupEnv, stderr, 0, func(fs *flag.FlagSet) {
		fs.BoolVar(&stage, "stage", false, "append a new key last (readable everywhere, not yet used); nothing is re-sealed")
		fs.StringVar(&use, "use", "", "make the key with this id current and re-seal every secret under it")
		fs.BoolVar(&finish, "finish", false, "re-seal what is not under the current key and drop unused keys")
		fs.IntVar(&batch, "batch", 500, "secrets re-sealed per transaction")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if (stage && (finish || use != "")) || (finish && use != "") {
		return errors.New("rotate-key: --stage, --use and --finish go alone")
	}
	if err := c.needData(); err != nil {
		return fmt.Errorf("rotate-key: %w", err)
	}
	k, err := loadKeyring(c.data, c.secretKey, false)
	if err != nil {
		return err
	}
	if k.file == nil && !finish {
		return errors.New("rotate-key: the keyring comes from AUTOPROV_SECRET_KEY, which rotate-key cannot rewrite: " +
			"add a new key (head -c 32 /dev/urandom | base64) to the variable yourself, first, on every instance, " +
			"then run rotate-key --finish with it, then remove the old key (README \"Secrets at rest\")")
	}
	ring := k.src.Ring()
	var next *sealed.Keyring
	switch {
	case stage:
		next = ring.Staged()
		if err := sealed.WriteFile(k.file.Path(), next); err != nil {
			return fmt.Errorf("rotate-key: %w", err)
		}
		ids := next.IDs()
		c.log.Info("new key staged (last in the keyring): copy the file to every instance, then run rotate-key --use "+ids[len(ids)-1],
			"keyring", k.where, "staged_key", ids[len(ids)-1], "current_key", next.Current())
		return nil
	case use != "":
		if next = ring.WithCurrent(use); next == nil {
			return fmt.Errorf("rotate-key: the keyring %s has no key %s (it has %s)", k.where, use, strings.Join(ring.IDs(), ", "))
		}
	case !finish:
		next = ring.Rotated()
	}
	// Opened before the keyring is written: a database this command
	// refuses (an older schema, a wrong keyring) leaves the file as it was.
	// The store re-reads the file once it changed.
	st, err := openStore(c.db, k, store.WithoutUpgrade())
	if err != nil {
		return fmt.Errorf("database (--db): %w", err)
	}
	defer st.Close()
	if next != nil {
		// Written before anything is sealed with it: whatever happens
		// next, the file opens every secret.
		if err := sealed.WriteFile(k.file.Path(), next); err != nil {
			return fmt.Errorf("rotate-key: %w", err)
		}
		c.log.Info("new current key written to the keyring", "keyring", k.where, "current_key", next.Current(), "keys", next.IDs())
	}
	cur := k.src.Refresh()
	start := time.Now()
	res, err := st.Reseal(ctx, batch, func(done, total int) {
		c.log.Info("re-sealing secrets", "done", done, "total", total, "current_key", cur.Current())
	})
	if err != nil {
		return fmt.Errorf("rotate-key: %w", err)
	}
	byKey, plain, err := st.SealCounts(ctx)
	if err != nil {
		return err
	}
	c.log.Info("secrets re-sealed", "resealed", res.Resealed, "changed_meanwhile", res.Changed, "unknown_key", res.Unknown,
		"took", time.Since(start).Round(time.Millisecond).String(), "current_key", cur.Current())
	var stale []string
	for id := range byKey {
		if id != cur.Current() {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 || plain > 0 {
		c.log.Warn("some secrets are still under older keys (written by instances whose keyring still puts an old key first): the old keys stay; give every instance this keyring, then run rotate-key --finish",
			"keys_in_use", stale, "plain", plain)
		return nil
	}
	unused := without(cur.IDs(), cur.Current())
	if len(unused) == 0 {
		c.log.Info("every secret is under the current key", "current_key", cur.Current())
		return nil
	}
	if use != "" {
		// Other instances seal under the old current key until this file
		// reaches them: dropping it now would leave what they write
		// meanwhile unreadable, to them too once the file arrives.
		c.log.Info("every secret is under the current key; the other keys stay: copy this keyring to every instance, then run rotate-key --finish",
			"keyring", k.where, "current_key", cur.Current(), "kept_keys", unused)
		return nil
	}
	if k.file == nil {
		c.log.Info("every secret is under the current key: remove the other keys from AUTOPROV_SECRET_KEY", "current_key", cur.Current(), "unused_keys", unused)
		return nil
	}
	if err := sealed.WriteFile(k.file.Path(), cur.Only(cur.Current())); err != nil {
		return fmt.Errorf("rotate-key: %w", err)
	}
	c.log.Info("old keys dropped from the keyring: no secret uses them", "keyring", k.where, "current_key", cur.Current(), "dropped", unused)
	return nil
}

// without returns ids without drop.
func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

// Names inside a backup archive.
const (
	backupDB  = "autoprov.db"
	backupKey = keyFileName
)

// backup is "autoprov backup <file>": the SQLite database (an online
// copy) and the keyring, together in one tar file, mode 0600.
func backup(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	// Flags may follow FILE (autoprov backup FILE --data DIR), as for
	// import and firmware add.
	flags, files := boolFlags(args)
	c, pos, err := cmdFlags("backup", append(flags, files...), lookupEnv, stderr, 1, nil)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	out := pos[0]
	if store.IsPostgres(c.db) {
		return fmt.Errorf("backup: %w", store.ErrBackupPostgres)
	}
	if err := c.needData(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	k, err := loadKeyring(c.data, c.secretKey, false)
	if err != nil {
		return err
	}
	// A database an older autoprov wrote (a new binary installed beside
	// the server still running the old one: the backup before an upgrade)
	// is copied as it is: migrated, it would no longer start that server,
	// nor restore for it. Open has checked the keyring against it first
	// (read-only): a wrong one is refused here, not found at restore.
	st, err := openStore(c.db, k, store.WithoutUpgrade())
	var old *store.SchemaTooOldError
	if err != nil && !errors.As(err, &old) {
		return fmt.Errorf("database (--db): %w", err)
	}
	if st != nil {
		defer st.Close()
	}
	tmp, err := os.MkdirTemp(c.data, ".backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, backupDB)
	if old != nil {
		err = store.CopySQLite(ctx, c.db, copyPath)
		c.log.Warn("the database's schema is older than this autoprov's: copied as it is, for the autoprov that wrote it (restore with this one upgrades it)",
			"schema_version", old.Version, "this_autoprov", old.Known)
	} else {
		err = st.Backup(ctx, copyPath)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := writeBackup(f, copyPath, k.src.Ring()); err != nil {
		f.Close()
		os.Remove(out)
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(out)
		return fmt.Errorf("backup: %w", err)
	}
	c.log.Info("backup written: the database and its keyring (keep it as secret as the keyring)", "file", out, "db", store.Describe(c.db), "keys", k.src.Ring().IDs())
	return nil
}

func writeBackup(f *os.File, dbCopy string, ring *sealed.Keyring) error {
	db, err := os.Open(dbCopy)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Stat()
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: backupDB, Mode: 0o600, Size: st.Size(), ModTime: now}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, db); err != nil {
		return err
	}
	key := ring.Encode()
	if err := tw.WriteHeader(&tar.Header{Name: backupKey, Mode: 0o600, Size: int64(len(key)), ModTime: now}); err != nil {
		return err
	}
	if _, err := tw.Write(key); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Sync()
}

// restore is "autoprov restore <file>": puts a backup's database and
// keyring in place, after checking that the keyring opens the database.
// The server must be stopped; an existing database or keyring is only
// replaced with --force.
func restore(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	var force bool
	flags, files := boolFlags(args, "force") // flags may follow FILE
	c, pos, err := cmdFlags("restore", append(flags, files...), lookupEnv, stderr, 1, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "replace an existing database and keyring (stop autoprov first)")
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if store.IsPostgres(c.db) {
		return errors.New("restore: a PostgreSQL database is restored with pg_restore (or psql), and its keyring by copying secret.key back (README \"Backup and restore\")")
	}
	// A new machine's data directory is made here.
	if err := secureDataDir(c.data, c.log); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Held until the restore is done: a server that starts meanwhile
	// refuses to.
	unlock, err := lockData(c.data, true)
	if errors.Is(err, errServerRunning) {
		return fmt.Errorf("restore: %w: stop it first", err)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer unlock()
	keyPath := filepath.Join(c.data, keyFileName)
	dbPath := strings.TrimPrefix(c.db, "sqlite:")
	if !force {
		for _, p := range []string{dbPath, keyPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("restore: %s exists: stop autoprov and pass --force to replace the database and its keyring", p)
			}
		}
	}
	in, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".restore-*.db")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmpPath := tmp.Name()
	defer func() {
		for _, p := range []string{tmpPath, tmpPath + "-wal", tmpPath + "-shm", tmpPath + "-migrate.lock"} {
			os.Remove(p)
		}
	}()
	var ring *sealed.Keyring
	gotDB := false
	tr := tar.NewReader(in)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tmp.Close()
			return fmt.Errorf("restore: %s is not a backup: %w", pos[0], err)
		}
		switch h.Name {
		case backupDB:
			if _, err := io.Copy(tmp, tr); err != nil {
				tmp.Close()
				return fmt.Errorf("restore: %w", err)
			}
			gotDB = true
		case backupKey:
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				tmp.Close()
				return fmt.Errorf("restore: %w", err)
			}
			if ring, err = sealed.Parse(string(b)); err != nil {
				tmp.Close()
				return fmt.Errorf("restore: the backup's keyring: %w", err)
			}
		default:
			tmp.Close()
			return fmt.Errorf("restore: %s holds %q; a backup holds %s and %s only", pos[0], h.Name, backupDB, backupKey)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !gotDB || ring == nil {
		return fmt.Errorf("restore: %s lacks %s or %s", pos[0], backupDB, backupKey)
	}
	// The keyring must open the database (and the schema is brought up
	// to date) before anything in place is touched.
	// A damaged database may open (that reads only its schema): the
	// integrity check reads every page, before the one in place is replaced.
	st, err := store.Open(tmpPath, store.WithKeys(ring))
	var mismatch *store.KeyMismatchError
	switch {
	case errors.As(err, &mismatch):
		return fmt.Errorf("restore: the backup's keyring does not open its database: %w; nothing was changed", err)
	case err != nil:
		return fmt.Errorf("restore: the database in %s does not open: %w; nothing was changed", pos[0], err)
	}
	err = st.Check(ctx)
	st.Close()
	if err != nil {
		return fmt.Errorf("restore: %s: %w; nothing was changed", pos[0], err)
	}
	for _, p := range []string{dbPath + "-wal", dbPath + "-shm", dbPath + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmpPath, dbPath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := sealed.WriteFile(keyPath, ring); err != nil {
		return fmt.Errorf("restore: database restored, but the keyring was not written to %s: %w", keyPath, err)
	}
	c.log.Info("restored the database and its keyring", "db", dbPath, "keyring", keyPath, "keys", ring.IDs())
	if c.secretKey != "" {
		c.log.Warn("AUTOPROV_SECRET_KEY is set and wins over secret.key: it must hold the restored keys", "keys", ring.IDs())
	}
	return nil
}
