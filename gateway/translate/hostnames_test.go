package translate

import (
	"slices"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestRouteHostnames(t *testing.T) {
	tests := []struct {
		name     string
		listener string
		route    []gatewayv1.Hostname
		want     []string
		ok       bool
	}{
		{name: "route without hostnames inherits the listener's", listener: "a.example.com", ok: true},
		{name: "listener without hostname takes the route's", route: []gatewayv1.Hostname{"b.example.com", "a.example.com"}, want: []string{"a.example.com", "b.example.com"}, ok: true},
		{name: "exact names must be equal", listener: "a.example.com", route: []gatewayv1.Hostname{"b.example.com"}},
		{name: "listener wildcard keeps the matching route names", listener: "*.example.com", route: []gatewayv1.Hostname{"a.example.com", "a.b.example.com", "example.com", "a.example.net"}, want: []string{"a.b.example.com", "a.example.com"}, ok: true},
		{name: "route wildcard narrows to the listener name", listener: "very.specific.com", route: []gatewayv1.Hostname{"*.specific.com"}, want: []string{"very.specific.com"}, ok: true},
		{name: "wildcards intersect as the more specific one", listener: "*.example.com", route: []gatewayv1.Hostname{"*.com", "*.a.example.com", "*.example.com"}, want: []string{"*.a.example.com", "*.example.com"}, ok: true},
		{name: "a wildcard does not match its own suffix", listener: "*.example.com", route: []gatewayv1.Hostname{"example.com"}},
		{name: "a suffix must start at a label", listener: "*.example.com", route: []gatewayv1.Hostname{"badexample.com"}},
		{name: "comparison ignores case", listener: "A.Example.com", route: []gatewayv1.Hostname{"a.example.COM"}, want: []string{"a.example.com"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := routeHostnames(tt.listener, tt.route)
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("routeHostnames(%q, %q) = %q, %v; want %q, %v", tt.listener, tt.route, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestHostnamesOverlap(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "wildcard and a name it matches", a: "*.example.com", b: "foo.example.com", want: true},
		{name: "name and a wildcard that matches it", a: "foo.example.com", b: "*.example.com", want: true},
		{name: "nested wildcards", a: "*.example.com", b: "*.foo.example.com", want: true},
		{name: "no hostname overlaps with any", a: "", b: "foo.example.org", want: true},
		{name: "different names", a: "foo.example.com", b: "foo.example.org"},
		{name: "wildcard and another domain", a: "*.example.com", b: "foo.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostnamesOverlap(tt.a, tt.b); got != tt.want {
				t.Errorf("hostnamesOverlap(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
