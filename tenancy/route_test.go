package tenancy

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// routeCase checks one HTTPRoute against testdata/world.yaml.
type routeCase struct {
	name       string
	route      string // YAML
	tenant     string
	warnMode   bool // violations are reported but not enforced
	violations []string
	warnings   []string
}

func runRouteCases(t *testing.T, cases []routeCase) {
	t.Helper()
	p := worldPolicy(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var route gatewayv1.HTTPRoute
			decodeYAML(t, tc.route, &route)
			v := p.CheckHTTPRoute(&route)
			if v.Tenant != tc.tenant {
				t.Errorf("tenant = %q, want %q", v.Tenant, tc.tenant)
			}
			equalLines(t, "violations", v.Messages(), tc.violations)
			equalLines(t, "warnings", v.Warnings, tc.warnings)
			wantDenied := len(tc.violations) > 0 && !tc.warnMode
			if v.Denied() != wantDenied {
				t.Errorf("Denied() = %v, want %v (enforcement %s)", v.Denied(), wantDenied, v.Enforcement)
			}
			if got := p.RouteViolations(&route); wantDenied != (len(got) > 0) {
				t.Errorf("RouteViolations = %q, want enforced violations only", got)
			}
		})
	}
}

func TestRouteMembership(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "namespace selected by label is policed as the tenant's",
		route: `
metadata: {namespace: apples-dev, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: https}]
  hostnames: [grapes.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames[0]: "grapes.example.com" is not owned by tenant "apples"; add it to Tenant apples spec.hostnames or use an owned hostname`},
	}, {
		name: "platform namespace is trusted",
		route: `
metadata: {namespace: infra, name: r}
spec:
  parentRefs: [{name: shared}]
  hostnames: [apples.example.com, "*.example.com"]
  rules: [{backendRefs: [{name: banana-echo, namespace: bananas, port: 80}]}]`,
	}})
}

func TestRouteParents(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "listed gateway and listener admitted",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: https}]
  hostnames: [apples.example.com]
  rules: [{backendRefs: [{name: apple-echo, port: 80}]}]`,
		tenant: "apples",
	}, {
		name: "gateway not listed denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: open}]
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0]: Gateway infra/open is not one of the gateways tenant "apples" may use (infra/edge, infra/shared (listeners apples-only, https)); attach to one of them or add it to Tenant apples spec.gateways`},
	}, {
		name: "listener not allowed denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: http}]
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0].sectionName: listener "http" of Gateway infra/shared is not one tenant "apples" may use (apples-only, https); use one of them or add it to Tenant apples spec.gateways`},
		warnings:   []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/shared does not admit this route: listener http admits only namespaces matching "gateway-access=true", not apples; change the listener's allowedRoutes or the parentRef.`},
	}, {
		name: "no sectionName denied when the tenant may use only some listeners",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared}]
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0].sectionName: unset, so the route attaches to every listener of Gateway infra/shared, but tenant "apples" may use only listeners apples-only, https; set sectionName to one of them`},
	}, {
		name: "no sectionName admitted when a port selects only allowed listeners",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, port: 443}]
  hostnames: [apples.example.com]`,
		tenant: "apples",
	}, {
		name: "no sectionName admitted when the tenant may use every listener",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]`,
		tenant: "apples",
	}, {
		name: "parent that is not a Gateway denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{group: "", kind: Service, name: apple-echo}]
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.parentRefs[0]: parent Service apples/apple-echo is not a Gateway; tenant "apples" may attach routes only to its gateways (infra/edge, infra/shared (listeners apples-only, https))`},
	}, {
		name: "tenant without gateways may attach anywhere",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: http}]
  hostnames: [bananas.example.com]`,
		tenant: "bananas",
	}})
}

func TestRouteHostnames(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "another tenant's hostname denied, naming the owner",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com, bananas.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames[1]: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames`},
	}, {
		name: "case and trailing dot are ignored",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [bananas.example.com, BANANAS.example.COM.]`,
		tenant: "bananas",
	}, {
		name: "name below an owned wildcard admitted",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [red.apples.example.com, very.red.apples.example.com]`,
		tenant: "apples",
	}, {
		name: "wildcard does not cover its apex",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.org]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames[0]: "apples.example.org" is not owned by tenant "apples" ("*.apples.example.org" covers only names below it); add it to Tenant apples spec.hostnames or use an owned hostname`},
	}, {
		name: "route wildcard inside an owned wildcard admitted",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: ["*.apples.example.com", "*.red.apples.example.com"]`,
		tenant: "apples",
	}, {
		name: "route wildcard outside owned wildcards denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: ["*.example.com"]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames[0]: wildcard "*.example.com" is not inside a wildcard hostname tenant "apples" owns (*.apples.example.com, *.apples.example.org); use exact hostnames or a wildcard inside an owned one`},
	}, {
		name: "route wildcard over an exact owned name denied",
		route: `
metadata: {namespace: cherries, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: ["*.cherries.example.com"]`,
		tenant:     "cherries",
		warnMode:   true,
		violations: []string{`spec.hostnames[0]: wildcard "*.cherries.example.com" is not inside a wildcard hostname tenant "cherries" owns (none); use exact hostnames or a wildcard inside an owned one`},
	}})
}

