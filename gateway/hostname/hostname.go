package hostname

import (
	"cmp"
	"strings"
)

// Normalize returns a pattern as the package compares it: lower case,
// without a trailing dot. It allocates only when s has upper-case letters.
func Normalize(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// FromHost returns a Host header or SNI name as a normalized name: without
// port or IPv6 brackets, lower case, no trailing dot.
func FromHost(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[1:end]
		}
	} else if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
		host = host[:colon]
	}
	return Normalize(host)
}

// IsWildcard reports whether a normalized pattern is a wildcard ("*" or
// "*.domain"); "" (any name) is not one.
func IsWildcard(p string) bool { return p == "*" || strings.HasPrefix(p, "*.") }

// MatchesAny reports whether a normalized pattern matches every name.
func MatchesAny(p string) bool { return p == "" || p == "*" }

// Domain is what a wildcard matches names below ("*.a.com" -> "a.com", "*"
// -> ""), or an exact name itself.
func Domain(p string) string {
	if p == "*" {
		return ""
	}
	return strings.TrimPrefix(p, "*.")
}

// Covers reports whether every name b matches is also matched by a, both
// normalized: "*.a.com" covers "x.a.com", "*.x.a.com" and itself, not
// "a.com"; "" and "*" cover everything; an exact name covers only itself.
func Covers(a, b string) bool {
	switch {
	case MatchesAny(a):
		return true
	case a == b:
		return true
	case !IsWildcard(a) || MatchesAny(b):
		return false
	}
	suffix := a[1:] // "*.a.com" -> ".a.com"
	if IsWildcard(b) {
		b = b[1:]
	}
	return len(b) > len(suffix) && strings.HasSuffix(b, suffix)
}

// Overlaps reports whether some name is matched by both patterns; for
// hostnames that is the case exactly when one covers the other.
func Overlaps(a, b string) bool { return Covers(a, b) || Covers(b, a) }

// Intersect returns the names a route hostname serves on a listener: the
// more specific of the two when one covers the other ("" on the listener
// keeps the route's), and false when they share no name.
func Intersect(listener, route string) (string, bool) {
	switch {
	case Covers(listener, route):
		return route, true
	case Covers(route, listener):
		return listener, true
	}
	return "", false
}

// Compare orders patterns from most to least specific: exact names first
// (longest first), then wildcards (longest first), then "" and "*".
func Compare(a, b string) int {
	rank := func(h string) int {
		switch {
		case MatchesAny(h):
			return 2
		case IsWildcard(h):
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), -cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
}

// Parents calls yield with each wildcard that covers the exact or wildcard
// pattern p, most specific first: for "x.a.com" that is "*.a.com", "*.com",
// "*"; a wildcard is first yielded itself. Indexes use it to find covering
// entries in time proportional to p's labels.
func Parents(p string, yield func(wildcard string) bool) {
	if MatchesAny(p) {
		return
	}
	if IsWildcard(p) && !yield(p) {
		return
	}
	for d := Domain(p); d != ""; {
		if dot := strings.IndexByte(d, '.'); dot >= 0 {
			d = d[dot+1:]
		} else {
			d = ""
		}
		w := "*"
		if d != "" {
			w = "*." + d
		}
		if !yield(w) {
			return
		}
	}
}
