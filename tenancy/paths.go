package tenancy

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// normalizePrefix drops a trailing slash, as Gateway API PathPrefix matching
// does ("/apples/" and "/apples" match the same requests).
func normalizePrefix(p string) string {
	if len(p) > 1 {
		return strings.TrimRight(p, "/")
	}
	return p
}

// underPrefix reports whether every request path that path covers lies under
// prefix, segment by segment: "/apples" covers "/apples" and "/apples/x" but
// not "/applesauce". Both arguments must be normalized.
func underPrefix(prefix, path string) bool {
	if prefix == "/" || path == prefix {
		return true
	}
	return strings.HasPrefix(path, prefix+"/")
}

// prefixesOverlap reports whether some request path lies under both.
func prefixesOverlap(a, b string) bool {
	return underPrefix(a, b) || underPrefix(b, a)
}

// pathMatch is an HTTPRoute path match with the API defaults applied: no
// path means PathPrefix "/".
type pathMatch struct {
	kind  gatewayv1.PathMatchType
	value string
}

func effectivePath(m *gatewayv1.HTTPPathMatch) pathMatch {
	pm := pathMatch{kind: gatewayv1.PathMatchPathPrefix, value: "/"}
	if m == nil {
		return pm
	}
	if m.Type != nil {
		pm.kind = *m.Type
	}
	if m.Value != nil {
		pm.value = *m.Value
	}
	return pm
}

// within reports whether every request the match can select has a path under
// one of the prefixes. A regular expression cannot be proven to, so it never is.
func (pm pathMatch) within(prefixes []string) bool {
	var path string
	switch pm.kind {
	case gatewayv1.PathMatchExact:
		path = pm.value
	case gatewayv1.PathMatchPathPrefix:
		path = normalizePrefix(pm.value)
	default:
		return false
	}
	for _, p := range prefixes {
		if underPrefix(p, path) {
			return true
		}
	}
	return false
}