func TestRouteSharedHostPaths(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "paths under owned prefixes admitted",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /apples}
    - path: {type: PathPrefix, value: /apples/pie/}
    - path: {type: Exact, value: /apples}
    - path: {type: PathPrefix, value: /fruit/apples}
    - path: {type: Exact, value: /fruit/apples/}`,
		tenant: "apples",
	}, {
		name: "prefix is segment-aware",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /applesauce}
    - path: {type: Exact, value: /fruit}`,
		tenant: "apples",
		violations: []string{
			`spec.rules[0].matches[0].path: PathPrefix "/applesauce" is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); match a path under one of them`,
			`spec.rules[0].matches[1].path: Exact "/fruit" is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); match a path under one of them`,
		},
	}, {
		name: "paths are judged in the normal form the gateway matches them in",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /apples/../bananas}
    - path: {type: Exact, value: /apples/%2e%2e/bananas/x}
    - path: {type: PathPrefix, value: /apples/%7Emine}`,
		tenant: "apples",
		violations: []string{
			`spec.rules[0].matches[0].path: PathPrefix "/apples/../bananas" is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); match a path under one of them`,
			`spec.rules[0].matches[1].path: Exact "/apples/%2e%2e/bananas/x" is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); match a path under one of them`,
		},
	}, {
		name: "no path match means every path",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{headers: [{name: x-fruit, value: apple}]}]
  - backendRefs: [{name: apple-echo, port: 80}]`,
		tenant: "apples",
		violations: []string{
			`spec.rules[0].matches[0].path: unset, so the match covers every path (PathPrefix "/"), which is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); match a path under one of them`,
			`spec.rules[1].matches: empty, so the rule matches every path (PathPrefix "/"), which is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); add a path match under one of them`,
		},
	}, {
		name: "regular expression denied on a shared host",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]
  rules: [{matches: [{path: {type: RegularExpression, value: "/apples/.*"}}]}]`,
		tenant:     "apples",
		violations: []string{`spec.rules[0].matches[0].path: RegularExpression "/apples/.*" cannot be proven to stay inside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); use PathPrefix or Exact under one of them`},
	}, {
		name: "regular expression admitted on a whole host",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]
  rules: [{matches: [{path: {type: RegularExpression, value: "/.*"}}]}]`,
		tenant: "apples",
	}, {
		name: "a rule must fit the shared host even beside a whole host",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com, shop.example.com]
  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]`,
		tenant:     "apples",
		violations: []string{`spec.rules[0].matches[0].path: PathPrefix "/" is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples, /fruit/apples); match a path under one of them`},
	}, {
		name: "the other tenant's prefix on the shared host denied",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]
  rules: [{matches: [{path: {type: PathPrefix, value: /apples}}]}]`,
		tenant:     "bananas",
		violations: []string{`spec.rules[0].matches[0].path: PathPrefix "/apples" is outside the paths tenant "bananas" owns on shared host "shop.example.com" (/bananas); match a path under one of them`},
	}})
}

func TestRouteWithoutHostnames(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "inheriting an owned listener hostname admitted",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: apples-only}]`,
		tenant: "apples",
	}, {
		name: "inheriting a wildcard the tenant does not own denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: https}]`,
		tenant:     "apples",
		violations: []string{`spec.hostnames: empty, so the route inherits "*.example.com" from listener infra/shared/https, which tenant "apples" does not own; list hostnames the tenant owns in spec.hostnames`},
	}, {
		name: "listener without hostname means any hostname",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: open, sectionName: http}]`,
		tenant:     "bananas",
		violations: []string{`spec.hostnames: empty, so the route takes every hostname, because listener infra/open/http accepts any hostname, and tenant "bananas" does not own them all; list hostnames the tenant owns in spec.hostnames`},
	}, {
		name: "listeners that do not admit the route are not inherited",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: grpc}]`,
		tenant:   "bananas",
		warnings: []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/shared does not admit this route: listener grpc does not allow HTTPRoutes; change the listener's allowedRoutes or the parentRef.`},
	}, {
		name: "inherited shared host keeps paths under the owned prefixes",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /apples}}]
  - matches: [{path: {type: PathPrefix, value: /}}]`,
		tenant:     "apples",
		violations: []string{`spec.rules[1].matches[0].path: PathPrefix "/" is outside the paths tenant "apples" owns on shared host "shop.example.com" (inherited from listener infra/edge/http) (/apples, /fruit/apples); match a path under one of them`},
	}})
}

func TestRouteDefaultGateways(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "default Gateways denied to a tenant limited to its gateways",
		route: `
