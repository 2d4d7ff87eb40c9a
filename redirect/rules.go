package redirect

import (
	"context"
	"net/url"
	"strings"

	"github.com/autoprov/autoprov"
)

// Rules send phones this server does not know (no device, or only an
// unassigned one in the inbox) to another provisioning server: each entry
// of a rule's match is a whole MAC or a MAC prefix, in any notation. The
// phone path reads them from memory (RedirectTarget); they are reloaded
// on every change here and every 30 s (other instances' changes).

// LoadRules reads the rules into memory.
func (s *Service) LoadRules(ctx context.Context) error {
	rs, err := s.o.Store.RedirectRules(ctx)
	if err != nil {
		return err
	}
	s.rules.Store(&rs)
	return nil
}

// Rules lists the rules.
func (s *Service) Rules(ctx context.Context) ([]autoprov.RedirectRule, error) {
	return s.o.Store.RedirectRules(ctx)
}

// CreateRule validates and stores a rule. A match entry is a MAC or its
// start (1 to 12 hex digits, separators ignored); target an http(s) base
// URL (a "/" is added).
func (s *Service) CreateRule(ctx context.Context, match []string, target, actor string) (autoprov.RedirectRule, error) {
	if len(match) == 0 || len(match) > 10000 {
		return autoprov.RedirectRule{}, autoprov.Invalid("match", "give 1 to 10,000 MACs or MAC prefixes")
	}
	canon := make([]string, 0, len(match))
	for i, m := range match {
		p, ok := macPrefix(m)
		if !ok {
			return autoprov.RedirectRule{}, autoprov.Invalid("match", "match[%d] %q is not a MAC or a MAC prefix (hex digits, with or without : - . separators)", i, m)
		}
		canon = append(canon, p)
	}
	target = strings.TrimSpace(target)
	if err := checkURL("target", target); err != nil {
		return autoprov.RedirectRule{}, err
	}
	if u, _ := url.Parse(target); u.RawQuery != "" || u.Fragment != "" {
		return autoprov.RedirectRule{}, autoprov.Invalid("target", "target must be a base URL without a query or fragment")
	}
	if !strings.HasSuffix(target, "/") {
		target += "/"
	}
	s.ruleMu.Lock()
	defer s.ruleMu.Unlock()
	r, err := s.o.Store.CreateRedirectRule(ctx, autoprov.RedirectRule{Match: canon, Target: target, CreatedAt: s.o.Now(), CreatedBy: actor})
	if err != nil {
		return r, err
	}
	return r, s.LoadRules(ctx)
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, id int64, actor string) error {
	s.ruleMu.Lock()
	defer s.ruleMu.Unlock()
	if err := s.o.Store.DeleteRedirectRule(ctx, id, actor); err != nil {
		return err
	}
	return s.LoadRules(ctx)
}

// RedirectTarget is the target of the first rule (by id) matching mac
// (canonical), from memory: the longest matching entry wins across rules.
func (s *Service) RedirectTarget(mac string) (string, bool) {
	best, target := -1, ""
	for _, r := range *s.rules.Load() {
		for _, m := range r.Match {
			if len(m) > best && strings.HasPrefix(mac, m) {
				best, target = len(m), r.Target
			}
		}
	}
	return target, best >= 0
}

// macPrefix turns a MAC or a MAC's start into lower-case hex digits.
func macPrefix(s string) (string, bool) {
	var b strings.Builder
	for _, c := range strings.TrimSpace(s) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b.WriteRune(c)
		case c >= 'A' && c <= 'F':
			b.WriteRune(c + 'a' - 'A')
		case c == ':' || c == '-' || c == '.':
		default:
			return "", false
		}
	}
	n := b.Len()
	return b.String(), n >= 1 && n <= 12
}
