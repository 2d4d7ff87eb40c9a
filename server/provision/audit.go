package provision

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"unicode"

	"github.com/autoprov/autoprov"
)

// audit writes an admin change to the audit log. The change is already
// made, so a failure to record it is logged rather than returned, and the
// write runs on a context of its own (bounded like the writes that settle
// a transfer): a caller that hung up after the change must not leave it
// unaudited.
func (s *Inventory) audit(ctx context.Context, mac, event, actor, detail string) {
	ctx, cancel := afterChange(ctx)
	defer cancel()
	if err := s.st.Audit.AppendAudit(ctx, autoprov.AuditEvent{At: s.now(), MAC: mac, Event: event, Actor: actor, Detail: detail}); err != nil {
		s.log.Error("audit", "event", event, "mac", mac, "err", err)
	}
}

// notAudited are fields that change on their own (sightings, timestamps,
// the disclosure window, audited separately).
var notAudited = map[string]bool{
	"created_at": true, "updated_at": true, "last_seen": true, "remote_ip": true,
	"user_agent": true, "firmware": true, "last_file": true, "disclosure": true,
	"password_generated": true, // follows the password, which is named
}

// changedFields lists the names of the fields that differ between two
// values of one struct type, as the API names them: "changed: label,
// web_password". Secret fields are named, their values never shown.
func changedFields(before, after any) string {
	a, b := reflect.ValueOf(before), reflect.ValueOf(after)
	if a.Type() != b.Type() || a.Kind() != reflect.Struct {
		return ""
	}
	var names []string
	for i, name := range auditedNames(a.Type()) {
		if name == "" {
			continue
		}
		x, y := a.Field(i), b.Field(i)
		var same bool
		switch x.Kind() {
		case reflect.String: // most fields: compared without a copy
			same = x.String() == y.String()
		case reflect.Bool:
			same = x.Bool() == y.Bool()
		default:
			same = reflect.DeepEqual(x.Interface(), y.Interface())
		}
		if !same {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "nothing changed"
	}
	return "changed: " + strings.Join(names, ", ")
}

// auditNames holds auditedNames' answers by struct type.
var auditNames sync.Map // reflect.Type -> []string

// auditedNames are the API names of t's fields, in order, "" for those
// not audited: worked out once per type (a bulk change audits 100,000
// rows of the same two types).
func auditedNames(t reflect.Type) []string {
	if v, ok := auditNames.Load(t); ok {
		return v.([]string)
	}
	names := make([]string, t.NumField())
	for i := range names {
		if name := snake(t.Field(i).Name); !notAudited[name] {
			names[i] = name
		}
	}
	auditNames.Store(t, names)
	return names
}

// snake turns a Go field name into the API's snake_case, keeping
// acronyms whole: "SIPServer" is "sip_server", "RemoteIP" "remote_ip".
func snake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
