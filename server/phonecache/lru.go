package phonecache

import "sync/atomic"

// lru is a map whose least recently used entry goes first when it is
// full, by second chance: peek, which readers call together under the
// Cache's read lock, only marks an entry used; when the map is full, put
// moves the used entries at the back to the front (clearing the mark)
// and evicts the first unused one. Everything else needs the Cache's
// write lock.
type lru[K comparable, V any] struct {
	max   int
	items map[K]*node[K, V]
	head  node[K, V] // sentinel: head.next is the most recent, head.prev the least
	evict func(V)
}

type node[K comparable, V any] struct {
	key        K
	val        V
	prev, next *node[K, V]
	used       atomic.Bool // peeked since put or its last second chance
}

func newLRU[K comparable, V any](max int, evict func(V)) *lru[K, V] {
	l := &lru[K, V]{max: max, items: make(map[K]*node[K, V]), evict: evict}
	l.head.next, l.head.prev = &l.head, &l.head
	return l
}

func (l *lru[K, V]) unlink(n *node[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
}

func (l *lru[K, V]) front(n *node[K, V]) {
	n.prev, n.next = &l.head, l.head.next
	l.head.next.prev = n
	l.head.next = n
}

// peek returns the value of k and marks it used; safe for concurrent
// readers (under the Cache's read lock).
func (l *lru[K, V]) peek(k K) (V, bool) {
	n, ok := l.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !n.used.Load() {
		n.used.Store(true)
	}
	return n.val, true
}

// put sets k, evicting the least recent entry when full; a value it
// replaces or evicts goes to evict.
func (l *lru[K, V]) put(k K, v V) {
	if n, ok := l.items[k]; ok {
		old := n.val
		n.val = v
		l.unlink(n)
		l.front(n)
		if l.evict != nil {
			l.evict(old)
		}
		return
	}
	if len(l.items) >= l.max {
		last := l.head.prev
		// Second chance: a used entry goes to the front, unmarked; one
		// pass over the map at most, as every mark is cleared on the way.
		for range len(l.items) {
			if !last.used.Load() {
				break
			}
			last.used.Store(false)
			l.unlink(last)
			l.front(last)
			last = l.head.prev
		}
		l.unlink(last)
		delete(l.items, last.key)
		if l.evict != nil {
			l.evict(last.val)
		}
	}
	n := &node[K, V]{key: k, val: v}
	l.items[k] = n
	l.front(n)
}

// remove deletes k, handing its value to evict.
func (l *lru[K, V]) remove(k K) {
	n, ok := l.items[k]
	if !ok {
		return
	}
	l.unlink(n)
	delete(l.items, k)
	if l.evict != nil {
		l.evict(n.val)
	}
}

// clear deletes everything, handing each value to evict.
func (l *lru[K, V]) clear() {
	if l.evict != nil {
		for _, n := range l.items {
			l.evict(n.val)
		}
	}
	clear(l.items)
	l.head.next, l.head.prev = &l.head, &l.head
}

func (l *lru[K, V]) len() int { return len(l.items) }
