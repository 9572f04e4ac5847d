package translate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/hostname"
	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

const kindGRPCRoute = model.KindGRPCRoute

// ReasonHostnameConflict is the route Accepted reason when an older route
// of the other kind (HTTPRoute or GRPCRoute) serves one of its hostnames on
// the listener, as GRPCRouteSpec.Hostnames requires.
const ReasonHostnameConflict gatewayv1.RouteConditionReason = "HostnameConflict"

func grpcRouteObject(r *gatewayv1.GRPCRoute) *routeObject {
	return &routeObject{ObjectMeta: &r.ObjectMeta, kind: kindGRPCRoute, parentRefs: r.Spec.ParentRefs, hostnames: r.Spec.Hostnames, status: &r.Status.RouteStatus,
		violations: func(p TenantPolicy) []string { return p.GRPCRouteViolations(r) }, obj: r}
}

// grpcRoute attaches one GRPCRoute and records its status.
func (b *builder) grpcRoute(r *gatewayv1.GRPCRoute, claims kindClaims) {
	if st, ok := b.route(grpcRouteObject(r), func() *routeTranslation {
		return b.translated(kindGRPCRoute, &r.ObjectMeta, func() *routeTranslation { return b.translateGRPCRoute(r) })
	}, claims); ok {
		b.result.GRPCRoutes[keyOf(&r.ObjectMeta)] = gatewayv1.GRPCRouteStatus{RouteStatus: st}
	}
}

// routeOrder is every HTTPRoute and GRPCRoute, oldest first, then by
// namespace/name (HTTPRoute first on a tie): the order that decides the
// HTTPRoute-versus-GRPCRoute hostname conflicts.
func (b *builder) routeOrder() []metav1.Object {
	// One sort on precomputed keys: with thousands of routes, comparing
	// through metav1.Object (copying timestamps) dominated.
	type keyed struct {
		created   time.Time
		namespace string
		name      string
		grpc      int
		obj       metav1.Object
	}
	keys := make([]keyed, 0, len(b.s.HTTPRoutes)+len(b.s.GRPCRoutes))
	for i := range b.s.HTTPRoutes {
		r := b.s.HTTPRoutes[i]
		keys = append(keys, keyed{r.CreationTimestamp.Time, r.Namespace, r.Name, 0, r})
	}
	for i := range b.s.GRPCRoutes {
		r := b.s.GRPCRoutes[i]
		keys = append(keys, keyed{r.CreationTimestamp.Time, r.Namespace, r.Name, 1, r})
	}
	slices.SortFunc(keys, func(x, y keyed) int {
		return cmp.Or(x.created.Compare(y.created), cmp.Compare(x.namespace, y.namespace), cmp.Compare(x.name, y.name), cmp.Compare(x.grpc, y.grpc))
	})
	out := make([]metav1.Object, len(keys))
	for i := range keys {
		out[i] = keys[i].obj
	}
	return out
}

// kindClaims records, per listener, the hostnames each route kind already
// serves there ("" for the listener's every name) and the route claiming them.
type kindClaims map[*listenerState]map[gatewayv1.Kind][]hostClaim

type hostClaim struct {
	host  string
	route string // "namespace/name"
}

// hostsOn are the names an attachment serves on its listener: its own, else
// the listener's hostname ("" for every name).
func hostsOn(a attachment) []string {
	if len(a.hostnames) > 0 {
		return a.hostnames
	}
	return []string{hostname.Normalize(a.listener.hostname())}
}

// conflict is HostnameConflict when a route of the other kind already
// serves a name this route would serve on one of the listeners.
func (c kindClaims) conflict(r *routeObject, attachments []attachment) problem {
	other := kindHTTPRoute
	if r.kind == kindHTTPRoute {
		other = kindGRPCRoute
	} else if r.kind != kindGRPCRoute {
		return problem{}
	}
	for _, a := range attachments {
		for _, claim := range c[a.listener][other] {
			for _, h := range hostsOn(a) {
				if shared, ok := hostname.Intersect(claim.host, h); ok {
					return newProblem(ReasonHostnameConflict,
						"%s %s already serves %s on listener %s and came first (older, or first by namespace/name); one hostname serves HTTPRoutes or GRPCRoutes, not both, so use another hostname or listener.",
						other, claim.route, orEvery(shared), a.listener.spec.Name)
				}
			}
		}
	}
	return problem{}
}

func orEvery(host string) string {
	if host == "" {
		return "every hostname"
	}
	return "hostname " + host
}

