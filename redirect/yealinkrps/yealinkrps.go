// Package yealinkrps is the connector to Yealink's Redirection and
// Provisioning Service (RPS), legacy XML-RPC API: register a MAC to a
// server definition, define that server, deregister, and check where a
// MAC points. See README.md for the sources and what is unverified.
package yealinkrps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/autoprov/autoprov/redirect/xmlrpc"
)

// DefaultURL is the documented endpoint (Yealink "XML API for RPS").
const DefaultURL = "https://rps.yealink.com/xmlrpc"

// Client talks to RPS with one account.
type Client struct {
	rpc xmlrpc.Client
	// ServerName is the server definition devices are registered to;
	// ServerURL the provisioning URL it is defined with (AddServer).
	ServerName, ServerURL string
}

// New returns a client; url "" is DefaultURL, hc nil a client with a 30 s
// timeout.
func New(url, user, password, serverName, serverURL string, hc *http.Client) *Client {
	if url == "" {
		url = DefaultURL
	}
	return &Client{rpc: xmlrpc.Client{URL: url, Username: user, Password: password, HTTP: hc}, ServerName: serverName, ServerURL: serverURL}
}

// mac is RPS's MAC form: 12 upper-case hex digits (one of the four forms
// the API accepts).
func mac(m string) string { return strings.ToUpper(m) }

// Register registers the MAC to ServerName, overriding a registration
// another RPS account made (isOverride "1"). When RPS answers that the
// server name is unknown, the server is defined (AddServer) with
// ServerURL and the registration tried once more.
func (c *Client) Register(ctx context.Context, m string) error {
	err := c.call(ctx, "redirect.registerDevice", mac(m), c.ServerName, "1")
	var r *xmlrpc.Refused
	if errors.As(err, &r) && r.Reason == ReasonUnknownServer && c.ServerURL != "" {
		if err := c.AddServer(ctx); err != nil {
			return err
		}
		err = c.call(ctx, "redirect.registerDevice", mac(m), c.ServerName, "1")
	}
	return err
}

// AddServer defines ServerName with ServerURL in the RPS account; a
// server that exists already counts as success.
func (c *Client) AddServer(ctx context.Context) error {
	err := c.call(ctx, "redirect.addServer", c.ServerName, c.ServerURL)
	var r *xmlrpc.Refused
	if errors.As(err, &r) && r.Reason == ReasonExists {
		return nil
	}
	return err
}

// Deregister removes the MAC from the account.
func (c *Client) Deregister(ctx context.Context, m string) error {
	return c.call(ctx, "redirect.deRegisterDevice", mac(m))
}

// Lookup asks where the MAC points (redirect.checkDevice) and returns
// RPS's text (unverified shape: the server name or URL after the status).
func (c *Client) Lookup(ctx context.Context, m string) (string, error) {
	v, err := c.rpc.Call(ctx, "redirect.checkDevice", mac(m))
	if err != nil {
		return "", err
	}
	ok, text := xmlrpc.Result(v)
	if !ok {
		return "", classify(text)
	}
	return text, nil
}

func (c *Client) call(ctx context.Context, method string, params ...any) error {
	v, err := c.rpc.Call(ctx, method, params...)
	if err != nil {
		return err
	}
	ok, text := xmlrpc.Result(v)
	if ok {
		return nil
	}
	return classify(text)
}

// Reasons a refusal carries.
const (
	ReasonMalformedMAC  = "malformed_mac"
	ReasonOwnedByOther  = "owned_by_other_user"
	ReasonUnknownServer = "unknown_server"
	ReasonExists        = "exists"
	ReasonUnknownMAC    = "unknown_mac"
	ReasonRefused       = "refused"
)

// classify turns RPS's error text into a Refused: the texts the API
// documents ("Invalid MAC(s)", "Invalid server", "Are you sure you want
// to override", "Existing MAC(s)") and anything else as "refused".
func classify(text string) error {
	t := strings.ToLower(text)
	reason := ReasonRefused
	switch {
	case strings.Contains(t, "invalid mac"):
		reason = ReasonMalformedMAC
	case strings.Contains(t, "override") || strings.Contains(t, "other user") || strings.Contains(t, "owned"):
		reason = ReasonOwnedByOther
	case strings.Contains(t, "invalid server") || strings.Contains(t, "server not exist") || strings.Contains(t, "no such server"):
		reason = ReasonUnknownServer
	case strings.Contains(t, "exist"):
		reason = ReasonExists
	case strings.Contains(t, "not found") || strings.Contains(t, "unregistered"):
		reason = ReasonUnknownMAC
	}
	return &xmlrpc.Refused{Reason: reason, Answer: strings.TrimSpace(text)}
}

// String names the client for logs (never the password).
func (c *Client) String() string {
	return fmt.Sprintf("yealink-rps %s as %s", c.rpc.URL, c.rpc.Username)
}
