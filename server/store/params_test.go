package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/autoprov/autoprov"
)

// TestRawParams: raw vendor parameters survive the round trip on both
// backends: a device's, a key profile's (with their vendor) and a model's;
// setting none deletes a model's row.
func TestRawParams(t *testing.T) { eachBackend(t, testRawParams) }

func testRawParams(t *testing.T, dsn string) {
	s := open(t, dsn)
	ctx := context.Background()
	dev := []autoprov.Param{{Name: "static.network.vlan.internet_port_vid", Value: "20"}, {Name: "x", Value: "a \"b\" <ü>"}}
	prof := []autoprov.Param{{Vendor: "snom", Name: "vlan_id", Value: "99"}}
	model := []autoprov.Param{{Name: "VLAN_ID", Value: "7"}}
	if err := s.WriteDevice(ctx, autoprov.DeviceWrite{Create: true, Device: autoprov.Device{MAC: "805ec0aabb31", Vendor: "yealink", Model: "T54W",
		State: autoprov.StateAssigned, Params: dev}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Device(ctx, "805ec0aabb31"); err != nil || fmt.Sprint(got.Params) != fmt.Sprint(dev) {
		t.Fatalf("device params = %+v, %v", got.Params, err)
	}
	if _, err := s.CreateKeyProfile(ctx, autoprov.KeyProfile{Name: "p", Params: prof}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.KeyProfile(ctx, "p"); err != nil || fmt.Sprint(p.Params) != fmt.Sprint(prof) {
		t.Fatalf("profile params = %+v, %v", p.Params, err)
	}
	if ps, err := s.ModelParams(ctx, "cisco", "8851"); err != nil || len(ps) != 0 || ps == nil {
		t.Fatalf("no model params = %#v, %v", ps, err)
	}
	for i := 0; i < 2; i++ { // insert, then replace
		if err := s.SetModelParams(ctx, "cisco", "8851", model); err != nil {
			t.Fatal(err)
		}
	}
	if ps, err := s.ModelParams(ctx, "cisco", "8851"); err != nil || fmt.Sprint(ps) != fmt.Sprint(model) {
		t.Fatalf("model params = %+v, %v", ps, err)
	}
	if err := s.SetModelParams(ctx, "cisco", "8851", nil); err != nil {
		t.Fatal(err)
	}
	if ps, err := s.ModelParams(ctx, "cisco", "8851"); err != nil || len(ps) != 0 {
		t.Fatalf("cleared model params = %+v, %v", ps, err)
	}
}
