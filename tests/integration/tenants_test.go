package integration

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Tenants: no overlapping hostnames (except disjoint paths on a shared
// host), no namespace of another tenant, no platform namespace, whatever
// the enforcement mode.

const overlapRule = "tenants may share a hostname only when each owns disjoint pathPrefixes on it"

var tenantCases = []admissionCase{{
	name: "a disjoint tenant admitted",
	obj:  tenant("grapes", namespaces("grapes"), owns("grapes.example.com"), owns("*.grapes.example.com")),
}, {
	name: "another tenant's hostname denied, ignoring case and trailing dot",
	obj:  tenant("grapes", owns("grapes.example.com"), owns("KIWIS.example.com.")),
	want: denied(`spec.hostnames[1]: "kiwis.example.com" overlaps "kiwis.example.com" of tenant "kiwis"; ` + overlapRule),
}, {
	name: "a wildcard over other tenants' hostnames denied",
	obj:  tenant("grapes", owns("*.example.com")),
	want: denied(`spec.hostnames[0]: "*.example.com" overlaps "apples.example.com" of tenant "apples" (and 10 more); ` + overlapRule),
}, {
	name: "a name under another tenant's wildcard denied",
	obj:  tenant("grapes", owns("x.limes.example.com")),
	want: denied(`spec.hostnames[0]: "x.limes.example.com" overlaps "*.limes.example.com" of tenant "limes"; ` + overlapRule),
}, {
	name: "a wildcard does not overlap its apex",
	obj:  tenant("grapes", owns("*.melons.example.com")),
}, {
	name: "a shared host split by disjoint prefixes admitted",
	obj:  tenant("grapes", owns("shop.example.com", "/grapes", "/kiwisauce")),
}, {
	name: "an overlapping prefix on a shared host denied",
	obj:  tenant("grapes", owns("shop.example.com", "/grapes", "/kiwis/red")),
	want: denied(`spec.hostnames[0].pathPrefixes[1]: "/kiwis/red" overlaps "/kiwis" that tenant "kiwis" owns on "shop.example.com"; use path prefixes disjoint from theirs`),
}, {
	name: "the whole of a shared host denied",
	obj:  tenant("grapes", owns("shop.example.com")),
	want: denied(`spec.hostnames[0]: "shop.example.com" overlaps "shop.example.com" of tenant "kiwis" (and 1 more); ` + overlapRule),
}, {
	name: "another tenant's namespace and a platform namespace denied",
	obj:  tenant("grapes", namespaces("grapes", "limes", "infra")),
	want: denied(
		`spec.namespaces.names[1]: namespace "limes" is also claimed by tenant "limes"; a namespace belongs to at most one tenant, so remove it here or there`,
		`spec.namespaces.names[2]: "infra" is a platform namespace, which belongs to no tenant; remove it`),
}, {
	name: "a selector matching another tenant's namespace denied, platform namespaces warned",
	obj:  tenant("grapes", selector(metav1.LabelSelector{MatchLabels: map[string]string{"gateway-access": "true"}})),
	want: want{
		denied:   []string{`spec.namespaces.selector: matches namespace "limes" of tenant "limes"; a namespace belongs to at most one tenant, so narrow the selector`},
		warnings: []string{`spec.namespaces.selector: matches platform namespaces (infra), which stay trusted and outside the tenant`},
	},
}, {
	name: "a selector of unclaimed namespaces admitted",
	obj:  tenant("grapes", selector(metav1.LabelSelector{MatchLabels: map[string]string{"team": "grapes"}})),
}, {
	name: "an invalid selector denied",
	obj: tenant("grapes", selector(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "team", Operator: "Near"}}})),
	want: denied(`spec.namespaces.selector: invalid: "Near" is not a valid label selector operator; fix the label selector`),
}, {
	name: "an unknown gateway admitted with a warning",
	obj:  tenant("grapes", gateway("infra", "nowhere")),
	want: warned(`spec.gateways[0]: Gateway infra/nowhere does not exist yet; routes attached to it will not work until it does`),
}, {
	name: "a conflict denied even in Warn mode",
	obj:  tenant("grapes", owns("kiwis.example.com"), enforcement(v1alpha1.EnforcementWarn)),
	want: denied(`spec.hostnames[0]: "kiwis.example.com" overlaps "kiwis.example.com" of tenant "kiwis"; ` + overlapRule),
}}
