package translate

import (
	"slices"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeHostnames returns the hostnames a route serves on a listener: the
// intersection of the listener's hostname ("" matches all) with the route's.
// Nil with ok means every host the listener accepts; !ok means the two do not
// intersect and the route must not attach.
func routeHostnames(listener string, route []gatewayv1.Hostname) (hosts []string, ok bool) {
	if len(route) == 0 {
		return nil, true
	}
	listener = strings.ToLower(listener)
	for _, h := range route {
		if host, ok := intersectHostname(listener, strings.ToLower(string(h))); ok {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) == 0 {
		return nil, false
	}
	slices.Sort(hosts)
	return slices.Compact(hosts), true
}

// intersectHostname returns the more specific of a listener and a route
// hostname when every host the more specific one matches is also matched by
// the other; "*.a.com" covers "b.a.com" and "*.b.a.com" but not "a.com".
func intersectHostname(listener, route string) (string, bool) {
	switch {
	case listener == "" || listener == route:
		return route, true
	case isWildcard(listener) && wildcardCovers(listener, route):
		return route, true
	case isWildcard(route) && wildcardCovers(route, listener):
		return listener, true
	}
	return "", false
}

// hostnamesOverlap reports whether some host is matched by both listener
// hostnames ("" matches all), as OverlappingTLSConfig requires detecting.
func hostnamesOverlap(a, b string) bool {
	_, ok := intersectHostname(a, b)
	if !ok {
		_, ok = intersectHostname(b, a)
	}
	return ok
}

func isWildcard(h string) bool { return strings.HasPrefix(h, "*.") }

// wildcardCovers reports whether wildcard w matches h, an exact name or a
// strictly more specific wildcard.
func wildcardCovers(w, h string) bool {
	suffix := w[1:] // "*.a.com" -> ".a.com"
	if isWildcard(h) {
		h = h[1:]
	}
	return len(h) > len(suffix) && strings.HasSuffix(h, suffix)
}
