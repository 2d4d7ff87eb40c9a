package store

import (
	"context"
	"fmt"
	"maps"
	"time"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
)

// The one-time disclosure protocol. Every step is one conditional UPDATE
// whose RowsAffected decides, so it holds across goroutines, edges and
// processes sharing the database:
//
//	OpenDisclosure  state := open, window [now, now+window), claim cleared
//	Reserve         claim the window for one transfer: only while open, not
//	                expired and not claimed by a live transfer
//	Commit          the claiming transfer is about to send its first
//	                secret-bearing bytes: state := consumed, complete :=
//	                NULL (in flight); the token stays in reserved_by
//	Complete        that transfer ended: complete := true or false, token
//	                cleared; only while the token still holds the
//	                consumed window (a re-armed window is not touched)
//	Release         the claiming transfer ended before any secret left:
//	                the window stays open
//	ExpireDue       open windows past their end: state := expired

// OpenDisclosure opens (or re-opens) a device's disclosure window and
// writes the audit event in the same transaction.
func (s *Store) OpenDisclosure(ctx context.Context, mac string, now time.Time, window time.Duration, actor string) (autoprov.Disclosure, error) {
	now = now.UTC()
	exp := now.Add(window)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return openDisclosure(tx, mac, now, window, actor)
	})
	if err != nil {
		return autoprov.Disclosure{}, wrap(err, "open disclosure for %s", mac)
	}
	return autoprov.Disclosure{State: autoprov.DisclosureOpen, OpenedAt: &now, ExpiresAt: &exp}, nil
}

// openDisclosure opens the window [now, now+window) in tx and audits it.
func openDisclosure(tx *gorm.DB, mac string, now time.Time, window time.Duration, actor string) error {
	res := tx.Model(&deviceRow{}).Where("mac = ?", mac).Updates(windowColumns(now, window))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return notFound("device %s", mac)
	}
	return appendAudit(tx, openedEvent(mac, now, window, actor))
}

// windowColumns are the columns opening the window [now, now+window) sets.
func windowColumns(now time.Time, window time.Duration) map[string]any {
	return map[string]any{
		"disclosure_state": autoprov.DisclosureOpen, "opened_at": now, "expires_at": now.Add(window),
		"disclosed_at": nil, "disclosed_ip": "", "disclosed_ua": "", "reserved_by": "", "reserved_until": nil,
		"disclosure_complete": nil,
		// The phone may have been reset: its credential starts over.
		"credential_state": autoprov.CredentialNone, "credential_password": "",
		"credential_issued_at": nil, "credential_applied_at": nil,
	}
}

// openedEvent is the audit event of opening a window.
func openedEvent(mac string, now time.Time, window time.Duration, actor string) autoprov.AuditEvent {
	return autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureOpened, Actor: actor,
		Detail: fmt.Sprintf("window %s, until %s", window, now.Add(window).Format(time.RFC3339))}
}

// Reserve claims the open window of a device for the transfer named token,
// for at most lease. It reports whether this caller won the claim.
func (s *Store) Reserve(ctx context.Context, mac, token string, now time.Time, lease time.Duration) (bool, error) {
	now = now.UTC()
	if s.group != nil {
		won, err := s.group.reserve(ctx, mac, token, now, lease)
		return won, wrap(err, "reserve disclosure for %s", mac)
	}
	res := s.db.WithContext(ctx).Model(&deviceRow{}).
		Where("mac = ? AND disclosure_state = ? AND expires_at > ?", mac, autoprov.DisclosureOpen, now).
		Where("(reserved_by = '' OR reserved_by IS NULL OR reserved_until < ?)", now).
		UpdateColumns(map[string]any{"reserved_by": token, "reserved_until": now.Add(lease)})
	if res.Error != nil {
		return false, wrap(res.Error, "reserve disclosure for %s", mac)
	}
	return res.RowsAffected == 1, nil
}

// Commit consumes the window held by token: the transfer is about to send
// the first bytes that carry the secrets, and from then on they count as
// disclosed. The window's completion stays unknown (NULL) and the token
// stays on the row until Complete records how the transfer ended. It
// reports whether the claim was still held (false when, say, an admin
// re-armed the window meanwhile, or the lease lapsed and another transfer
// claimed it): then no secret may be sent.
func (s *Store) Commit(ctx context.Context, mac, token string, now time.Time, to autoprov.Peer) (bool, error) {
	now = now.UTC()
	if s.group != nil {
		won, err := s.group.commit(ctx, mac, token, now, to)
		return won, wrap(err, "commit disclosure for %s", mac)
	}
	return s.commitTx(ctx, mac, token, now, to, nil)
}

// commitTx is Commit through GORM (PostgreSQL): one conditional UPDATE of
// the row, setting also's columns too (CommitIssuing's credential), and
// its audit row, in one transaction.
func (s *Store) commitTx(ctx context.Context, mac, token string, now time.Time, to autoprov.Peer, also map[string]any) (bool, error) {
	cols := map[string]any{"disclosure_state": autoprov.DisclosureConsumed, "disclosed_at": now,
		"disclosed_ip": to.IP, "disclosed_ua": to.UserAgent, "reserved_until": nil, "disclosure_complete": nil}
	maps.Copy(cols, also)
	won := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&deviceRow{}).
			Where("mac = ? AND reserved_by = ? AND disclosure_state = ?", mac, token, autoprov.DisclosureOpen).
			UpdateColumns(cols)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		won = true
		return appendAudit(tx, consumedEvent(mac, now, to))
	})
	return won, wrap(err, "commit disclosure for %s", mac)
}