metadata: {namespace: apples, name: r}
spec:
  useDefaultGateways: All
  hostnames: [apples.example.com]`,
		tenant:     "apples",
		violations: []string{`spec.useDefaultGateways: "All" attaches the route to the cluster's default Gateways, but tenant "apples" may attach routes only to its gateways (infra/edge, infra/shared (listeners apples-only, https)); remove it and use parentRefs`},
	}, {
		name: "a route without hostnames inherits the default Gateway's listeners",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  useDefaultGateways: All`,
		tenant:     "bananas",
		violations: []string{`spec.hostnames: empty, so the route inherits "*.example.com" from listener infra/default/http, which tenant "bananas" does not own; list hostnames the tenant owns in spec.hostnames`},
	}, {
		name: "a route of no tenant inherits the default Gateway's listeners too",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  useDefaultGateways: All`,
		violations: []string{`spec.hostnames: empty, so the route takes "*.example.com" from listener infra/default/http, which covers "apples.example.com" of tenant "apples", and namespace "rogue" belongs to no tenant; list hostnames no tenant owns in spec.hostnames`},
	}, {
		name: "owned hostnames on the default Gateway admitted",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  useDefaultGateways: All
  hostnames: [bananas.example.com]`,
		tenant: "bananas",
	}})
}

func TestRouteTargets(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "tenant namespaces and backendNamespaces admitted",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]
  rules:
  - backendRefs:
    - {name: apple-echo, port: 80}
    - {name: db, namespace: shared-services, port: 5432}
    - {name: dev-echo, namespace: apples-dev, port: 80}`,
		tenant:   "apples",
		warnings: []string{`spec.rules[0].backendRefs[2]: no ReferenceGrant in namespace "apples-dev" lets HTTPRoutes in namespace "apples" use Service "dev-echo"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
	}, {
		name: "backend in another tenant's namespace denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]
  rules: [{backendRefs: [{name: banana-echo, namespace: bananas, port: 80}]}]`,
		tenant:     "apples",
		violations: []string{`spec.rules[0].backendRefs[0].namespace: "bananas" is outside tenant "apples"; send traffic only to the tenant's namespaces (apples, apples-dev) or add it to Tenant apples spec.backendNamespaces`},
	}, {
		name: "mirror and external auth targets are checked too",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: spy, namespace: bananas, port: 80}}
    backendRefs:
    - name: apple-echo
      port: 80
      filters:
      - type: ExternalAuth
        externalAuth: {protocol: HTTP, backendRef: {name: auth, namespace: rogue, port: 80}}`,
		tenant: "apples",
		violations: []string{
			`spec.rules[0].filters[0].requestMirror.backendRef.namespace: "bananas" is outside tenant "apples"; send traffic only to the tenant's namespaces (apples, apples-dev) or add it to Tenant apples spec.backendNamespaces`,
			`spec.rules[0].backendRefs[0].filters[0].externalAuth.backendRef.namespace: "rogue" is outside tenant "apples"; send traffic only to the tenant's namespaces (apples, apples-dev) or add it to Tenant apples spec.backendNamespaces`,
		},
	}, {
		name: "backend that is not a core Service denied",
		route: `
metadata: {namespace: apples, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]
  rules: [{backendRefs: [{group: multicluster.x-k8s.io, kind: ServiceImport, name: echo, port: 80}]}]`,
		tenant:     "apples",
		violations: []string{`spec.rules[0].backendRefs[0].kind: "ServiceImport.multicluster.x-k8s.io" is not a core Service; routes of tenant "apples" may send traffic only to Services`},
	}, {
		name: "cross-namespace backend of a platform route warns without a grant",
		route: `
metadata: {namespace: infra, name: fruits}
spec:
  parentRefs: [{name: shared, sectionName: http}]
  rules:
  - backendRefs:
    - {name: banana-echo, namespace: bananas, port: 80, weight: 70}
    - {name: apple-echo, namespace: apples, port: 80, weight: 30}`,
		warnings: []string{`spec.rules[0].backendRefs[1]: no ReferenceGrant in namespace "apples" lets HTTPRoutes in namespace "infra" use Service "apple-echo"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
	}})
}

func TestRouteUnmanagedNamespace(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "claiming a tenant hostname denied",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: open}]
  hostnames: [apples.example.com]`,
		violations: []string{`spec.hostnames[0]: "apples.example.com" is owned by tenant "apples" ("apples.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant apples`},
	}, {
		name: "a name inside a tenant wildcard denied",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: open}]
  hostnames: [x.apples.example.com]`,
		violations: []string{`spec.hostnames[0]: "x.apples.example.com" is owned by tenant "apples" ("*.apples.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant apples`},
	}, {
		name: "shadowing tenant hostnames with a wildcard denied",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: open}]
  hostnames: ["*.example.com"]`,
		violations: []string{`spec.hostnames[0]: wildcard "*.example.com" covers "apples.example.com", owned by tenant "apples", and namespace "rogue" belongs to no tenant; use a narrower hostname that no tenant owns`},
	}, {
		name: "inheriting any hostname denied",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: open, sectionName: http}]`,
		violations: []string{`spec.hostnames: empty, so the route takes "*" from listener infra/open/http, which covers "apples.example.com" of tenant "apples", and namespace "rogue" belongs to no tenant; list hostnames no tenant owns in spec.hostnames`},
	}, {
		name: "hostnames no tenant owns admitted",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: open, sectionName: internal}]
  rules: [{backendRefs: [{name: anything, namespace: bananas, port: 80}]}]`,
		warnings: []string{`spec.rules[0].backendRefs[0]: no ReferenceGrant in namespace "bananas" lets HTTPRoutes in namespace "rogue" use Service "anything"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
	}, {
		name: "taking only a Warn tenant's hostname is not enforced",
		route: `
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: open}]
  hostnames: [cherries.example.com]`,
		warnMode:   true,
		violations: []string{`spec.hostnames[0]: "cherries.example.com" is owned by tenant "cherries" ("cherries.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant cherries`},
	}})
}

