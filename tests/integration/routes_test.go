package integration

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The HTTPRoute rules of design.md "Policy, in words", one table per rule,
// each with admitted and denied cases, against testdata/world.yaml.

const (
	prefix = gatewayv1.PathMatchPathPrefix
	exact  = gatewayv1.PathMatchExact
	regex  = gatewayv1.PathMatchRegularExpression
)

var membershipCases = []admissionCase{{
	name: "namespace selected by label is policed as the tenant's",
	obj:  route("kiwis-dev", parent("infra", "market", "wild"), hosts("grapes.example.com")),
	want: denied(`spec.hostnames[0]: "grapes.example.com" is not owned by tenant "kiwis"; add it to Tenant kiwis spec.hostnames or use an owned hostname`),
}, {
	name: "namespace selected by label may use the tenant's hostnames",
	obj:  route("kiwis-dev", parent("infra", "market", "kiwis-only"), hosts("kiwis.example.com")),
}, {
	name: "platform namespace is trusted",
	obj: route("infra", parent("infra", "market", ""), hosts("kiwis.example.com", "*.example.com"),
		rule(backend("limes", "lime-echo"))),
}, {
	name: "the same route from a namespace of no tenant is denied",
	obj: route("rogue", parent("infra", "market", ""), hosts("kiwis.example.com", "*.example.com"),
		rule(backend("limes", "lime-echo"))),
	want: want{
		denied: []string{
			`spec.hostnames[0]: "kiwis.example.com" is owned by tenant "kiwis" ("kiwis.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant kiwis`,
			`spec.hostnames[1]: wildcard "*.example.com" covers "apples.example.com", owned by tenant "apples", and namespace "rogue" belongs to no tenant; use a narrower hostname that no tenant owns`,
		},
		warnings: []string{`spec.rules[0].backendRefs[0]: no ReferenceGrant in namespace "limes" lets HTTPRoutes in namespace "rogue" use Service "lime-echo"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`},
	},
}}

var gatewayCases = []admissionCase{{
	name: "listed gateway and listener admitted",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"), rule(backend("", "kiwi-echo"))),
}, {
	name: "gateway not listed denied",
	obj:  route("kiwis", parent("infra", "open", ""), hosts("kiwis.example.com")),
	want: denied(`spec.parentRefs[0]: Gateway infra/open is not one of the gateways tenant "kiwis" may use (infra/edge, infra/market (listeners kiwis-only, wild)); attach to one of them or add it to Tenant kiwis spec.gateways`),
}, {
	name: "listener not listed denied, with why it would not attach",
	obj:  route("kiwis", parent("infra", "market", "public"), hosts("kiwis.example.com")),
	want: want{
		denied:   []string{`spec.parentRefs[0].sectionName: listener "public" of Gateway infra/market is not one tenant "kiwis" may use (kiwis-only, wild); use one of them or add it to Tenant kiwis spec.gateways`},
		warnings: []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/market does not admit this route: listener public admits only namespaces matching "gateway-access=true", not kiwis; change the listener's allowedRoutes or the parentRef.`},
	},
}, {
	name: "no sectionName denied when the tenant may use only some listeners",
	obj:  route("kiwis", parent("infra", "market", ""), hosts("kiwis.example.com")),
	want: denied(`spec.parentRefs[0].sectionName: unset, so the route attaches to every listener of Gateway infra/market, but tenant "kiwis" may use only listeners kiwis-only, wild; set sectionName to one of them`),
}, {
	name: "no sectionName admitted when the port selects only allowed listeners",
	obj:  route("kiwis", parentOnPort("infra", "market", 8443), hosts("kiwis.example.com")),
}, {
	name: "no sectionName admitted when the tenant may use every listener",
	obj:  route("kiwis", parent("infra", "edge", ""), hosts("shop.example.com"), rule(path(prefix, "/kiwis"))),
}, {
	name: "parent that is not a Gateway denied",
	obj:  route("kiwis", parentOfKind("", "Service", "kiwi-echo"), hosts("kiwis.example.com")),
	want: denied(`spec.parentRefs[0]: parent Service kiwis/kiwi-echo is not a Gateway; tenant "kiwis" may attach routes only to its gateways (infra/edge, infra/market (listeners kiwis-only, wild))`),
}, {
	name: "tenant without gateways may attach anywhere",
	obj:  route("limes", parent("infra", "market", "public"), hosts("limes.example.com")),
}}

