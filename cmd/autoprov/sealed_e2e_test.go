package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/internal/httpauth"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/server/store"
)

// menuPass is long: checkDataDir looks for it in the database's bytes,
// whose timestamps' nanoseconds and counters hold some hundred distinct
// 5-digit runs (a 5-digit PIN was in one of them about once in 200 runs).
const (
	webPass  = "Web-Pass-Xyz-4242"
	menuPass = "9753108642197531"
)

// setupSecrets puts settings, account 201 (sipPass) and a Yealink with
// its own web and menu passwords on the server.
func setupSecrets(s *server) {
	s.must(200, "PUT", "/api/v1/settings", settings, nil)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "201", "display_name": "Alice Example", "password": sipPass}, nil)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:01", "model": "T54W", "accounts": []string{"201"},
		"web_password": webPass, "menu_password": menuPass}, nil)
}

// fetchSecrets re-opens the device's window and fetches its file: the
// secrets read back through the store.
func fetchSecrets(t *testing.T, s *server) {
	t.Helper()
	s.must(200, "POST", "/api/v1/devices/805ec0aabb01/disclosure", nil, nil)
	code, body, _ := s.get("/prov/805ec0aabb01.cfg", yealinkUA)
	for _, want := range []string{"account.1.password = " + sipPass, webPass, menuPass} {
		if code != 200 || !bytes.Contains(body, []byte(want)) {
			t.Fatalf("fetch inside the window: %d, lacks a secret (%.3s...)", code, want)
		}
	}
}

// checkDataDir reads every file under dir: none may hold a secret, every
// file must be 0600 and every directory 0700.
func checkDataDir(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if info.Mode().Perm() != 0o700 {
				t.Errorf("directory %s has mode %04o, want 0700", rel, info.Mode().Perm())
			}
			return nil
		}
		files++
		if info.Mode().Perm() != 0o600 {
			t.Errorf("file %s has mode %04o, want 0600", rel, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("file %s holds the secret %.3s... in plain text", rel, sec)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("only %d files under the data directory", files)
	}
}

