package tenancy

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// objectCase checks one object of any policed kind against testdata/world.yaml.
type objectCase struct {
	name       string
	kind       string // HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute, ListenerSet, Gateway, Namespace
	obj        string // YAML
	tenant     string
	violations []string
	warnings   []string
}

// checkObject decodes obj as kind and asks the policy, also returning the
// enforced lines of the gateway-side function for the kind.
func checkObject(t *testing.T, p *Policy, kind, obj string) (Verdict, []string) {
	t.Helper()
	flat := func(lv ListenerViolations) []string {
		out := append([]string(nil), lv.Object...)
		for _, lines := range lv.Listeners {
			out = append(out, lines...)
		}
		return out
	}
	switch kind {
	case kindHTTPRoute:
		var r gatewayv1.HTTPRoute
		decodeYAML(t, obj, &r)
		return p.CheckHTTPRoute(&r), p.RouteViolations(&r)
	case kindGRPCRoute:
		var r gatewayv1.GRPCRoute
		decodeYAML(t, obj, &r)
		return p.CheckGRPCRoute(&r), p.GRPCRouteViolations(&r)
	case kindTLSRoute:
		var r gatewayv1.TLSRoute
		decodeYAML(t, obj, &r)
		return p.CheckTLSRoute(&r), p.TLSRouteViolations(&r)
	case kindTCPRoute:
		var r gatewayv1.TCPRoute
		decodeYAML(t, obj, &r)
		return p.CheckTCPRoute(&r), p.TCPRouteViolations(&r)
	case kindUDPRoute:
		var r gatewayv1.UDPRoute
		decodeYAML(t, obj, &r)
		return p.CheckUDPRoute(&r), p.UDPRouteViolations(&r)
	case kindListenerSet:
		var ls gatewayv1.ListenerSet
		decodeYAML(t, obj, &ls)
		return p.CheckListenerSet(&ls), flat(p.ListenerSetViolations(&ls))
	case kindGateway:
		var gw gatewayv1.Gateway
		decodeYAML(t, obj, &gw)
		return p.CheckGateway(&gw), flat(p.GatewayViolations(&gw))
	case "Namespace":
		var ns corev1.Namespace
		decodeYAML(t, obj, &ns)
		v := p.CheckNamespace(&ns)
		if v.Denied() {
			return v, v.Messages()
		}
		return v, nil
	}
	t.Fatalf("unknown kind %s", kind)
	return Verdict{}, nil
}

func runObjectCases(t *testing.T, cases []objectCase) {
	t.Helper()
	p := worldPolicy(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, enforced := checkObject(t, p, tc.kind, tc.obj)
			if v.Tenant != tc.tenant {
				t.Errorf("tenant = %q, want %q", v.Tenant, tc.tenant)
			}
			equalLines(t, "violations", v.Messages(), tc.violations)
			equalLines(t, "warnings", v.Warnings, tc.warnings)
			if v.Denied() != (len(enforced) > 0) || len(enforced) > 0 && len(enforced) != len(v.Violations) {
				t.Errorf("gateway-side violations %q disagree with the verdict (denied %v)", enforced, v.Denied())
			}
			if again, _ := checkObject(t, p, tc.kind, tc.obj); !reflect.DeepEqual(v, again) {
				t.Errorf("not deterministic")
			}
		})
	}
}