// claim records the names an accepted route serves.
func (c kindClaims) claim(r *routeObject, attachments []attachment) {
	if c == nil {
		return // one kind only: no route will ask
	}
	for _, a := range attachments {
		if c[a.listener] == nil {
			c[a.listener] = map[gatewayv1.Kind][]hostClaim{}
		}
		for _, h := range hostsOn(a) {
			c[a.listener][r.kind] = append(c[a.listener][r.kind], hostClaim{host: h, route: r.Namespace + "/" + r.Name})
		}
	}
}

// translateGRPCRoute translates every rule; an invalid rule is dropped, the
// others stay.
func (b *builder) translateGRPCRoute(r *gatewayv1.GRPCRoute) *routeTranslation {
	ro := grpcRouteObject(r)
	rules := r.Spec.Rules
	if len(rules) == 0 {
		rules = []gatewayv1.GRPCRouteRule{{}} // every request, to no backend: UNAVAILABLE
	}
	return translateRules(rules, func(i int, rule *gatewayv1.GRPCRouteRule, t *routeTranslation) (routetable.Rule, problem) {
		return b.translateGRPCRule(ro, i, rule, t)
	})
}

func (b *builder) translateGRPCRule(r *routeObject, i int, spec *gatewayv1.GRPCRouteRule, t *routeTranslation) (routetable.Rule, problem) {
	where := fieldPath{}.field("spec").index("rules", i)
	rule := routetable.Rule{Index: i}
	if len(spec.BackendRefs) > 0 {
		rule.Backends = make([]routetable.Backend, 0, len(spec.BackendRefs))
	}
	var why, p problem
	rule.Matches, why = translateGRPCMatches(where, spec.Matches)
	rule.Filters, p = b.translateGRPCFilters(r, where, spec.Filters, t)
	why = firstProblem(why, p)
	for j := range spec.BackendRefs {
		ref := &spec.BackendRefs[j]
		refWhere := where.index("backendRefs", j)
		backend, unresolved := b.grpcBackend(r, ref.BackendObjectReference, refWhere, t)
		backend.Weight = deref(ref.Weight, 1)
		if !unresolved.ok() {
			backend.Unresolved = unresolved.reason
			t.refs = append(t.refs, unresolved)
		}
		backend.Filters, p = b.translateGRPCFilters(r, refWhere, ref.Filters, t)
		why = firstProblem(why, p)
		rule.Backends = append(rule.Backends, backend)
	}
	if why.ok() && spec.SessionPersistence != nil {
		why = newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s is not supported by tenantgate; remove it.", where.field("sessionPersistence"))
	}
	return rule, why
}

// grpcBackend resolves a backendRef as backend does; gRPC needs HTTP/2, so
// a Service port without appProtocol is spoken to over h2c (the spec lets
// the route kind decide), one with a BackendTLSPolicy over HTTP/2 on TLS,
// and one that asks for WebSocket is unusable.
func (b *builder) grpcBackend(r *routeObject, ref gatewayv1.BackendObjectReference, where fieldPath, t *routeTranslation) (routetable.Backend, problem) {
	backend, p := b.backend(r, ref, where, t)
	if !p.ok() {
		return backend, p
	}
	switch {
	case backend.AppProtocol == routetable.AppProtocolWebSocket:
		return backend, newProblem(gatewayv1.RouteReasonUnsupportedProtocol,
			"%s refers to Service %s whose port has a WebSocket appProtocol, which cannot carry gRPC; use kubernetes.io/h2c.", where, strings.Split(backend.Name, ":")[0])
	case backend.TLS != nil:
		backend.AppProtocol = routetable.AppProtocolHTTP2
		return backend, problem{}
	}
	backend.AppProtocol = routetable.AppProtocolH2C
	return backend, problem{}
}

// translateGRPCMatches applies the API's defaults (Exact) and rejects values
// tenantgate does not know; a rule without matches takes every request.
func translateGRPCMatches(where fieldPath, specs []gatewayv1.GRPCRouteMatch) ([]routetable.Match, problem) {
	if len(specs) == 0 {
		return []routetable.Match{{}}, problem{}
	}
	out := make([]routetable.Match, 0, len(specs))
	for j := range specs {
		m, p := translateGRPCMatch(where.index("matches", j), &specs[j])
		if !p.ok() {
			return nil, p
		}
		out = append(out, m)
	}
	return out, problem{}
}

