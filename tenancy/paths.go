package tenancy

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// normalizePrefix puts a path in the normal form the data plane matches
// requests in (routetable.NormalizePath: escapes, dot segments, merged
// slashes), then drops a trailing slash, as PathPrefix matching does
// ("/apples/" and "/apples" match the same requests). A path that cannot be
// normalised is returned as is: it matches no request.
func normalizePrefix(p string) string {
	if normal, err := routetable.NormalizePath(p); err == nil {
		p = normal
	}
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
		if normal, err := routetable.NormalizePath(path); err == nil {
			path = normal // "/apples/../bananas" is matched as "/bananas"
		}
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