func TestOtherRouteKinds(t *testing.T) {
	runObjectCases(t, []objectCase{{
		name: "GRPCRoute claiming another tenant's hostname denied",
		kind: kindGRPCRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: https}]
  hostnames: [bananas.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames[0]: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames`},
	}, {
		name: "GRPCRoute on a host shared by path denied: it has no paths",
		kind: kindGRPCRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames[0]: "shop.example.com" is a shared host on which tenant "apples" owns only the paths /apples, /fruit/apples, and a GRPCRoute has no path matches to keep it inside them (tenant "apples", spec.hostnames pathPrefixes); use a hostname the tenant owns whole`},
	}, {
		name: "GRPCRoute admitted on a listener whose kinds list it",
		kind: kindGRPCRoute,
		obj: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: grpc}]
  hostnames: [api.bananas.example.com]`,
		tenant: "bananas",
	}, {
		name: "TLSRoute SNI of another tenant denied, whatever its case and trailing dot",
		kind: kindTLSRoute,
		obj: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tls}]
  hostnames: [APPLES.example.com.]
  rules: [{backendRefs: [{name: db, port: 443}]}]`,
		tenant:     "bananas",
		violations: []string{`spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`},
	}, {
		name: "TLSRoute without hostnames inherits the listener's wildcard",
		kind: kindTLSRoute,
		obj: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tls}]`,
		tenant:     "bananas",
		violations: []string{`spec.hostnames: empty, so the route inherits "*.example.com" from listener infra/l4/tls, which tenant "bananas" does not own; list hostnames the tenant owns in spec.hostnames`},
	}, {
		name: "TCPRoute on a Gateway the tenant may not use denied",
		kind: kindTCPRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tcp}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0]: Gateway infra/l4 is not one of the gateways tenant "apples" may use (infra/edge, infra/shared (listeners apples-only, https)); attach to one of them or add it to Tenant apples spec.gateways`},
	}, {
		name: "TCPRoute on a listener the tenant may not use denied, and warned: it carries no TCP",
		kind: kindTCPRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: grpc}]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0].sectionName: listener "grpc" of Gateway infra/shared is not one tenant "apples" may use (apples-only, https); use one of them or add it to Tenant apples spec.gateways`},
		warnings:   []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/shared does not admit this route: listener grpc does not allow TCPRoutes; change the listener's allowedRoutes or the parentRef.`},
	}, {
		name: "TCPRoute by port selecting a listener the tenant may not use denied",
		kind: kindTCPRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, port: 9090}]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0].sectionName: unset, so the route attaches to every listener of Gateway infra/shared on port 9090, but tenant "apples" may use only listeners apples-only, https; set sectionName to one of them`},
		warnings:   []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/shared does not admit this route: listener grpc does not allow TCPRoutes; change the listener's allowedRoutes or the parentRef.`},
	}, {
		name: "TCPRoute sending traffic outside its tenant denied",
		kind: kindTCPRoute,
		obj: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tcp}]
  rules: [{backendRefs: [{name: apple-db, namespace: apples, port: 5432}]}]`,
		tenant:     "bananas",
		violations: []string{`spec.rules[0].backendRefs[0].namespace: "apples" is outside tenant "bananas"; send traffic only to the tenant's namespaces (bananas) or add it to Tenant bananas spec.backendNamespaces`},
	}, {
		name: "UDPRoute of no tenant admitted: it claims no hostname",
		kind: kindUDPRoute,
		obj: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, port: 5353}]
  rules: [{backendRefs: [{name: dns, port: 53}]}]`,
	}, {
		name: "GRPCRoute of no tenant claiming a tenant's hostname denied",
		kind: kindGRPCRoute,
		obj: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: grpc}]
  hostnames: [x.apples.example.com]`,
		violations: []string{`spec.hostnames[0]: "x.apples.example.com" is owned by tenant "apples" ("*.apples.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant apples`},
	}})
}

