package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/autoprov/autoprov"
)

// Redirect services, their queue and rules, and the devices' onboarding
// state (migration 8): what redirect.Store declares (redirect/README.md).

type redirectServiceRow struct {
	Name         string `gorm:"primaryKey"`
	Enabled      bool
	URL          string `gorm:"column:url"`
	Username     string
	Password     string // a secret column (sealed.go)
	ServerName   string
	ProvisionURL string `gorm:"column:provision_url"`
	UpdatedAt    time.Time
}

func (redirectServiceRow) TableName() string { return "redirect_services" }

type redirectJobRow struct {
	ID        int64 `gorm:"primaryKey"`
	Service   string
	MAC       string `gorm:"column:mac"`
	Op        string
	Attempts  int
	NextAt    time.Time
	LastError string
	Actor     string
	CreatedAt time.Time
}

func (redirectJobRow) TableName() string { return "redirect_jobs" }

func (r redirectJobRow) domain() autoprov.RedirectJob {
	return autoprov.RedirectJob{ID: r.ID, Service: r.Service, MAC: r.MAC, Op: r.Op, Attempts: r.Attempts,
		NextAt: r.NextAt, LastError: r.LastError, Actor: r.Actor, CreatedAt: r.CreatedAt}
}

type redirectRuleRow struct {
	ID        int64  `gorm:"primaryKey"`
	Match     string `gorm:"column:match"` // comma-separated
	Target    string
	CreatedAt time.Time
	CreatedBy string
}

func (redirectRuleRow) TableName() string { return "redirect_rules" }

// onboardingFilter keeps the devices whose effective onboarding state
// (autoprov.EffectiveOnboarding) is state: applied and provisioned come
// from the credential and the disclosure, the others from the stored state.
func onboardingFilter(q *gorm.DB, state string) *gorm.DB {
	switch state {
	case autoprov.OnboardingApplied:
		return q.Where("credential_state = ?", autoprov.CredentialApplied)
	case autoprov.OnboardingProvisioned:
		return q.Where("credential_state <> ? AND disclosure_state = ? AND disclosed_at IS NOT NULL", autoprov.CredentialApplied, autoprov.DisclosureConsumed)
	}
	q = q.Where("credential_state <> ? AND NOT (disclosure_state = ? AND disclosed_at IS NOT NULL)", autoprov.CredentialApplied, autoprov.DisclosureConsumed)
	if state == autoprov.OnboardingLocal {
		return q.Where("onboarding_state IN ?", []string{"", autoprov.OnboardingLocal})
	}
	return q.Where("onboarding_state = ?", state)
}

// SetOnboarding stores a device's onboarding state, unless its stored
// state is one of unless, and audits the change (event
// "onboarding.<state>") in the same transaction. It reports whether it
// changed anything (false for an unknown MAC too).
func (s *Store) SetOnboarding(ctx context.Context, mac string, o autoprov.Onboarding, unless []string, actor string) (bool, error) {
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var at *time.Time
		if o.At != nil {
			t := o.At.UTC()
			at = &t
		}
		q := tx.Model(&deviceRow{}).Where("mac = ?", mac)
		if len(unless) > 0 {
			q = q.Where("onboarding_state NOT IN ?", unless)
		}
		res := q.UpdateColumns(map[string]any{"onboarding_state": o.State, "onboarding_service": o.Service,
			"onboarding_detail": o.Detail, "onboarding_at": at})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		changed = true
		detail := o.State
		if o.Service != "" {
			detail += " (" + o.Service + ")"
		}
		if o.Detail != "" {
			detail += ": " + o.Detail
		}
		when := time.Now().UTC()
		if at != nil {
			when = *at
		}
		return appendAudit(tx, autoprov.AuditEvent{At: when, MAC: mac, Event: "onboarding." + o.State, Actor: actor, Detail: detail})
	})
	return changed, wrap(err, "onboarding of %s", mac)
}

// RedirectService returns a service's configuration (password opened);
// ErrNotFound when it was never configured.
func (s *Store) RedirectService(ctx context.Context, name string) (autoprov.RedirectService, error) {
	var r redirectServiceRow
	if err := s.db.WithContext(ctx).First(&r, "name = ?", name).Error; err != nil {
		return autoprov.RedirectService{}, wrap(err, "redirect service %s", name)
	}
	pw, err := s.open(colRedirectPassword, r.Name, r.Password)
	if err != nil {
		return autoprov.RedirectService{}, err
	}
	return autoprov.RedirectService{Name: r.Name, Enabled: r.Enabled, URL: r.URL, Username: r.Username, Password: pw,
		ServerName: r.ServerName, ProvisionURL: r.ProvisionURL, UpdatedAt: r.UpdatedAt}, nil
}

// PutRedirectService stores a service's configuration (the password
// sealed) and audits it, without the password.
func (s *Store) PutRedirectService(ctx context.Context, c autoprov.RedirectService, actor string) error {
	r := redirectServiceRow{Name: c.Name, Enabled: c.Enabled, URL: c.URL, Username: c.Username,
		Password: s.seal(colRedirectPassword, c.Name, c.Password), ServerName: c.ServerName, ProvisionURL: c.ProvisionURL,
		UpdatedAt: c.UpdatedAt.UTC()}
	return wrap(s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Save(&r).Error; err != nil {
			return err
		}
		return appendAudit(tx, autoprov.AuditEvent{At: r.UpdatedAt, Event: "redirect_service.updated", Actor: actor,
			Detail: fmt.Sprintf("%s: enabled=%t url=%s user=%s server_name=%s provision_url=%s", c.Name, c.Enabled, c.URL, c.Username, c.ServerName, c.ProvisionURL)})
	}), "save redirect service %s", c.Name)
}

