package vendors

// Dialoguer is a Responder whose phones hold a session of several
// messages, each answered, until the driver ends it (Unify OpenStage's
// Workpoint Interface: start-up, WriteItems, reply-to, ..., CleanUp). The
// core keeps the sessions, the phone's pending job and the disclosure
// claim; the driver stays pure: it reads the message and the state the
// core hands back, and says what to answer and what happened.
//
// A message either opens a session (Peek says Opens) or continues one: the
// core finds it by the nonce Peek names and the session cookie the core
// set on the session's first answer, and refuses a continuing message
// that belongs to no open session, or an opening one whose nonce it has
// seen before (a replay), without calling Converse.
type Dialoguer interface {
	Responder
	// Peek reads what the core needs to find the message's session: its
	// nonce and whether it opens a session. An error wrapping
	// ErrUnsupported refuses the message.
	Peek(req Request) (Peeked, error)
	// Converse answers one message. d is the phone's device without
	// secrets (as Respond gets it), or with them only when the driver
	// asked (Turn.WantSecrets) and the core claimed the device's
	// disclosure window for this answer (d.WithSecrets); nil for a phone
	// the inventory does not know as assigned. s is the session: nil
	// State on the opening message.
	Converse(req Request, d *Device, s Session) (Turn, error)
}

// Peeked is what Dialoguer.Peek read of a message.
type Peeked struct {
	// Nonce is the token the phone chose for the session; every message
	// of the session carries it.
	Nonce string
	// Opens says the message starts a session (OpenStage: start-up,
	// solicited, local-changes, inventory-changes, status); otherwise it
	// continues one (reply-to).
	Opens bool
}

// Session is what the core kept of a session for the driver.
type Session struct {
	// Messages counts the phone's messages in this session, this one
	// included (1 on the opening message). The core refuses messages past
	// MaxDialogueMessages; a driver should end the session before.
	Messages int
	// Pending says the core holds a job for this phone (an admin's
	// resync or a configuration change not yet delivered).
	Pending bool
	// SecretsOffered is set on the second call of a turn whose first
	// asked for secrets (Turn.WantSecrets): d carries them when the core
	// could claim the window (d.WithSecrets), else no secret may go out.
	SecretsOffered bool
	// State is the driver's, as its last Turn left it; nil when opening.
	State any
}

// MaxDialogueMessages is the most messages the core takes from a phone
// in one session: past it the session is dropped and the message refused.
const MaxDialogueMessages = 64

// Turn is a driver's answer to one message.
type Turn struct {
	// File is the answer (nil only with WantSecrets).
	File *File
	// State is kept for the session's next message.
	State any
	// Close ends the session with this answer.
	Close bool
	// WantSecrets asks the core to call Converse again for this message
	// with the secrets (see Session.SecretsOffered); File is ignored.
	WantSecrets bool
	// Secret says File carries secrets: the core commits the disclosure
	// right before its first byte leaves.
	Secret bool
	// JobDone says the phone now has its configuration: the core drops
	// the pending job. JobKept says the phone put it off (busy) and will
	// call back: the job stays pending.
	JobDone, JobKept bool
	// Failed lists items the phone refused, as "name[index]: status"
	// (never a value); the core logs them and keeps the last list.
	Failed []string
	// Reported are facts the phone reported about itself in this
	// message (OpenStage: contact-me-uri, key modules...), by name; the
	// core keeps the latest of each per phone. Never a secret.
	Reported map[string]string
	// Firmware is the firmware outcome a status message reported
	// ("ok" or the phone's word for a failure), or "".
	Firmware string
}

// Contacter is implemented by drivers whose phones can be asked over the
// network to open a session now (OpenStage contact-me: an HTTP POST to
// the contact-me-uri the phone reported). ContactMe returns the request
// to send, from the facts the phone reported (Turn.Reported) and the
// address the phone should call back (host and port of the server's
// dialogue listener, "" when not known), or an error wrapping
// ErrUnsupported when the phone reported no way to reach it.
type Contacter interface {
	ContactMe(reported map[string]string, callbackHost string, callbackPort int) (HTTPRequest, error)
}

// HTTPRequest is one HTTP request a driver asks the server to send to a
// phone.
type HTTPRequest struct {
	Method, URL, ContentType string
	Body                     []byte
	// Want is the status code that means the phone took it (204).
	Want int
}