func translateGRPCMatch(where fieldPath, spec *gatewayv1.GRPCRouteMatch) (routetable.Match, problem) {
	var m routetable.Match
	if mm := spec.Method; mm != nil {
		mw := where.field("method")
		service, method := deref(mm.Service, ""), deref(mm.Method, "")
		if service == "" && method == "" {
			return m, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s sets neither service nor method; set one or remove method.", mw)
		}
		g := &routetable.GRPCMethodMatch{Service: service, Method: method}
		switch typ := deref(mm.Type, gatewayv1.GRPCMethodMatchExact); typ {
		case gatewayv1.GRPCMethodMatchExact:
			g.Type = routetable.MatchExact
			for _, part := range []struct{ name, value string }{{"service", service}, {"method", method}} {
				if strings.Contains(part.value, "/") {
					return m, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %s must not contain \"/\"; name the %s alone.", mw.field(part.name), quoteClipped(part.value), part.name)
				}
			}
		case gatewayv1.GRPCMethodMatchRegularExpression:
			g.Type = routetable.MatchRegex
			for _, part := range []struct{ name, value string }{{"service", service}, {"method", method}} {
				if part.value == "" {
					continue
				}
				if p := checkRegex(mw.field(part.name), part.value); !p.ok() {
					return m, p
				}
			}
		default:
			return m, unsupportedValue(mw.field("type"), string(typ), "Exact or RegularExpression")
		}
		m.GRPC = g
	}
	for k, h := range spec.Headers {
		if slices.ContainsFunc(m.Headers, func(v routetable.ValueMatch) bool { return strings.EqualFold(v.Name, string(h.Name)) }) {
			continue
		}
		typ, p := valueMatchType(where.index("headers", k), string(deref(h.Type, gatewayv1.GRPCHeaderMatchExact)), h.Value)
		if !p.ok() {
			return m, p
		}
		m.Headers = append(m.Headers, routetable.ValueMatch{Type: typ, Name: string(h.Name), Value: h.Value})
	}
	return m, problem{}
}

// translateGRPCFilters translates GRPCRoute filters through the HTTPRoute
// ones they share their settings with; ExtensionRef is refused there.
func (b *builder) translateGRPCFilters(r *routeObject, parent fieldPath, specs []gatewayv1.GRPCRouteFilter, t *routeTranslation) ([]routetable.Filter, problem) {
	if len(specs) == 0 {
		return nil, problem{}
	}
	http := make([]gatewayv1.HTTPRouteFilter, len(specs))
	for i, f := range specs {
		switch f.Type {
		case gatewayv1.GRPCRouteFilterRequestHeaderModifier, gatewayv1.GRPCRouteFilterResponseHeaderModifier,
			gatewayv1.GRPCRouteFilterRequestMirror, gatewayv1.GRPCRouteFilterExtensionRef:
		default:
			return nil, unsupportedValue(parent.index("filters", i).field("type"), string(f.Type),
				"RequestHeaderModifier, ResponseHeaderModifier or RequestMirror")
		}
		http[i] = gatewayv1.HTTPRouteFilter{
			Type:                   gatewayv1.HTTPRouteFilterType(f.Type),
			RequestHeaderModifier:  f.RequestHeaderModifier,
			ResponseHeaderModifier: f.ResponseHeaderModifier,
			RequestMirror:          f.RequestMirror,
			ExtensionRef:           f.ExtensionRef,
		}
	}
	return b.translateFilters(r, parent, http, nil, t)
}

// sortedRoutes are a listener's routes by namespace/name, HTTPRoutes before
// GRPCRoutes of the same name: the Config does not depend on the order
// routes were attached in.
func sortedRoutes(routes []*routetable.Route) []*routetable.Route {
	// Keys are unique on a listener (a route is served there once), so an unstable sort is deterministic.
	slices.SortFunc(routes, compareServed)
	return routes
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MergeGRPCRouteStatus is MergeRouteStatus for a GRPCRoute.
func MergeGRPCRouteStatus(current, desired gatewayv1.GRPCRouteStatus, controller gatewayv1.GatewayController, now metav1.Time) gatewayv1.GRPCRouteStatus {
	merged := MergeRouteStatus(gatewayv1.HTTPRouteStatus{RouteStatus: current.RouteStatus}, gatewayv1.HTTPRouteStatus{RouteStatus: desired.RouteStatus}, controller, now)
	return gatewayv1.GRPCRouteStatus{RouteStatus: merged.RouteStatus}
}
