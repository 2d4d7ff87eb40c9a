// Package provision is the core, split by who calls it.
//
// Phones is the phone side, behind every phone-facing edge (HTTP, TFTP,
// SIP plug-and-play, DHCP discovery): it turns a transport-neutral
// vendors.Request into a rendered file or a dialogue answer. It identifies
// the phone through the vendor registry, records the sighting, lets the
// disclosure claim decide whether secrets may go out this time, asks the
// vendor driver to render, and commits the disclosure when the edge
// reports that the transfer completed.
//
// Inventory is the admin side, behind the REST API and the web UI: it
// validates and audits every change of the inventory and opens a device's
// secret window when its credentials change. It sees vendor formats only
// through previews.
//
// Both declare the storage they need as small interfaces by concern
// (stores.go), which server/store satisfies; every method takes the
// caller's context first.
package provision
