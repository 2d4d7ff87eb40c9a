package autoprov

// Statuses of a resync: what happened to the request that tells a phone
// to fetch its configuration now (or to reboot).
const (
	// ResyncSent: the request went out; Detail is the phone's answer
	// ("200 OK") when it came within the wait, else says none came.
	ResyncSent = "sent"
	// ResyncUnsupported: the device's vendor documents no such trigger
	// (or no reboot, when one was asked).
	ResyncUnsupported = "unsupported"
	// ResyncFailed: the request could not be sent, or the phone refused
	// it (Detail holds the reason or the phone's answer).
	ResyncFailed = "failed"
	// ResyncNoAddress: the server knows no address of the phone (it
	// never fetched from this server).
	ResyncNoAddress = "no_address"
	// ResyncNotFound: no device has that MAC (bulk resync only; a single
	// resync answers ErrNotFound).
	ResyncNotFound = "not_found"
	// ResyncQueued: the phone could not be asked now (no way to reach it
	// known, or its contact gap); a job waits for its next contact.
	ResyncQueued = "queued"
)

// EventDeviceResync is the audit event of a resync sent (or attempted).
const EventDeviceResync = "device.resync"

// ResyncResult is the outcome of one device's resync.
type ResyncResult struct {
	MAC    string
	Status string // one of the Resync* statuses
	Detail string
	Text   Text // Detail as a translatable Text, when its Format is set
}

// Say sets r's Status, and its Detail (English) and Text to t.
func (r *ResyncResult) Say(status string, t Text) {
	r.Status, r.Detail, r.Text = status, t.String(), t
}
