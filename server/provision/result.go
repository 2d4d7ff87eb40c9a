package provision

import "github.com/autoprov/autoprov/vendors"

// Result is a rendered file ready for an edge to send. The edge must call
// Finish exactly once when the transfer ends, telling whether the phone got
// the whole file (HTTP: body written; TFTP: last block acknowledged). For a
// file that carries secrets, Finish(true) commits the one-time disclosure
// and Finish(false) releases it so the window stays open.
type Result struct {
	File *vendors.File
	// ETag is a strong validator of the body (quoted, as HTTP wants it).
	ETag string
	// Secret reports whether the body carries secrets. Edges must not cache
	// such a body or answer a conditional request for it with 304.
	Secret bool

	finish func(delivered bool)
	done   bool
}

// Finish reports the end of the transfer. Calling it more than once is a no-op.
func (r *Result) Finish(delivered bool) {
	if r == nil || r.done {
		return
	}
	r.done = true
	if r.finish != nil {
		r.finish(delivered)
	}
}

// NewResult returns a Result whose Finish calls finish (which may be nil).
// The core builds its results itself; edges' tests use this for fakes.
func NewResult(f *vendors.File, secret bool, finish func(delivered bool)) *Result {
	return newResult(f, secret, finish)
}