var hostnameCases = []admissionCase{{
	name: "another tenant's hostname denied, naming the owner",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com", "limes.example.com")),
	want: denied(`spec.hostnames[1]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`),
}, {
	name: "ownership ignores the case and trailing dot of the Tenant's hostname",
	obj:  route("limes", parent("infra", "open", "http"), hosts("limes.example.com")),
}, {
	name: "names below an owned wildcard admitted",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("red.kiwis.example.com", "very.red.kiwis.example.com")),
}, {
	name: "an owned wildcard does not cover its apex",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.org")),
	want: denied(`spec.hostnames[0]: "kiwis.example.org" is not owned by tenant "kiwis" ("*.kiwis.example.org" covers only names below it); add it to Tenant kiwis spec.hostnames or use an owned hostname`),
}, {
	name: "route wildcard inside an owned wildcard admitted",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("*.kiwis.example.com", "*.red.kiwis.example.com")),
}, {
	name: "route wildcard outside the owned wildcards denied",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("*.example.com")),
	want: denied(`spec.hostnames[0]: wildcard "*.example.com" is not inside a wildcard hostname tenant "kiwis" owns (*.kiwis.example.com, *.kiwis.example.org); use exact hostnames or a wildcard inside an owned one`),
}}

var sharedHostCases = []admissionCase{{
	name: "paths under the owned prefixes admitted",
	obj: route("kiwis", parent("infra", "edge", ""), hosts("shop.example.com"), rule(
		path(prefix, "/kiwis"), path(prefix, "/kiwis/pie/"), path(exact, "/kiwis"),
		path(prefix, "/fruit/kiwis"), path(exact, "/fruit/kiwis/"))),
}, {
	name: "prefixes are segment-aware",
	obj:  route("kiwis", parent("infra", "edge", ""), hosts("shop.example.com"), rule(path(prefix, "/kiwisauce"), path(exact, "/fruit"))),
	want: denied(
		`spec.rules[0].matches[0].path: PathPrefix "/kiwisauce" is outside the paths tenant "kiwis" owns on shared host "shop.example.com" (/kiwis, /fruit/kiwis); match a path under one of them`,
		`spec.rules[0].matches[1].path: Exact "/fruit" is outside the paths tenant "kiwis" owns on shared host "shop.example.com" (/kiwis, /fruit/kiwis); match a path under one of them`),
}, {
	// The API server defaults a match without a path to PathPrefix "/".
	name: "a match without a path covers every path",
	obj:  route("kiwis", parent("infra", "edge", ""), hosts("shop.example.com"), rule(header("x-fruit", "kiwi"))),
	want: denied(`spec.rules[0].matches[0].path: PathPrefix "/" is outside the paths tenant "kiwis" owns on shared host "shop.example.com" (/kiwis, /fruit/kiwis); match a path under one of them`),
}, {
	// ... and a rule without matches, or a route without rules, to one match on "/".
	name: "a route without rules covers every path",
	obj:  route("kiwis", parent("infra", "edge", ""), hosts("shop.example.com")),
	want: denied(`spec.rules[0].matches[0].path: PathPrefix "/" is outside the paths tenant "kiwis" owns on shared host "shop.example.com" (/kiwis, /fruit/kiwis); match a path under one of them`),
}, {
	name: "a regular expression denied on a shared host",
	obj:  route("kiwis", parent("infra", "edge", ""), hosts("shop.example.com"), rule(path(regex, "/kiwis/.*"))),
	want: denied(`spec.rules[0].matches[0].path: RegularExpression "/kiwis/.*" cannot be proven to stay inside the paths tenant "kiwis" owns on shared host "shop.example.com" (/kiwis, /fruit/kiwis); use PathPrefix or Exact under one of them`),
}, {
	name: "a regular expression admitted on a whole host",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"), rule(path(regex, "/.*"))),
}, {
	name: "the other tenant's prefix on the shared host denied",
	obj:  route("limes", parent("infra", "edge", ""), hosts("shop.example.com"), rule(path(prefix, "/kiwis"))),
	want: denied(`spec.rules[0].matches[0].path: PathPrefix "/kiwis" is outside the paths tenant "limes" owns on shared host "shop.example.com" (/limes); match a path under one of them`),
}, {
	name: "its own prefix on the shared host admitted",
	obj:  route("limes", parent("infra", "edge", ""), hosts("shop.example.com"), rule(path(prefix, "/limes/green"))),
}, {
	name: "a rule must fit the shared host even beside a whole host",
	obj:  route("kiwis", parent("infra", "edge", ""), hosts("kiwis.example.com", "shop.example.com"), rule(path(prefix, "/"))),
	want: denied(`spec.rules[0].matches[0].path: PathPrefix "/" is outside the paths tenant "kiwis" owns on shared host "shop.example.com" (/kiwis, /fruit/kiwis); match a path under one of them`),
}}

