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
		if won, _ := s.ApplyCredential(ctx, mac, now); !won {
			t.Fatal("apply refused")
		}
		if won, _ := s.ApplyCredential(ctx, mac, now); won {
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
