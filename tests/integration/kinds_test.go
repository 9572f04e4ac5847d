package integration

import (
	"reflect"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// The attacks of issue 12 and their close variants, through the other
// route kinds, ListenerSets and Gateways, against testdata/world.yaml
// (Gateway infra/l4 takes ListenerSets from every namespace and carries TLS,
// TCP and UDP; the platform ListenerSet infra/kiwis-web serves
// kiwis.example.com on it).

// object decodes a manifest (apiVersion and kind included) into a new T.
func object[T client.Object](text string) T {
	obj := reflect.New(reflect.TypeFor[T]().Elem()).Interface().(T)
	if err := yaml.UnmarshalStrict([]byte(text), obj); err != nil {
		panic(err)
	}
	return obj
}

func listenerSet(text string) *gatewayv1.ListenerSet {
	return object[*gatewayv1.ListenerSet]("apiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\n" + text)
}

const takeoverLimes = `spec.listeners[0].hostname: "kiwis.example.com" belongs to tenant "kiwis", not tenant "limes"; use a hostname listed in Tenant limes spec.hostnames`

var listenerSetCases = []admissionCase{{
	name: "ListenerSet listener for another tenant's hostname denied",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: kiwis.example.com}]`),
	want: denied(takeoverLimes),
}, {
	// The API server refuses upper case and trailing dots in Gateway API
	// hostnames; a Tenant may write them (limes owns "Limes.Example.com.").
	name: "ListenerSet of no tenant on a hostname a Tenant wrote in another case with a trailing dot denied",
	obj: listenerSet(`
metadata: {namespace: rogue, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: limes.example.com}]`),
	want: denied(`spec.listeners[0].hostname: "limes.example.com" is owned by tenant "limes" ("limes.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the ListenerSet in a namespace of tenant limes`),
}, {
	name: "ListenerSet listener inside another tenant's wildcard is a takeover",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: "*.red.kiwis.example.com"}]`),
	want: denied(`spec.listeners[0].hostname: "*.red.kiwis.example.com" belongs to tenant "kiwis", not tenant "limes"; use a hostname listed in Tenant limes spec.hostnames`),
}, {
	name: "ListenerSet wildcard listener covering others' hostnames denied",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: "*.example.com"}]`),
	want: denied(`spec.listeners[0].hostname: wildcard "*.example.com" is not inside a wildcard hostname tenant "limes" owns (*.limes.example.com); use exact hostnames or a wildcard inside an owned one`),
}, {
	name: "ListenerSet listener without hostname denied",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP}]`),
	want: denied(`spec.listeners[0].hostname: unset, so listener "web" takes every hostname, and tenant "limes" does not own them all (tenant "limes", spec.hostnames); set a hostname the tenant owns`),
}, {
	name: "HTTPS listener in a ListenerSet for another tenant's hostname denied",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners:
  - name: secure
    port: 443
    protocol: HTTPS
    hostname: kiwis.example.com
    tls: {mode: Terminate, certificateRefs: [{name: kiwis-cert}]}`),
	want: denied(takeoverLimes),
}, {
	name: "ListenerSet on a shared host denied",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: shop.example.com}]`),
	want: denied(`spec.listeners[0].hostname: "shop.example.com" is a shared host on which tenant "limes" owns only the paths /limes, and a listener takes every path (tenant "limes", spec.hostnames pathPrefixes); use a hostname the tenant owns whole`),
}, {
	name: "ListenerSet on an owned hostname admitted",
	obj: listenerSet(`
metadata: {namespace: limes, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: www.limes.example.com}]`),
}, {
	name: "ListenerSet targeting a gateway the tenant may not use denied, and warned: it does not admit ListenerSets",
	obj: listenerSet(`
metadata: {namespace: kiwis, name: ls}
spec:
  parentRef: {namespace: infra, name: open}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: www.kiwis.example.com}]`),
	want: want{
		denied:   []string{`spec.parentRef: Gateway infra/open is not one of the gateways tenant "kiwis" may use (infra/edge, infra/market (listeners kiwis-only, wild)) (tenant "kiwis", spec.gateways); target one of them or add it to Tenant kiwis spec.gateways`},
		warnings: []string{`spec.parentRef: the ListenerSet will not attach (Accepted=False/NotAllowed): Gateway infra/open does not allow ListenerSets from namespace kiwis: it allows none (allowedListeners.namespaces.from is None); change the Gateway's allowedListeners.`},
	},
}, {
	name: "ListenerSet of no tenant taking a tenant's hostname denied",
	obj: listenerSet(`
metadata: {namespace: rogue, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners:
  - {name: a, port: 80, protocol: HTTP, hostname: x.kiwis.example.com}
  - {name: b, port: 81, protocol: HTTP}`),
	want: denied(
		`spec.listeners[0].hostname: "x.kiwis.example.com" is owned by tenant "kiwis" ("*.kiwis.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the ListenerSet in a namespace of tenant kiwis`,
		`spec.listeners[1].hostname: unset, so listener "b" takes every hostname, including "apples.example.com" of tenant "apples", and namespace "rogue" belongs to no tenant; set a hostname no tenant owns`),
}, {
	name: "ListenerSet of no tenant on a hostname no tenant owns admitted",
	obj: listenerSet(`
metadata: {namespace: rogue, name: ls}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: a, port: 80, protocol: HTTP, hostname: free.example.net}]`),
}}