// consumedEvent is the audit event of Commit.
func consumedEvent(mac string, now time.Time, to autoprov.Peer) autoprov.AuditEvent {
	return autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureConsumed,
		Detail: fmt.Sprintf("secrets sent to %s (%s)", to.IP, to.UserAgent)}
}

// Complete records how the transfer that consumed the window with token
// ended: complete, or broken off for reason (audited with it; reason must
// hold no secret). It changes nothing, and reports false, unless the row
// is still the window that token consumed and its end is not recorded yet.
func (s *Store) Complete(ctx context.Context, mac, token string, now time.Time, complete bool, reason string) (bool, error) {
	now = now.UTC()
	if s.group != nil {
		won, err := s.group.complete(ctx, mac, token, now, complete, reason)
		return won, wrap(err, "record the end of the disclosure for %s", mac)
	}
	won := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&deviceRow{}).
			Where("mac = ? AND reserved_by = ? AND disclosure_state = ? AND disclosure_complete IS NULL", mac, token, autoprov.DisclosureConsumed).
			UpdateColumns(map[string]any{"disclosure_complete": complete, "reserved_by": ""})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		won = true
		return appendAudit(tx, endedEvent(mac, now, complete, reason))
	})
	return won, wrap(err, "record the end of the disclosure for %s", mac)
}

// endedEvent is the audit event of Complete.
func endedEvent(mac string, now time.Time, complete bool, reason string) autoprov.AuditEvent {
	detail := "complete: true"
	if !complete {
		detail = "complete: false (" + reason + ")"
	}
	return autoprov.AuditEvent{At: now, MAC: mac, Event: autoprov.EventDisclosureTransferEnded, Detail: detail}
}

// Release gives up the claim held by token on an open window; the window
// stays as it was. (A consumed window's token is cleared by Complete.)
func (s *Store) Release(ctx context.Context, mac, token string) error {
	if s.group != nil {
		return wrap(s.group.release(ctx, mac, token), "release disclosure for %s", mac)
	}
	return wrap(s.db.WithContext(ctx).Model(&deviceRow{}).
		Where("mac = ? AND reserved_by = ? AND disclosure_state = ?", mac, token, autoprov.DisclosureOpen).
		UpdateColumns(map[string]any{"reserved_by": "", "reserved_until": nil}).Error, "release disclosure for %s", mac)
}

// ExpireDue marks every open window that ended before now as expired and
// audits each; it returns the MACs it expired. A window claimed by a
// transfer still in flight is left for that transfer to settle. Windows
// end expireBatch at a time, one transaction (one conditional UPDATE and
// one multi-row audit INSERT) each: a bulk of windows opened together
// ends in seconds, not in one transaction per device. Expiries add nothing
// to the change log: what a phone gets already changed at the window's
// end.
func (s *Store) ExpireDue(ctx context.Context, now time.Time) ([]string, error) {
	now = now.UTC()
	const unclaimed = "(reserved_by = '' OR reserved_by IS NULL OR reserved_until < ?)"
	var expired []string
	for {
		var due []deviceRow
		err := s.db.WithContext(ctx).Select("mac", "expires_at").
			Where("disclosure_state = ? AND expires_at <= ?", autoprov.DisclosureOpen, now).
			Where(unclaimed, now).Order("mac").Limit(expireBatch).Find(&due).Error
		if err != nil {
			return expired, wrap(err, "expire disclosures")
		}
		if len(due) == 0 {
			return expired, nil
		}
		macs := make([]string, len(due))
		ends := make(map[string]*time.Time, len(due))
		for i, d := range due {
			macs[i], ends[d.MAC] = d.MAC, d.ExpiresAt
		}
		var done []string
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// An expiry changes nothing a phone gets (a window past its end
			// is closed already: Disclosure.OpenAt), so it logs no change:
			// the phone caches keep these devices (migration 14's pause,
			// inside this transaction only).
			if err := tx.Exec("INSERT INTO changes_paused (id) VALUES (1)").Error; err != nil {
				return err
			}
			// The same conditions again: a window claimed or re-armed since
			// the read above is left alone.
			var got []struct{ MAC string }
			err := tx.Raw("UPDATE devices SET disclosure_state = ?, reserved_by = '', reserved_until = NULL"+
				" WHERE mac IN ? AND disclosure_state = ? AND expires_at <= ? AND "+unclaimed+" RETURNING mac",
				autoprov.DisclosureExpired, macs, autoprov.DisclosureOpen, now, now).Scan(&got).Error
			if err != nil {
				return err
			}
			audit := make([]auditRow, 0, len(got))
			done = make([]string, 0, len(got))
			for _, g := range got {
				detail := "window ended before any fetch took the secrets"
				if end := ends[g.MAC]; end != nil {
					detail = "window ended at " + end.UTC().Format(time.RFC3339) + " before any fetch took the secrets"
				}
				done = append(done, g.MAC)
				audit = append(audit, auditRow{At: now, MAC: g.MAC, Event: autoprov.EventDisclosureExpired, Detail: detail})
			}
			if err := insertAll(ctx, tx, audit); err != nil {
				return err
			}
			return tx.Exec("DELETE FROM changes_paused").Error
		})
		if err != nil {
			return expired, wrap(err, "expire disclosures")
		}
		expired = append(expired, done...)
		if len(done) == 0 {
			return expired, nil // every one of them was claimed or re-armed since: the next sweep looks again
		}
	}
}

// expireBatch is how many windows one ExpireDue transaction ends.
const expireBatch = 500
