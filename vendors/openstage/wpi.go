package openstage

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// Reasons for contact (openstage.md §3.1).
const (
	reasonStartUp   = "start-up"
	reasonLocal     = "local-changes"
	reasonInventory = "inventory-changes"
	reasonStatus    = "status"
	reasonSolicited = "solicited"
	reasonReplyTo   = "reply-to"
)

// Actions (openstage.md §4).
const (
	actionWriteItems = "WriteItems"
	actionSoftware   = "SoftwareDeployment"
	actionCleanUp    = "CleanUp"
)

// item is one Item of a message.
type item struct {
	Name   string `xml:"name,attr"`
	Index  string `xml:"index,attr,omitempty"`
	Status string `xml:"status,attr,omitempty"`
	Value  string `xml:",chardata"`
}

// ref is how an item is named in logs and lists: name, or name[index].
func (it item) ref() string {
	if it.Index == "" {
		return it.Name
	}
	return it.Name + "[" + it.Index + "]"
}

// workpoint is a phone's WorkpointMessage.
type workpoint struct {
	XMLName xml.Name `xml:"WorkpointMessage"`
	Message struct {
		Nonce    string `xml:"nonce,attr"`
		MaxItems string `xml:"maxItems,attr"`
		Fragment string `xml:"fragment,attr"`
		Reason   struct {
			Value  string `xml:",chardata"`
			Action string `xml:"action,attr"`
			Status string `xml:"status,attr"`
		} `xml:"ReasonForContact"`
		Items []item `xml:"ItemList>Item"`
	} `xml:"Message"`
}

// msg is a parsed, checked WorkpointMessage.
type msg struct {
	Nonce    string
	MaxItems int // 0: unlimited
	Reason   string
	Action   string
	Status   string
	Items    []item
}

// maxItemsIn bounds the items a message may carry (a ReadAllItems answer
// holds a few hundred; MaxRequestBody bounds the bytes).
const maxItemsIn = 2000

// parse reads a WorkpointMessage. Hostile input: bounded, strict, no
// panic; an error wraps vendors.ErrUnsupported.
func parse(body []byte) (msg, error) {
	var w workpoint
	if len(body) > vendors.MaxRequestBody {
		return msg{}, fmt.Errorf("message over %d bytes: %w", vendors.MaxRequestBody, vendors.ErrUnsupported)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return msg{}, fmt.Errorf("not a WorkpointMessage: %v: %w", err, vendors.ErrUnsupported)
	}
	m := msg{Nonce: w.Message.Nonce, Reason: strings.TrimSpace(w.Message.Reason.Value),
		Action: strings.TrimSpace(w.Message.Reason.Action), Status: strings.TrimSpace(w.Message.Reason.Status),
		Items: w.Message.Items}
	if !validNonce(m.Nonce) {
		return msg{}, fmt.Errorf("nonce missing or not 1-64 hex digits: %w", vendors.ErrUnsupported)
	}
	switch m.Reason {
	case reasonStartUp, reasonLocal, reasonInventory, reasonStatus, reasonSolicited, reasonReplyTo:
	default:
		return msg{}, fmt.Errorf("unknown reason for contact: %w", vendors.ErrUnsupported)
	}
	if len(m.Items) > maxItemsIn {
		return msg{}, fmt.Errorf("more than %d items: %w", maxItemsIn, vendors.ErrUnsupported)
	}
	if n := strings.TrimSpace(w.Message.MaxItems); n != "" && n != "-1" {
		v := 0
		for _, c := range n {
			if c < '0' || c > '9' || v > 100000 {
				return msg{}, fmt.Errorf("maxItems %q: %w", n, vendors.ErrUnsupported)
			}
			v = v*10 + int(c-'0')
		}
		if v == 0 {
			return msg{}, fmt.Errorf("maxItems 0: %w", vendors.ErrUnsupported)
		}
		m.MaxItems = v
	}
	return m, nil
}

// validNonce: an opaque token of hex digits (GS3 accepts [0-9a-fA-F]+),
// bounded.
func validNonce(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// item returns the value of the first item named name (no index), or "".
func (m msg) item(name string) string {
	for _, it := range m.Items {
		if it.Name == name && it.Index == "" {
			return strings.TrimSpace(it.Value)
		}
	}
	return ""
}

// message renders a DLSMessage answer with the nonce echoed unchanged.
func (d *Driver) message(nonce, action string, items []item) (*vendors.File, error) {
	var b bytes.Buffer
	data := struct {
		Nonce, Action string
		Items         []item
	}{nonce, action, items}
	if err := d.t.ExecuteTemplate(&b, "dlsmessage.xml.tmpl", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", action, err)
	}
	return &vendors.File{Name: action, ContentType: "text/xml; charset=utf-8", Body: b.Bytes()}, nil
}

// parseDLS and parseDLSAction read a DLSMessage (for tests and logs).
func parseDLS(body []byte) ([]item, error) {
	var m struct {
		Items []item `xml:"Message>ItemList>Item"`
	}
	err := xml.Unmarshal(body, &m)
	return m.Items, err
}

func parseDLSAction(body []byte) (string, string) {
	var m struct {
		Message struct {
			Nonce  string `xml:"nonce,attr"`
			Action string `xml:"Action"`
		} `xml:"Message"`
	}
	_ = xml.Unmarshal(body, &m)
	return m.Message.Nonce, m.Message.Action
}
