package tenancy

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeView is what the policy reads of a route of any kind, so one check
// serves HTTPRoute, GRPCRoute, TLSRoute, TCPRoute and UDPRoute.
type routeView struct {
	kind      string
	namespace string
	name      string
	common    *gatewayv1.CommonRouteSpec
	// hostnamed is false for kinds without spec.hostnames (TCPRoute,
	// UDPRoute): they claim and inherit no hostname.
	hostnamed bool
	hostnames []gatewayv1.Hostname
	// http is set for HTTPRoutes, whose path matches can stay inside the
	// prefixes a tenant owns on a shared host; other kinds cannot, and
	// noPaths says why.
	http    *gatewayv1.HTTPRoute
	noPaths string
	targets func(yield func(target))
}

func httpRouteView(r *gatewayv1.HTTPRoute) *routeView {
	return &routeView{kind: kindHTTPRoute, namespace: r.Namespace, name: r.Name, common: &r.Spec.CommonRouteSpec,
		hostnamed: true, hostnames: r.Spec.Hostnames, http: r,
		targets: func(yield func(target)) { httpTargets(r, yield) }}
}

func grpcRouteView(r *gatewayv1.GRPCRoute) *routeView {
	return &routeView{kind: kindGRPCRoute, namespace: r.Namespace, name: r.Name, common: &r.Spec.CommonRouteSpec,
		hostnamed: true, hostnames: r.Spec.Hostnames,
		noPaths: "a GRPCRoute has no path matches to keep it inside them",
		targets: func(yield func(target)) { grpcTargets(r, yield) }}
}

func tlsRouteView(r *gatewayv1.TLSRoute) *routeView {
	backends := backendsOf(r.Spec.Rules, func(rule *gatewayv1.TLSRouteRule) []gatewayv1.BackendRef { return rule.BackendRefs })
	return &routeView{kind: kindTLSRoute, namespace: r.Namespace, name: r.Name, common: &r.Spec.CommonRouteSpec,
		hostnamed: true, hostnames: r.Spec.Hostnames,
		noPaths: "a TLSRoute takes every path (SNI cannot be split by path)",
		targets: func(yield func(target)) { plainTargets(backends, yield) }}
}

func tcpRouteView(r *gatewayv1.TCPRoute) *routeView {
	backends := backendsOf(r.Spec.Rules, func(rule *gatewayv1.TCPRouteRule) []gatewayv1.BackendRef { return rule.BackendRefs })
	return &routeView{kind: kindTCPRoute, namespace: r.Namespace, name: r.Name, common: &r.Spec.CommonRouteSpec,
		targets: func(yield func(target)) { plainTargets(backends, yield) }}
}

func udpRouteView(r *gatewayv1.UDPRoute) *routeView {
	backends := backendsOf(r.Spec.Rules, func(rule *gatewayv1.UDPRouteRule) []gatewayv1.BackendRef { return rule.BackendRefs })
	return &routeView{kind: kindUDPRoute, namespace: r.Namespace, name: r.Name, common: &r.Spec.CommonRouteSpec,
		targets: func(yield func(target)) { plainTargets(backends, yield) }}
}

// backendsOf lists each rule's backendRefs, for the kinds whose rules hold
// nothing else the policy reads.
func backendsOf[R any](rules []R, refs func(*R) []gatewayv1.BackendRef) [][]gatewayv1.BackendRef {
	out := make([][]gatewayv1.BackendRef, len(rules))
	for i := range rules {
		out[i] = refs(&rules[i])
	}
	return out
}

// routeViewOf returns the view of a route object, or nil for other objects.
func routeViewOf(obj any) *routeView {
	switch r := obj.(type) {
	case *gatewayv1.HTTPRoute:
		return httpRouteView(r)
	case *gatewayv1.GRPCRoute:
		return grpcRouteView(r)
	case *gatewayv1.TLSRoute:
		return tlsRouteView(r)
	case *gatewayv1.TCPRoute:
		return tcpRouteView(r)
	case *gatewayv1.UDPRoute:
		return udpRouteView(r)
	}
	return nil
}

// routeViews lists every route of the snapshot.
func (in *Inputs) routeViews() []*routeView {
	var out []*routeView
	for i := range in.HTTPRoutes {
		out = append(out, httpRouteView(in.HTTPRoutes[i]))
	}
	for i := range in.GRPCRoutes {
		out = append(out, grpcRouteView(in.GRPCRoutes[i]))
	}
	for i := range in.TLSRoutes {
		out = append(out, tlsRouteView(in.TLSRoutes[i]))
	}
	for i := range in.TCPRoutes {
		out = append(out, tcpRouteView(in.TCPRoutes[i]))
	}
	for i := range in.UDPRoutes {
		out = append(out, udpRouteView(in.UDPRoutes[i]))
	}
	return out
}

// CheckHTTPRoute checks a route against the policy of its namespace's
// tenant: parents, hostnames (claimed or inherited from listeners), paths on
// shared hosts, and where it sends traffic. A route in a namespace of no
// tenant may not claim, inherit or shadow a tenant's hostname; a route in a
// platform namespace is trusted. Warnings say why an allowed route will not
// work yet (no listener admits it, a backend lacks a ReferenceGrant).
func (p *Policy) CheckHTTPRoute(route *gatewayv1.HTTPRoute) Verdict {
	v, _ := p.checkRoute(httpRouteView(route), true)
	return v
}

// CheckGRPCRoute is CheckHTTPRoute for a GRPCRoute; it has no paths, so it
// may not use a host the tenant shares by path.
func (p *Policy) CheckGRPCRoute(route *gatewayv1.GRPCRoute) Verdict {
	v, _ := p.checkRoute(grpcRouteView(route), true)
	return v
}

// CheckTLSRoute is CheckHTTPRoute for a TLSRoute: its hostnames are SNI
// names, owned as HTTP hostnames are, and never on a host shared by path.
func (p *Policy) CheckTLSRoute(route *gatewayv1.TLSRoute) Verdict {
	v, _ := p.checkRoute(tlsRouteView(route), true)
	return v
}

// CheckTCPRoute checks a TCPRoute's parents and backends (it has no hostnames).
func (p *Policy) CheckTCPRoute(route *gatewayv1.TCPRoute) Verdict {
	v, _ := p.checkRoute(tcpRouteView(route), true)
	return v
}

// CheckUDPRoute checks a UDPRoute's parents and backends (it has no hostnames).
func (p *Policy) CheckUDPRoute(route *gatewayv1.UDPRoute) Verdict {
	v, _ := p.checkRoute(udpRouteView(route), true)
	return v
}
