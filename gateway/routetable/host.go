package routetable

import (
	"cmp"
	"strings"
)

// NormalizeHost returns a Host header or SNI name as the table compares it:
// without port, brackets or trailing dot, in lower case. It allocates only
// when host has upper-case letters.
func NormalizeHost(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[1:end]
		}
	} else if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
		host = host[:colon]
	}
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(host)
}

// isWildcard reports whether hostname is a wildcard such as "*.a.com".
func isWildcard(hostname string) bool { return strings.HasPrefix(hostname, "*.") }

// compareHostnames orders hostnames from most to least specific: exact names
// first (longest first), then wildcards (longest suffix first), then "".
func compareHostnames(a, b string) int {
	rank := func(h string) int {
		switch {
		case h == "":
			return 2
		case isWildcard(h):
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), -cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
}

// covers reports whether wildcard w matches every host that hostname h
// matches, h being an exact name or a more specific wildcard.
func covers(w, h string) bool {
	suffix := w[1:] // "*.a.com" -> ".a.com"
	if isWildcard(h) {
		h = h[1:]
	}
	return len(h) > len(suffix) && strings.HasSuffix(h, suffix)
}

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
