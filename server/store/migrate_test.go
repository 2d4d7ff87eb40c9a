package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

// The fixtures testdata/mkfixture.sh made with autoprov 593256a, the last
// release whose schema came from GORM AutoMigrate (no version table).
const (
	fixtureSQLite   = "testdata/autoprov-593256a.db"
	fixturePostgres = "testdata/autoprov-593256a.pg.sql"
)

// postgresBase returns $AUTOPROV_TEST_POSTGRES; without it the test skips,
// or fails under CI=true (as postgresDSN does).
func postgresBase(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is unset: the PostgreSQL tests must run in CI (.ci/run starts a server)", postgresEnv)
		}
		t.Skipf("PostgreSQL: set %s to a DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run these", postgresEnv)
	}
	return base
}

// postgresDatabase creates a uniquely named database on the server named
// by $AUTOPROV_TEST_POSTGRES and returns a DSN for it; the database is
// dropped when the test ends. A dump of a whole database (its public
// schema) loads into it as it was made.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	base := postgresBase(t)
	var b [6]byte
	rand.Read(b[:])
	name := "autoprov_test_" + hex.EncodeToString(b[:])
	admin := rawDB(t, base)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database on %s: %v", Describe(base), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " dbname=" + name // key=value form: the last one wins
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// rawDB opens dsn with database/sql alone (no Store, so no migration),
// closed when the test ends.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name := "sqlite3", strings.TrimPrefix(dsn, sqliteDSNPrefix)
	if IsPostgres(dsn) {
		driver, name = "pgx", dsn
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// eachFixture runs f as the subtests "sqlite" and "postgres", each with
// the DSN of a database the old release wrote: a copy of the SQLite
// fixture in t.TempDir(), or a fresh PostgreSQL database the dump was
// loaded into. Nothing has opened it with this code yet.
func eachFixture(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		b, err := os.ReadFile(fixtureSQLite)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "autoprov.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		f(t, path)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresDatabase(t)
		loadDump(t, dsn, fixturePostgres)
		f(t, dsn)
	})
}

// loadDump executes a plain-SQL pg_dump (made with --column-inserts, so
// no COPY ... FROM stdin) on one connection, skipping psql's
// backslash meta-commands (\restrict, \unrestrict).
func loadDump(t *testing.T, dsn, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	for line := range strings.Lines(string(b)) {
		if !strings.HasPrefix(line, `\`) {
			script.WriteString(line)
		}
	}
	conn, err := rawDB(t, dsn).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), script.String()); err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
}

// schemaOf describes every table, column, default, key, constraint,
// index and sequence of the database db is connected to (on PostgreSQL:
// its current schema), one sorted line each, leaving out goose's version
// table. On SQLite that is sqlite_master's text, which keeps each CREATE
// statement as it was run.
func schemaOf(t *testing.T, db *sql.DB, postgres bool) []string {
	t.Helper()
	queries := []string{`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master`}
	if postgres {
		queries = []string{
			`SELECT 'table', table_name, table_type FROM information_schema.tables WHERE table_schema = current_schema()`,
			`SELECT 'column', table_name, ordinal_position, column_name, data_type, is_nullable, COALESCE(column_default, ''), is_identity
			   FROM information_schema.columns WHERE table_schema = current_schema()`,
			`SELECT 'constraint', conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
			   FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
			`SELECT 'index', tablename, indexname, replace(indexdef, current_schema() || '.', '')
			   FROM pg_indexes WHERE schemaname = current_schema()`,
			`SELECT 'sequence', sequence_name, data_type, start_value, minimum_value, maximum_value, increment, cycle_option
			   FROM information_schema.sequences WHERE sequence_schema = current_schema()`,
			`SELECT 'owned', seq.relname, tbl.relname, att.attname
			   FROM pg_class seq
			   JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = seq.oid AND dep.refclassid = 'pg_class'::regclass
			   JOIN pg_class tbl ON tbl.oid = dep.refobjid
			   JOIN pg_attribute att ON att.attrelid = tbl.oid AND att.attnum = dep.refobjsubid
			  WHERE seq.relkind = 'S' AND seq.relnamespace = current_schema()::regnamespace`,
		}
	}
	var out []string
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = v.String
			}
			line := strings.Join(parts, " | ")
			if !strings.Contains(line, versionTable) {
				out = append(out, line)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(out)
	return out
}

// storeSchema is schemaOf through a Store's own pool (so its search_path).
func storeSchema(t *testing.T, s *Store) []string {
	t.Helper()
	db, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return schemaOf(t, db, s.postgres)
}

