package sippnp

import (
	"bytes"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// message is a parsed SIP message: just what a PnP responder needs. The
// parser is deliberately small and forgiving (CRLF or bare LF, compact
// header names, any case, folded lines, unknown headers kept) and never
// panics: every index is checked, and anything it cannot read is an error.
type message struct {
	// Request: method and request-URI. Response: status code and reason.
	method, uri string
	status      int
	reason      string
	headers     []header // in order, names canonical lower-case long form
	body        []byte
	isResponse  bool
}

type header struct{ name, value string }

// Limits that keep a hostile datagram cheap. A phone's SUBSCRIBE is a
// few hundred bytes (RFC 3261 §18.1.1 sends a request over 1300 bytes by
// TCP), and what it says is echoed in the 200 OK and in every NOTIFY
// retransmission (up to 11), to an address nothing verified: a larger
// datagram would only make the answer to a forged source larger.
const (
	maxMessage = 4096
	maxHeaders = 128
)

var errMalformed = errors.New("malformed SIP message")

// compact maps RFC 3261 §7.3.3 / RFC 3265 compact header names.
var compact = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
	"c": "content-type", "o": "event", "k": "supported", "e": "content-encoding", "s": "subject",
	"u": "allow-events",
}

// parse reads one SIP message from a datagram.
func parse(b []byte) (*message, error) {
	if len(b) == 0 || len(b) > maxMessage {
		return nil, errMalformed
	}
	// Split head and body at the first empty line (CRLFCRLF or LFLF).
	head, body := b, []byte(nil)
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		head, body = b[:i], b[i+4:]
	} else if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		head, body = b[:i], b[i+2:]
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	// Tolerate leading empty lines (keep-alive CRLFs before a message).
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return nil, errMalformed
	}
	m := &message{}
	if err := m.startLine(lines[0]); err != nil {
		return nil, err
	}
	for _, l := range lines[1:] {
		if strings.ContainsRune(l, '\r') || strings.ContainsRune(l, 0) {
			return nil, errMalformed // a bare CR could smuggle a line into what we echo
		}
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' { // folded continuation line
			if len(m.headers) == 0 {
				return nil, errMalformed
			}
			h := &m.headers[len(m.headers)-1]
			h.value = strings.TrimSpace(h.value + " " + strings.TrimSpace(l))
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, errMalformed
		}
		if long, ok := compact[name]; ok {
			name = long
		}
		if len(m.headers) == maxHeaders {
			return nil, errMalformed
		}
		m.headers = append(m.headers, header{name, strings.TrimSpace(value)})
	}
	if cl := m.get("content-length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, errMalformed
		}
		if n <= len(body) {
			body = body[:n]
		}
	}
	m.body = body
	return m, nil
}

func (m *message) startLine(l string) error {
	if strings.ContainsAny(l, "\r\x00") {
		return errMalformed
	}
	f := strings.Fields(l)
	if len(f) < 3 {
		return errMalformed
	}
	if strings.EqualFold(f[0], "SIP/2.0") {
		code, err := strconv.Atoi(f[1])
		if err != nil || code < 100 || code > 699 {
			return errMalformed
		}
		m.isResponse, m.status, m.reason = true, code, strings.Join(f[2:], " ")
		return nil
	}
	if len(f) != 3 || !strings.EqualFold(f[2], "SIP/2.0") || !isToken(f[0]) {
		return errMalformed
	}
	m.method, m.uri = strings.ToUpper(f[0]), f[1]
	return nil
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// get returns the first value of a header (lower-case long name), or "".
func (m *message) get(name string) string {
	for _, h := range m.headers {
		if h.name == name {
			return h.value
		}
	}
	return ""
}

// all returns every value of a header, in order.
func (m *message) all(name string) []string {
	var out []string
	for _, h := range m.headers {
		if h.name == name {
			out = append(out, h.value)
		}
	}
	return out
}

// cseq splits a CSeq header into its number and method.
func (m *message) cseq() (uint32, string, bool) {
	f := strings.Fields(m.get("cseq"))
	if len(f) != 2 {
		return 0, "", false
	}
	n, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return 0, "", false
	}
	return uint32(n), strings.ToUpper(f[1]), true
}

