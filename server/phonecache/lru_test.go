package phonecache

import "testing"

// The map never holds more than max; when full, an entry read (peeked)
// since it was put outlives one that was not, and every mark is used
// once: a second put evicts the formerly used entry if it was not read
// again.
func TestLRUSecondChance(t *testing.T) {
	var evicted []int
	l := newLRU[int](3, func(v int) { evicted = append(evicted, v) })
	for i := 1; i <= 3; i++ {
		l.put(i, i)
	}
	if _, ok := l.peek(1); !ok { // 1 is the oldest, but used
		t.Fatal("peek 1")
	}
	l.put(4, 4)
	if _, ok := l.peek(1); !ok {
		t.Fatalf("the used entry was evicted (evicted %v)", evicted)
	}
	if len(evicted) != 1 || evicted[0] != 2 {
		t.Fatalf("evicted %v, want [2], the oldest unused", evicted)
	}
	// All used: one pass clears the marks and evicts the oldest of them.
	for _, k := range []int{1, 3, 4} {
		l.peek(k)
	}
	l.put(5, 5)
	if l.len() != 3 {
		t.Fatalf("%d entries, want 3", l.len())
	}
	if len(evicted) != 2 {
		t.Fatalf("evicted %v, want two", evicted)
	}
	if _, ok := l.peek(5); !ok {
		t.Fatal("the new entry is missing")
	}
}
