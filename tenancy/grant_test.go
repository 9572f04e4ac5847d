package tenancy

import (
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestCheckReferenceGrant(t *testing.T) {
	p := worldPolicy(t)
	for _, tc := range []struct {
		name       string
		grant      string // YAML
		tenant     string
		violations []string
	}{{
		name: "allowed namespace, kind and name admitted",
		grant: `
metadata: {namespace: apples, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service, name: apple-echo}]`,
		tenant: "apples",
	}, {
		name: "the tenant's own namespaces are always trusted",
		grant: `
metadata: {namespace: apples, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apples-dev}]
  to: [{group: "", kind: Service, name: apple-echo}]`,
		tenant: "apples",
	}, {
		name: "from a namespace the tenant does not allow denied",
		grant: `
metadata: {namespace: apples, name: g}
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: rogue}
  to: [{group: "", kind: Service, name: apple-echo}]`,
		tenant:     "apples",
		violations: []string{`spec.from[1].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "apples" (allowed: infra); grant from an allowed namespace or add it to Tenant apples spec.referenceGrants.allowFromNamespaces`},
	}, {
		name: "a kind outside allowedKinds denied",
		grant: `
metadata: {namespace: apples, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret, name: apple-tls}]`,
		tenant:     "apples",
		violations: []string{`spec.to[0].kind: "Secret" is not a kind tenant "apples" may open up (allowed: Service); grant one of them or add it to Tenant apples spec.referenceGrants.allowedKinds`},
	}, {
		name: "wildcard name denied unless allowed",
		grant: `
metadata: {namespace: apples, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service}]`,
		tenant:     "apples",
		violations: []string{`spec.to[0].name: unset, so the grant opens up every Service in namespace "apples", which tenant "apples" does not allow; set to.name, or set Tenant apples spec.referenceGrants.allowWildcardNames`},
	}, {
		name: "wildcard name and extra kinds admitted where allowed",
		grant: `
metadata: {namespace: bananas, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apples}]
  to: [{group: "", kind: Service}, {group: "", kind: Secret}]`,
		tenant: "bananas",
	}, {
		name: "grants outside tenant namespaces are not policed",
		grant: `
metadata: {namespace: rogue, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apples}]
  to: [{group: "", kind: Secret}]`,
	}, {
		name: "grants in platform namespaces are not policed",
		grant: `
metadata: {namespace: infra, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: rogue}]
  to: [{group: "", kind: Secret}]`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var g gatewayv1.ReferenceGrant
			decodeYAML(t, tc.grant, &g)
			v := p.CheckReferenceGrant(&g)
			if v.Tenant != tc.tenant {
				t.Errorf("tenant = %q, want %q", v.Tenant, tc.tenant)
			}
			equalLines(t, "violations", v.Messages(), tc.violations)
			if v.Denied() != (len(tc.violations) > 0) {
				t.Errorf("Denied() = %v with %d violations", v.Denied(), len(tc.violations))
			}
		})
	}
}
