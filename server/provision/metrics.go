package provision

import (
	"errors"
	"strings"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/vendors"
)

// fetchNote is what Provide learnt about a request, for the fetch metric
// (server/metrics): the vendor that answered and the kind of file.
type fetchNote struct{ vendor, kind string }

func (n *fetchNote) note(v vendors.Vendor, k vendors.FileKind) {
	if v != nil {
		n.vendor = v.Name()
	}
	n.kind = k.String()
}

// fetchOutcome is the fetch metric's outcome of Provide's answer:
// secrets (a body with secrets), served, challenge (401: credentials
// wanted), miss, refused, busy (timeout) or error.
func fetchOutcome(res *Result, err error) string {
	switch {
	case err == nil && res != nil && res.Secret:
		return "secrets"
	case err == nil:
		return "served"
	case isAuthRequired(err):
		return "challenge"
	case errors.Is(err, autoprov.ErrNotFound):
		return "miss"
	case errors.Is(err, autoprov.ErrRefused):
		return "refused"
	}
	return "error"
}

// missReasons map a miss's logged reason to the short, fixed word of the
// misses metric; the first rule whose phrase the reason holds wins.
var missReasons = []struct{ phrase, word string }{
	{"no vendor serves this file", "unknown_file"},
	{"no driver answers POSTs", "unknown_post"},
	{"answered as an unknown MAC", "hidden"},
	{"not admitted to the inbox", "inbox_full"},
	{"without a MAC", "no_mac"},
	{"unassigned", "unassigned"},
	{"client certificate", "client_cert"},
	{"nonce", "credential"},
	{"Digest", "credential"},
	{"credential", "credential"},
	{"tftp_allowed", "transport"},
	{"no driver", "no_driver"},
	{"not served by a driver", "no_driver"},
	{"is not one a", "wrong_vendor_file"},
	{"directory", "directory"},
	{"render", "render"},
	{"MAC", "bad_mac"},
}

// missReason is the misses metric's reason for a refusal of kind whose
// log line says reason.
func missReason(kind error, reason string) string {
	for _, r := range missReasons {
		if strings.Contains(reason, r.phrase) {
			return r.word
		}
	}
	if errors.Is(kind, autoprov.ErrRefused) {
		return "refused"
	}
	return "other"
}

// isAuthRequired reports whether err is an AuthRequiredError (apart, so
// that a fetch without an error allocates nothing for errors.As).
func isAuthRequired(err error) bool {
	var auth *AuthRequiredError
	return errors.As(err, &auth)
}
