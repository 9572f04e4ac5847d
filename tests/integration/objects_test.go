package integration

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Builders for the objects the cases apply. Each takes options that read
// as the object's YAML would.

type routeOption func(*gatewayv1.HTTPRoute)

// route is an HTTPRoute (v1) in ns; table cases name it after the case.
func route(ns string, opts ...routeOption) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "route"},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func named(name string) routeOption { return func(r *gatewayv1.HTTPRoute) { r.Name = name } }

// v1beta1Route sends the route through the API's other served version.
func v1beta1Route() routeOption {
	return func(r *gatewayv1.HTTPRoute) { r.APIVersion = "gateway.networking.k8s.io/v1beta1" }
}

// parent attaches to Gateway ns/name, on listener section ("" for none).
func parent(ns, name, section string) routeOption {
	return func(r *gatewayv1.HTTPRoute) {
		ref := gatewayv1.ParentReference{Namespace: ptr.To(gatewayv1.Namespace(ns)), Name: gatewayv1.ObjectName(name)}
		if section != "" {
			ref.SectionName = ptr.To(gatewayv1.SectionName(section))
		}
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, ref)
	}
}

// parentOnPort attaches to the listeners of Gateway ns/name on port.
func parentOnPort(ns, name string, port gatewayv1.PortNumber) routeOption {
	return func(r *gatewayv1.HTTPRoute) {
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gatewayv1.ParentReference{
			Namespace: ptr.To(gatewayv1.Namespace(ns)), Name: gatewayv1.ObjectName(name), Port: &port})
	}
}

// parentOfKind attaches to something other than a Gateway, in the route's namespace.
func parentOfKind(group, kind, name string) routeOption {
	return func(r *gatewayv1.HTTPRoute) {
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gatewayv1.ParentReference{
			Group: ptr.To(gatewayv1.Group(group)), Kind: ptr.To(gatewayv1.Kind(kind)), Name: gatewayv1.ObjectName(name)})
	}
}

func hosts(names ...string) routeOption {
	return func(r *gatewayv1.HTTPRoute) {
		for _, n := range names {
			r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(n))
		}
	}
}

type ruleOption func(*gatewayv1.HTTPRouteRule)

// rule adds a rule; with no options the API server fills in its default
// match (PathPrefix "/").
func rule(opts ...ruleOption) routeOption {
	return func(r *gatewayv1.HTTPRoute) {
		var rr gatewayv1.HTTPRouteRule
		for _, o := range opts {
			o(&rr)
		}
		r.Spec.Rules = append(r.Spec.Rules, rr)
	}
}

// path adds a match on a path.
func path(typ gatewayv1.PathMatchType, value string) ruleOption {
	return func(rr *gatewayv1.HTTPRouteRule) {
		rr.Matches = append(rr.Matches, gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: &typ, Value: &value}})
	}
}

// header adds a match on a header only (no path).
func header(name, value string) ruleOption {
	return func(rr *gatewayv1.HTTPRouteRule) {
		rr.Matches = append(rr.Matches, gatewayv1.HTTPRouteMatch{Headers: []gatewayv1.HTTPHeaderMatch{
			{Name: gatewayv1.HTTPHeaderName(name), Value: value}}})
	}
}

// serviceRef is Service ns/name on port 80; ns "" means the route's own.
func serviceRef(ns, name string) gatewayv1.BackendObjectReference {
	ref := gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name), Port: ptr.To(gatewayv1.PortNumber(80))}
	if ns != "" {
		ref.Namespace = ptr.To(gatewayv1.Namespace(ns))
	}
	return ref
}

// backend sends traffic to Service ns/name, with optional backend filters.
func backend(ns, name string, filters ...gatewayv1.HTTPRouteFilter) ruleOption {
	return func(rr *gatewayv1.HTTPRouteRule) {
		rr.BackendRefs = append(rr.BackendRefs, gatewayv1.HTTPBackendRef{
			BackendRef: gatewayv1.BackendRef{BackendObjectReference: serviceRef(ns, name)}, Filters: filters})
	}
}

// backendOfKind sends traffic to an object of another kind in the route's namespace.
func backendOfKind(group, kind, name string) ruleOption {
	return func(rr *gatewayv1.HTTPRouteRule) {
		ref := serviceRef("", name)
		ref.Group, ref.Kind = ptr.To(gatewayv1.Group(group)), ptr.To(gatewayv1.Kind(kind))
		rr.BackendRefs = append(rr.BackendRefs, gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: ref}})
	}
}

