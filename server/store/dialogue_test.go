package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// TestDialogueState: on both backends, a dialogue phone's job, reports,
// refused items and contact gap are kept, survive reopening the store,
// a session clears only the job it saw, two stores on one database
// race for one contact-me and one wins, and the row goes with the device.
func TestDialogueState(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		const mac = "001ae8123456"
		if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: mac, Vendor: "openstage", Model: "OpenStage 40",
			State: autoprov.StateAssigned}, At: now, Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DialogueState(ctx, mac); !errors.Is(err, autoprov.ErrNotFound) {
			t.Fatalf("nothing kept yet: %v", err)
		}
		// A MAC without a device: nothing written, no error.
		if err := s.QueueDialogueJob(ctx, "001ae8000000", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DialogueState(ctx, "001ae8000000"); !errors.Is(err, autoprov.ErrNotFound) {
			t.Fatalf("a MAC without a device got a row: %v", err)
		}
		if err := s.QueueDialogueJob(ctx, mac, now); err != nil {
			t.Fatal(err)
		}
		if err := s.QueueDialogueJob(ctx, mac, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		st, err := s.DialogueState(ctx, mac)
		if err != nil || !st.Pending || !st.PendingSince.Equal(now) || st.Job != 2 {
			t.Fatalf("after two queues: %+v %v", st, err)
		}
		if err := s.SaveDialogueTurn(ctx, mac, autoprov.DialogueTurn{At: now, Reported: map[string]string{"contact-me-uri": "http://192.0.2.61:8085/x"},
			Failed: []string{"sip-pwd: failed"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveDialogueTurn(ctx, mac, autoprov.DialogueTurn{At: now, Reported: map[string]string{"software-version": "V3"}}); err != nil {
			t.Fatal(err)
		}
		// A session that saw job 1 delivered it: job 2 was queued since.
		if err := s.SaveDialogueTurn(ctx, mac, autoprov.DialogueTurn{At: now, JobDone: true, Job: 1}); err != nil {
			t.Fatal(err)
		}
		if st, _ = s.DialogueState(ctx, mac); !st.Pending {
			t.Fatal("a session cleared a job queued after it looked")
		}
		if last, ok, err := s.ClaimContact(ctx, mac, now, 300*time.Second); err != nil || !ok || !last.Equal(now) {
			t.Fatalf("first contact-me: %v %v %v", last, ok, err)
		}
		// The store is reopened (a restart) and a second one shares the
		// database (another instance).
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, s2 := open(t, dsn), open(t, dsn)
		st, err = s2.DialogueState(ctx, mac)
		want := map[string]string{"contact-me-uri": "http://192.0.2.61:8085/x", "software-version": "V3"}
		if err != nil || !st.Pending || st.Job != 2 || !st.LastContact.Equal(now) || len(st.Reported) != 2 ||
			st.Reported["contact-me-uri"] != want["contact-me-uri"] || !slices.Equal(st.Failed, []string{"sip-pwd: failed"}) {
			t.Fatalf("after reopening: %+v %v", st, err)
		}
		if last, ok, err := s2.ClaimContact(ctx, mac, now.Add(299*time.Second), 300*time.Second); err != nil || ok || !last.Equal(now) {
			t.Fatalf("inside the gap: %v %v %v", last, ok, err)
		}
		// Two instances race for the contact-me after the gap: one wins.
		later := now.Add(301 * time.Second)
		wins := make(chan bool, 2)
		for _, st := range []*Store{s, s2} {
			go func() {
				_, ok, err := st.ClaimContact(ctx, mac, later, 300*time.Second)
				if err != nil {
					t.Error(err)
				}
				wins <- ok
			}()
		}
		if a, b := <-wins, <-wins; a == b {
			t.Fatalf("two instances claiming one contact-me: %v %v", a, b)
		}
		// A contact-me that reached nobody is forgotten: the next may go.
		if err := s.ForgetContact(ctx, mac, later); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.ClaimContact(ctx, mac, later, 300*time.Second); err != nil || !ok {
			t.Fatalf("after forgetting: %v %v", ok, err)
		}
		if err := s2.SaveDialogueTurn(ctx, mac, autoprov.DialogueTurn{At: now, JobDone: true, Job: 2}); err != nil {
			t.Fatal(err)
		}
		if st, _ = s.DialogueState(ctx, mac); st.Pending || !st.PendingSince.IsZero() {
			t.Fatalf("the job delivered is still pending: %+v", st)
		}
		if err := s.SaveDialogueTurn(ctx, mac, autoprov.DialogueTurn{At: later, JobKept: true}); err != nil {
			t.Fatal(err)
		}
		if st, _ = s.DialogueState(ctx, mac); !st.Pending || !st.PendingSince.Equal(later) {
			t.Fatalf("a job kept: %+v", st)
		}
		if err := s.DeleteDevice(ctx, mac); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DialogueState(ctx, mac); !errors.Is(err, autoprov.ErrNotFound) {
			t.Fatalf("the row outlived its device: %v", err)
		}
	})
}
