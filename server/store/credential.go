package store

import (
	"context"
	"time"

	"github.com/autoprov/autoprov"
)

// The per-device provisioning credential. Both steps are one conditional
// UPDATE, so they hold across processes sharing the database:
//
//	IssueCredential  the transfer holding the window's claim is about to
//	                 send the secrets, with a new credential: state :=
//	                 issued, password sealed; only while that claim holds
//	ApplyCredential  the phone presented it: state := applied (once), and
//	                 only if the credential is still the one that was
//	                 verified (same issued_at): a re-open and re-issue in
//	                 between leaves the new one issued
//	OpenDisclosure   resets it to none (disclosure.go)

// IssueCredential stores password as the device's new credential (state
// issued) while the open window is still claimed by token; it reports
// whether the claim held (false: nothing written).
func (s *Store) IssueCredential(ctx context.Context, mac, token, password string, now time.Time) (bool, error) {
	now = now.UTC()
	if s.group != nil {
		won, err := s.group.issue(ctx, mac, token, s.seal(colCredPassword, mac, password), now)
		return won, wrap(err, "issue credential for %s", mac)
	}
	res := s.db.WithContext(ctx).Model(&deviceRow{}).
		Where("mac = ? AND reserved_by = ? AND disclosure_state = ?", mac, token, autoprov.DisclosureOpen).
		UpdateColumns(issuedColumns(s.seal(colCredPassword, mac, password), now))
	if res.Error != nil {
		return false, wrap(res.Error, "issue credential for %s", mac)
	}
	return res.RowsAffected == 1, nil
}

// CommitIssuing is IssueCredential and Commit in one step: the window
// held by token is consumed (as Commit, audited) and password becomes the
// device's issued credential (as IssueCredential), both or neither; false,
// changing nothing, when the claim was lost. One UPDATE of the row and
// its audit row in one transaction (on SQLite, one trip through the
// group commit), for the transfer of a body that carries a credential.
func (s *Store) CommitIssuing(ctx context.Context, mac, token, password string, now time.Time, to autoprov.Peer) (bool, error) {
	now = now.UTC()
	sealed := s.seal(colCredPassword, mac, password)
	if s.group != nil {
		won, err := s.group.commitIssuing(ctx, mac, token, sealed, now, to)
		return won, wrap(err, "commit disclosure for %s", mac)
	}
	return s.commitTx(ctx, mac, token, now, to, issuedColumns(sealed, now))
}

// issuedColumns are the columns of a credential issued at now, its
// password sealed (sqlIssue's on SQLite).
func issuedColumns(sealed string, now time.Time) map[string]any {
	return map[string]any{"credential_state": autoprov.CredentialIssued, "credential_password": sealed,
		"credential_issued_at": now, "credential_applied_at": nil}
}

// ApplyCredential records that the phone presented its issued credential,
// the one issued at issuedAt (as read with the password that was
// verified): state applied, at now. It changes nothing when the
// credential is not in state issued (applied already, or reset meanwhile)
// or is another one (re-issued meanwhile).
func (s *Store) ApplyCredential(ctx context.Context, mac string, issuedAt, now time.Time) (bool, error) {
	now = now.UTC()
	res := s.db.WithContext(ctx).Model(&deviceRow{}).
		Where("mac = ? AND credential_state = ? AND credential_issued_at = ?", mac, autoprov.CredentialIssued, issuedAt.UTC()).
		UpdateColumns(map[string]any{"credential_state": autoprov.CredentialApplied, "credential_applied_at": now})
	if res.Error != nil {
		return false, wrap(res.Error, "apply credential for %s", mac)
	}
	return res.RowsAffected == 1, nil
}
