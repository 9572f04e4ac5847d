package tenancy

import (
	"testing"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

func TestCheckTenant(t *testing.T) {
	p := worldPolicy(t)
	for _, tc := range []struct {
		name       string
		tenant     string // YAML
		violations []string
		warnings   []string
	}{{
		name: "a disjoint tenant admitted",
		tenant: `
metadata: {name: grapes}
spec:
  namespaces: {names: [grapes]}
  hostnames: [{hostname: grapes.example.com}, {hostname: "*.grapes.example.com"}]`,
	}, {
		name: "an existing tenant does not conflict with its old version",
		tenant: `
metadata: {name: apples}
spec:
  namespaces: {names: [apples], selector: {matchLabels: {team: apples}}}
  hostnames: [{hostname: apples.example.com}, {hostname: shop.example.com, pathPrefixes: [/apples]}]`,
	}, {
		name: "another tenant's exact hostname denied, ignoring case and trailing dot",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: grapes.example.com}, {hostname: APPLES.example.com.}]`,
		violations: []string{`spec.hostnames[1]: "apples.example.com" overlaps "apples.example.com" of tenant "apples"; tenants may share a hostname only when each owns disjoint pathPrefixes on it`},
	}, {
		name: "a wildcard over other tenants' hostnames denied",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: "*.example.com"}]`,
		violations: []string{`spec.hostnames[0]: "*.example.com" overlaps "apples.example.com" of tenant "apples" (and 6 more); tenants may share a hostname only when each owns disjoint pathPrefixes on it`},
	}, {
		name: "a name under another tenant's wildcard denied",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: x.bananas.example.com}]`,
		violations: []string{`spec.hostnames[0]: "x.bananas.example.com" overlaps "*.bananas.example.com" of tenant "bananas"; tenants may share a hostname only when each owns disjoint pathPrefixes on it`},
	}, {
		name: "a wildcard does not overlap its apex",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: "*.cherries.example.com"}]`,
	}, {
		name: "a shared host split by disjoint prefixes admitted",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: shop.example.com, pathPrefixes: [/grapes, /applesauce]}]`,
	}, {
		name: "an overlapping prefix on a shared host denied",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: shop.example.com, pathPrefixes: [/grapes, /apples/red]}]`,
		violations: []string{`spec.hostnames[0].pathPrefixes[1]: "/apples/red" overlaps "/apples" that tenant "apples" owns on "shop.example.com"; use path prefixes disjoint from theirs`},
	}, {
		name: "the whole of a shared host denied",
		tenant: `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: shop.example.com}]`,
		violations: []string{`spec.hostnames[0]: "shop.example.com" overlaps "shop.example.com" of tenant "apples" (and 1 more); tenants may share a hostname only when each owns disjoint pathPrefixes on it`},
	}, {
		name: "another tenant's namespace and a platform namespace denied",
		tenant: `
metadata: {name: grapes}
spec:
  namespaces: {names: [grapes, bananas, infra]}`,
		violations: []string{
			`spec.namespaces.names[1]: namespace "bananas" is also claimed by tenant "bananas"; a namespace belongs to at most one tenant, so remove it here or there`,
			`spec.namespaces.names[2]: "infra" is a platform namespace, which belongs to no tenant; remove it`,
		},
	}, {
		name: "a selector matching another tenant's namespace denied, platform namespaces warned",
		tenant: `
metadata: {name: grapes}
spec:
  namespaces: {selector: {matchLabels: {gateway-access: "true"}}}`,
		violations: []string{`spec.namespaces.selector: matches namespace "bananas" of tenant "bananas"; a namespace belongs to at most one tenant, so narrow the selector`},
		warnings:   []string{`spec.namespaces.selector: matches platform namespaces (infra), which stay trusted and outside the tenant`},
	}, {
		name: "an invalid selector denied",
		tenant: `
metadata: {name: grapes}
spec:
  namespaces: {selector: {matchExpressions: [{key: team, operator: Near}]}}`,
		violations: []string{`spec.namespaces.selector: invalid: "Near" is not a valid label selector operator; fix the label selector`},
	}, {
		name: "an empty selector selects nothing",
		tenant: `
metadata: {name: grapes}
spec:
  namespaces: {selector: {}}`,
	}, {
		name: "an unknown gateway warns",
		tenant: `
metadata: {name: grapes}
spec:
  gateways: [{namespace: infra, name: nowhere}]`,
		warnings: []string{`spec.gateways[0]: Gateway infra/nowhere does not exist yet; routes attached to it will not work until it does`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var tenant v1alpha1.Tenant
			decodeYAML(t, tc.tenant, &tenant)
			v := p.CheckTenant(&tenant)
			equalLines(t, "violations", v.Messages(), tc.violations)
			equalLines(t, "warnings", v.Warnings, tc.warnings)
			if v.Denied() != (len(tc.violations) > 0) {
				t.Errorf("Denied() = %v with %d violations", v.Denied(), len(tc.violations))
			}
		})
	}
}

func TestCheckTenantIgnoresWarnMode(t *testing.T) {
	var tenant v1alpha1.Tenant
	decodeYAML(t, `
metadata: {name: grapes}
spec:
  hostnames: [{hostname: apples.example.com}]
  enforcement: Warn`, &tenant)
	if v := worldPolicy(t).CheckTenant(&tenant); !v.Denied() {
		t.Errorf("a conflicting Tenant in Warn mode was not denied: %q", v.Messages())
	}
}
