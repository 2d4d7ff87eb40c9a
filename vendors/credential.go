package vendors

// AuthScheme is an HTTP authentication scheme a phone can answer a
// provisioning server's challenge with.
type AuthScheme string

// The schemes the server offers phones for their per-device files.
const (
	// AuthDigest is HTTP Digest (RFC 7616), with MD5 or SHA-256.
	AuthDigest AuthScheme = "digest"
	// AuthBasic is HTTP Basic (RFC 7617); the server accepts it over
	// HTTPS only.
	AuthBasic AuthScheme = "basic"
)

// Credentialer is implemented by drivers whose phones can be given their
// own provisioning user name and password and present them when they
// fetch their files (the per-device provisioning credential). The driver
// renders Device.ProvisionUser and Device.ProvisionPassword into the
// per-device file, only when Device.WithSecrets is set and never into a
// common file. Drivers without it are "unsupported": their phones get no
// credential and their per-device file is served without one.
type Credentialer interface {
	// ProvisioningAuth lists the schemes the vendor's phones answer a
	// challenge with, preferred first. It is asked on every fetch: a
	// driver may return the same slice each time, which callers must not
	// change.
	ProvisioningAuth() []AuthScheme
}

// DigestThenBasic is the ProvisioningAuth of most drivers: Digest
// preferred, Basic (over HTTPS) too. Shared: do not change it.
var DigestThenBasic = []AuthScheme{AuthDigest, AuthBasic}
