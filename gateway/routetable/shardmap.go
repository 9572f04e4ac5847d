package routetable

import (
	"hash/maphash"
	"maps"
	"math/bits"
)

// shardedMap is a map split by key hash into shards of about shardSize
// entries, so a successor Table that changes a few keys copies only their
// shards and the slice of shard pointers, and shares every other shard
// with its predecessor. A published shardedMap is never written again.
type shardedMap[K comparable, V any] struct {
	shards []map[K]V // a power of two of them; nil when empty
	hash   func(K) uint64
	n      int
}

// shardSize is the entries a shard holds on average: an edit copies about
// this many entries plus one pointer per shard.
const shardSize = 64

var shardSeed = maphash.MakeSeed()

func hashString(s string) uint64 { return maphash.String(shardSeed, s) }

func hashRouteKey(k RouteKey) uint64 {
	return maphash.String(shardSeed, k.Namespace)*31 + maphash.String(shardSeed, k.Name)
}

// shardCount is the number of shards for n entries.
func shardCount(n int) int {
	if n <= 2*shardSize {
		return 1
	}
	return 1 << bits.Len(uint((n-1)/shardSize))
}

func (m *shardedMap[K, V]) shard(k K) map[K]V {
	if len(m.shards) == 1 {
		return m.shards[0]
	}
	return m.shards[m.hash(k)&uint64(len(m.shards)-1)]
}

func (m *shardedMap[K, V]) get(k K) (V, bool) {
	if m.n == 0 {
		var zero V
		return zero, false
	}
	v, ok := m.shard(k)[k]
	return v, ok
}

func (m *shardedMap[K, V]) len() int { return m.n }

// all calls f with every entry, in no particular order.
func (m *shardedMap[K, V]) all(f func(K, V)) {
	for _, s := range m.shards {
		for k, v := range s {
			f(k, v)
		}
	}
}

// shardEdit changes a copy of a shardedMap, copying each shard on its first
// change; the original stays as it was.
type shardEdit[K comparable, V any] struct {
	m     shardedMap[K, V]
	owned []bool
}

// edit starts changing a copy of m, whose keys hash is hash.
func (m *shardedMap[K, V]) edit(hash func(K) uint64) *shardEdit[K, V] {
	e := &shardEdit[K, V]{m: shardedMap[K, V]{shards: m.shards, hash: hash, n: m.n}}
	if len(e.m.shards) == 0 {
		e.m.shards = []map[K]V{{}}
		e.owned = []bool{true}
	}
	return e
}

// newShardEdit starts a new map sized for about n entries.
func newShardEdit[K comparable, V any](n int, hash func(K) uint64) *shardEdit[K, V] {
	count := shardCount(n)
	e := &shardEdit[K, V]{m: shardedMap[K, V]{shards: make([]map[K]V, count), hash: hash}, owned: make([]bool, count)}
	for i := range e.m.shards {
		e.m.shards[i] = make(map[K]V, n/count)
		e.owned[i] = true
	}
	return e
}

// own returns k's shard, copied once so it can be written.
func (e *shardEdit[K, V]) own(k K) map[K]V {
	i := 0
	if len(e.m.shards) > 1 {
		i = int(e.m.hash(k) & uint64(len(e.m.shards)-1))
	}
	if e.owned == nil {
		e.owned = make([]bool, len(e.m.shards))
		e.m.shards = append([]map[K]V(nil), e.m.shards...)
	}
	if !e.owned[i] {
		e.m.shards[i] = maps.Clone(e.m.shards[i])
		e.owned[i] = true
	}
	return e.m.shards[i]
}

func (e *shardEdit[K, V]) get(k K) (V, bool) { return e.m.get(k) }

func (e *shardEdit[K, V]) set(k K, v V) {
	s := e.own(k)
	if _, ok := s[k]; !ok {
		e.m.n++
	}
	s[k] = v
}

func (e *shardEdit[K, V]) delete(k K) {
	if _, ok := e.m.get(k); !ok {
		return
	}
	delete(e.own(k), k)
	e.m.n--
}

// done returns the edited map, reshaped when it grew or shrank far from its
// shard count (a rare whole copy, which keeps later edits small).
func (e *shardEdit[K, V]) done() shardedMap[K, V] {
	m := e.m
	if want := shardCount(m.n); want > 4*len(m.shards) || 4*want < len(m.shards) {
		m = reshard(&m, want)
	}
	if m.n == 0 {
		m.shards = nil
	}
	e.m, e.owned = shardedMap[K, V]{}, nil
	return m
}

// reshard copies m into shards of the count given.
func reshard[K comparable, V any](m *shardedMap[K, V], shards int) shardedMap[K, V] {
	out := shardedMap[K, V]{shards: make([]map[K]V, shards), hash: m.hash, n: m.n}
	for i := range out.shards {
		out.shards[i] = make(map[K]V, m.n/shards+m.n/(4*shards))
	}
	m.all(func(k K, v V) { out.shards[out.hash(k)&uint64(shards-1)][k] = v })
	return out
}
