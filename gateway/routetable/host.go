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
// name, else the longest matching wildcard suffix, else the catch-all.
type hostIndex[V any] struct {
	exact    map[string]*V
	wildcard map[string]*V // keyed by suffix with its dot: "*.a.com" -> ".a.com"
	catchAll *V
}

func (x *hostIndex[V]) add(hostname string, v *V) {
	switch {
	case hostname == "":
		x.catchAll = v
	case isWildcard(hostname):
		if x.wildcard == nil {
			x.wildcard = map[string]*V{}
		}
		x.wildcard[hostname[1:]] = v
	default:
		if x.exact == nil {
			x.exact = map[string]*V{}
		}
		x.exact[hostname] = v
	}
}

func (x *hostIndex[V]) lookup(host string) *V {
	if v, ok := x.exact[host]; ok {
		return v
	}
	if len(x.wildcard) > 0 {
		// The leftmost dot gives the longest suffix, the most specific wildcard.
		for i := 0; i < len(host); i++ {
			if host[i] != '.' {
				continue
			}
			if v, ok := x.wildcard[host[i:]]; ok && i > 0 {
				return v
			}
		}
	}
	return x.catchAll
}

// get returns the entry stored under exactly hostname, or nil.
func (x *hostIndex[V]) get(hostname string) *V {
	switch {
	case hostname == "":
		return x.catchAll
	case isWildcard(hostname):
		return x.wildcard[hostname[1:]]
	}
	return x.exact[hostname]
}