// mirrorFilter copies requests to Service ns/name.
func mirrorFilter(ns, name string) gatewayv1.HTTPRouteFilter {
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror,
		RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{BackendRef: serviceRef(ns, name)}}
}

// mirror adds a rule-level RequestMirror filter.
func mirror(ns, name string) ruleOption {
	return func(rr *gatewayv1.HTTPRouteRule) { rr.Filters = append(rr.Filters, mirrorFilter(ns, name)) }
}

type grantOption func(*gatewayv1.ReferenceGrant)

// grant is a ReferenceGrant (v1) in ns; table cases name it after the case.
func grant(ns string, opts ...grantOption) *gatewayv1.ReferenceGrant {
	g := &gatewayv1.ReferenceGrant{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "ReferenceGrant"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "grant"},
	}
	for _, o := range opts {
		o(g)
	}
	return g
}

// v1beta1Grant sends the grant through v1beta1 (its own webhook).
func v1beta1Grant() grantOption {
	return func(g *gatewayv1.ReferenceGrant) { g.APIVersion = "gateway.networking.k8s.io/v1beta1" }
}

// from trusts objects of kind (HTTPRoute, Gateway) in the namespaces.
func from(kind string, namespaces ...string) grantOption {
	return func(g *gatewayv1.ReferenceGrant) {
		for _, ns := range namespaces {
			g.Spec.From = append(g.Spec.From, gatewayv1.ReferenceGrantFrom{
				Group: gatewayv1.GroupName, Kind: gatewayv1.Kind(kind), Namespace: gatewayv1.Namespace(ns)})
		}
	}
}

// to opens up core objects of kind named name ("" for every one).
func to(kind, name string) grantOption {
	return func(g *gatewayv1.ReferenceGrant) {
		t := gatewayv1.ReferenceGrantTo{Group: "", Kind: gatewayv1.Kind(kind)}
		if name != "" {
			t.Name = ptr.To(gatewayv1.ObjectName(name))
		}
		g.Spec.To = append(g.Spec.To, t)
	}
}

type tenantOption func(*v1alpha1.TenantSpec)

func tenant(name string, opts ...tenantOption) *v1alpha1.Tenant {
	t := &v1alpha1.Tenant{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Tenant"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	for _, o := range opts {
		o(&t.Spec)
	}
	return t
}

func namespaces(names ...string) tenantOption {
	return func(s *v1alpha1.TenantSpec) {
		for _, n := range names {
			s.Namespaces.Names = append(s.Namespaces.Names, v1alpha1.NamespaceName(n))
		}
	}
}

func selector(sel metav1.LabelSelector) tenantOption {
	return func(s *v1alpha1.TenantSpec) { s.Namespaces.Selector = &sel }
}

// owns adds a hostname, shared when path prefixes are given.
func owns(hostname string, prefixes ...string) tenantOption {
	return func(s *v1alpha1.TenantSpec) {
		h := v1alpha1.OwnedHostname{Hostname: v1alpha1.Hostname(hostname)}
		for _, p := range prefixes {
			h.PathPrefixes = append(h.PathPrefixes, v1alpha1.PathPrefix(p))
		}
		s.Hostnames = append(s.Hostnames, h)
	}
}

func gateway(ns, name string) tenantOption {
	return func(s *v1alpha1.TenantSpec) {
		s.Gateways = append(s.Gateways, v1alpha1.GatewayReference{Namespace: v1alpha1.NamespaceName(ns), Name: name})
	}
}

func enforcement(e v1alpha1.Enforcement) tenantOption {
	return func(s *v1alpha1.TenantSpec) { s.Enforcement = e }
}

// parentOfKindIn attaches to a Gateway API object of kind (ListenerSet,
// say) ns/name, on listener section ("" for none).
func parentOfKindIn(ns, kind, name, section string) routeOption {
	return func(r *gatewayv1.HTTPRoute) {
		ref := gatewayv1.ParentReference{Kind: ptr.To(gatewayv1.Kind(kind)), Namespace: ptr.To(gatewayv1.Namespace(ns)),
			Name: gatewayv1.ObjectName(name)}
		if section != "" {
			ref.SectionName = ptr.To(gatewayv1.SectionName(section))
		}
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, ref)
	}
}