// appliedVersions lists goose's version rows in the order they were written.
func appliedVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	var vs []int64
	if err := s.db.Raw("SELECT version_id FROM " + versionTable + " ORDER BY id").Scan(&vs).Error; err != nil {
		t.Fatal(err)
	}
	return vs
}

// allVersions is what the version table holds after migrating to latest:
// goose's 0, then every version once.
func allVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	vs := []int64{0}
	for _, src := range s.schema.p.ListSources() {
		vs = append(vs, src.Version)
	}
	return vs
}

func diffLines(got, want []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "\n  missing: %s", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "\n  extra:   %s", l)
		}
	}
	return b.String()
}

// TestBaselineIsAutoMigrateSchema: migration 1 alone, on an empty
// database, makes exactly the schema the old release's AutoMigrate made
// (read from the fixture it wrote); and a fresh database migrated to the
// latest version has the same schema as the old one upgraded.
func TestBaselineIsAutoMigrateSchema(t *testing.T) { eachFixture(t, testBaselineIsAutoMigrateSchema) }

func testBaselineIsAutoMigrateSchema(t *testing.T, oldDSN string) {
	postgres := IsPostgres(oldDSN)
	old := schemaOf(t, rawDB(t, oldDSN), postgres)
	if len(old) < 15 {
		t.Fatalf("fixture schema has %d objects: %v", len(old), old)
	}

	var freshDSN string
	if postgres {
		freshDSN = postgresDSN(t)
	} else {
		freshDSN = filepath.Join(t.TempDir(), "fresh.db")
	}
	fresh := rawDB(t, freshDSN)
	m, err := newMigrator(fresh, postgres)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.p.UpTo(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, fresh, postgres); !slices.Equal(got, old) {
		t.Errorf("baseline schema differs from the old release's:%s", diffLines(got, old))
	}

	latest := open(t, freshDSN)
	upgraded := open(t, oldDSN)
	if got, want := storeSchema(t, latest), storeSchema(t, upgraded); !slices.Equal(got, want) {
		t.Errorf("fresh database differs from the upgraded one:%s", diffLines(got, want))
	}
}

// TestOpenTwiceIsNoOp: opening a migrated database again changes neither
// its schema nor its version rows, fresh or upgraded.
func TestOpenTwiceIsNoOp(t *testing.T) {
	check := func(t *testing.T, dsn string) {
		s := open(t, dsn)
		schema, versions := storeSchema(t, s), appliedVersions(t, s)
		if want := allVersions(t, s); !slices.Equal(versions, want) {
			t.Fatalf("version rows = %v, want %v", versions, want)
		}
		s.Close()
		s = open(t, dsn)
		if got := storeSchema(t, s); !slices.Equal(got, schema) {
			t.Errorf("schema changed by the second Open:%s", diffLines(got, schema))
		}
		if got := appliedVersions(t, s); !slices.Equal(got, versions) {
			t.Errorf("version rows after the second Open = %v, want %v", got, versions)
		}
	}
	t.Run("fresh", func(t *testing.T) { eachBackend(t, check) })
	t.Run("upgraded", func(t *testing.T) { eachFixture(t, check) })
}

// TestSchemaTooNew: a database a newer autoprov migrated is refused,
// untouched, with an error that says what to do.
func TestSchemaTooNew(t *testing.T) { eachBackend(t, testSchemaTooNew) }

func testSchemaTooNew(t *testing.T, dsn string) {
	s := open(t, dsn)
	latest := s.schema.latest()
	if err := s.db.Exec("INSERT INTO "+versionTable+" (version_id, is_applied) VALUES (?, ?)", latest+1, true).Error; err != nil {
		t.Fatal(err)
	}
	versions := appliedVersions(t, s)
	s.Close()

	_, err := Open(dsn, WithKeys(testKeys))
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Version != latest+1 || tooNew.Known != latest {
		t.Fatalf("Open = %v, want a SchemaTooNewError for version %d", err, latest+1)
	}
	want := fmt.Sprintf("database schema version %d is newer than this autoprov (knows up to %d); upgrade autoprov", latest+1, latest)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	raw := rawDB(t, dsn)
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM " + versionTable).Scan(&n); err != nil || n != len(versions) {
		t.Fatalf("version rows after the refusal: %d, %v; want %d", n, err, len(versions))
	}
}