// EnqueueRedirect queues jobs, one per service and MAC: a job already
// queued for that pair is replaced (the last wish wins, due at once).
func (s *Store) EnqueueRedirect(ctx context.Context, jobs []autoprov.RedirectJob) error {
	if len(jobs) == 0 {
		return nil
	}
	rows := make([]redirectJobRow, len(jobs))
	for i, j := range jobs {
		rows[i] = redirectJobRow{Service: j.Service, MAC: j.MAC, Op: j.Op, NextAt: j.NextAt.UTC(), Actor: j.Actor, CreatedAt: j.CreatedAt.UTC()}
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "service"}, {Name: "mac"}},
		DoUpdates: clause.Assignments(map[string]any{"op": gorm.Expr("excluded.op"), "next_at": gorm.Expr("excluded.next_at"), "attempts": 0, "last_error": "", "actor": gorm.Expr("excluded.actor")}),
	}).CreateInBatches(&rows, 500).Error
	return wrap(err, "enqueue redirect jobs")
}

// ClaimRedirectJobs returns up to limit jobs due at now and moves each one's
// next attempt to leaseUntil with a conditional update, so that another
// instance sharing the database does not take it meanwhile.
func (s *Store) ClaimRedirectJobs(ctx context.Context, now, leaseUntil time.Time, limit int) ([]autoprov.RedirectJob, error) {
	var rows []redirectJobRow
	db := s.db.WithContext(ctx)
	if err := db.Where("next_at <= ?", now.UTC()).Order("next_at").Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, wrap(err, "due redirect jobs")
	}
	var out []autoprov.RedirectJob
	for _, r := range rows {
		res := db.Model(&redirectJobRow{}).Where("id = ? AND next_at = ? AND op = ?", r.ID, r.NextAt, r.Op).UpdateColumn("next_at", leaseUntil.UTC())
		if res.Error != nil {
			return nil, wrap(res.Error, "claim redirect job")
		}
		if res.RowsAffected == 1 {
			out = append(out, r.domain())
		}
	}
	return out, nil
}

// FinishRedirectJob removes a job that is done (or refused for good),
// unless it was replaced meanwhile by another wish (op or creation).
func (s *Store) FinishRedirectJob(ctx context.Context, j autoprov.RedirectJob) error {
	return wrap(s.db.WithContext(ctx).Where("id = ? AND op = ? AND attempts = ?", j.ID, j.Op, j.Attempts).Delete(&redirectJobRow{}).Error, "finish redirect job")
}

// RetryRedirectJob records a failed attempt and when to try again.
func (s *Store) RetryRedirectJob(ctx context.Context, j autoprov.RedirectJob, next time.Time, lastErr string) error {
	res := s.db.WithContext(ctx).Model(&redirectJobRow{}).Where("id = ? AND op = ? AND attempts = ?", j.ID, j.Op, j.Attempts).
		UpdateColumns(map[string]any{"attempts": j.Attempts + 1, "next_at": next.UTC(), "last_error": lastErr})
	return wrap(res.Error, "retry redirect job")
}

// RedirectJobs lists a service's queue, oldest first, and counts it.
func (s *Store) RedirectJobs(ctx context.Context, service string, limit, offset int) ([]autoprov.RedirectJob, int, error) {
	q := s.db.WithContext(ctx).Model(&redirectJobRow{}).Where("service = ?", service)
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return nil, 0, wrap(err, "count redirect jobs")
	}
	var rows []redirectJobRow
	if err := page(q.Order("created_at").Order("id"), limit, offset).Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "redirect jobs")
	}
	out := make([]autoprov.RedirectJob, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(n), nil
}

// CreateRedirectRule stores a rule (audited) and returns it with its id.
func (s *Store) CreateRedirectRule(ctx context.Context, r autoprov.RedirectRule) (autoprov.RedirectRule, error) {
	row := redirectRuleRow{Match: strings.Join(r.Match, ","), Target: r.Target, CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return appendAudit(tx, autoprov.AuditEvent{At: row.CreatedAt, Event: "redirect_rule.created", Actor: r.CreatedBy,
			Detail: fmt.Sprintf("rule %d: %s -> %s", row.ID, row.Match, row.Target)})
	})
	if err != nil {
		return autoprov.RedirectRule{}, wrap(err, "create redirect rule")
	}
	return row.domain(), nil
}

func (r redirectRuleRow) domain() autoprov.RedirectRule {
	m := []string{}
	if r.Match != "" {
		m = strings.Split(r.Match, ",")
	}
	return autoprov.RedirectRule{ID: r.ID, Match: m, Target: r.Target, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
}

// RedirectRules lists every rule by id.
func (s *Store) RedirectRules(ctx context.Context) ([]autoprov.RedirectRule, error) {
	var rows []redirectRuleRow
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap(err, "redirect rules")
	}
	out := make([]autoprov.RedirectRule, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DeleteRedirectRule removes a rule (audited); ErrNotFound when there is none.
func (s *Store) DeleteRedirectRule(ctx context.Context, id int64, actor string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Delete(&redirectRuleRow{}, "id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("redirect rule %d", id)
		}
		return appendAudit(tx, autoprov.AuditEvent{At: time.Now().UTC(), Event: "redirect_rule.deleted", Actor: actor, Detail: fmt.Sprintf("rule %d", id)})
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	return wrap(err, "delete redirect rule %d", id)
}
