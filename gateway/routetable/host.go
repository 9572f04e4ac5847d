package routetable

import (
	"github.com/tenantgate/tenantgate/gateway/hostname"
)

// NormalizeHost returns a Host header or SNI name as the table compares it:
// without port, brackets or trailing dot, in lower case (hostname.FromHost).
func NormalizeHost(host string) string { return hostname.FromHost(host) }

// isWildcard, compareHostnames and covers are the hostname package's rules
// under the names the table's code uses.
func isWildcard(h string) bool         { return hostname.IsWildcard(h) }
func compareHostnames(a, b string) int { return hostname.Compare(a, b) }
func covers(w, h string) bool          { return hostname.Covers(w, h) }

// hostIndex finds the most specific entry for a normalized host: an exact
// name, else the longest matching wildcard suffix, else the catch-all. Its
// maps are sharded so a successor shares all but the shards it changes.
type hostIndex[V any] struct {
	exact    shardedMap[string, *V]
	wildcard shardedMap[string, *V] // keyed by suffix with its dot: "*.a.com" -> ".a.com", "*" -> ""
	catchAll *V
}

func (x *hostIndex[V]) lookup(host string) *V {
	if v, _ := x.exact.get(host); v != nil {
		return v
	}
	if v, _ := x.wildcardAfter(host, 1); v != nil {
		return v
	}
	return x.catchAll
}

// wildcardAfter returns the entry of the longest wildcard matching host whose
// suffix starts at or after index from, and where the suffix starts.
func (x *hostIndex[V]) wildcardAfter(host string, from int) (*V, int) {
	if x.wildcard.len() == 0 {
		return nil, 0
	}
	// The leftmost dot gives the longest suffix, the most specific wildcard.
	for i := max(from, 1); i < len(host); i++ {
		if host[i] != '.' {
			continue
		}
		if v, _ := x.wildcard.get(host[i:]); v != nil {
			return v, i
		}
	}
	return nil, 0
}

// covering calls yield with the entry of the most specific hostname matching
// host, then with those of the less specific hostnames covering that one:
// longer wildcards first, then "*", then the catch-all (the order
// HTTPRouteSpec.Hostnames gives route groups), until yield returns false.
// Nothing is yielded when no hostname matches host.
func (x *hostIndex[V]) covering(host string, yield func(*V) bool) {
	v, _ := x.exact.get(host)
	next := 1 // where the dots of covering wildcards may start
	if v == nil {
		var at int
		if v, at = x.wildcardAfter(host, 1); v != nil {
			next = at + 1
		}
	}
	star, _ := x.wildcard.get("")
	if v == nil {
		// The catch-all is covered by "*" alone.
		if x.catchAll != nil && yield(x.catchAll) && star != nil {
			yield(star)
		}
		return
	}
	if !yield(v) {
		return
	}
	for next < len(host) {
		w, at := x.wildcardAfter(host, next)
		if w == nil {
			break
		}
		if !yield(w) {
			return
		}
		next = at + 1
	}
	if star != nil && !yield(star) {
		return
	}
	if x.catchAll != nil {
		yield(x.catchAll)
	}
}

// get returns the entry stored under exactly hostname, or nil.
func (x *hostIndex[V]) get(hostname string) *V {
	switch {
	case hostname == "":
		return x.catchAll
	case isWildcard(hostname):
		v, _ := x.wildcard.get(hostname[1:])
		return v
	}
	v, _ := x.exact.get(hostname)
	return v
}

// hostEdit changes a copy of a hostIndex; the original stays as it was.
type hostEdit[V any] struct {
	exact, wildcard *shardEdit[string, *V]
	catchAll        *V
}

func (x *hostIndex[V]) edit() *hostEdit[V] {
	return &hostEdit[V]{exact: x.exact.edit(hashString), wildcard: x.wildcard.edit(hashString), catchAll: x.catchAll}
}

// newHostEdit starts a new index sized for about n hostnames.
func newHostEdit[V any](n int) *hostEdit[V] {
	return &hostEdit[V]{exact: newShardEdit[string, *V](n, hashString), wildcard: newShardEdit[string, *V](0, hashString)}
}

// set stores v under hostname; a nil v removes the entry.
func (e *hostEdit[V]) set(hostname string, v *V) {
	switch {
	case hostname == "":
		e.catchAll = v
	case v == nil && isWildcard(hostname):
		e.wildcard.delete(hostname[1:])
	case isWildcard(hostname):
		e.wildcard.set(hostname[1:], v)
	case v == nil:
		e.exact.delete(hostname)
	default:
		e.exact.set(hostname, v)
	}
}

// get returns the entry stored under exactly hostname, or nil.
func (e *hostEdit[V]) get(hostname string) *V {
	var v *V
	switch {
	case hostname == "":
		v = e.catchAll
	case isWildcard(hostname):
		v, _ = e.wildcard.get(hostname[1:])
	default:
		v, _ = e.exact.get(hostname)
	}
	return v
}

func (e *hostEdit[V]) done() hostIndex[V] {
	return hostIndex[V]{exact: e.exact.done(), wildcard: e.wildcard.done(), catchAll: e.catchAll}
}
