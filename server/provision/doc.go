// Package provision is the transport-neutral core: it turns a phone's
// Request into a rendered File. It identifies the phone through the vendor
// registry, loads (or learns) its Device from the store, lets the
// disclosure store decide whether secrets may go out this time, asks the
// vendor driver to render, and commits the disclosure when the edge reports
// that the transfer completed.
package provision
