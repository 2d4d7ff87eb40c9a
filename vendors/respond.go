package vendors

import "strings"

// Request methods. An edge that only fetches (TFTP) leaves Request.Method
// empty, which counts as MethodGet.
const (
	MethodGet  = "GET"
	MethodPost = "POST"
)

// MaxRequestBody bounds the body of a message a phone POSTs; edges refuse
// a longer one before the core sees it.
const MaxRequestBody = 64 << 10

// Responder is implemented by drivers whose phones POST messages and read
// the answer, instead of (or besides) fetching files: a dialogue protocol
// such as Unify OpenStage's Workpoint Interface. The HTTP edge hands a
// POST under the provisioning root to the core, which finds the driver
// that Answers its path; every other POST is refused.
//
// Like Render, Respond is pure: everything it knows comes from the
// request and the device.
type Responder interface {
	// Answers reports whether the driver takes POSTs at path (a
	// Request.Path: cleaned, relative to the provisioning root).
	Answers(path string) bool
	// Respond answers one message. d is the phone's device as Render gets
	// it without secrets (WithSecrets false, and the password fields
	// empty), when the inventory knows the phone as assigned; nil
	// otherwise (Identify could not name its MAC, or no admin has adopted
	// it yet). An error wrapping ErrNotFound or ErrUnsupported refuses the
	// message.
	Respond(req Request, d *Device) (*File, error)
}

// Responder returns the first driver whose Responder answers POSTs at
// path, or nil.
func (r *Registry) Responder(path string) (Vendor, Responder) {
	for _, v := range r.drivers {
		if rs, ok := v.(Responder); ok && rs.Answers(path) {
			return v, rs
		}
	}
	return nil, nil
}

// HeaderValue returns a selected request header by name, case-insensitively.
func (req Request) HeaderValue(name string) string {
	for k, v := range req.Header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Redirector is implemented by drivers whose phones can be handed on to
// another provisioning server in band: Redirect renders the file named
// path (a Request.Path the driver identified) so that it points the phone
// at target (a base URL ending in "/"), in the vendor's documented form
// (Yealink static.auto_provision.server.url, Snom setting_server, ...). It
// carries no account and no secret; ok is false for a file the driver has
// no redirect for (the request is then served as usual). A Cisco MPP
// driver implements it with a profile whose Profile_Rule names the target.
type Redirector interface {
	Redirect(path, target string) (f *File, ok bool)
}