var otherRouteCases = []admissionCase{{
	name: "GRPCRoute claiming another tenant's hostname denied",
	obj: object[*gatewayv1.GRPCRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {namespace: kiwis, name: r}
spec:
  parentRefs: [{namespace: infra, name: market, sectionName: wild}]
  hostnames: [limes.example.com]`),
	want: denied(`spec.hostnames[0]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`),
}, {
	name: "GRPCRoute on a host shared by path denied",
	obj: object[*gatewayv1.GRPCRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {namespace: kiwis, name: r}
spec:
  parentRefs: [{namespace: infra, name: edge}]
  hostnames: [shop.example.com]`),
	want: denied(`spec.hostnames[0]: "shop.example.com" is a shared host on which tenant "kiwis" owns only the paths /kiwis, /fruit/kiwis, and a GRPCRoute has no path matches to keep it inside them (tenant "kiwis", spec.hostnames pathPrefixes); use a hostname the tenant owns whole`),
}, {
	name: "GRPCRoute on an owned hostname admitted",
	obj: object[*gatewayv1.GRPCRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {namespace: kiwis, name: r}
spec:
  parentRefs: [{namespace: infra, name: market, sectionName: wild}]
  hostnames: [api.kiwis.example.com]`),
}, {
	name: "TLSRoute claiming another tenant's SNI name denied",
	obj: object[*gatewayv1.TLSRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {namespace: limes, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tls}]
  hostnames: [kiwis.example.com]
  rules: [{backendRefs: [{name: lime-db, port: 443}]}]`),
	want: denied(`spec.hostnames[0]: "kiwis.example.com" belongs to tenant "kiwis", not tenant "limes"; use a hostname listed in Tenant limes spec.hostnames`),
}, {
	name: "TLSRoute of no tenant on an SNI name a Tenant wrote in another case with a trailing dot denied",
	obj: object[*gatewayv1.TLSRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {namespace: rogue, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tls}]
  hostnames: [limes.example.com]
  rules: [{backendRefs: [{name: rogue-db, port: 443}]}]`),
	want: denied(`spec.hostnames[0]: "limes.example.com" is owned by tenant "limes" ("limes.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant limes`),
}, {
	name: "TLSRoute wildcard covering another tenant's names denied",
	obj: object[*gatewayv1.TLSRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {namespace: limes, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tls}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: lime-db, port: 443}]}]`),
	want: denied(`spec.hostnames[0]: wildcard "*.example.com" is not inside a wildcard hostname tenant "limes" owns (*.limes.example.com); use exact hostnames or a wildcard inside an owned one`),
}, {
	name: "TLSRoute on an owned SNI name admitted",
	obj: object[*gatewayv1.TLSRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {namespace: limes, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tls}]
  hostnames: [db.limes.example.com]
  rules: [{backendRefs: [{name: lime-db, port: 443}]}]`),
}, {
	name: "TCPRoute on a listener the tenant may not use denied",
	obj: object[*gatewayv1.TCPRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {namespace: kiwis, name: r}
spec:
  parentRefs: [{namespace: infra, name: market, sectionName: public}]
  rules: [{backendRefs: [{name: kiwi-db, port: 5432}]}]`),
	want: want{
		denied:   []string{`spec.parentRefs[0].sectionName: listener "public" of Gateway infra/market is not one tenant "kiwis" may use (kiwis-only, wild); use one of them or add it to Tenant kiwis spec.gateways`},
		warnings: []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/market does not admit this route: listener public does not allow TCPRoutes; change the listener's allowedRoutes or the parentRef.`},
	},
}, {
	name: "TCPRoute selecting by port a listener the tenant may not use denied",
	obj: object[*gatewayv1.TCPRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {namespace: kiwis, name: r}
spec:
  parentRefs: [{namespace: infra, name: market, port: 80}]
  rules: [{backendRefs: [{name: kiwi-db, port: 5432}]}]`),
	want: want{
		denied:   []string{`spec.parentRefs[0].sectionName: unset, so the route attaches to every listener of Gateway infra/market on port 80, but tenant "kiwis" may use only listeners kiwis-only, wild; set sectionName to one of them`},
		warnings: []string{`spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/market does not admit this route: listener public does not allow TCPRoutes; change the listener's allowedRoutes or the parentRef.`},
	},
}, {
	name: "TCPRoute on a gateway the tenant may not use denied",
	obj: object[*gatewayv1.TCPRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {namespace: kiwis, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: tcp}]
  rules: [{backendRefs: [{name: kiwi-db, port: 5432}]}]`),
	want: denied(`spec.parentRefs[0]: Gateway infra/l4 is not one of the gateways tenant "kiwis" may use (infra/edge, infra/market (listeners kiwis-only, wild)); attach to one of them or add it to Tenant kiwis spec.gateways`),
}, {
	name: "UDPRoute of a tenant without gateways admitted",
	obj: object[*gatewayv1.UDPRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {namespace: limes, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, port: 5353}]
  rules: [{backendRefs: [{name: lime-dns, port: 53}]}]`),
}, {
	name: "UDPRoute sending traffic into another tenant denied",
	obj: object[*gatewayv1.UDPRoute](`
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {namespace: limes, name: r}
spec:
  parentRefs: [{namespace: infra, name: l4, sectionName: udp}]
  rules: [{backendRefs: [{name: kiwi-dns, namespace: kiwis, port: 53}]}]`),
	want: denied(`spec.rules[0].backendRefs[0].namespace: "kiwis" is outside tenant "limes"; send traffic only to the tenant's namespaces (limes) or add it to Tenant limes spec.backendNamespaces`),
}}