var noHostnameCases = []admissionCase{{
	name: "inheriting an owned listener hostname admitted",
	obj:  route("kiwis", parent("infra", "market", "kiwis-only")),
}, {
	name: "inheriting a wildcard the tenant does not own denied",
	obj:  route("kiwis", parent("infra", "market", "wild")),
	want: denied(`spec.hostnames: empty, so the route inherits "*.example.com" from listener infra/market/wild, which tenant "kiwis" does not own; list hostnames the tenant owns in spec.hostnames`),
}, {
	name: "a listener without hostname gives every hostname",
	obj:  route("limes", parent("infra", "open", "http")),
	want: denied(`spec.hostnames: empty, so the route takes every hostname, because listener infra/open/http accepts any hostname, and tenant "limes" does not own them all; list hostnames the tenant owns in spec.hostnames`),
}, {
	name: "listeners that do not admit the route give nothing, and warn",
	obj:  route("limes", parent("infra", "market", "grpc")),
	want: warned(`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/market does not admit this route: listener grpc does not allow HTTPRoutes; change the listener's allowedRoutes or the parentRef.`),
}, {
	name: "an inherited shared host keeps paths under the owned prefixes",
	obj:  route("kiwis", parent("infra", "edge", ""), rule(path(prefix, "/kiwis")), rule(path(prefix, "/"))),
	want: denied(`spec.rules[1].matches[0].path: PathPrefix "/" is outside the paths tenant "kiwis" owns on shared host "shop.example.com" (inherited from listener infra/edge/http) (/kiwis, /fruit/kiwis); match a path under one of them`),
}}

var targetCases = []admissionCase{{
	name: "tenant namespaces and backendNamespaces admitted, a missing ReferenceGrant warned",
	obj: route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"),
		rule(backend("", "kiwi-echo"), backend("shared-services", "db"), backend("kiwis-dev", "dev-echo"))),
	want: warned(`spec.rules[0].backendRefs[2]: no ReferenceGrant in namespace "kiwis-dev" lets HTTPRoutes in namespace "kiwis" use Service "dev-echo"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`),
}, {
	name: "backend in another tenant's namespace denied",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"), rule(backend("limes", "lime-echo"))),
	want: denied(`spec.rules[0].backendRefs[0].namespace: "limes" is outside tenant "kiwis"; send traffic only to the tenant's namespaces (kiwis, kiwis-dev) or add it to Tenant kiwis spec.backendNamespaces`),
}, {
	name: "RequestMirror targets outside the tenant denied",
	obj: route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"),
		rule(mirror("limes", "spy"), backend("", "kiwi-echo", mirrorFilter("rogue", "spy")))),
	want: denied(
		`spec.rules[0].filters[0].requestMirror.backendRef.namespace: "limes" is outside tenant "kiwis"; send traffic only to the tenant's namespaces (kiwis, kiwis-dev) or add it to Tenant kiwis spec.backendNamespaces`,
		`spec.rules[0].backendRefs[0].filters[0].requestMirror.backendRef.namespace: "rogue" is outside tenant "kiwis"; send traffic only to the tenant's namespaces (kiwis, kiwis-dev) or add it to Tenant kiwis spec.backendNamespaces`),
}, {
	name: "RequestMirror targets inside the tenant admitted, a missing ReferenceGrant warned",
	obj: route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"),
		rule(mirror("shared-services", "recorder"), mirror("kiwis-dev", "recorder"), backend("", "kiwi-echo"))),
	want: warned(`spec.rules[0].filters[1].requestMirror.backendRef: no ReferenceGrant in namespace "kiwis-dev" lets HTTPRoutes in namespace "kiwis" use Service "recorder"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`),
}, {
	name: "backend that is not a core Service denied",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"), rule(backendOfKind("multicluster.x-k8s.io", "ServiceImport", "echo"))),
	want: denied(`spec.rules[0].backendRefs[0].kind: "ServiceImport.multicluster.x-k8s.io" is not a core Service; routes of tenant "kiwis" may send traffic only to Services`),
}, {
	name: "backend named explicitly as a core Service admitted",
	obj:  route("kiwis", parent("infra", "market", "wild"), hosts("kiwis.example.com"), rule(backendOfKind("", "Service", "kiwi-echo"))),
}, {
	name: "platform route across namespaces warned only where no ReferenceGrant admits it",
	obj:  route("infra", parent("infra", "market", "public"), rule(backend("limes", "lime-echo"), backend("kiwis", "kiwi-echo"))),
	want: warned(`spec.rules[0].backendRefs[1]: no ReferenceGrant in namespace "kiwis" lets HTTPRoutes in namespace "infra" use Service "kiwi-echo"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`),
}}

