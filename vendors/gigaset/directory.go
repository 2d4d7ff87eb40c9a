package gigaset

import (
	"bytes"
	"fmt"

	"github.com/autoprov/autoprov/vendors"
)

const tmplDirectory = "directory.tmpl"

// directoryView is the data of directory.tmpl.
type directoryView struct {
	Entries []vendors.DirectoryEntry
	Total   int
}

// RenderDirectory renders the company directory as a reply of Gigaset's
// online phone book protocol ("Gigaset Phonebook Search Protocol
// Specification", <list response="get_list" type="pb">), which the Nx70
// asks at XMLDir.1.ServerURL. Each entry carries the name as <ln> (last
// name) and the extension as <hm>. The reply always holds the whole list:
// the contract passes no search or paging query, so the base gets every
// entry for every request (see README).
func (d *Driver) RenderDirectory(entries []vendors.DirectoryEntry) (*vendors.File, error) {
	var b bytes.Buffer
	if err := d.t.ExecuteTemplate(&b, tmplDirectory, directoryView{Entries: entries, Total: len(entries)}); err != nil {
		return nil, fmt.Errorf("gigaset: render directory: %w", err)
	}
	return &vendors.File{Name: "directory.xml", ContentType: ContentType, Body: b.Bytes()}, nil
}

var _ vendors.DirectoryRenderer = (*Driver)(nil)
