package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
)

// seedSecrets creates n accounts and n devices carrying them, each with
// its own passwords, and returns every secret by where it lives.
func seedSecrets(t *testing.T, s *Store, n int) map[string]string {
	t.Helper()
	ctx := context.Background()
	secrets := map[string]string{}
	for i := range n {
		ext := fmt.Sprint(300 + i)
		mac := fmt.Sprintf("805ec0aa%04x", i)
		pw := fmt.Sprintf("sip-%s-pw-%d", ext, i*7919)
		if _, err := s.CreateAccount(ctx, autoprov.Account{Extension: ext, DisplayName: "A " + ext, AuthUser: ext, Password: pw}); err != nil {
			t.Fatal(err)
		}
		d := autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W", State: autoprov.StateAssigned, Accounts: []string{ext},
			MenuPassword: fmt.Sprintf("menu-%d", 1000+i), WebPassword: fmt.Sprintf("web-%s-%d", mac, i)}
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		secrets["account "+ext] = pw
		secrets["menu "+mac] = d.MenuPassword
		secrets["web "+mac] = d.WebPassword
	}
	return secrets
}

// checkSecrets reads every secret back through s.
func checkSecrets(t *testing.T, s *Store, secrets map[string]string) {
	t.Helper()
	ctx := context.Background()
	for where, want := range secrets {
		kind, id, _ := strings.Cut(where, " ")
		var got string
		switch kind {
		case "account":
			a, err := s.Account(ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			got = a.Password
		default:
			d, err := s.Device(ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			got = d.MenuPassword
			if kind == "web" {
				got = d.WebPassword
			}
		}
		if got != want {
			t.Fatalf("%s = %q, want %q", where, got, want)
		}
	}
}

// rawSecrets returns every non-empty value of the secret columns as stored.
func rawSecrets(t *testing.T, dsn string) []string {
	t.Helper()
	raw := rawDB(t, dsn)
	var out []string
	for _, c := range secretColumns {
		rows, err := raw.Query("SELECT " + c.column + " FROM " + c.table + " WHERE " + c.column + " <> ''")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		rows.Close()
	}
	return out
}

// TestSecretsSealed: what the store writes in a secret column is a value
// sealed under the current key, never the secret; it reads back; and a
// sealed value copied to another row does not open there.
func TestSecretsSealed(t *testing.T) { eachBackend(t, testSecretsSealed) }

func testSecretsSealed(t *testing.T, dsn string) {
	s := open(t, dsn)
	secrets := seedSecrets(t, s, 3)
	checkSecrets(t, s, secrets)
	stored := rawSecrets(t, dsn)
	if len(stored) != len(secrets) {
		t.Fatalf("%d stored secrets, want %d", len(stored), len(secrets))
	}
	for _, v := range stored {
		if id, ok := sealed.KeyOf(v); !ok || id != testKeys.Current() {
			t.Errorf("stored %.10q...: not sealed under %s", v, testKeys.Current())
		}
		for _, secret := range secrets {
			if strings.Contains(v, secret) {
				t.Errorf("stored value holds the secret %q", secret)
			}
		}
	}
	// Updates seal too.
	ctx := context.Background()
	a, _ := s.Account(ctx, "300")
	a.Password = "changed-300"
	if _, err := s.UpdateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	secrets["account 300"] = "changed-300"
	checkSecrets(t, s, secrets)
	// Move 300's sealed password to 301: it does not open there.
	raw := rawDB(t, dsn)
	q := "UPDATE accounts SET password = (SELECT password FROM accounts WHERE extension = '300') WHERE extension = '301'"
	if _, err := raw.Exec(q); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account(ctx, "301"); !errors.Is(err, sealed.ErrCorrupt) || strings.Contains(err.Error(), "changed-300") {
		t.Fatalf("moved sealed value: err = %v, want ErrCorrupt", err)
	}
}

// TestWrongKeyRefused: an instance whose keyring opens none of the sealed
// secrets refuses to start, says why without a secret, and writes nothing.
func TestWrongKeyRefused(t *testing.T) { eachBackend(t, testWrongKeyRefused) }

func testWrongKeyRefused(t *testing.T, dsn string) {
	s := open(t, dsn)
	seedSecrets(t, s, 2)
	s.Close()
	before := rawSecrets(t, dsn)

	wrong := sealed.Generate()
	_, err := Open(dsn, WithKeys(wrong))
	var mismatch *KeyMismatchError
	if !errors.As(err, &mismatch) || mismatch.Sealed != 6 || len(mismatch.KeyIDs) != 1 || mismatch.KeyIDs[0] != testKeys.Current() {
		t.Fatalf("Open with the wrong key = %v, want a KeyMismatchError for 6 values under %s", err, testKeys.Current())
	}
	for _, want := range []string{"opens none of the 6 sealed secrets", wrong.Current(), testKeys.Current(), "secret.key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if after := rawSecrets(t, dsn); strings.Join(after, "|") != strings.Join(before, "|") {
		t.Fatal("the refused instance changed the stored secrets")
	}
	// The right ring, with an unrelated key in front, still starts.
	ring, _ := sealed.New(sealed.NewKey())
	both := &twoRings{ring, testKeys}
	if _, err := Open(dsn, WithKeys(both.merged(t))); err != nil {
		t.Fatalf("a ring holding the right key among others: %v", err)
	}
}

// twoRings builds a keyring from the keys of a, then b.
type twoRings struct{ a, b *sealed.Keyring }

func (r *twoRings) merged(t *testing.T) *sealed.Keyring {
	t.Helper()
	k, err := sealed.Parse(string(r.a.Encode()) + string(r.b.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRotation: Reseal moves every secret to the current key in batches,
// while a handle holding the old ring plus the new key (an instance that
// got the new ring but still writes with the old key) reads and writes
// throughout; a handle on the key file picks up a rotation written to it.
func TestRotation(t *testing.T) { eachBackend(t, testRotation) }

func testRotation(t *testing.T, dsn string) {
	ctx := context.Background()
	old := sealed.Generate()
	keyFile := filepath.Join(t.TempDir(), "secret.key")
	if err := sealed.WriteFile(keyFile, old); err != nil {
		t.Fatal(err)
	}
	file, err := sealed.LoadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := Open(dsn, WithKeys(file)) // an instance on the key file
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	secrets := seedSecrets(t, s1, 5)

	rotated := old.Rotated()
	oldFirst := (&twoRings{old, rotated}).merged(t) // the old ring + the new key, old still current
	s2, err := Open(dsn, WithKeys(oldFirst))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s3, err := Open(dsn, WithKeys(rotated)) // the rotating one: new key first
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()

	var steps []string
	res, err := s3.Reseal(ctx, 4, func(done, total int) {
		steps = append(steps, fmt.Sprintf("%d/%d", done, total))
		checkSecrets(t, s2, secrets) // mid-rotation: rows under both keys
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resealed != 15 || res.Changed != 0 || res.Unknown != 0 {
		t.Fatalf("Reseal = %+v, want 15 resealed", res)
	}
	if strings.Join(steps, " ") != "4/15 8/15 12/15 15/15" {
		t.Fatalf("progress = %v", steps)
	}
	byKey, plain, err := s3.SealCounts(ctx)
	if err != nil || plain != 0 || len(byKey) != 1 || byKey[rotated.Current()] != 15 {
		t.Fatalf("after Reseal: %v, %d plain, %v; want all 15 under %s", byKey, plain, err, rotated.Current())
	}
	checkSecrets(t, s2, secrets)
	checkSecrets(t, s3, secrets)

	// The old-first handle writes under the old key; a second pass moves it.
	if _, err := s2.CreateAccount(ctx, autoprov.Account{Extension: "399", Password: "late-399"}); err != nil {
		t.Fatal(err)
	}
	secrets["account 399"] = "late-399"
	if byKey, _, _ := s3.SealCounts(ctx); byKey[old.Current()] != 1 {
		t.Fatalf("a write by the old-first instance: %v, want 1 under %s", byKey, old.Current())
	}
	if res, err := s3.Reseal(ctx, 0, nil); err != nil || res.Resealed != 1 {
		t.Fatalf("second Reseal = %+v, %v", res, err)
	}

	// The key-file instance has only the old key; once the rotated ring is
	// in its file it reads the new rows and writes under the new key.
	if err := sealed.WriteFile(keyFile, rotated); err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, s1, secrets)
	if _, err := s1.CreateAccount(ctx, autoprov.Account{Extension: "398", Password: "new-398"}); err != nil {
		t.Fatal(err)
	}
	if byKey, _, _ := s3.SealCounts(ctx); len(byKey) != 1 || byKey[rotated.Current()] != 17 {
		t.Fatalf("after the file rotation: %v, want all 17 under %s", byKey, rotated.Current())
	}
	// With the old key dropped, the new key alone opens everything.
	only := rotated.Only(rotated.Current())
	s4, err := Open(dsn, WithKeys(only))
	if err != nil {
		t.Fatal(err)
	}
	defer s4.Close()
	secrets["account 398"] = "new-398"
	checkSecrets(t, s4, secrets)
}

// TestPlainScanIndexed: the start-up scan for secrets still in plain text
// (sealPlain's pending query, and SealCounts' plain count) is answered by
// the partial indexes of migration 13, not by reading every secret column
// of the fleet: the query plan names the index on both backends.
func TestPlainScanIndexed(t *testing.T) { eachBackend(t, testPlainScanIndexed) }

func testPlainScanIndexed(t *testing.T, dsn string) {
	s := open(t, dsn)
	seedSecrets(t, s, 3)
	ctx := context.Background()
	for _, c := range secretColumns {
		queries := []string{
			s.db.ToSQL(func(tx *gorm.DB) *gorm.DB {
				var rows []struct{ RowID, Old string }
				return pendingQuery(tx, c, "", false).Find(&rows)
			}),
			s.db.ToSQL(func(tx *gorm.DB) *gorm.DB {
				var n int64
				return tx.Table(c.table).Where(plainText(c)).Count(&n)
			}),
		}
		for _, q := range queries {
			var plan []string
			err := s.db.WithContext(ctx).Connection(func(tx *gorm.DB) error {
				explain := "EXPLAIN QUERY PLAN "
				if s.postgres {
					// The tables are tiny: make a sequential scan look dear,
					// so the plan shows whether the index can answer at all.
					if err := tx.Exec("SET enable_seqscan = off").Error; err != nil {
						return err
					}
					defer tx.Exec("RESET enable_seqscan")
					explain = "EXPLAIN "
				}
				rows, err := tx.Raw(explain + q).Rows()
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(any)
					}
					if err := rows.Scan(vals...); err != nil {
						return err
					}
					plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatalf("explain %s: %v", q, err)
			}
			want := "idx_" + c.table + "_plain_" + c.column
			if !strings.Contains(strings.Join(plan, "\n"), want) {
				t.Errorf("%s\nplan:\n%s\nwant it answered by %s", q, strings.Join(plan, "\n"), want)
			}
		}
	}
}
