// Package wpitest is a scripted OpenStage phone for tests: it speaks the
// Workpoint Interface as the DevGuide's flows show it (reference
// openstage.md §3-§6), byte for byte: WorkpointMessages POSTed over HTTPS
// with the session cookie sent back, DLSMessage answers read and checked
// (nonce echoed, explicit Content-Length, never chunked), a contact-me
// listener that answers 204 as the phone's does, and DCMP polls.
package wpitest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Item is one Item of a message.
type Item struct {
	Name   string `xml:"name,attr"`
	Index  string `xml:"index,attr,omitempty"`
	Status string `xml:"status,attr,omitempty"`
	Value  string `xml:",chardata"`
}

// Key is how an item is named in maps: name, or name[index].
func (it Item) Key() string {
	if it.Index == "" {
		return it.Name
	}
	return it.Name + "[" + it.Index + "]"
}

// Phone is one scripted phone.
type Phone struct {
	// URL is where it posts: https://<server>:<port>/DeploymentService/LoginService.
	URL string
	// MAC as the phone reports it (uppercase with colons).
	MAC, DeviceType, Software, E164 string
	// ContactURI is its contact-me-uri ("" leaves the item out).
	ContactURI string
	// MaxItems is its maxItems (-1 or 0: unlimited).
	MaxItems int
	// Cookie is the session cookie the server set last ("" before).
	Cookie string

	client *http.Client
}

// New returns a phone posting to url. Like a phone in Default Mode it
// does not check the server's certificate (DevGuide p.12).
func New(url, mac, deviceType string) *Phone {
	return &Phone{URL: url, MAC: mac, DeviceType: deviceType, Software: "V3 R5.6.0", E164: "1001", MaxItems: -1,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a Default Mode phone checks no certificate
			DisableKeepAlives: true}}}
}

// Nonce returns a fresh nonce as phones pick them: 32 uppercase hex digits.
func Nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// Reply is a DLSMessage answer.
type Reply struct {
	Status        int
	Header        http.Header
	Body          []byte
	ContentLength int64
	Chunked       bool
	Nonce         string
	Action        string
	Items         []Item
}

// Value returns the value of the item key ("name" or "name[index]") and
// whether it is there.
func (r *Reply) Value(key string) (string, bool) {
	for _, it := range r.Items {
		if it.Key() == key {
			return it.Value, true
		}
	}
	return "", false
}

type dlsMessage struct {
	XMLName xml.Name `xml:"DLSMessage"`
	Message struct {
		Nonce  string `xml:"nonce,attr"`
		Action string `xml:"Action"`
		Items  []Item `xml:"ItemList>Item"`
	} `xml:"Message"`
}

// Body renders a WorkpointMessage as the DevGuide shows it (p.33, p.43).
func (p *Phone) Body(nonce, reason, action, status string, items []Item) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<WorkpointMessage xmlns="http://www.siemens.com/DLS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.siemens.com/DLS">` + "\n")
	fmt.Fprintf(&b, `  <Message nonce="%s" maxItems="%d">`+"\n", nonce, p.maxItems())
	if action != "" {
		fmt.Fprintf(&b, `    <ReasonForContact status="%s" action="%s">%s</ReasonForContact>`+"\n", status, action, reason)
	} else {
		fmt.Fprintf(&b, "    <ReasonForContact>%s</ReasonForContact>\n", reason)
	}
	b.WriteString("    <ItemList>\n")
	for _, it := range items {
		b.WriteString(`      <Item name="`)
		_ = xml.EscapeText(&b, []byte(it.Name))
		b.WriteString(`"`)
		if it.Index != "" {
			fmt.Fprintf(&b, ` index="%s"`, it.Index)
		}
		if it.Status != "" {
			fmt.Fprintf(&b, ` status="%s"`, it.Status)
		}
		b.WriteString(">")
		_ = xml.EscapeText(&b, []byte(it.Value))
		b.WriteString("</Item>\n")
	}
	b.WriteString("    </ItemList>\n  </Message>\n</WorkpointMessage>\n")
	return b.Bytes()
}

func (p *Phone) maxItems() int {
	if p.MaxItems <= 0 {
		return -1
	}
	return p.MaxItems
}

// BasicItems are the items of an opening message (DevGuide p.33-35).
func (p *Phone) BasicItems() []Item {
	items := []Item{{Name: "device-type", Value: p.DeviceType}, {Name: "software-type", Value: "Siemens SIP"},
		{Name: "software-version", Value: p.Software}}
	if p.ContactURI != "" {
		items = append(items, Item{Name: "contact-me-uri", Value: p.ContactURI})
	}
	return append(items, Item{Name: "mac-addr", Value: p.MAC}, Item{Name: "e164", Value: p.E164},
		Item{Name: "configuration-changed-flag", Value: "false"})
}

