package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/autoprov/autoprov/redirect"
	"github.com/autoprov/autoprov/server/store"
)

// newRedirects builds the redirect part: its connectors' HTTP client
// (the system's CAs, plus --redirect-ca) and its rules, loaded once.
func newRedirects(c config, st *store.Store, log *slog.Logger) (*redirect.Service, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	if c.redirectCA != "" {
		pem, err := os.ReadFile(c.redirectCA)
		if err != nil {
			return nil, fmt.Errorf("--redirect-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--redirect-ca %s: no PEM certificate in it", c.redirectCA)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	s := redirect.New(redirect.Options{Store: st, PublicURL: c.publicURL, Log: log, HTTP: hc, Backoff: c.redirectRetry})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.LoadRules(ctx); err != nil {
		return nil, fmt.Errorf("redirect rules: %w", err)
	}
	return s, nil
}
