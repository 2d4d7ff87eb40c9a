package vendors

import (
	"testing"
	"time"
)

// TestResolveZoneLoadsOnce: a zone is loaded (its tzdata file read and
// parsed) once per name and year, and no caller shares the remembered
// rule: changing what one call returned changes nothing for the next.
func TestResolveZoneLoadsOnce(t *testing.T) {
	loads := 0
	load := loadLocation
	loadLocation = func(name string) (*time.Location, error) { loads++; return load(name) }
	defer func() { loadLocation = load }()
	first, err := ResolveZone("America/St_Johns", 2031)
	if err != nil || first.DST == nil {
		t.Fatalf("zone %+v, %v", first, err)
	}
	want := *first.DST
	first.DST.Save = 1
	for range 3 {
		z, err := ResolveZone("America/St_Johns", 2031)
		if err != nil || z.DST == nil || *z.DST != want || z.Offset != first.Offset {
			t.Fatalf("zone %+v, %v; want the first one's rule %+v", z, err, want)
		}
	}
	if _, err := ResolveZone("America/St_Johns", 2032); err != nil {
		t.Fatal(err)
	}
	if loads != 2 {
		t.Errorf("%d loads for 2 names and years, want 2", loads)
	}
}