// Open sends an opening message (start-up, solicited...) with the basic
// items under a fresh nonce; the session cookie is forgotten first.
func (p *Phone) Open(reason string) (*Reply, error) {
	p.Cookie = ""
	return p.Post(p.Body(Nonce(), reason, "", "", p.BasicItems()))
}

// ReplyTo answers the server's last action in the session of nonce.
func (p *Phone) ReplyTo(nonce, action, status string, items ...Item) (*Reply, error) {
	return p.Post(p.Body(nonce, "reply-to", action, status, items))
}

// Post sends a raw message with the session cookie, reads the answer and
// checks its form: 200, text/xml, explicit Content-Length equal to the
// body, not chunked, a DLSMessage. The cookie the server sets is kept.
func (p *Phone) Post(body []byte) (*Reply, error) {
	req, err := http.NewRequest(http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	if p.Cookie != "" {
		req.Header.Set("Cookie", p.Cookie)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &Reply{Status: resp.StatusCode, Header: resp.Header, Body: b, ContentLength: resp.ContentLength,
		Chunked: len(resp.TransferEncoding) > 0}
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("status %d", resp.StatusCode)
	}
	if r.Chunked || r.ContentLength != int64(len(b)) || resp.Header.Get("Content-Length") != strconv.Itoa(len(b)) {
		return r, fmt.Errorf("answer without an exact Content-Length (chunked %v, %d for %d bytes)", r.Chunked, r.ContentLength, len(b))
	}
	if c := resp.Cookies(); len(c) > 0 {
		p.Cookie = c[0].Name + "=" + c[0].Value
	}
	var m dlsMessage
	if err := xml.Unmarshal(b, &m); err != nil {
		return r, fmt.Errorf("not a DLSMessage: %v", err)
	}
	r.Nonce, r.Action, r.Items = m.Message.Nonce, m.Message.Action, m.Message.Items
	return r, nil
}

// Session plays a whole session from an opening message: every action
// is accepted (or answered by answer, when it returns a status) until
// CleanUp. It returns every answer, CleanUp last.
func (p *Phone) Session(reason string, answer func(r *Reply) (status string, items []Item)) ([]*Reply, error) {
	r, err := p.Open(reason)
	var out []*Reply
	for i := 0; err == nil && i < 100; i++ {
		out = append(out, r)
		if r.Action == "CleanUp" {
			return out, nil
		}
		status, items := "accepted", []Item(nil)
		if answer != nil {
			status, items = answer(r)
		}
		r, err = p.ReplyTo(r.Nonce, r.Action, status, items...)
	}
	if err == nil {
		err = fmt.Errorf("no CleanUp after 100 messages")
	}
	return out, err
}

// Written merges the items of every WriteItems answer, by key.
func Written(rs []*Reply) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		if r.Action == "WriteItems" {
			for _, it := range r.Items {
				out[it.Key()] = it.Value
			}
		}
	}
	return out
}

// ContactListener is the phone's contact-me listener (port 8085 on a real
// phone): it answers POST /contact_dls.html/ContactDLS with 204 and
// "Server: DlsClient" (DevGuide p.15) and records each body.
type ContactListener struct {
	URL string // the contact-me-uri to report
	srv *http.Server
	ln  net.Listener

	mu     sync.Mutex
	bodies []string
	got    chan string
}

// Listen starts a contact-me listener on addr (e.g. "127.0.0.1:0").
func Listen(addr string) (*ContactListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &ContactListener{ln: ln, URL: "http://" + ln.Addr().String() + "/contact_dls.html/ContactDLS", got: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /contact_dls.html/ContactDLS", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		l.mu.Lock()
		l.bodies = append(l.bodies, string(b))
		l.mu.Unlock()
		select {
		case l.got <- string(b):
		default:
		}
		w.Header().Set("Server", "DlsClient")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNoContent)
	})
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// Bodies returns the contact-me bodies received so far.
func (l *ContactListener) Bodies() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bodies...)
}

// Wait returns the next contact-me body, or an error after d.
func (l *ContactListener) Wait(d time.Duration) (string, error) {
	select {
	case b := <-l.got:
		return b, nil
	case <-time.After(d):
		return "", fmt.Errorf("no contact-me within %s", d)
	}
}

// Close stops the listener.
func (l *ContactListener) Close() error { return l.srv.Close() }

// Poll is a DCMP poll, GET <base>/dcmp/contact-me?device-id=<MAC>; it
// returns the status code (200 nothing, 202 come in).
func Poll(client *http.Client, base, mac string) (int, error) {
	resp, err := client.Get(strings.TrimSuffix(base, "/") + "/dcmp/contact-me?device-id=" + mac)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Client is the phone's HTTPS client (no certificate check, as in
// Default Mode), e.g. for DCMP polls on the WPI listener.
func (p *Phone) Client() *http.Client { return p.client }
