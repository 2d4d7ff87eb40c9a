package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
)

// TestRedirectStore: on both backends, a service's password is sealed at
// rest and read back open; the queue keeps one job per service and MAC
// (the last wish wins), is claimed once, retried and finished; the
// onboarding state is written conditionally, audited, and filters the
// device list with the derived states; rules round-trip.
func TestRedirectStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		const pw = "Vendor-Pass-0123456789"
		if err := s.PutRedirectService(ctx, autoprov.RedirectService{Name: "snom-sraps", Enabled: true, URL: "https://x.example/xmlrpc/",
			Username: "acme", Password: pw, UpdatedAt: now}, "t"); err != nil {
			t.Fatal(err)
		}
		var raw string
		if err := s.db.Raw("SELECT password FROM redirect_services WHERE name = ?", "snom-sraps").Row().Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "v1:") || strings.Contains(raw, pw) {
			t.Fatalf("password stored as %q", raw)
		}
		if c, err := s.RedirectService(ctx, "snom-sraps"); err != nil || c.Password != pw || !c.Enabled {
			t.Fatalf("RedirectService = %+v, %v", c, err)
		}

		for _, mac := range []string{"000413aabb01", "000413aabb02"} {
			if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: mac, Vendor: "snom", Model: "D785",
				State: autoprov.StateAssigned}, At: now, Actor: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		job := autoprov.RedirectJob{Service: "snom-sraps", MAC: "000413aabb01", Op: autoprov.RedirectRegister, NextAt: now, CreatedAt: now}
		if err := s.EnqueueRedirect(ctx, []autoprov.RedirectJob{job, {Service: "snom-sraps", MAC: "000413aabb02", Op: autoprov.RedirectRegister, NextAt: now, CreatedAt: now}}); err != nil {
			t.Fatal(err)
		}
		job.Op = autoprov.RedirectDeregister
		if err := s.EnqueueRedirect(ctx, []autoprov.RedirectJob{job}); err != nil {
			t.Fatal(err)
		}
		jobs, total, err := s.RedirectJobs(ctx, "snom-sraps", 0, 0)
		if err != nil || total != 2 || jobs[0].Op != autoprov.RedirectDeregister {
			t.Fatalf("RedirectJobs = %+v %d %v", jobs, total, err)
		}
		got, err := s.ClaimRedirectJobs(ctx, now, now.Add(time.Minute), 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim = %+v, %v", got, err)
		}
		if again, err := s.ClaimRedirectJobs(ctx, now.Add(time.Second), now.Add(time.Minute), 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed twice: %+v, %v", again, err)
		}
		if err := s.RetryRedirectJob(ctx, got[0], now.Add(10*time.Second), "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRedirectJob(ctx, got[1]); err != nil {
			t.Fatal(err)
		}
		jobs, total, _ = s.RedirectJobs(ctx, "snom-sraps", 0, 0)
		if total != 1 || jobs[0].Attempts != 1 || jobs[0].LastError != "HTTP 503" {
			t.Fatalf("after retry and finish: %+v", jobs)
		}

		at := now.Add(time.Minute)
		o := autoprov.Onboarding{State: autoprov.OnboardingRegistered, Service: "snom-sraps", Detail: "points at x", At: &at}
		if ok, err := s.SetOnboarding(ctx, "000413aabb01", o, nil, "w"); err != nil || !ok {
			t.Fatalf("SetOnboarding = %v %v", ok, err)
		}
		o.State = autoprov.OnboardingRedirected
		if ok, _ := s.SetOnboarding(ctx, "000413aabb01", o, []string{autoprov.OnboardingRegistered}, "w"); ok {
			t.Fatal("written despite unless")
		}
		if ok, _ := s.SetOnboarding(ctx, "ffffffffffff", o, nil, "w"); ok {
			t.Fatal("written for an unknown MAC")
		}
		d, _ := s.Device(ctx, "000413aabb01")
		if d.Onboarding.State != autoprov.OnboardingRegistered || d.Onboarding.At == nil || !d.Onboarding.At.Equal(at) {
			t.Fatalf("onboarding = %+v", d.Onboarding)
		}
		ev, _ := s.Audit(ctx, "000413aabb01", 10)
		if len(ev) == 0 || ev[0].Event != "onboarding.registered" {
			t.Fatalf("audit = %+v", ev)
		}
		count := func(state string) int {
			n, err := s.CountDevices(ctx, autoprov.DeviceFilter{Onboarding: state})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if count(autoprov.OnboardingRegistered) != 1 || count(autoprov.OnboardingLocal) != 1 || count(autoprov.OnboardingProvisioned) != 0 {
			t.Fatal("onboarding filter before the disclosure")
		}
		if _, err := s.OpenDisclosure(ctx, "000413aabb01", now, time.Hour, "t"); err != nil {
			t.Fatal(err)
		}
		if won, _ := s.Reserve(ctx, "000413aabb01", "tok", now, time.Minute); !won {
			t.Fatal("reserve")
		}
		if won, _ := s.Commit(ctx, "000413aabb01", "tok", now, autoprov.Peer{IP: "192.0.2.1"}); !won {
			t.Fatal("commit")
		}
		if count(autoprov.OnboardingRegistered) != 0 || count(autoprov.OnboardingProvisioned) != 1 {
			t.Fatal("onboarding filter after the disclosure")
		}

		r, err := s.CreateRedirectRule(ctx, autoprov.RedirectRule{Match: []string{"805ec0aa", "000413112233"}, Target: "https://o.example/", CreatedAt: now, CreatedBy: "t"})
		if err != nil || r.ID == 0 {
			t.Fatal(r, err)
		}
		rs, err := s.RedirectRules(ctx)
		if err != nil || len(rs) != 1 || len(rs[0].Match) != 2 || rs[0].Target != "https://o.example/" {
			t.Fatalf("rules = %+v %v", rs, err)
		}
		if err := s.DeleteRedirectRule(ctx, r.ID, "t"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRedirectRule(ctx, r.ID, "t"); !strings.Contains(err.Error(), "not found") {
			t.Fatalf("second delete: %v", err)
		}
	})
}
