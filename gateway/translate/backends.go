package translate

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// servicePort names one port of one Service, the unit endpoints are
// computed for.
type servicePort struct {
	service types.NamespacedName
	name    string
}

// endpointSet is the endpoints of one Service port, computed once per Build.
type endpointSet []routetable.Endpoint

// backend resolves one backendRef of a route to a Service port and its ready
// endpoints. A problem means the reference is unusable: the caller keeps its
// weight share, which the data plane answers with 500.
//
// A BackendTLSPolicy for the Service port makes the proxy speak TLS to it;
// the policies targeting the port are recorded in t so the route's
// Gateways become their ancestors.
func (b *builder) backend(route *routeObject, ref gatewayv1.BackendObjectReference, where fieldPath, t *routeTranslation) (routetable.Backend, problem) {
	key, sp, out, pr := b.servicePort(route.kind, route.Namespace, ref, where)
	if !pr.ok() {
		return out, pr
	}
	port := sp.Port
	b.notePolicies(t, key, sp.Name)
	app, needsTLS, ok := appProtocol(sp.AppProtocol)
	policy := b.policyFor(key, sp.Name)
	switch {
	case !ok:
		return out, newProblem(gatewayv1.RouteReasonUnsupportedProtocol,
			"%s refers to Service %s port %d with appProtocol %q; tenantgate speaks HTTP/1.1, kubernetes.io/h2c, kubernetes.io/ws and, with a BackendTLSPolicy, https and kubernetes.io/wss.", where, key, port, *sp.AppProtocol)
	case needsTLS && policy == nil:
		return out, newProblem(gatewayv1.RouteReasonUnsupportedProtocol,
			"%s refers to Service %s port %d with appProtocol %q, but no BackendTLSPolicy targets it; create one so tenantgate can verify the backend.", where, key, port, *sp.AppProtocol)
	case policy != nil && app == routetable.AppProtocolH2C:
		return out, newProblem(gatewayv1.RouteReasonUnsupportedProtocol,
			"%s refers to Service %s port %d with appProtocol kubernetes.io/h2c (cleartext), but BackendTLSPolicy %s asks for TLS; use https or drop the policy.", where, key, port, policy.key)
	}
	out.AppProtocol = app
	if policy != nil {
		policy.apply(&out)
	}
	out.Endpoints = b.endpointsOf(servicePort{service: key, name: sp.Name})
	out.Source = routetable.EndpointSource{Namespace: key.Namespace, Service: key.Name, Port: sp.Name}
	return out, problem{}
}

// servicePort resolves a backendRef of a route of kind in namespace ns to
// a Service port: a core Service, granted when in another namespace, not
// ExternalName, with that TCP port. A problem means it is unusable; out
// is then the backend that keeps the reference's weight share.
func (b *builder) servicePort(kind gatewayv1.Kind, ns string, ref gatewayv1.BackendObjectReference, where fieldPath) (types.NamespacedName, *corev1.ServicePort, routetable.Backend, problem) {
	key := types.NamespacedName{Namespace: string(deref(ref.Namespace, gatewayv1.Namespace(ns))), Name: string(ref.Name)}
	port := deref(ref.Port, 0)
	out := routetable.Backend{Name: key.Namespace + "/" + key.Name + ":" + strconv.Itoa(int(port)), Weight: 1}
	group, refKind := deref(ref.Group, ""), deref(ref.Kind, "Service")
	if group != "" || refKind != "Service" {
		return key, nil, out, newProblem(gatewayv1.RouteReasonInvalidKind,
			"%s refers to %s %s in group %q; tenantgate forwards only to core Services.", where, refKind, key, group)
	}
	grantRef := reference{
		fromGroup: gatewayv1.GroupName, fromKind: string(kind), fromNamespace: ns,
		toGroup: "", toKind: "Service", toNamespace: key.Namespace, toName: key.Name,
	}
	if !b.referenceAllowed(grantRef) {
		if ignored := b.referenceIgnored(grantRef); ignored != "" {
			return key, nil, out, newProblem(gatewayv1.RouteReasonRefNotPermitted,
				"%s refers to Service %s in another namespace; %s; fix the grant or the tenant's spec.referenceGrants.", where, key, ignored)
		}
		return key, nil, out, newProblem(gatewayv1.RouteReasonRefNotPermitted,
			"%s refers to Service %s in another namespace, and no ReferenceGrant there allows %ss from %s; create one in %s.",
			where, key, kind, ns, key.Namespace)
	}
	b.readsInput(key) // the Service's fingerprint holds it and its EndpointSlices: a change re-translates its readers only
	svc := b.services[key]
	if svc == nil {
		return key, nil, out, newProblem(gatewayv1.RouteReasonBackendNotFound, "%s refers to Service %s, which does not exist; create it or fix the backendRef.", where, key)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return key, nil, out, newProblem(gatewayv1.RouteReasonInvalidKind,
			"%s refers to Service %s of type ExternalName, which tenantgate does not forward to; use a Service with endpoints.", where, key)
	}
	sp := servicePortOf(svc, port)
	if sp == nil {
		return key, nil, out, newProblem(gatewayv1.RouteReasonBackendNotFound, "%s refers to port %d of Service %s, which has no such TCP port; use one of its ports.", where, port, key)
	}
	return key, sp, out, problem{}
}

