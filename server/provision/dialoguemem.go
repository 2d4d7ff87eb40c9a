package provision

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/autoprov/autoprov"
)

// memDialogues is the DialogueStore of NewDialogues: in memory, at most
// dialogueMaxFacts phones (beyond, new phones are not kept).
type memDialogues struct {
	mu sync.Mutex
	m  map[string]*autoprov.DialogueState
}

func newMemDialogues() *memDialogues { return &memDialogues{m: map[string]*autoprov.DialogueState{}} }

// row returns the state of mac, added when add; m.mu held.
func (m *memDialogues) row(mac string, add bool) *autoprov.DialogueState {
	st := m.m[mac]
	if st == nil && add && len(m.m) < dialogueMaxFacts {
		st = &autoprov.DialogueState{}
		m.m[mac] = st
	}
	return st
}

func (m *memDialogues) DialogueState(_ context.Context, mac string) (autoprov.DialogueState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.m[mac]
	if st == nil {
		return autoprov.DialogueState{}, fmt.Errorf("dialogue state of %s: %w", mac, autoprov.ErrNotFound)
	}
	out := *st
	out.Reported, out.Failed = maps.Clone(st.Reported), slices.Clone(st.Failed)
	return out, nil
}

func (m *memDialogues) QueueDialogueJob(_ context.Context, mac string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.row(mac, true); st != nil {
		st.Job++
		if !st.Pending {
			st.Pending, st.PendingSince = true, at
		}
	}
	return nil
}

func (m *memDialogues) SaveDialogueTurn(_ context.Context, mac string, t autoprov.DialogueTurn) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.row(mac, true)
	if st == nil {
		return nil
	}
	switch {
	case t.JobDone && st.Job == t.Job:
		st.Pending, st.PendingSince = false, time.Time{}
	case t.JobKept && !st.Pending:
		st.Pending, st.PendingSince = true, t.At
	}
	if len(t.Reported) > 0 {
		if st.Reported == nil {
			st.Reported = map[string]string{}
		}
		for k, v := range t.Reported {
			if _, ok := st.Reported[k]; ok || len(st.Reported) < autoprov.MaxDialogueFacts {
				st.Reported[k] = v
			}
		}
	}
	if len(t.Failed) > 0 {
		st.Failed = slices.Clone(t.Failed)
	}
	return nil
}

func (m *memDialogues) ClaimContact(_ context.Context, mac string, now time.Time, gap time.Duration) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.row(mac, true)
	if st == nil {
		return time.Time{}, false, fmt.Errorf("dialogue state of %s: too many phones kept in memory", mac)
	}
	if !st.LastContact.IsZero() && now.Sub(st.LastContact) < gap {
		return st.LastContact, false, nil
	}
	st.LastContact = now
	return now, true, nil
}

func (m *memDialogues) ForgetContact(_ context.Context, mac string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.m[mac]; st != nil && st.LastContact.Equal(at) {
		st.LastContact = time.Time{}
	}
	return nil
}