// sipURI is the part of a SIP URI a responder uses.
type sipURI struct {
	raw        string // the URI as written, without <> and header parameters
	user, host string // user still percent-encoded
	port       int    // 0 when absent
}

// parseURI reads sip:[user@]host[:port][;params][?headers].
func parseURI(s string) (sipURI, bool) {
	u := sipURI{raw: s}
	rest, ok := cutPrefixFold(s, "sip:")
	if !ok {
		if rest, ok = cutPrefixFold(s, "sips:"); !ok {
			return sipURI{}, false
		}
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		u.user, rest = rest[:i], rest[i+1:]
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") { // IPv6 reference
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return sipURI{}, false
		}
		host, port = rest[1:end], strings.TrimPrefix(rest[end+1:], ":")
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
	}
	if host == "" || strings.ContainsAny(host, " \t<>\"") {
		return sipURI{}, false
	}
	u.host = host
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return sipURI{}, false
		}
		u.port = p
	}
	return u, true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// nameAddr splits a From/To/Contact value into the URI and the header
// parameters after it: `"Name" <sip:u@h>;tag=1` or `sip:u@h;tag=1`.
func nameAddr(v string) (uri string, params string, ok bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		end := strings.IndexByte(v[i:], '>')
		if end < 0 {
			return "", "", false
		}
		return v[i+1 : i+end], v[i+end+1:], true
	}
	// addr-spec without brackets: parameters belong to the header.
	if i := strings.IndexByte(v, ';'); i >= 0 {
		return v[:i], v[i:], true
	}
	return v, "", v != ""
}

// param returns a ;name=value parameter of a header parameter list (case-
// insensitive name), with quotes removed; ok reports presence.
func param(params, name string) (string, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`), true
		}
	}
	return "", false
}

// via is the top Via header's sent-by and parameters.
type via struct {
	transport, host string
	port            int // 0 when absent
	params          string
	rport           bool
}

// topVia parses the first Via value (a header may hold several, comma-
// separated).
func topVia(v string) (via, bool) {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	proto, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		// "SIP/2.0/UDP\thost"
		if proto, rest, ok = strings.Cut(strings.TrimSpace(v), "\t"); !ok {
			return via{}, false
		}
	}
	parts := strings.Split(proto, "/")
	if len(parts) != 3 {
		return via{}, false
	}
	out := via{transport: strings.ToUpper(strings.TrimSpace(parts[2]))}
	rest = strings.TrimSpace(rest)
	sentBy := rest
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		sentBy, out.params = strings.TrimSpace(rest[:i]), rest[i:]
	}
	u, ok := parseURI("sip:" + sentBy)
	if !ok || u.user != "" {
		return via{}, false
	}
	out.host, out.port = u.host, u.port
	_, out.rport = param(out.params, "rport")
	return out, true
}

// macFromUser reads a MAC from a URI user part as PnP phones write it:
// "MAC001565f4f9e1" (Yealink), "MAC%3a000413A1B2C3" (Snom),
// "MAC%3A7C2F8030D21E" (Gigaset Maxwell), "MAC=..." or "MAC:00-04-13-...".
// The "MAC" prefix is required: a bare 12-digit user part may be a phone
// number. It returns the canonical MAC or "".
func macFromUser(user string) string {
	u, err := url.PathUnescape(user)
	if err != nil {
		return ""
	}
	rest, ok := cutPrefixFold(u, "mac")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, ":=")
	mac, err := vendors.ParseMAC(rest)
	if err != nil {
		return ""
	}
	return mac
}

// hostIP returns the IP address of a URI or Via host, or nil for a name.
func hostIP(host string) net.IP { return net.ParseIP(host) }
