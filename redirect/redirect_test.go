package redirect

import (
	"context"
	"errors"
	"testing"

	"github.com/autoprov/autoprov"
)

// ruleStore keeps rules in memory; the other Store methods are not used here.
type ruleStore struct {
	Store
	rules []autoprov.RedirectRule
}

func (r *ruleStore) CreateRedirectRule(_ context.Context, x autoprov.RedirectRule) (autoprov.RedirectRule, error) {
	x.ID = int64(len(r.rules) + 1)
	r.rules = append(r.rules, x)
	return x, nil
}

func (r *ruleStore) RedirectRules(context.Context) ([]autoprov.RedirectRule, error) {
	return r.rules, nil
}

func (r *ruleStore) RedirectService(context.Context, string) (autoprov.RedirectService, error) {
	return autoprov.RedirectService{}, autoprov.ErrNotFound
}

func TestRulesMatchLongestPrefix(t *testing.T) {
	s := New(Options{Store: &ruleStore{}})
	ctx := context.Background()
	if _, err := s.CreateRule(ctx, []string{"80:5E:C0"}, "https://a.example/prov", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRule(ctx, []string{"80-5e-c0-aa-bb-01"}, "https://b.example/", "t"); err != nil {
		t.Fatal(err)
	}
	for mac, want := range map[string]string{"805ec0aabb01": "https://b.example/", "805ec0aabb02": "https://a.example/prov/", "000413aabb01": ""} {
		got, ok := s.RedirectTarget(mac)
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", mac, got, ok, want)
		}
	}
	for _, bad := range [][]string{{}, {"zz"}, {"805ec0aabb0102"}} {
		var inv *autoprov.InvalidError
		if _, err := s.CreateRule(ctx, bad, "https://a.example/", "t"); !errors.As(err, &inv) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, target := range []string{"ftp://a.example/", "https://user:pw@a.example/", "https://a.example/?x=1", "/relative"} {
		if _, err := s.CreateRule(ctx, []string{"80"}, target, "t"); err == nil {
			t.Errorf("target %q accepted", target)
		}
	}
}

func TestVia(t *testing.T) {
	s := New(Options{Store: &ruleStore{}})
	for path, want := range map[string][2]string{
		"r/yealink-rps/805ec0aabb01.cfg": {"yealink-rps", "805ec0aabb01.cfg"},
		"r/snom-sraps/000413AABB01.xml":  {"snom-sraps", "000413AABB01.xml"},
		"r/gigaset/7C2F80AABB01.xml":     {"gigaset", "7C2F80AABB01.xml"},
		"r/other/805ec0aabb01.cfg":       {"", "r/other/805ec0aabb01.cfg"},
		"805ec0aabb01.cfg":               {"", "805ec0aabb01.cfg"},
	} {
		svc, rest, ok := s.Via(path)
		if svc != want[0] || rest != want[1] || ok != (want[0] != "") {
			t.Errorf("%s: %q %q %v", path, svc, rest, ok)
		}
	}
}

func TestConfigureNeedsWhatTheServiceNeeds(t *testing.T) {
	s := New(Options{Store: &ruleStore{}})
	ctx := context.Background()
	on, user, pw := true, "acme", "pw"
	var inv *autoprov.InvalidError
	if _, err := s.Configure(ctx, YealinkRPS, ServiceInput{Enabled: &on, Username: &user, Password: &pw}, "t"); !errors.As(err, &inv) || inv.Field != "server_name" {
		t.Fatalf("no server_name: %v", err)
	}
	name := "autoprov"
	if _, err := s.Configure(ctx, YealinkRPS, ServiceInput{Enabled: &on, Username: &user, Password: &pw, ServerName: &name}, "t"); !errors.As(err, &inv) || inv.Field != "provision_url" {
		t.Fatalf("no provision URL: %v", err)
	}
	if _, err := s.Configure(ctx, "nope", ServiceInput{}, "t"); !errors.Is(err, autoprov.ErrNotFound) {
		t.Fatalf("unknown service: %v", err)
	}
}