func TestRouteWarnMode(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "violations of a Warn tenant are reported, not enforced",
		route: `
metadata: {namespace: cherries, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [apples.example.com]`,
		tenant:     "cherries",
		warnMode:   true,
		violations: []string{`spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "cherries"; use a hostname listed in Tenant cherries spec.hostnames`},
	}})
}

func TestRouteListenerWarnings(t *testing.T) {
	runRouteCases(t, []routeCase{{
		name: "namespace not selected by the listener warns",
		route: `
metadata: {namespace: cherries, name: r}
spec:
  parentRefs: [{namespace: infra, name: shared, sectionName: http}]
  hostnames: [cherries.example.com]`,
		tenant:   "cherries",
		warnings: []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/shared does not admit this route: listener http admits only namespaces matching "gateway-access=true", not cherries; change the listener's allowedRoutes or the parentRef.`},
	}, {
		name: "listener admitting only its own namespace warns",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs: [{namespace: infra, name: internal}]
  hostnames: [bananas.example.com]`,
		tenant:   "bananas",
		warnings: []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/internal does not admit this route: listener http admits only its own namespace infra, not bananas; change the listener's allowedRoutes or the parentRef.`},
	}, {
		name: "missing Gateway and listener warn",
		route: `
metadata: {namespace: bananas, name: r}
spec:
  parentRefs:
  - {namespace: infra, name: nowhere}
  - {namespace: infra, name: shared, sectionName: nope}
  hostnames: [bananas.example.com]`,
		tenant: "bananas",
		warnings: []string{
			`spec.parentRefs[0]: Gateway infra/nowhere does not exist; the route will not attach until it does`,
			`spec.parentRefs[1]: the route will not attach (Accepted=False/NoMatchingParent): Gateway infra/shared has no listener named nope; fix the parentRef.`,
		},
	}})
}

func TestVerdictDenied(t *testing.T) {
	broken := violation(hostnamesPath, "", "broken")
	for _, tc := range []struct {
		name string
		v    Verdict
		want bool
	}{
		{"no violations", Verdict{Enforcement: v1alpha1.EnforcementDeny}, false},
		{"violations under Deny", Verdict{Enforcement: v1alpha1.EnforcementDeny, Violations: field.ErrorList{broken}}, true},
		{"violations under Warn", Verdict{Enforcement: v1alpha1.EnforcementWarn, Violations: field.ErrorList{broken}}, false},
	} {
		if got := tc.v.Denied(); got != tc.want {
			t.Errorf("%s: Denied() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
