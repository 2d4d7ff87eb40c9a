package provision

import (
	"testing"

	"github.com/autoprov/autoprov"
)

// TestChangedFieldsNamesWhatDiffers: the audit detail names the fields
// that differ (strings, booleans, slices, structs), in the type's order,
// never the unaudited ones, and the same for every call on the type
// (the names are worked out once per type).
func TestChangedFieldsNamesWhatDiffers(t *testing.T) {
	before := autoprov.Device{MAC: "805ec0000001", Label: "a", Accounts: []string{"100"}, Keys: []autoprov.KeySpec{}, WebPassword: "x"}
	after := before
	after.Label, after.WebPassword, after.TFTPAllowed = "b", "y", true
	after.Accounts = []string{"101"}
	after.RemoteIP, after.Disclosure.State = "10.0.0.1", autoprov.DisclosureOpen // not audited
	for range 2 {
		if got, want := changedFields(before, after), "changed: label, accounts, web_password, tftp_allowed"; got != want {
			t.Fatalf("changedFields = %q, want %q", got, want)
		}
	}
	if got := changedFields(before, before); got != "nothing changed" {
		t.Fatalf("changedFields(same) = %q", got)
	}
	a, b := autoprov.Account{Extension: "100", Password: "p"}, autoprov.Account{Extension: "100", Password: "q", PasswordGenerated: true}
	if got, want := changedFields(a, b), "changed: password"; got != want {
		t.Fatalf("changedFields(accounts) = %q, want %q", got, want)
	}
}
