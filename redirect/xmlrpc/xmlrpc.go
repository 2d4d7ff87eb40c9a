// Package xmlrpc is the small XML-RPC client (encoding/xml, net/http)
// the redirect-service connectors share: a call with string, boolean and
// integer parameters over HTTPS with HTTP Basic auth, and an answer read
// tolerantly (typed or untyped values, arrays, structs, faults).
package xmlrpc

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client calls one XML-RPC endpoint.
type Client struct {
	URL      string
	Username string
	Password string
	// HTTP is the client used (its Timeout bounds a call); nil means a
	// client with a 30 s timeout.
	HTTP *http.Client
}

// MaxAnswer bounds the answer read.
const MaxAnswer = 1 << 20

// StatusError is an HTTP answer other than 200.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// Fault is an XML-RPC fault answer.
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

// Value is one decoded XML-RPC value: exactly one of its fields is set by
// Kind ("string", "boolean", "int", "double", "array", "struct", "nil").
type Value struct {
	Kind   string
	Str    string // string, int and double as written, boolean as "1"/"0"
	Bool   bool
	Array  []Value
	Struct map[string]Value
}

// Text returns a value as text: a scalar as written, an array's items
// joined with ", ".
func (v Value) Text() string {
	switch v.Kind {
	case "array":
		parts := make([]string, len(v.Array))
		for i, a := range v.Array {
			parts[i] = a.Text()
		}
		return strings.Join(parts, ", ")
	case "struct":
		return fmt.Sprint(v.Struct)
	}
	return v.Str
}

// Call sends methodName(params...) and returns the answer's first value.
// A param is a string, bool or int. Network errors, timeouts and non-200
// answers are returned as they are (StatusError for the latter); a fault
// as *Fault.
func (c *Client) Call(ctx context.Context, method string, params ...any) (Value, error) {
	body, err := Encode(method, params...)
	if err != nil {
		return Value{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return Value{}, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "autoprov")
	req.SetBasicAuth(c.Username, c.Password)
	hc := c.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Value{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswer))
		return Value{}, &StatusError{Code: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return Value{}, err
	}
	return Decode(data)
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Encode writes a methodCall.
func Encode(method string, params ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>")
	if err := xml.EscapeText(&b, []byte(method)); err != nil {
		return nil, err
	}
	b.WriteString("</methodName><params>")
	for _, p := range params {
		b.WriteString("<param><value>")
		switch v := p.(type) {
		case string:
			b.WriteString("<string>")
			if err := xml.EscapeText(&b, []byte(v)); err != nil {
				return nil, err
			}
			b.WriteString("</string>")
		case bool:
			if v {
				b.WriteString("<boolean>1</boolean>")
			} else {
				b.WriteString("<boolean>0</boolean>")
			}
		case int:
			b.WriteString("<int>" + strconv.Itoa(v) + "</int>")
		default:
			return nil, fmt.Errorf("xmlrpc: unsupported parameter type %T", p)
		}
		b.WriteString("</value></param>")
	}
	b.WriteString("</params></methodCall>\n")
	return b.Bytes(), nil
}

// xml shapes of an answer.
type xValue struct {
	String *string   `xml:"string"`
	Bool   *string   `xml:"boolean"`
	Int    *string   `xml:"int"`
	I4     *string   `xml:"i4"`
	Double *string   `xml:"double"`
	Array  *xArray   `xml:"array"`
	Struct *xStruct  `xml:"struct"`
	Nil    *struct{} `xml:"nil"`
	Chars  string    `xml:",chardata"`
}

type xArray struct {
	Values []xValue `xml:"data>value"`
}

type xStruct struct {
	Members []xMember `xml:"member"`
}

type xMember struct {
	Name  string `xml:"name"`
	Value xValue `xml:"value"`
}

type xResponse struct {
	XMLName xml.Name `xml:"methodResponse"`
	Params  []xValue `xml:"params>param>value"`
	Fault   *xValue  `xml:"fault>value"`
}

// ErrMalformed is an answer that is not an XML-RPC methodResponse.
var ErrMalformed = errors.New("xmlrpc: malformed answer")

// Decode reads a methodResponse: its first param, or a *Fault.
func Decode(data []byte) (Value, error) {
	var r xResponse
	if err := xml.Unmarshal(data, &r); err != nil {
		return Value{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.Fault != nil {
		v := r.Fault.value()
		f := &Fault{String: v.Text()}
		if v.Kind == "struct" {
			f.String = v.Struct["faultString"].Text()
			f.Code, _ = strconv.Atoi(strings.TrimSpace(v.Struct["faultCode"].Str))
		}
		return Value{}, f
	}
	if len(r.Params) == 0 {
		return Value{}, fmt.Errorf("%w: no params", ErrMalformed)
	}
	return r.Params[0].value(), nil
}

func (x xValue) value() Value {
	switch {
	case x.String != nil:
		return Value{Kind: "string", Str: *x.String}
	case x.Bool != nil:
		s := strings.TrimSpace(*x.Bool)
		b := s == "1" || strings.EqualFold(s, "true")
		if b {
			s = "1"
		} else {
			s = "0"
		}
		return Value{Kind: "boolean", Bool: b, Str: s}
	case x.Int != nil:
		return Value{Kind: "int", Str: strings.TrimSpace(*x.Int)}
	case x.I4 != nil:
		return Value{Kind: "int", Str: strings.TrimSpace(*x.I4)}
	case x.Double != nil:
		return Value{Kind: "double", Str: strings.TrimSpace(*x.Double)}
	case x.Array != nil:
		v := Value{Kind: "array", Array: make([]Value, len(x.Array.Values))}
		for i, a := range x.Array.Values {
			v.Array[i] = a.value()
		}
		return v
	case x.Struct != nil:
		v := Value{Kind: "struct", Struct: map[string]Value{}}
		for _, m := range x.Struct.Members {
			v.Struct[m.Name] = m.Value.value()
		}
		return v
	case x.Nil != nil:
		return Value{Kind: "nil"}
	}
	// An untyped value is a string (XML-RPC spec); CDATA arrives as chardata.
	return Value{Kind: "string", Str: x.Chars}
}

// Result reads the answer shape both Yealink RPS and Snom's redirection
// service document: an array of a boolean (success) and a text ("Ok",
// "Error:owned_by_other_user"...). A lone boolean or string is accepted
// too (unverified variants): a string counts as success when it does not
// start with "Error".
func Result(v Value) (ok bool, text string) {
	switch v.Kind {
	case "array":
		if len(v.Array) == 0 {
			return false, ""
		}
		first := v.Array[0]
		var rest []string
		for _, a := range v.Array[1:] {
			rest = append(rest, strings.TrimSpace(a.Text()))
		}
		text = strings.Join(rest, ", ")
		if first.Kind == "boolean" {
			return first.Bool, text
		}
		all := strings.TrimSpace(v.Text())
		return !strings.HasPrefix(strings.ToLower(all), "error"), all
	case "boolean":
		return v.Bool, ""
	}
	t := strings.TrimSpace(v.Text())
	return !strings.HasPrefix(strings.ToLower(t), "error"), t
}

// Refused is a service's answer that refuses a MAC for good (owned by
// someone else, malformed): retrying will not help. Reason is a short
// word ("owned_by_other_user"), Answer the service's text as it came.
type Refused struct {
	Reason string
	Answer string
}

func (e *Refused) Error() string {
	if e.Answer == "" || e.Answer == e.Reason {
		return "refused: " + e.Reason
	}
	return "refused: " + e.Reason + " (" + e.Answer + ")"
}