func servicePortOf(svc *corev1.Service, port int32) *corev1.ServicePort {
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Port == port && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
			return p
		}
	}
	return nil
}

// appProtocol maps a Service port's appProtocol (KEP-3726) to how the proxy
// speaks to the backend; needsTLS is set for the TLS ones.
func appProtocol(p *string) (app routetable.AppProtocol, needsTLS, ok bool) {
	switch v := deref(p, ""); {
	case v == "" || strings.EqualFold(v, "http"):
		return routetable.AppProtocolHTTP1, false, true
	case strings.EqualFold(v, "https"):
		return routetable.AppProtocolHTTP1, true, true
	case v == "kubernetes.io/h2c":
		return routetable.AppProtocolH2C, false, true
	case v == "kubernetes.io/ws":
		return routetable.AppProtocolWebSocket, false, true
	case v == "kubernetes.io/wss":
		return routetable.AppProtocolWebSocket, true, true
	}
	return "", false, false
}

// endpointsOf returns a Service port's endpoints from its EndpointSlices,
// once per Build.
func (b *builder) endpointsOf(sp servicePort) endpointSet {
	b.readsInput(sp.service)
	if eps, ok := b.endpoints[sp]; ok {
		return eps
	}
	eps := endpointSet(ServicePortEndpoints(b.slices[sp.service], sp.name))
	b.endpoints[sp] = eps
	return eps
}

// ServicePortEndpoints is the endpoints of the Service port named port
// given the Service's EndpointSlices, matching slice ports by name: ready
// endpoints, or, when none is ready, serving endpoints that are terminating
// (as kube-proxy does); sorted, without duplicates. The controller's
// endpoint fast path computes them with it too.
func ServicePortEndpoints(endpointSlices []*discoveryv1.EndpointSlice, port string) []routetable.Endpoint {
	var ready, terminating []routetable.Endpoint
	for _, es := range endpointSlices {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		number, ok := slicePort(es, port)
		if !ok {
			continue
		}
		for _, ep := range es.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			// Only the first address has defined semantics.
			e := routetable.Endpoint{Address: ep.Addresses[0], Port: number}
			c := ep.Conditions
			switch {
			case deref(c.Ready, true):
				ready = append(ready, e)
			case deref(c.Serving, false) && deref(c.Terminating, false):
				terminating = append(terminating, e)
			}
		}
	}
	eps := ready
	if len(eps) == 0 {
		eps = terminating
	}
	slices.SortFunc(eps, func(x, y routetable.Endpoint) int {
		return cmp.Or(cmp.Compare(x.Address, y.Address), cmp.Compare(x.Port, y.Port))
	})
	return slices.Compact(eps)
}

func slicePort(es *discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range es.Ports {
		if deref(p.Name, "") == name && deref(p.Protocol, corev1.ProtocolTCP) == corev1.ProtocolTCP && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}
