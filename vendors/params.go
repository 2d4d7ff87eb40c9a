package vendors

import (
	"fmt"
	"regexp"
	"strings"
)

// Param is a raw vendor parameter as a driver renders it: a name in the
// vendor's own vocabulary and its value. Device.Params holds them, the
// core's merge of the model's, the key profile's and the device's own
// (a later layer replaces an earlier one's value of the same name).
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParamChecker is implemented by drivers that take raw parameters (as
// Wazo, FusionPBX and Tancredi offer). A driver renders Device.Params
// last in the per-device file, after everything the product writes, so
// that they win; it never renders them into a common file.
type ParamChecker interface {
	// CheckParam classifies a raw parameter's name for a model ("" for
	// any of the driver's models). refused is why the driver will not
	// carry it (a secret, the provisioning server's own settings), ""
	// otherwise; known says whether the name is one the vendor's
	// references document (an unknown one is rendered as given, and the
	// core warns about it). The name has passed CheckParamName.
	CheckParam(model, name string) (known bool, refused string)
}

// Bounds of a raw parameter.
const (
	MaxParamName  = 128
	MaxParamValue = 1024
	MaxParams     = 200
)

var paramName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]*(\[[0-9]{1,4}\])?$`)

// CheckParamName checks what every vendor's parameter name must be: a
// letter, then letters, digits, '_', '.', '-', optionally one index in
// brackets ("user_srtp[1]", Snom's idx), at most MaxParamName long; and
// the value: at most MaxParamValue long, without control characters
// (SafeText). It returns the problem, or "".
func CheckParamName(name, value string) string {
	switch {
	case len(name) == 0 || len(name) > MaxParamName || !paramName.MatchString(name):
		return fmt.Sprintf("name %q must be a letter, then letters, digits, _ . - (and one [index]), at most %d long", name, MaxParamName)
	case len(value) > MaxParamValue || !SafeText(value):
		return fmt.Sprintf("value of %s must be at most %d characters without control characters", name, MaxParamValue)
	}
	return ""
}

// secretWords are the parts of a name that say it carries a secret.
var secretWords = []string{"password", "passwd", "passphrase", "secret", "credential", "privatekey", "private_key", "aes_key", "aeskey"}

// secretTokens are whole name parts ('.', '_', '-', '[' separated, any
// case) that say the same.
var secretTokens = map[string]bool{"pass": true, "pwd": true, "pin": true, "token": true, "psk": true, "key_pass": true}

// SecretParam reports whether a raw parameter's name names a secret in any
// vendor's vocabulary (user_pass, account.1.password, Admin_Passwd,
// SIP.Account.0.AuthPassword, phone_lock.unlock_pin...): secrets come from
// the product's own fields, which the core discloses once; a raw
// parameter would show them in every preview and API answer.
func SecretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	ts := strings.FieldsFunc(n, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '[' || r == ']' })
	for i, t := range ts {
		if secretTokens[t] || (i > 0 && secretPairs[[2]string{ts[i-1], t}]) {
			return true
		}
	}
	return false
}

// secretPairs are two name parts in a row that say the same: a DECT
// base's handset registration code (Snom's subscr_dect_ac_code and
// ac_code, Gigaset's hs.N.DECT_AC), which the driver writes from the
// device's menu PIN, once.
var secretPairs = map[[2]string]bool{{"ac", "code"}: true, {"dect", "ac"}: true}

// ParamRule is one family of names a driver knows or refuses: a name
// matches when it equals Prefix or starts with it (Prefix ending in '.'
// or '_'), case-insensitively when Fold.
type ParamRule struct {
	Prefix string
	Fold   bool
	Why    string // for a refusal: the reason
}

// Match reports whether name falls under the rule.
func (r ParamRule) Match(name string) bool {
	n, p := name, r.Prefix
	if r.Fold {
		n, p = strings.ToLower(n), strings.ToLower(p)
	}
	if i := strings.IndexByte(n, '['); i >= 0 {
		n = n[:i]
	}
	if strings.HasSuffix(p, ".") || strings.HasSuffix(p, "_") {
		return strings.HasPrefix(n, p)
	}
	return n == p
}

// CheckParamRules is the common CheckParam: a secret (SecretParam) or a
// name under one of refuse is refused, a name under one of known is
// known.
func CheckParamRules(name string, known, refuse []ParamRule) (bool, string) {
	if SecretParam(name) {
		return false, "it carries a secret: secrets come from the device's own fields (passwords, PINs, the provisioning credential)"
	}
	for _, r := range refuse {
		if r.Match(name) {
			return false, r.Why
		}
	}
	for _, r := range known {
		if r.Match(name) {
			return true, ""
		}
	}
	return false, ""
}
