package phonecache

import (
	"fmt"
	"testing"
)

// TestMACKey: a canonical MAC is keyed by its value, one key per MAC;
// anything else by a hash that never meets a canonical key; a fleet of
// consecutive MACs spreads over every shard.
func TestMACKey(t *testing.T) {
	s := NewSightings(nil, SightingOptions{})
	if k := s.macKey("805ec0aabb01"); k != 0x805ec0aabb01 {
		t.Fatalf("805ec0aabb01 keyed %#x", k)
	}
	for _, odd := range []string{"805EC0AABB01", "805ec0aabb0", "805ec0aabb01x", "80:5e:c0:aa:bb:01", ""} {
		if k := s.macKey(odd); k>>63 != 1 {
			t.Fatalf("%q keyed %#x, as a canonical MAC", odd, k)
		}
	}
	perShard := map[*sightShard]int{}
	for i := range 16_000 {
		perShard[s.shardOf(s.macKey(fmt.Sprintf("805ec0%06x", i)))]++
	}
	if len(perShard) != shards {
		t.Fatalf("16,000 consecutive MACs in %d shards of %d", len(perShard), shards)
	}
	for _, n := range perShard {
		if n < 500 || n > 1500 {
			t.Fatalf("16,000 consecutive MACs spread unevenly: %v", perShard)
		}
	}
}
