package provision

import (
	"reflect"
	"strings"
	"unicode"
)

// Audit events of admin changes. Details name what changed, never a
// secret value.
const (
	EventSettingsUpdated   = "settings.updated"
	EventAccountCreated    = "account.created"
	EventAccountUpdated    = "account.updated"
	EventAccountDeleted    = "account.deleted"
	EventDeviceCreated     = "device.created"
	EventDeviceAdopted     = "device.adopted"
	EventDeviceUpdated     = "device.updated"
	EventDeviceDeleted     = "device.deleted"
	EventKeyProfileCreated = "key_profile.created"
	EventKeyProfileUpdated = "key_profile.updated"
	EventKeyProfileDeleted = "key_profile.deleted"
)

// audit writes an admin change to the audit log. The change is already
// made, so a failure to record it is logged rather than returned.
func (s *Service) audit(mac, event, actor, detail string) {
	if err := s.store.AppendAudit(AuditEvent{At: s.now(), MAC: mac, Event: event, Actor: actor, Detail: detail}); err != nil {
		s.log.Error("audit", "event", event, "mac", mac, "err", err)
	}
}

// notAudited are fields that change on their own (sightings, timestamps,
// the disclosure window, audited separately).
var notAudited = map[string]bool{
	"created_at": true, "updated_at": true, "last_seen": true, "remote_ip": true,
	"user_agent": true, "firmware": true, "last_file": true, "disclosure": true,
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
	for i := range a.NumField() {
		f := a.Type().Field(i)
		name := fieldName(f)
		if notAudited[name] || reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "nothing changed"
	}
	return "changed: " + strings.Join(names, ", ")
}

// fieldName is a field's JSON name, or its snake_case name for a field
// kept out of JSON (the secrets).
func fieldName(f reflect.StructField) string {
	if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
		return tag
	}
	var b strings.Builder
	for i, r := range f.Name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
