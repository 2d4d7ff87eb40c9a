package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/autoprov/autoprov"
)

// What the server keeps of dialogue phones (migration 16, dialogue_state):
// provision.DialogueStore. Times are Unix milliseconds, 0 for none.

type dialogueRow struct {
	MAC          string `gorm:"column:mac;primaryKey"`
	PendingSince int64
	Job          int64
	LastContact  int64
	Reported     string
	Failed       string
}

func (dialogueRow) TableName() string { return "dialogue_state" }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (r dialogueRow) domain() autoprov.DialogueState {
	st := autoprov.DialogueState{Pending: r.PendingSince != 0, PendingSince: fromMillis(r.PendingSince),
		Job: r.Job, LastContact: fromMillis(r.LastContact)}
	if err := json.Unmarshal([]byte(r.Reported), &st.Reported); err != nil || len(st.Reported) == 0 {
		st.Reported = nil
	}
	if err := json.Unmarshal([]byte(r.Failed), &st.Failed); err != nil || len(st.Failed) == 0 {
		st.Failed = nil
	}
	return st
}

// ensureDialogue adds the empty row of mac if its device exists; it
// reports whether the row is there.
func ensureDialogue(tx *gorm.DB, mac string) (bool, error) {
	err := tx.Exec("INSERT INTO dialogue_state (mac) SELECT ? WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ?) ON CONFLICT (mac) DO NOTHING", mac, mac).Error
	if err != nil {
		return false, wrap(err, "dialogue state of %s", mac)
	}
	var n int64
	if err := tx.Model(&dialogueRow{}).Where("mac = ?", mac).Count(&n).Error; err != nil {
		return false, wrap(err, "dialogue state of %s", mac)
	}
	return n == 1, nil
}

// DialogueState returns what is kept of the dialogue phone of mac.
func (s *Store) DialogueState(ctx context.Context, mac string) (autoprov.DialogueState, error) {
	var r dialogueRow
	if err := s.db.WithContext(ctx).First(&r, "mac = ?", mac).Error; err != nil {
		return autoprov.DialogueState{}, wrap(err, "dialogue state of %s", mac)
	}
	return r.domain(), nil
}

// QueueDialogueJob queues a job for the dialogue phone of mac.
func (s *Store) QueueDialogueJob(ctx context.Context, mac string, at time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if ok, err := ensureDialogue(tx, mac); err != nil || !ok {
			return err
		}
		return wrap(tx.Exec("UPDATE dialogue_state SET job = job + 1, pending_since = CASE WHEN pending_since = 0 THEN ? ELSE pending_since END WHERE mac = ?",
			millis(at), mac).Error, "queue a job for %s", mac)
	})
}

// SaveDialogueTurn keeps what a dialogue session's turn left. The row is
// locked first (PostgreSQL; SQLite runs one writer at a time) so that
// turns of sessions on two instances merge their reports.
func (s *Store) SaveDialogueTurn(ctx context.Context, mac string, t autoprov.DialogueTurn) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if ok, err := ensureDialogue(tx, mac); err != nil || !ok {
			return err
		}
		at := millis(t.At)
		switch {
		case t.JobDone:
			if err := tx.Exec("UPDATE dialogue_state SET pending_since = 0 WHERE mac = ? AND job = ?", mac, t.Job).Error; err != nil {
				return wrap(err, "job of %s done", mac)
			}
		case t.JobKept:
			if err := tx.Exec("UPDATE dialogue_state SET pending_since = ? WHERE mac = ? AND pending_since = 0", at, mac).Error; err != nil {
				return wrap(err, "job of %s kept", mac)
			}
		}
		if len(t.Reported) == 0 && len(t.Failed) == 0 {
			return nil
		}
		// Lock the row (an update of nothing), then read, merge, write.
		if err := tx.Exec("UPDATE dialogue_state SET mac = mac WHERE mac = ?", mac).Error; err != nil {
			return wrap(err, "dialogue state of %s", mac)
		}
		var r dialogueRow
		if err := tx.First(&r, "mac = ?", mac).Error; err != nil {
			return wrap(err, "dialogue state of %s", mac)
		}
		cur := r.domain()
		up := map[string]any{}
		if len(t.Reported) > 0 {
			f := cur.Reported
			if f == nil {
				f = map[string]string{}
			}
			for k, v := range t.Reported {
				if _, ok := f[k]; ok || len(f) < autoprov.MaxDialogueFacts {
					f[k] = v
				}
			}
			b, err := json.Marshal(f)
			if err != nil {
				return fmt.Errorf("reported items of %s: %w", mac, err)
			}
			up["reported"] = string(b)
		}
		if len(t.Failed) > 0 {
			b, err := json.Marshal(t.Failed)
			if err != nil {
				return fmt.Errorf("refused items of %s: %w", mac, err)
			}
			up["failed"] = string(b)
		}
		return wrap(tx.Model(&dialogueRow{}).Where("mac = ?", mac).Updates(up).Error, "dialogue state of %s", mac)
	})
}

// ClaimContact records a contact-me to mac at now unless one went less
// than gap before: one conditional UPDATE, so of instances racing one wins.
func (s *Store) ClaimContact(ctx context.Context, mac string, now time.Time, gap time.Duration) (time.Time, bool, error) {
	var last int64
	ok := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		there, err := ensureDialogue(tx, mac)
		if err != nil {
			return err
		}
		if !there {
			return notFound("dialogue state of %s", mac)
		}
		res := tx.Exec("UPDATE dialogue_state SET last_contact = ? WHERE mac = ? AND (last_contact = 0 OR last_contact <= ?)",
			millis(now), mac, millis(now.Add(-gap)))
		if res.Error != nil {
			return wrap(res.Error, "contact-me of %s", mac)
		}
		if ok = res.RowsAffected == 1; ok {
			last = millis(now)
			return nil
		}
		return wrap(tx.Model(&dialogueRow{}).Where("mac = ?", mac).Select("last_contact").Scan(&last).Error, "contact-me of %s", mac)
	})
	return fromMillis(last), ok, err
}

// ForgetContact forgets the contact-me to mac recorded at at.
func (s *Store) ForgetContact(ctx context.Context, mac string, at time.Time) error {
	return wrap(s.db.WithContext(ctx).Exec("UPDATE dialogue_state SET last_contact = 0 WHERE mac = ? AND last_contact = ?", mac, millis(at)).Error,
		"contact-me of %s", mac)
}
