package autoprov

import "time"

// DialogueState is what the server keeps of a dialogue phone (OpenStage,
// vendors.Dialoguer) between its sessions: the job queued for it, what it
// reported, the items it refused last and its last contact-me.
type DialogueState struct {
	// Pending is true while a job waits for the phone's next session.
	Pending bool
	// PendingSince is when the job was first queued; zero when none.
	PendingSince time.Time
	// Job counts the jobs ever queued for the phone: a session that
	// delivered the job it saw (Job n) clears it only if no other was
	// queued since (still n).
	Job int64
	// LastContact is the last contact-me sent, or zero.
	LastContact time.Time
	// Reported is what the phone reported (contact-me-uri...), by item key.
	Reported map[string]string
	// Failed are the items the phone refused in its last session that
	// refused any ("name[index]: status").
	Failed []string
}

// DialogueTurn is what one answered message of a dialogue session leaves
// to keep.
type DialogueTurn struct {
	// At is when the message was answered.
	At time.Time
	// JobDone clears the pending job if it is still the one numbered Job.
	JobDone bool
	// Job is the DialogueState.Job the session saw.
	Job int64
	// JobKept queues a job (since At) unless one is pending.
	JobKept bool
	// Reported merges into DialogueState.Reported (at most
	// MaxDialogueFacts keys; known keys are always updated).
	Reported map[string]string
	// Failed, when not empty, replaces DialogueState.Failed.
	Failed []string
}

// MaxDialogueFacts bounds the reported items kept per phone.
const MaxDialogueFacts = 32
