package tenancy

import (
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestPathWithin(t *testing.T) {
	owned := []string{normalizePrefix("/apples/"), "/fruit"}
	for _, tc := range []struct {
		kind, value string
		want        bool
	}{
		{"PathPrefix", "/apples", true},
		{"PathPrefix", "/apples/", true},
		{"PathPrefix", "/apples/pie", true},
		{"PathPrefix", "/applesauce", false},
		{"PathPrefix", "/", false},
		{"PathPrefix", "/fruit/x", true},
		{"Exact", "/apples", true},
		{"Exact", "/apples/", true},
		{"Exact", "/app", false},
		{"RegularExpression", "/apples/.*", false},
		{"Unknown", "/apples", false},
	} {
		pm := pathMatch{kind: gatewayv1.PathMatchType(tc.kind), value: tc.value}
		if got := pm.within(owned); got != tc.want {
			t.Errorf("%s %q within %q = %v, want %v", tc.kind, tc.value, owned, got, tc.want)
		}
	}
	if !(pathMatch{kind: "PathPrefix", value: "/x"}).within([]string{"/"}) {
		t.Error(`prefix "/" must cover every path`)
	}
}

func TestPrefixesOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"/apples", "/apples", true},
		{"/apples", "/apples/red", true},
		{"/apples/red", "/apples", true},
		{"/apples", "/applesauce", false},
		{"/", "/anything", true},
		{"/a", "/b", false},
	} {
		if got := prefixesOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("%q overlaps %q = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