var listenerSetParentCases = []admissionCase{{
	name: "route without hostnames inheriting another tenant's hostname through a ListenerSet denied",
	obj:  route("limes", parentOfKindIn("infra", "ListenerSet", "kiwis-web", "")),
	want: denied(`spec.hostnames: empty, so the route inherits "kiwis.example.com" from listener infra/kiwis-web/web, which tenant "limes" does not own; list hostnames the tenant owns in spec.hostnames`),
}, {
	name: "route of no tenant inheriting a tenant's hostname through a ListenerSet denied",
	obj:  route("rogue", parentOfKindIn("infra", "ListenerSet", "kiwis-web", "web")),
	want: denied(`spec.hostnames: empty, so the route takes "kiwis.example.com" from listener infra/kiwis-web/web, which covers "kiwis.example.com" of tenant "kiwis", and namespace "rogue" belongs to no tenant; list hostnames no tenant owns in spec.hostnames`),
}, {
	name: "route on a ListenerSet of a gateway the tenant may not use denied",
	obj:  route("kiwis", parentOfKindIn("infra", "ListenerSet", "kiwis-web", ""), hosts("kiwis.example.com")),
	want: denied(`spec.parentRefs[0]: ListenerSet infra/kiwis-web adds listeners to Gateway infra/l4, which is not one of the gateways tenant "kiwis" may use (infra/edge, infra/market (listeners kiwis-only, wild)); attach to a ListenerSet of one of them or add the Gateway to Tenant kiwis spec.gateways`),
}}

var gatewayCasesInTenants = []admissionCase{{
	name: "Gateway in a tenant namespace with another tenant's hostname denied",
	obj: object[*gatewayv1.Gateway](`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {namespace: limes, name: gw}
spec:
  gatewayClassName: elsewhere
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: kiwis.example.com}]`),
	want: denied(takeoverLimes),
}, {
	name: "v1beta1 Gateway in a tenant namespace with another tenant's hostname denied",
	obj: object[*gatewayv1.Gateway](`
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {namespace: limes, name: gw}
spec:
  gatewayClassName: elsewhere
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: "*.kiwis.example.com"}]`),
	want: denied(`spec.listeners[0].hostname: "*.kiwis.example.com" belongs to tenant "kiwis", not tenant "limes"; use a hostname listed in Tenant limes spec.hostnames`),
}, {
	name: "Gateway in a tenant namespace on owned hostnames admitted",
	obj: object[*gatewayv1.Gateway](`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {namespace: limes, name: gw}
spec:
  gatewayClassName: elsewhere
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: limes.example.com}]`),
}}

var grantKindCases = []admissionCase{{
	name: "ReferenceGrant trusting TLSRoutes of a forbidden namespace denied",
	obj:  grant("kiwis", from("TLSRoute", "rogue"), to("Service", "kiwi-echo")),
	want: denied(`spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "kiwis" (allowed: infra); grant from an allowed namespace or add it to Tenant kiwis spec.referenceGrants.allowFromNamespaces`),
}}
