package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// TestCredentialSealedAndReset: an issued credential is stored sealed
// (never in clear), read back open, applied once, and reset to none when
// the window re-opens; issuing needs the claim; tftp_allowed round-trips.
func TestCredentialSealedAndReset(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		const mac, pass = "805ec0aabb01", "Prov-Pass-0123456789abcd"
		if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W",
			State: autoprov.StateAssigned, TFTPAllowed: true}, Window: time.Hour, At: now, Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		if won, err := s.IssueCredential(ctx, mac, "no-claim", pass, now); err != nil || won {
			t.Fatalf("issue without the claim: %v %v", won, err)
		}
		if won, err := s.Reserve(ctx, mac, "tok", now, time.Minute); err != nil || !won {
			t.Fatal("reserve", err)
		}
		if won, err := s.IssueCredential(ctx, mac, "tok", pass, now); err != nil || !won {
			t.Fatalf("issue: %v %v", won, err)
		}
		var raw string
		if err := s.db.Raw("SELECT credential_password FROM devices WHERE mac = ?", mac).Row().Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "v1:") || strings.Contains(raw, pass) {
			t.Fatalf("credential stored as %q, want sealed", raw)
		}
		d, err := s.Device(ctx, mac)
		if err != nil || d.Credential.State != autoprov.CredentialIssued || d.Credential.Password != pass || !d.TFTPAllowed {
			t.Fatalf("device: %+v %v", d.Credential, err)
		}
		if won, _ := s.ApplyCredential(ctx, mac, *d.Credential.IssuedAt, now); !won {
			t.Fatal("apply refused")
		}
		if won, _ := s.ApplyCredential(ctx, mac, *d.Credential.IssuedAt, now); won {
			t.Fatal("applied twice")
		}
		if d, _ := s.Device(ctx, mac); d.Credential.State != autoprov.CredentialApplied || d.Credential.AppliedAt == nil {
			t.Fatalf("after apply: %+v", d.Credential)
		}
		if _, err := s.OpenDisclosure(ctx, mac, now, time.Hour, "admin"); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.Device(ctx, mac); d.Credential.State != autoprov.CredentialNone || d.Credential.Password != "" || d.Credential.AppliedAt != nil {
			t.Fatalf("after re-open: %+v", d.Credential)
		}
	})
}

// TestApplyCredentialVerifiedOnly: the apply is conditional on the
// credential that was verified. A re-open and re-issue landing between a
// request's check (against the first credential) and its apply must not
// mark the new credential applied.
func TestApplyCredentialVerifiedOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
		const mac = "805ec0aabb02"
		if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W",
			State: autoprov.StateAssigned}, Window: time.Hour, At: now, Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		issue := func(token, pass string, at time.Time) autoprov.Device {
			t.Helper()
			if won, err := s.Reserve(ctx, mac, token, at, time.Minute); err != nil || !won {
				t.Fatal("reserve", won, err)
			}
			if won, err := s.IssueCredential(ctx, mac, token, pass, at); err != nil || !won {
				t.Fatalf("issue: %v %v", won, err)
			}
			d, err := s.Device(ctx, mac)
			if err != nil || d.Credential.State != autoprov.CredentialIssued || d.Credential.IssuedAt == nil {
				t.Fatalf("after issue: %+v %v", d.Credential, err)
			}
			return d
		}
		first := issue("tok1", "Prov-Pass-first-0123456789", now)
		// The check against first passes; before its apply, an admin
		// re-opens the window and the phone's next fetch issues anew.
		if _, err := s.OpenDisclosure(ctx, mac, now.Add(time.Second), time.Hour, "admin"); err != nil {
			t.Fatal(err)
		}
		second := issue("tok2", "Prov-Pass-second-012345678", now.Add(2*time.Second))
		if won, err := s.ApplyCredential(ctx, mac, *first.Credential.IssuedAt, now.Add(3*time.Second)); err != nil || won {
			t.Fatalf("apply of the first (verified) credential after a re-issue: won=%v err=%v, want false", won, err)
		}
		if d, _ := s.Device(ctx, mac); d.Credential.State != autoprov.CredentialIssued || d.Credential.Password != second.Credential.Password {
			t.Fatalf("the new credential was marked %s", d.Credential.State)
		}
		if won, err := s.ApplyCredential(ctx, mac, *second.Credential.IssuedAt, now.Add(4*time.Second)); err != nil || !won {
			t.Fatalf("apply of the current credential: won=%v err=%v", won, err)
		}
		if d, _ := s.Device(ctx, mac); d.Credential.State != autoprov.CredentialApplied {
			t.Fatalf("after apply: %+v", d.Credential)
		}
	})
}

// TestCommitIssuing: the credential is issued and the window consumed in
// one step, one write of the row (one change logged), audited once as a
// commit; without the claim nothing changes.
func TestCommitIssuing(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		const mac, pass = "805ec0aabb09", "Prov-Pass-abcdef0123456789"
		to := autoprov.Peer{IP: "192.0.2.9", UserAgent: "Yealink SIP-T54W"}
		if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: mac, Vendor: "yealink", Model: "T54W",
			State: autoprov.StateAssigned}, Window: time.Hour, At: now, Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		if won, err := s.Reserve(ctx, mac, "tok", now, time.Minute); err != nil || !won {
			t.Fatal("reserve", err)
		}
		if won, err := s.CommitIssuing(ctx, mac, "other", pass, now, to); err != nil || won {
			t.Fatalf("without the claim: %v %v", won, err)
		}
		if d, _ := s.Device(ctx, mac); d.Disclosure.State != autoprov.DisclosureOpen || d.Credential.State != autoprov.CredentialNone {
			t.Fatalf("a lost claim changed the device: %s, credential %s", d.Disclosure.State, d.Credential.State)
		}
		before, err := s.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if won, err := s.CommitIssuing(ctx, mac, "tok", pass, now, to); err != nil || !won {
			t.Fatalf("with the claim: %v %v", won, err)
		}
		// One write of the row: one change, naming the device.
		if ch, err := s.Changes(ctx, before, 10); err != nil || ch.All || ch.Rev != before+1 || len(ch.MACs) != 1 || ch.MACs[0] != mac {
			t.Fatalf("changes after the commit (from revision %d): %+v (%v), want one naming %s", before, ch, err, mac)
		}
		d, err := s.Device(ctx, mac)
		if err != nil || d.Disclosure.State != autoprov.DisclosureConsumed || d.Credential.State != autoprov.CredentialIssued ||
			d.Credential.Password != pass || d.Disclosure.DisclosedTo == nil || d.Disclosure.DisclosedTo.IP != to.IP {
			t.Fatalf("after: %+v %+v %v", d.Disclosure, d.Credential.State, err)
		}
		var raw string
		if err := s.db.Raw("SELECT credential_password FROM devices WHERE mac = ?", mac).Row().Scan(&raw); err != nil || strings.Contains(raw, pass) {
			t.Fatalf("credential stored as %q (%v), want sealed", raw, err)
		}
		var n int64
		if err := s.db.Raw("SELECT COUNT(*) FROM audit WHERE mac = ? AND event = ?", mac, autoprov.EventDisclosureConsumed).Row().Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d consumed audit rows (%v), want 1", n, err)
		}
		if won, err := s.CommitIssuing(ctx, mac, "tok", pass, now, to); err != nil || won {
			t.Fatalf("twice: %v %v", won, err)
		}
	})
}
