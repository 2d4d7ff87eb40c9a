// Package openstage is the driver for Unify (Siemens) OpenStage and
// OpenScape Desk Phone CP phones. They fetch no files: they POST
// WorkpointMessages to a deployment service and read its DLSMessage
// answers (the Workpoint Interface, WPI). The driver is pure: it parses
// and writes the messages and drives one session's steps from the state
// the core keeps (vendors.Dialoguer); README.md has the facts and sources.
package openstage

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/autoprov/autoprov/vendors"
)

// Name is the vendor name in the API.
const Name = "openstage"

// LoginPath is where phones configured with an address and port only (web
// UI, DHCP option 43) POST their messages (reference openstage.md §2).
const LoginPath = "DeploymentService/LoginService"

// Driver is the OpenStage driver.
type Driver struct {
	t *template.Template
}

// New returns the driver; t holds the templates of templates/openstage
// (the message envelope).
func New(t *template.Template) *Driver { return &Driver{t: t} }

// Name implements vendors.Vendor.
func (*Driver) Name() string { return Name }

// Models implements vendors.Vendor.
func (*Driver) Models() []vendors.Model { return modelTable() }

// Files implements vendors.Vendor: the phones fetch no files.
func (*Driver) Files(*vendors.Device) []string { return nil }

// Render implements vendors.Vendor: there is no file to render.
func (*Driver) Render(name string, _ *vendors.Device) (*vendors.File, error) {
	return nil, fmt.Errorf("%s: OpenStage phones fetch no files: %w", name, vendors.ErrNotFound)
}

// Answers implements vendors.Responder: the login path (any case, as
// GS3 accepts any /DeploymentService path).
func (*Driver) Answers(path string) bool {
	return strings.EqualFold(path, LoginPath) || strings.EqualFold(path, "provisioningService")
}

// Respond implements vendors.Responder for a core without sessions: a
// message is parsed and answered CleanUp (nothing written, nothing asked).
func (d *Driver) Respond(req vendors.Request, _ *vendors.Device) (*vendors.File, error) {
	m, err := parse(req.Body)
	if err != nil {
		return nil, err
	}
	return d.message(m.Nonce, actionCleanUp, nil)
}