// TestConcurrentMigrate: instances starting at once, on an empty database
// or on one the old release made, apply each version exactly once.
func TestConcurrentMigrate(t *testing.T) {
	check := func(t *testing.T, dsn string) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				s, err := Open(dsn, WithKeys(testKeys))
				if err != nil {
					t.Error(err)
					return
				}
				s.Close()
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		s := open(t, dsn)
		if got, want := appliedVersions(t, s), allVersions(t, s); !slices.Equal(got, want) {
			t.Fatalf("version rows = %v, want %v (each once)", got, want)
		}
	}
	t.Run("fresh", func(t *testing.T) { eachBackend(t, check) })
	t.Run("upgraded", func(t *testing.T) { eachFixture(t, check) })
}

// TestMigrationMerged: main held migrations 1 and 3 but not 2 for two
// commits (56ee6af, d64a651: branches merged in another order than they
// were numbered). A database written then, at versions 1 and 3, upgrades:
// version 2 is applied after 3, then the rest, and its column exists.
func TestMigrationMerged(t *testing.T) { eachBackend(t, testMigrationMerged) }

func testMigrationMerged(t *testing.T, dsn string) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	if IsPostgres(dsn) {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		t.Fatal(err)
	}
	then := fstest.MapFS{}
	for _, name := range []string{"00001_baseline.sql", "00003_sealed_secrets.sql"} {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			t.Fatal(err)
		}
		then[name] = &fstest.MapFile{Data: b}
	}
	p, err := goose.NewProvider(dialect, rawDB(t, dsn), then, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dsn, WithKeys(testKeys))
	if err != nil {
		t.Fatalf("Open of a database at versions 1 and 3: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(context.Background()); err != nil || v != s.schema.latest() {
		t.Fatalf("schema version %d, %v; want %d", v, err, s.schema.latest())
	}
	if got := appliedVersions(t, s); !slices.Contains(got, 2) {
		t.Fatalf("applied versions %v lack 2", got)
	}
	if err := s.db.Exec("SELECT disclosure_complete FROM devices").Error; err != nil {
		t.Fatalf("version 2's column: %v", err)
	}
}

// TestWithoutUpgradeRefusesPending: WithoutUpgrade (the maintenance
// commands) refuses every database with a migration pending and changes
// nothing: one from before versioned migrations (no version table yet:
// version 0), and one at the newest version with a lower one missing
// (which out-of-order mode would apply). A new, empty database is still
// created, and one at the newest schema opens.
func TestWithoutUpgradeRefusesPending(t *testing.T) {
	t.Run("before-versions", func(t *testing.T) { eachFixture(t, refuseBeforeVersions) })
	// Distinct subtest names: a "#" in the SQLite path (a repeated name
	// gets "#01") would end the file name in its URI.
	t.Run("version-missing", func(t *testing.T) { eachBackend(t, refuseVersionMissing) })
}

func refuseBeforeVersions(t *testing.T, dsn string) {
	db := rawDB(t, dsn)
	before := schemaOf(t, db, IsPostgres(dsn))
	var file []byte
	if !IsPostgres(dsn) {
		file, _ = os.ReadFile(dsn)
	}
	_, err := Open(dsn, WithKeys(testKeys), WithoutUpgrade())
	var old *SchemaTooOldError
	if !errors.As(err, &old) || old.Version != 0 {
		t.Fatalf("Open WithoutUpgrade of a database from before versioned migrations = %v; want SchemaTooOldError at version 0", err)
	}
	if after := schemaOf(t, db, IsPostgres(dsn)); !slices.Equal(after, before) {
		t.Errorf("schema changed:\n%v\nwas\n%v", after, before)
	}
	var n int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE name = 'goose_db_version'`
	if IsPostgres(dsn) {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'goose_db_version'`
	}
	if err := db.QueryRow(q).Scan(&n); err != nil || n != 0 {
		t.Errorf("goose_db_version tables: %d, %v; want none", n, err)
	}
	if file != nil {
		if after, _ := os.ReadFile(dsn); !bytes.Equal(after, file) {
			t.Error("the SQLite file changed")
		}
	}
	// The server's Open upgrades it; the commands then open it.
	open(t, dsn).Close()
	open(t, dsn, WithoutUpgrade()).Close()
}

func refuseVersionMissing(t *testing.T, dsn string) {
	s := open(t, dsn, WithoutUpgrade()) // new: created
	latest := s.schema.latest()
	if err := s.db.Exec(`DELETE FROM goose_db_version WHERE version_id = 2`).Error; err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(dsn, WithKeys(testKeys), WithoutUpgrade())
	var old *SchemaTooOldError
	if !errors.As(err, &old) || old.Version != latest {
		t.Fatalf("Open WithoutUpgrade with version 2 missing = %v; want SchemaTooOldError", err)
	}
}