// TestDataDirHoldsNoSecret: accounts and devices made through the real
// server and fetched by a phone leave no SIP, web or menu password in any
// file of the data directory, while it runs (database, WAL, shared memory)
// and after; every file there is 0600 and every directory 0700, though the
// directory existed before as 0755 with a 0644 file and a 0755 directory.
func TestDataDirHoldsNoSecret(t *testing.T) {
	data := t.TempDir()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "old", "notes.txt"), []byte("left here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(data, "old"), 0o755)
	os.Chmod(filepath.Join(data, "old", "notes.txt"), 0o644)
	s := startWith(t, data, "--https", "127.0.0.1:0")
	setupSecrets(s)
	fetchSecrets(t, s)
	if _, err := os.Stat(filepath.Join(data, "autoprov.db-wal")); err != nil {
		t.Fatalf("no WAL while running: %v", err)
	}
	checkDataDir(t, data, sipPass, webPass, menuPass)
	if !strings.Contains(s.log.String(), "modes fixed") {
		t.Error("the fixed modes are not logged")
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	checkDataDir(t, data, sipPass, webPass, menuPass)
	s.leaks(sipPass, webPass, menuPass)
}

// runAutoprov runs an autoprov command in-process with env and returns its
// error and what it logged.
func runAutoprov(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var log bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	err := run(context.Background(), args, lookup, &log, nil)
	return log.String(), err
}

// TestWrongKeyRefusesToStart: a data directory whose secrets were sealed
// under one key does not start with another (from the file or
// AUTOPROV_SECRET_KEY), nor with a lost key file, and says why.
func TestWrongKeyRefusesToStart(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(data, "secret.key")
	good, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	serve := []string{"serve", "--data", data, "--http", "127.0.0.1:0", "--tftp", ""}
	env := map[string]string{"AUTOPROV_ADMIN_TOKEN": testToken}

	wrong := sealed.Generate()
	if err := sealed.WriteFile(keyPath, wrong); err != nil {
		t.Fatal(err)
	}
	if _, err := runAutoprov(t, env, serve...); err == nil || !strings.Contains(err.Error(), "opens none of the") || !strings.Contains(err.Error(), wrong.Current()) {
		t.Fatalf("wrong key file: err = %v", err)
	}

	env["AUTOPROV_SECRET_KEY"] = base64.StdEncoding.EncodeToString(sealed.NewKey())
	if _, err := runAutoprov(t, env, serve...); err == nil || !strings.Contains(err.Error(), "opens none of the") {
		t.Fatalf("wrong AUTOPROV_SECRET_KEY: err = %v", err)
	}
	delete(env, "AUTOPROV_SECRET_KEY")

	os.Remove(keyPath)
	if _, err := runAutoprov(t, env, serve...); err == nil || !strings.Contains(err.Error(), "no "+keyPath+" was found") {
		t.Fatalf("lost key file: err = %v", err)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Fatal("a key made for a database it cannot open was left behind")
	}
	if err := os.WriteFile(keyPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startWith(t, data)
	fetchSecrets(t, s)
}

// sealCounts reads how the secrets of the SQLite database in data are
// sealed, with the keyring in its secret.key.
func sealCounts(t *testing.T, data string) (map[string]int, *sealed.Keyring) {
	t.Helper()
	f, err := sealed.LoadFile(filepath.Join(data, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(data, "autoprov.db"), store.WithKeys(f))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	byKey, plain, err := st.SealCounts(context.Background())
	if err != nil || plain != 0 {
		t.Fatalf("SealCounts: %v, %d plain", err, plain)
	}
	return byKey, f.Ring()
}

// TestRotateKeyWhileServing: rotate-key run beside a serving instance
// re-seals every secret under a new key and drops the old one; the
// server goes on reading and writing secrets throughout, and after a
// restart.
func TestRotateKeyWhileServing(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	before, ring := sealCounts(t, data)
	old := ring.Current()
	if before[old] != 3 {
		t.Fatalf("before: %v, want 3 under %s", before, old)
	}
	log, err := runAutoprov(t, nil, "rotate-key", "--data", data, "--batch", "2")
	if err != nil {
		t.Fatalf("rotate-key: %v\n%s", err, log)
	}
	for _, want := range []string{"re-sealing secrets", "done=2 total=3", "done=3 total=3", "old keys dropped"} {
		if !strings.Contains(log, want) {
			t.Errorf("rotate-key log lacks %q:\n%s", want, log)
		}
	}
	after, ring := sealCounts(t, data)
	if ids := ring.IDs(); len(ids) != 1 || ids[0] == old || after[ids[0]] != 3 || after[old] != 0 {
		t.Fatalf("after: %v under keyring %v (old %s)", after, ids, old)
	}
	fetchSecrets(t, s) // the running server reads the re-sealed rows (and issues a provisioning credential, sealed)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob", "password": "Bob-Pass-202-qq"}, nil)
	if byKey, _ := sealCounts(t, data); byKey[ring.Current()] != 5 || len(byKey) != 1 {
		t.Fatalf("a write after the rotation: %v, want 5 under %s", byKey, ring.Current())
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startWith(t, data)
	fetchSecrets(t, s)
	checkDataDir(t, data, sipPass, webPass, menuPass, "Bob-Pass-202-qq")
}

// TestRotateKeyStaged: the three steps for several instances sharing one
// database. After step 2 (--use) another instance, which has only step 1's
// file, still seals under the old key (here: the same data directory given
// step 1's file back); step 2's file keeps the old key, so what that
// instance wrote stays readable once step 2's file reaches it, and step 3
// (--finish) re-seals it under the new key and drops the old one.
func TestRotateKeyStaged(t *testing.T) {
	data := t.TempDir()
	keyFile := filepath.Join(data, "secret.key")
	s := startWith(t, data)
	setupSecrets(s)
	_, ring := sealCounts(t, data)
	old := ring.Current()

	if log, err := runAutoprov(t, nil, "rotate-key", "--data", data, "--stage"); err != nil {
		t.Fatalf("rotate-key --stage: %v\n%s", err, log)
	}
	_, ring = sealCounts(t, data)
	ids := ring.IDs()
	if len(ids) != 2 || ids[0] != old || ring.Current() != old {
		t.Fatalf("after --stage: keyring %v, current %s; want %s first and current, a new key last", ids, ring.Current(), old)
	}
	next := ids[1]
	staged, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	log, err := runAutoprov(t, nil, "rotate-key", "--data", data, "--use", next)
	if err != nil {
		t.Fatalf("rotate-key --use: %v\n%s", err, log)
	}
	if !strings.Contains(log, "the other keys stay") || strings.Contains(log, "old keys dropped") {
		t.Errorf("rotate-key --use log:\n%s", log)
	}
	byKey, ring := sealCounts(t, data)
	if ring.Current() != next || len(ring.IDs()) != 2 || byKey[old] != 0 || byKey[next] == 0 {
		t.Fatalf("after --use: %v under keyring %v (current %s); want every secret under %s and %s kept", byKey, ring.IDs(), ring.Current(), next, old)
	}
	used, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	// Another instance, with step 1's file only, writes a secret: under the old key.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, staged, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startWith(t, data)
	s.must(201, "POST", "/api/v1/accounts", map[string]any{"extension": "202", "display_name": "Bob", "password": "Bob-Pass-202-qq"}, nil)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if byKey, _ := sealCounts(t, data); byKey[old] != 1 {
		t.Fatalf("a write with step 1's file: %v, want one secret under %s", byKey, old)
	}

	// Step 2's file reaches it: it serves the secrets, then step 3.
	if err := os.WriteFile(keyFile, used, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startWith(t, data)
	fetchSecrets(t, s)
	if log, err := runAutoprov(t, nil, "rotate-key", "--data", data, "--finish"); err != nil || !strings.Contains(log, "old keys dropped") {
		t.Fatalf("rotate-key --finish: %v\n%s", err, log)
	}
	byKey, ring = sealCounts(t, data)
	if ids := ring.IDs(); len(ids) != 1 || ids[0] != next || len(byKey) != 1 || byKey[next] == 0 {
		t.Fatalf("after --finish: %v under keyring %v; want all under %s alone", byKey, ids, next)
	}
	fetchSecrets(t, s) // the running server reads the file --finish wrote
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	checkDataDir(t, data, sipPass, webPass, menuPass, "Bob-Pass-202-qq")
}

// TestDigestReplayAcrossRestart: a phone's Digest answer captured on the
// LAN and replayed gets no config, neither on the server that accepted it
// nor on the same server restarted (which no longer remembers the
// nonce's count): a fresh challenge each time.
func TestDigestReplayAcrossRestart(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	const path = "/prov/805ec0aabb01.cfg"
	code, body, _ := s.get(path, yealinkUA)
	m := provCred.FindSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("the first fetch: %d, no credential", code)
	}
	pass := string(m[1])
	code, _, h := s.get(path, yealinkUA)
	if code != 401 || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("a fetch without the credential: %d", code)
	}
	answer, err := httpauth.AnswerCount(h.Get("WWW-Authenticate"), "805ec0aabb01", pass, "GET", path, 1)
	if err != nil {
		t.Fatal(err)
	}
	send := func(s *server) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("User-Agent", yealinkUA)
		req.Header.Set("Authorization", answer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := send(s); code != 200 || !bytes.Contains(b, []byte("account.1.")) {
		t.Fatalf("the phone's answer: %d", code)
	}
	if code, b := send(s); code != 401 || bytes.Contains(b, []byte("account.")) {
		t.Fatalf("the answer replayed: %d", code)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startWith(t, data)
	if code, b := send(s); code != 401 || bytes.Contains(b, []byte("account.")) {
		t.Fatalf("the answer replayed after a restart: %d", code)
	}
	if code, b, _ := s.getAs(path, yealinkUA, "805ec0aabb01", pass); code != 200 || !bytes.Contains(b, []byte("account.1.")) {
		t.Fatalf("the phone itself after the restart: %d", code)
	}
}

// TestBackupRestore: backup writes the database and its keyring into one
// 0600 tar; restore puts both in a new data directory, where the server
// starts and reads the secrets; it refuses to overwrite without --force.
func TestBackupRestore(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	out := filepath.Join(t.TempDir(), "autoprov.tar")
	if log, err := runAutoprov(t, nil, "backup", "--data", data, out); err != nil { // online, while serving
		t.Fatalf("backup: %v\n%s", err, log)
	}
	// restore refuses while a server runs on the directory, --force or not.
	if _, err := runAutoprov(t, nil, "restore", "--data", data, "--force", out); err == nil || !strings.Contains(err.Error(), "running") {
		t.Fatalf("restore while the server runs: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", st, err)
	}
	f, _ := os.Open(out)
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		b, _ := io.ReadAll(tr)
		if bytes.Contains(b, []byte(sipPass)) || bytes.Contains(b, []byte(webPass)) {
			t.Errorf("backup entry %s holds a secret in plain text", h.Name)
		}
	}
	f.Close()
	if strings.Join(names, " ") != "autoprov.db secret.key" {
		t.Fatalf("backup holds %v", names)
	}
	if _, err := runAutoprov(t, nil, "backup", "--data", data, out); err == nil {
		t.Fatal("backup overwrote an existing file")
	}

	fresh := filepath.Join(t.TempDir(), "restored")
	if log, err := runAutoprov(t, nil, "restore", "--data", fresh, out); err != nil {
		t.Fatalf("restore: %v\n%s", err, log)
	}
	if _, err := runAutoprov(t, nil, "restore", "--data", fresh, out); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over an existing database: %v", err)
	}
	if log, err := runAutoprov(t, nil, "restore", "--data", fresh, "--force", out); err != nil {
		t.Fatalf("restore --force: %v\n%s", err, log)
	}
	s = startWith(t, fresh)
	fetchSecrets(t, s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	checkDataDir(t, fresh, sipPass, webPass, menuPass)

	// PostgreSQL: backup refuses and says what to use.
	if _, err := runAutoprov(t, nil, "backup", "--data", t.TempDir(), "--db", "postgres://u@127.0.0.1:1/x", filepath.Join(t.TempDir(), "x.tar")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup on PostgreSQL: %v", err)
	}
}

// TestRestoreRefusesDamagedBackup: a backup whose database was damaged
// after it was written (a MAC in the devices table's page changed, so the
// table and its index disagree: the file still opens) is refused by
// restore --force, which leaves the database and keyring in place as they
// were; the server starts on them and reads the secrets.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	if _, err := runCmd("sqlite3", "-version"); err != nil {
		skipOrFail(t, "sqlite3 not installed")
	}
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	backupFile := filepath.Join(t.TempDir(), "autoprov.tar")
	if log, err := runAutoprov(t, nil, "backup", "--data", data, backupFile); err != nil {
		t.Fatalf("backup: %v\n%s", err, log)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// Take the backup apart, damage the devices table's page, put it together.
	f, err := os.Open(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = b
	}
	f.Close()
	dbFile := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dbFile, entries["autoprov.db"], 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd("sqlite3", dbFile, "PRAGMA page_size; SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'devices';")
	if err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	var pageSize, root int
	if _, err := fmt.Sscan(out, &pageSize, &root); err != nil || pageSize == 0 || root == 0 {
		t.Fatalf("page size and root page of devices: %q", out)
	}
	db := entries["autoprov.db"]
	page := db[(root-1)*pageSize : root*pageSize]
	if bytes.Count(page, []byte("805ec0aabb01")) == 0 {
		t.Fatal("the device's MAC is not in the devices table's page")
	}
	copy(page, bytes.ReplaceAll(page, []byte("805ec0aabb01"), []byte("805ec0aabb99")))
	damaged := filepath.Join(t.TempDir(), "damaged.tar")
	g, err := os.Create(damaged)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(g)
	for _, name := range []string{"autoprov.db", "secret.key"} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(entries[name]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(entries[name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	g.Close()

	before := map[string][]byte{}
	for _, name := range []string{"autoprov.db", "secret.key"} {
		if before[name], err = os.ReadFile(filepath.Join(data, name)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = runAutoprov(t, nil, "restore", "--data", data, "--force", damaged)
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("restore of a damaged backup: %v", err)
	}
	for name, b := range before {
		if now, err := os.ReadFile(filepath.Join(data, name)); err != nil || !bytes.Equal(now, b) {
			t.Errorf("%s changed by the refused restore (%v)", name, err)
		}
	}
	s = startWith(t, data)
	fetchSecrets(t, s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestCommandsLeaveOlderSchema: a new binary's maintenance commands run on
// a database an older autoprov wrote (schema 15: this one's version 16
// undone in SQL), as when the new binary is installed while the old server
// still runs. backup copies it as it is (the live database and the copy
// stay at 15, so the old server starts again and the backup restores for
// it), but not with a wrong key; export and rotate-key refuse, saying why, and change neither the
// schema nor the keyring; the server of this version then upgrades it.
func TestCommandsLeaveOlderSchema(t *testing.T) {
	if _, err := runCmd("sqlite3", "-version"); err != nil {
		skipOrFail(t, "sqlite3 not installed")
	}
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(data, "autoprov.db")
	version := func(path string) string {
		t.Helper()
		out, err := runCmd("sqlite3", path, "SELECT MAX(version_id) FROM goose_db_version")
		if err != nil {
			t.Fatalf("sqlite3: %v %s", err, out)
		}
		return strings.TrimSpace(out)
	}
	if out, err := runCmd("sqlite3", dbPath, "DROP TABLE dialogue_state; DELETE FROM goose_db_version WHERE version_id = 16"); err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	keyBefore, _ := os.ReadFile(filepath.Join(data, "secret.key"))

	// A wrong key is refused on an older schema too: the backup would
	// pack a keyring that cannot open the database (found at restore).
	wrongOut := filepath.Join(t.TempDir(), "wrong-key.tar")
	wrong := map[string]string{"AUTOPROV_SECRET_KEY": base64.StdEncoding.EncodeToString(sealed.NewKey())}
	if _, err := runAutoprov(t, wrong, "backup", "--data", data, wrongOut); err == nil || !strings.Contains(err.Error(), "opens none of the") {
		t.Errorf("backup of an older schema with a wrong AUTOPROV_SECRET_KEY: %v", err)
	}
	if _, err := os.Stat(wrongOut); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused backup wrote %s: %v", wrongOut, err)
	}
	if v := version(dbPath); v != "15" {
		t.Fatalf("the refused backup migrated the database: schema %s", v)
	}

	out := filepath.Join(t.TempDir(), "before-upgrade.tar")
	if log, err := runAutoprov(t, nil, "backup", "--data", data, out); err != nil {
		t.Fatalf("backup: %v\n%s", err, log)
	}
	if v := version(dbPath); v != "15" {
		t.Fatalf("backup migrated the database it copied: schema %s", v)
	}
	for _, args := range [][]string{{"export", "--data", data}, {"rotate-key", "--data", data}} {
		_, err := runAutoprov(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "older than this autoprov") {
			t.Errorf("%s on an older schema: %v", args[0], err)
		}
		if v := version(dbPath); v != "15" {
			t.Fatalf("%s migrated the database: schema %s", args[0], v)
		}
	}
	if key, _ := os.ReadFile(filepath.Join(data, "secret.key")); !bytes.Equal(key, keyBefore) {
		t.Error("rotate-key refused the database but rewrote the keyring")
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(filepath.Join(restored, h.Name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	if v := version(filepath.Join(restored, "autoprov.db")); v != "15" {
		t.Fatalf("the backup holds schema %s, not the database's 15", v)
	}

	// The server of this version upgrades it, secrets and all.
	s = startWith(t, data)
	fetchSecrets(t, s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if v := version(dbPath); v != "16" {
		t.Fatalf("the server left schema %s", v)
	}
}

// TestBackupRestoreFlagsAfterFile: "autoprov backup FILE --data DIR" and
// "autoprov restore FILE --data DIR --force", flags after the file as an
// admin types them (and as import and firmware add take them), work; they
// used to stop with "want 1 argument(s)".
func TestBackupRestoreFlagsAfterFile(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data)
	setupSecrets(s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "autoprov.tar")
	if log, err := runAutoprov(t, nil, "backup", out, "--data", data); err != nil {
		t.Fatalf("backup FILE --data: %v\n%s", err, log)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("backup FILE --data wrote no file: %v", err)
	}
	fresh := filepath.Join(t.TempDir(), "restored")
	if log, err := runAutoprov(t, nil, "restore", out, "--data", fresh); err != nil {
		t.Fatalf("restore FILE --data: %v\n%s", err, log)
	}
	// --force is a bool: the argument after it is not its value.
	if log, err := runAutoprov(t, nil, "restore", out, "--force", "--data", fresh); err != nil {
		t.Fatalf("restore FILE --force --data: %v\n%s", err, log)
	}
	s = startWith(t, fresh)
	fetchSecrets(t, s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}
