package autoprov

import "time"

// Onboarding states: where a phone's way to this server stands (see
// README.md, "Phones that find us from anywhere"). Registered, pending,
// unavailable, redirected and local are stored (Device.Onboarding);
// provisioned and applied are derived from the disclosure and the
// credential when the device is read (EffectiveOnboarding), so the phone
// path writes nothing for them.
const (
	// OnboardingLocal: the phone found the server by DHCP, plug-and-play or
	// by hand; no redirect service points at it.
	OnboardingLocal = "local"
	// OnboardingPending: a registration with a redirect service is queued
	// (or being retried: Detail says why).
	OnboardingPending = "pending"
	// OnboardingRegistered: a redirect service points the phone's MAC here.
	OnboardingRegistered = "registered"
	// OnboardingRedirected: the phone came through the URL a redirect
	// service hands out (it carries the service's marker).
	OnboardingRedirected = "redirected"
	// OnboardingProvisioned: its secrets went out (the disclosure window was
	// consumed).
	OnboardingProvisioned = "provisioned"
	// OnboardingApplied: it fetched its file presenting its own credential.
	OnboardingApplied = "applied"
	// OnboardingUnavailable: the redirect service refused the MAC (Detail
	// holds its answer).
	OnboardingUnavailable = "unavailable"
)

// OnboardingStates lists every state, in the order a phone goes through them.
var OnboardingStates = []string{OnboardingLocal, OnboardingPending, OnboardingRegistered, OnboardingRedirected,
	OnboardingProvisioned, OnboardingApplied, OnboardingUnavailable}

// Onboarding is a device's onboarding state. Service names the redirect
// service ("yealink-rps", "snom-sraps") or is "" for a local phone.
type Onboarding struct {
	State   string
	Service string
	Detail  string
	At      *time.Time
}

// EffectiveOnboarding is the onboarding state of d as the admin sees it:
// applied once the phone presented its credential, provisioned once its
// secrets went out, else what was stored (local when nothing was).
func EffectiveOnboarding(d Device) Onboarding {
	o := d.Onboarding
	if o.State == "" {
		o = Onboarding{State: OnboardingLocal, Detail: "found on the network (its own fetch, DHCP, plug-and-play) or added by hand", At: &d.CreatedAt}
	}
	switch {
	case d.Credential.State == CredentialApplied:
		o.State, o.At = OnboardingApplied, d.Credential.AppliedAt
		o.Detail = "the phone presented its own credential"
	case d.Disclosure.State == DisclosureConsumed && d.Disclosure.DisclosedAt != nil:
		o.State, o.At = OnboardingProvisioned, d.Disclosure.DisclosedAt
		o.Detail = "its secrets went out"
	}
	return o
}

// Redirect-service job operations.
const (
	RedirectRegister   = "register"
	RedirectDeregister = "deregister"
)

// RedirectService is the configuration of one vendor redirect service.
// Password is a secret: sealed at rest, never shown.
type RedirectService struct {
	Name     string // "yealink-rps" or "snom-sraps"
	Enabled  bool
	URL      string // the service's endpoint
	Username string
	Password string
	// ServerName is the RPS server definition devices are registered to
	// (Yealink); unused by SRAPS.
	ServerName string
	// ProvisionURL is this server's provisioning base URL as phones
	// outside reach it (ending in "/"); "" follows --public-url.
	ProvisionURL string
	UpdatedAt    time.Time
}

// RedirectJob is one registration (or deregistration) waiting in the
// persistent queue, retried with backoff while the service is down.
type RedirectJob struct {
	ID        int64
	Service   string
	MAC       string
	Op        string // RedirectRegister or RedirectDeregister
	Attempts  int
	NextAt    time.Time
	LastError string
	Actor     string
	CreatedAt time.Time
}

// RedirectRule sends phones this server does not know to another
// provisioning server: each entry of Match is a MAC or a MAC prefix
// (canonical lower-case hex, 1 to 12 digits).
type RedirectRule struct {
	ID        int64
	Match     []string
	Target    string // base URL ending in "/"
	CreatedAt time.Time
	CreatedBy string
}