func TestListenerSetParents(t *testing.T) {
	runObjectCases(t, []objectCase{{
		name: "a route without hostnames inherits a ListenerSet listener's hostname",
		kind: kindHTTPRoute,
		obj: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{kind: ListenerSet, namespace: infra, name: apples-web}]`,
		tenant:     "bananas",
		violations: []string{`spec.hostnames: empty, so the route inherits "apples.example.com" from listener infra/apples-web/web, which tenant "bananas" does not own; list hostnames the tenant owns in spec.hostnames`},
	}, {
		name: "a route of no tenant inheriting it through the ListenerSet denied",
		kind: kindHTTPRoute,
		obj: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{kind: ListenerSet, namespace: infra, name: apples-web, sectionName: web}]`,
		violations: []string{`spec.hostnames: empty, so the route takes "apples.example.com" from listener infra/apples-web/web, which covers "apples.example.com" of tenant "apples", and namespace "rogue" belongs to no tenant; list hostnames no tenant owns in spec.hostnames`},
	}, {
		name: "a ListenerSet of a Gateway the tenant may not use denied",
		kind: kindHTTPRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{kind: ListenerSet, namespace: infra, name: apples-web}]
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0]: ListenerSet infra/apples-web adds listeners to Gateway infra/l4, which is not one of the gateways tenant "apples" may use (infra/edge, infra/shared (listeners apples-only, https)); attach to a ListenerSet of one of them or add the Gateway to Tenant apples spec.gateways`},
	}, {
		name: "an unknown ListenerSet cannot be proven safe",
		kind: kindGRPCRoute,
		obj: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{kind: ListenerSet, name: mine}]
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0]: ListenerSet apples/mine does not exist, so its Gateway cannot be checked against the gateways tenant "apples" may use (infra/edge, infra/shared (listeners apples-only, https)); create the ListenerSet first or attach to one of those gateways`},
		warnings:   []string{`spec.parentRefs[0]: ListenerSet apples/mine does not exist; the route will not attach until it does`},
	}, {
		name: "a tenant without gateways may attach to an owned ListenerSet listener",
		kind: kindHTTPRoute,
		obj: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{kind: ListenerSet, namespace: infra, name: apples-web}]
  hostnames: [bananas.example.com]`,
		tenant: "bananas",
	}})
}

func TestListenerSetsAndGateways(t *testing.T) {
	runObjectCases(t, []objectCase{{
		name: "a listener for another tenant's hostname is a takeover",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: bananas, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners:
  - {name: mine, port: 80, protocol: HTTP, hostname: bananas.example.com}
  - {name: theirs, port: 443, protocol: HTTPS, hostname: Apples.Example.com.}
  - {name: inside, port: 80, protocol: HTTP, hostname: "*.red.apples.example.com"}`,
		tenant: "bananas",
		violations: []string{
			`spec.listeners[1].hostname: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`,
			`spec.listeners[2].hostname: "*.red.apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`,
		},
	}, {
		name: "a wildcard listener covering others' hostnames denied",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: bananas, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: all, port: 80, protocol: HTTP, hostname: "*.example.com"}]`,
		tenant:     "bananas",
		violations: []string{`spec.listeners[0].hostname: wildcard "*.example.com" is not inside a wildcard hostname tenant "bananas" owns (*.bananas.example.com); use exact hostnames or a wildcard inside an owned one`},
	}, {
		name: "a listener without hostname takes every host",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: bananas, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: any, port: 80, protocol: HTTP}]`,
		tenant:     "bananas",
		violations: []string{`spec.listeners[0].hostname: unset, so listener "any" takes every hostname, and tenant "bananas" does not own them all (tenant "bananas", spec.hostnames); set a hostname the tenant owns`},
	}, {
		name: "a listener on a host shared by path denied, and a Gateway the tenant may not use",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: apples, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: shop, port: 80, protocol: HTTP, hostname: shop.example.com}]`,
		tenant: "apples",
		violations: []string{
			`spec.parentRef: Gateway infra/l4 is not one of the gateways tenant "apples" may use (infra/edge, infra/shared (listeners apples-only, https)) (tenant "apples", spec.gateways); target one of them or add it to Tenant apples spec.gateways`,
			`spec.listeners[0].hostname: "shop.example.com" is a shared host on which tenant "apples" owns only the paths /apples, /fruit/apples, and a listener takes every path (tenant "apples", spec.hostnames pathPrefixes); use a hostname the tenant owns whole`,
		},
	}, {
		name: "a ListenerSet whose Gateway does not admit it is warned about",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: apples, name: ls}
spec:
  parentRef: {namespace: infra, name: shared}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: www.apples.example.com}]`,
		tenant:   "apples",
		warnings: []string{`spec.parentRef: the ListenerSet will not attach (Accepted=False/NotAllowed): Gateway infra/shared does not allow ListenerSets from namespace apples: it allows none (allowedListeners.namespaces.from is None); change the Gateway's allowedListeners.`},
	}, {
		name: "a ListenerSet of no tenant may not take a tenant's hostname",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: rogue, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners:
  - {name: a, port: 80, protocol: HTTP, hostname: x.apples.example.com}
  - {name: b, port: 80, protocol: HTTP, hostname: "*.example.com"}
  - {name: c, port: 81, protocol: HTTP}
  - {name: d, port: 80, protocol: HTTP, hostname: free.example.net}`,
		violations: []string{
			`spec.listeners[0].hostname: "x.apples.example.com" is owned by tenant "apples" ("*.apples.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the ListenerSet in a namespace of tenant apples`,
			`spec.listeners[1].hostname: wildcard "*.example.com" covers "apples.example.com", owned by tenant "apples", and namespace "rogue" belongs to no tenant; use a narrower hostname that no tenant owns`,
			`spec.listeners[2].hostname: unset, so listener "c" takes every hostname, including "apples.example.com" of tenant "apples", and namespace "rogue" belongs to no tenant; set a hostname no tenant owns`,
		},
	}, {
		name: "a certificate in another namespace without a grant is warned about",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: bananas, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners:
  - name: secure
    port: 443
    protocol: HTTPS
    hostname: www.bananas.example.com
    tls: {certificateRefs: [{name: wildcard, namespace: infra}, {name: own}]}`,
		tenant:   "bananas",
		warnings: []string{`spec.listeners[0].tls.certificateRefs[0]: no ReferenceGrant in namespace "infra" lets ListenerSets in namespace "bananas" use Secret "wildcard"; listener "secure" gets no certificate (ResolvedRefs=False/RefNotPermitted) until one does`},
	}, {
		name: "a platform ListenerSet is trusted",
		kind: kindListenerSet,
		obj: `
metadata: {namespace: infra, name: ls}
spec:
  parentRef: {name: l4}
  listeners: [{name: any, port: 80, protocol: HTTP}]`,
	}, {
		name: "a Gateway in a tenant namespace with another tenant's hostname denied",
		kind: kindGateway,
		obj: `
metadata: {namespace: bananas, name: gw}
spec:
  gatewayClassName: tenantgate
  listeners:
  - {name: a, port: 443, protocol: HTTPS, hostname: apples.example.com}
  - {name: b, port: 80, protocol: HTTP, hostname: bananas.example.com}`,
		tenant:     "bananas",
		violations: []string{`spec.listeners[0].hostname: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`},
	}, {
		name: "a Gateway in a tenant namespace requesting an address denied",
		kind: kindGateway,
		obj: `
metadata: {namespace: bananas, name: gw}
spec:
  gatewayClassName: tenantgate
  addresses: [{value: 0.0.0.0}]
  listeners:
  - {name: b, port: 80, protocol: HTTP, hostname: bananas.example.com}`,
		tenant:     "bananas",
		violations: []string{`spec.addresses: "0.0.0.0" is requested, but Gateways of tenant "bananas" may not request addresses (rule: addresses come from the platform's pool); remove spec.addresses`},
	}, {
		name: "a Gateway outside tenant namespaces is not policed",
		kind: kindGateway,
		obj: `
metadata: {namespace: rogue, name: gw}
spec:
  gatewayClassName: tenantgate
  listeners: [{name: a, port: 80, protocol: HTTP}]`,
	}})
}

