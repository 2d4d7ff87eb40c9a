package provision

import (
	"errors"

	"github.com/autoprov/autoprov/vendors"
)

// Result is a rendered file ready for an edge to send. An edge sends it in
// two steps, so that a secret counts as disclosed once any byte of it has
// left the server:
//
//  1. Sending, right before the first byte of the body leaves (HTTP:
//     before the first body write; TFTP: when block 1 is read). For a body
//     that carries secrets this commits the one-time disclosure: the
//     window is consumed from then on, whatever happens to the transfer.
//     If it returns an error the claim was lost (an admin re-armed the
//     window, or the claim lapsed and another transfer took it): the edge
//     must not send the body and answers a generic error instead.
//  2. Finish (or End) exactly once when the transfer ends, telling whether
//     the phone got the whole file (HTTP: body written and flushed; TFTP:
//     last block acknowledged). After Sending this only records whether
//     the transfer completed; without Sending (nothing was sent: a failed
//     Sending, a transfer that broke off before its first block, a HEAD)
//     the claim is released and the window stays as it was.
//
// For a body without secrets both steps are no-ops. A Result is used by
// one transfer at a time (not safe for concurrent use), except a shared
// one: a body without secrets answered to every fetch of a request shape
// (a hot answer), which Sending and End leave as it is.
type Result struct {
	File *vendors.File
	// ETag is a strong validator of the body (quoted, as HTTP wants it).
	ETag string
	// Secret reports whether the body carries secrets. Edges must not cache
	// such a body or answer a conditional request for it with 304.
	Secret bool
	// Header holds response headers the edge sends with the body (a
	// dialogue's Set-Cookie), by canonical name; nil for most.
	Header map[string]string

	hooks   Hooks
	shared  bool  // held by concurrent transfers: never written (no hooks)
	sending bool  // Sending was called
	sendErr error // what it returned
	done    bool
}

// Hooks are what a Result calls on behalf of the edge. The core fills
// them for a transfer with secrets; edges' tests use them for fakes.
type Hooks struct {
	// Sending is called once, by the first Result.Sending; its error is
	// what every call of Result.Sending returns.
	Sending func() error
	// End is called once, by the first Result.End or Finish: sent tells
	// whether Sending was called and succeeded (so bytes left), err is nil
	// when the phone got the whole file, else why not.
	End func(sent bool, err error)
}

// ErrNotDelivered is what Finish(false) hands to End: the transfer ended
// without the phone getting the whole file, for a reason the edge did not
// give.
var ErrNotDelivered = errors.New("the transfer did not complete")

// errFinished is what Sending returns after the transfer has ended.
var errFinished = errors.New("the transfer has ended")

// Sending tells the core that the first byte of the body is about to
// leave. For a body with secrets it commits the disclosure; an error
// means the body must not be sent. Calls after the first return the
// first one's answer.
func (r *Result) Sending() error {
	if r == nil {
		return errFinished
	}
	if r.shared {
		return nil
	}
	if r.sending {
		return r.sendErr
	}
	if r.done {
		return errFinished
	}
	r.sending = true
	if r.hooks.Sending != nil {
		r.sendErr = r.hooks.Sending()
	}
	return r.sendErr
}

// End reports the end of the transfer: err is nil when the phone got the
// whole file, else why not (logged and audited: it must hold no secret).
// Calling it (or Finish) more than once is a no-op.
func (r *Result) End(err error) {
	if r == nil || r.done || r.shared {
		return
	}
	r.done = true
	if r.hooks.End != nil {
		r.hooks.End(r.sending && r.sendErr == nil, err)
	}
}

// Finish reports the end of the transfer: End(nil) when delivered, else
// End(ErrNotDelivered).
func (r *Result) Finish(delivered bool) {
	if delivered {
		r.End(nil)
		return
	}
	r.End(ErrNotDelivered)
}

// NewResult returns a Result whose Finish calls finish (which may be nil)
// with whether the file was delivered. The core builds its results
// itself; edges' tests use this for fakes.
func NewResult(f *vendors.File, secret bool, finish func(delivered bool)) *Result {
	var h Hooks
	if finish != nil {
		h.End = func(_ bool, err error) { finish(err == nil) }
	}
	return newResult(f, secret, h)
}

// NewResultWith returns a Result that calls h. The core builds its
// results itself; edges' tests use this for fakes.
func NewResultWith(f *vendors.File, secret bool, h Hooks) *Result {
	return newResult(f, secret, h)
}