var unmanagedCases = []admissionCase{{
	name: "claiming a tenant's hostname denied",
	obj:  route("rogue", parent("infra", "open", "http"), hosts("kiwis.example.com")),
	want: denied(`spec.hostnames[0]: "kiwis.example.com" is owned by tenant "kiwis" ("kiwis.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant kiwis`),
}, {
	name: "a name inside a tenant's wildcard denied",
	obj:  route("rogue", parent("infra", "open", "http"), hosts("x.kiwis.example.com")),
	want: denied(`spec.hostnames[0]: "x.kiwis.example.com" is owned by tenant "kiwis" ("*.kiwis.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant kiwis`),
}, {
	name: "shadowing a tenant's hostnames with a wildcard denied",
	obj:  route("rogue", parent("infra", "open", "http"), hosts("*.example.org")),
	want: denied(`spec.hostnames[0]: wildcard "*.example.org" covers "*.kiwis.example.org", owned by tenant "kiwis", and namespace "rogue" belongs to no tenant; use a narrower hostname that no tenant owns`),
}, {
	name: "inheriting every hostname denied",
	obj:  route("rogue", parent("infra", "open", "http")),
	want: denied(`spec.hostnames: empty, so the route takes "*" from listener infra/open/http, which covers "apples.example.com" of tenant "apples", and namespace "rogue" belongs to no tenant; list hostnames no tenant owns in spec.hostnames`),
}, {
	name: "hostnames no tenant owns admitted",
	obj:  route("rogue", parent("infra", "open", "internal"), rule(backend("limes", "anything"))),
	want: warned(`spec.rules[0].backendRefs[0]: no ReferenceGrant in namespace "limes" lets HTTPRoutes in namespace "rogue" use Service "anything"; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does`),
}, {
	name: "taking only a Warn tenant's hostname admitted with the violation as a warning",
	obj:  route("rogue", parent("infra", "open", "http"), hosts("melons.example.com")),
	want: warned(`spec.hostnames[0]: "melons.example.com" is owned by tenant "melons" ("melons.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant melons`),
}}

var warnModeCases = []admissionCase{{
	name: "another tenant's hostname admitted with the violation as a warning",
	obj:  route("melons", parent("infra", "market", "wild"), hosts("kiwis.example.com")),
	want: warned(`spec.hostnames[0]: "kiwis.example.com" belongs to tenant "kiwis", not tenant "melons"; use a hostname listed in Tenant melons spec.hostnames`),
}, {
	name: "a wildcard over an exact owned name admitted with the violation as a warning",
	obj:  route("melons", parent("infra", "market", "wild"), hosts("*.melons.example.com")),
	want: warned(`spec.hostnames[0]: wildcard "*.melons.example.com" is not inside a wildcard hostname tenant "melons" owns (none); use exact hostnames or a wildcard inside an owned one`),
}, {
	name: "its own hostname admitted without warnings",
	obj:  route("melons", parent("infra", "market", "wild"), hosts("melons.example.com")),
}}

var listenerWarningCases = []admissionCase{{
	name: "namespace not selected by the listener warned",
	obj:  route("melons", parent("infra", "market", "public"), hosts("melons.example.com")),
	want: warned(`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/market does not admit this route: listener public admits only namespaces matching "gateway-access=true", not melons; change the listener's allowedRoutes or the parentRef.`),
}, {
	name: "listener admitting only its own namespace warned",
	obj:  route("limes", parent("infra", "internal", ""), hosts("limes.example.com")),
	want: warned(`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/internal does not admit this route: listener http admits only its own namespace infra, not limes; change the listener's allowedRoutes or the parentRef.`),
}, {
	name: "missing Gateway and listener warned",
	obj:  route("limes", parent("infra", "nowhere", ""), parent("infra", "market", "nope"), hosts("limes.example.com")),
	want: warned(
		`spec.parentRefs[0]: Gateway infra/nowhere does not exist; the route will not attach until it does`,
		`spec.parentRefs[1]: the route will not attach (Accepted=False/NoMatchingParent): Gateway infra/market has no listener named nope; fix the parentRef.`),
}, {
	name: "namespace selected by the listener not warned",
	obj:  route("limes", parent("infra", "market", "public"), hosts("limes.example.com")),
}}
