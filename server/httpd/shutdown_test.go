package httpd_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/autoprov/autoprov/server/httpd"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors"
)

// hungPhones is a core whose store hangs: Provide waits for its context.
type hungPhones struct {
	started chan struct{}
	ended   chan error
}

func (h *hungPhones) Provide(ctx context.Context, _ vendors.Request) (*provision.Result, error) {
	close(h.started)
	<-ctx.Done()
	h.ended <- ctx.Err()
	return nil, ctx.Err()
}

// ProvideBorrowed is Provide: it keeps nothing of the request.
func (h *hungPhones) ProvideBorrowed(ctx context.Context, req vendors.Request) (*provision.Result, error) {
	return h.Provide(ctx, req)
}

// Shutdown never waits on a hung database longer than its grace period:
// the request's context is cancelled when the grace is over, so the
// database call ends and Serve returns.
func TestShutdownCancelsHungRequestsAfterGrace(t *testing.T) {
	h := &hungPhones{started: make(chan struct{}), ended: make(chan error, 1)}
	const grace = 200 * time.Millisecond
	srv, err := httpd.New(httpd.Config{Phones: h, Log: slog.New(slog.DiscardHandler), ShutdownGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/prov/y000000000000.boot")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-h.started
	stopped := time.Now()
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its grace period")
	}
	if took := time.Since(stopped); took < grace {
		t.Errorf("Serve returned after %v, before the grace period of %v: in-flight requests were not given their time", took, grace)
	}
	if err := <-h.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the hung request's context ended with %v, want cancelled", err)
	}
}

// The provide timeout bounds a phone request on a hung database: the
// phone gets 503 with Retry-After when it runs out (come back: the file
// may exist), not a connection held forever, nor a 404.
func TestProvideTimeoutBoundsAHungStore(t *testing.T) {
	h := &hungPhones{started: make(chan struct{}), ended: make(chan error, 1)}
	srv, err := httpd.New(httpd.Config{Phones: h, Log: slog.New(slog.DiscardHandler), ProvideTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/prov/y000000000000.boot", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if err := <-h.ended; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the request's context ended with %v, want its deadline", err)
	}
}