func TestListenerSetViolationsPerListener(t *testing.T) {
	p := worldPolicy(t)
	var ls gatewayv1.ListenerSet
	decodeYAML(t, `
metadata: {namespace: apples, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners:
  - {name: good, port: 80, protocol: HTTP, hostname: apples.example.com}
  - {name: bad, port: 80, protocol: HTTP, hostname: bananas.example.com}`, &ls)
	got := p.ListenerSetViolations(&ls)
	want := ListenerViolations{
		Object: []string{`spec.parentRef: Gateway infra/l4 is not one of the gateways tenant "apples" may use (infra/edge, infra/shared (listeners apples-only, https)) (tenant "apples", spec.gateways); target one of them or add it to Tenant apples spec.gateways`},
		Listeners: map[gatewayv1.SectionName][]string{
			"bad": {`spec.listeners[1].hostname: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames`},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListenerSetViolations = %+v\nwant %+v", got, want)
	}
}

func TestGrantsHonouredWithinTenantRules(t *testing.T) {
	p := worldPolicy(t)
	var g gatewayv1.ReferenceGrant
	decodeYAML(t, `
metadata: {namespace: apples, name: g}
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: rogue}
  - {group: gateway.networking.k8s.io, kind: TLSRoute, namespace: infra}
  to:
  - {group: "", kind: Service, name: apple-echo}
  - {group: "", kind: Service}`, &g)
	equalLines(t, "GrantViolations", p.GrantViolations(&g), []string{
		`spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "apples" (allowed: infra); grant from an allowed namespace or add it to Tenant apples spec.referenceGrants.allowFromNamespaces`,
		`spec.to[1].name: unset, so the grant opens up every Service in namespace "apples", which tenant "apples" does not allow; set to.name, or set Tenant apples spec.referenceGrants.allowWildcardNames`,
	})
	// A grant that breaks its tenant's rules opens nothing, for any route
	// kind, and the warning says why; the gateway ignores it the same way.
	in := Inputs{}
	readYAML(t, "testdata/world.yaml", &in)
	in.ReferenceGrants = append(in.ReferenceGrants, g)
	p = NewPolicy(in)
	route := func(kind string) string {
		return `
metadata: {namespace: ` + map[string]string{kindTLSRoute: "infra", kindTCPRoute: "infra", kindHTTPRoute: "rogue"}[kind] + `, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4}]
  rules: [{backendRefs: [{name: apple-echo, namespace: apples, port: 80}]}]`
	}
	ignored := ` (ReferenceGrant apples/g is ignored: it breaks tenant policy: ` +
		`spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "apples" (allowed: infra); grant from an allowed namespace or add it to Tenant apples spec.referenceGrants.allowFromNamespaces; ` +
		`spec.to[1].name: unset, so the grant opens up every Service in namespace "apples", which tenant "apples" does not allow; set to.name, or set Tenant apples spec.referenceGrants.allowWildcardNames)`
	for kind, want := range map[string][]string{
		kindTLSRoute:  {`spec.rules[0].backendRefs[0]: no ReferenceGrant in namespace "apples" lets TLSRoutes in namespace "infra" use Service "apple-echo"` + ignored + `; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
		kindTCPRoute:  {`spec.rules[0].backendRefs[0]: no ReferenceGrant in namespace "apples" lets TCPRoutes in namespace "infra" use Service "apple-echo"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
		kindHTTPRoute: {`spec.rules[0].backendRefs[0]: no ReferenceGrant in namespace "apples" lets HTTPRoutes in namespace "rogue" use Service "apple-echo"` + ignored + `; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
	} {
		v, _ := checkObject(t, p, kind, route(kind))
		var grantWarnings []string
		for _, w := range v.Warnings {
			if len(w) > 12 && w[:12] == "spec.rules[0" {
				grantWarnings = append(grantWarnings, w)
			}
		}
		equalLines(t, kind+" grant warnings", grantWarnings, want)
	}
}

func TestNamespaceMoves(t *testing.T) {
	runObjectCases(t, []objectCase{{
		name: "a label putting a namespace in a second tenant refused",
		kind: "Namespace",
		obj: `
metadata: {name: cherries, labels: {team: apples, kubernetes.io/metadata.name: cherries}}`,
		tenant:     "cherries",
		violations: []string{`metadata.labels: team=apples would put namespace "cherries" in tenant "cherries" (spec.namespaces.names) and tenant "apples" (spec.namespaces.selector) (a namespace belongs to at most one tenant); change the labels, or the Tenants' spec.namespaces`},
	}, {
		name: "a move under a tenant whose rules its objects break admitted with warnings",
		kind: "Namespace",
		obj: `
metadata: {name: rogue, labels: {team: apples}}`,
		tenant: "apples",
		warnings: []string{
			`metadata.labels: namespace "rogue" joins tenant "apples", and its ReferenceGrant open-to-bananas breaks that tenant's rules: spec.from[0].namespace: "bananas" may not be trusted by ReferenceGrants of tenant "apples" (allowed: infra); grant from an allowed namespace or add it to Tenant apples spec.referenceGrants.allowFromNamespaces; fix or remove the ReferenceGrant`,
			`metadata.labels: namespace "rogue" joins tenant "apples", and its ReferenceGrant open-to-bananas breaks that tenant's rules: spec.to[0].name: unset, so the grant opens up every Service in namespace "rogue", which tenant "apples" does not allow; set to.name, or set Tenant apples spec.referenceGrants.allowWildcardNames; fix or remove the ReferenceGrant`,
		},
	}, {
		name: "labels that keep the namespace where it is admitted quietly",
		kind: "Namespace",
		obj: `
metadata: {name: apples-dev, labels: {team: apples, extra: "yes"}}`,
		tenant: "apples",
	}, {
		name: "platform namespaces are not checked",
		kind: "Namespace",
		obj: `
metadata: {name: infra, labels: {team: apples}}`,
	}})
}
