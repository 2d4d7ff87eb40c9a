// Package snomsraps is the connector to Snom's redirection service
// (SRAPS), XML-RPC API: redirect.registerPhone, redirect.deregisterPhone
// and redirect.getPhoneRedirection, with the documented error strings.
// See README.md for the sources and what is unverified.
package snomsraps

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/autoprov/autoprov/redirect/xmlrpc"
)

// DefaultURL is the documented endpoint; the trailing slash is required
// (Snom "XML-RPC API").
const DefaultURL = "https://secure-provisioning.snom.com:8083/xmlrpc/"

// The documented error texts, as the reasons of an xmlrpc.Refused.
const (
	ReasonOwnedByOther = "owned_by_other_user"
	ReasonMalformedURL = "malformed_url"
	ReasonMalformedMAC = "malformed_mac"
	ReasonRefused      = "refused"
)

// Client talks to SRAPS with one account.
type Client struct {
	rpc xmlrpc.Client
	// URL is the provisioning URL phones are redirected to.
	URL string
}

// New returns a client; url "" is DefaultURL, hc nil a client with a 30 s
// timeout. target is the provisioning URL registered for every MAC.
func New(url, user, password, target string, hc *http.Client) *Client {
	if url == "" {
		url = DefaultURL
	}
	return &Client{rpc: xmlrpc.Client{URL: url, Username: user, Password: password, HTTP: hc}, URL: target}
}

// mac is the form Snom prints on its phones: 12 upper-case hex digits.
func mac(m string) string { return strings.ToUpper(m) }

// Register points the MAC at URL.
func (c *Client) Register(ctx context.Context, m string) error {
	_, err := c.call(ctx, "redirect.registerPhone", mac(m), c.URL)
	return err
}

// Deregister removes the MAC's redirection.
func (c *Client) Deregister(ctx context.Context, m string) error {
	_, err := c.call(ctx, "redirect.deregisterPhone", mac(m))
	return err
}

// Lookup returns where the MAC points ("company name, URL" as SRAPS
// answers it).
func (c *Client) Lookup(ctx context.Context, m string) (string, error) {
	return c.call(ctx, "redirect.getPhoneRedirection", mac(m))
}

func (c *Client) call(ctx context.Context, method string, params ...any) (string, error) {
	v, err := c.rpc.Call(ctx, method, params...)
	if err != nil {
		return "", err
	}
	ok, text := xmlrpc.Result(v)
	if ok && !strings.HasPrefix(strings.ToLower(text), "error") {
		return text, nil
	}
	return "", classify(text)
}

// classify maps "Error:owned_by_other_user", "Error:malformed_url" and
// "Error:malformed_mac" to their reasons; any other failure is "refused".
func classify(text string) error {
	t := strings.TrimSpace(text)
	reason := ReasonRefused
	low := strings.ToLower(t)
	for _, r := range []string{ReasonOwnedByOther, ReasonMalformedURL, ReasonMalformedMAC} {
		if strings.Contains(low, r) {
			reason = r
		}
	}
	return &xmlrpc.Refused{Reason: reason, Answer: t}
}

// String names the client for logs (never the password).
func (c *Client) String() string {
	return fmt.Sprintf("snom-sraps %s as %s", c.rpc.URL, c.rpc.Username)
}
