package tenancy

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// target is a place a route sends traffic: a backendRef, or the backendRef
// of a RequestMirror or ExternalAuth filter (on a rule or on a backendRef).
type target struct {
	ref *gatewayv1.BackendObjectReference
	// where, built only when a message needs it
	rule, backend, filter int // backend or filter is -1 when not involved
	filterField           string
}

func (t target) path() *field.Path {
	p := rulesPath.Index(t.rule)
	if t.backend >= 0 {
		p = p.Child("backendRefs").Index(t.backend)
	}
	if t.filter >= 0 {
		p = p.Child("filters").Index(t.filter).Child(t.filterField).Child("backendRef")
	}
	return p
}

// httpFilters yields the targets of HTTPRoute filters (RequestMirror, ExternalAuth).
func httpFilters(rule, backend int, fs []gatewayv1.HTTPRouteFilter, yield func(target)) {
	for k := range fs {
		f := &fs[k]
		if f.RequestMirror != nil {
			yield(target{ref: &f.RequestMirror.BackendRef, rule: rule, backend: backend, filter: k, filterField: "requestMirror"})
		}
		if f.ExternalAuth != nil {
			yield(target{ref: &f.ExternalAuth.BackendRef, rule: rule, backend: backend, filter: k, filterField: "externalAuth"})
		}
	}
}

// httpTargets calls yield for every traffic target of an HTTPRoute.
func httpTargets(route *gatewayv1.HTTPRoute, yield func(target)) {
	for i := range route.Spec.Rules {
		rule := &route.Spec.Rules[i]
		httpFilters(i, -1, rule.Filters, yield)
		for j := range rule.BackendRefs {
			b := &rule.BackendRefs[j]
			yield(target{ref: &b.BackendObjectReference, rule: i, backend: j, filter: -1})
			httpFilters(i, j, b.Filters, yield)
		}
	}
}

// grpcFilters yields the targets of GRPCRoute filters (RequestMirror).
func grpcFilters(rule, backend int, fs []gatewayv1.GRPCRouteFilter, yield func(target)) {
	for k := range fs {
		if m := fs[k].RequestMirror; m != nil {
			yield(target{ref: &m.BackendRef, rule: rule, backend: backend, filter: k, filterField: "requestMirror"})
		}
	}
}

// grpcTargets calls yield for every traffic target of a GRPCRoute.
func grpcTargets(route *gatewayv1.GRPCRoute, yield func(target)) {
	for i := range route.Spec.Rules {
		rule := &route.Spec.Rules[i]
		grpcFilters(i, -1, rule.Filters, yield)
		for j := range rule.BackendRefs {
			b := &rule.BackendRefs[j]
			yield(target{ref: &b.BackendObjectReference, rule: i, backend: j, filter: -1})
			grpcFilters(i, j, b.Filters, yield)
		}
	}
}

// plainTargets yields the backendRefs of TLS, TCP and UDP route rules.
func plainTargets(rules [][]gatewayv1.BackendRef, yield func(target)) {
	for i, refs := range rules {
		for j := range refs {
			yield(target{ref: &refs[j].BackendObjectReference, rule: i, backend: j, filter: -1})
		}
	}
}

// isService reports whether a backend reference is a core Service (the
// API's default kind).
func isService(ref *gatewayv1.BackendObjectReference) bool {
	return (ref.Group == nil || *ref.Group == "") && (ref.Kind == nil || *ref.Kind == "Service")
}

func backendKind(ref *gatewayv1.BackendObjectReference) (gatewayv1.Group, gatewayv1.Kind) {
	group, kind := gatewayv1.Group(""), gatewayv1.Kind("Service")
	if ref.Group != nil {
		group = *ref.Group
	}
	if ref.Kind != nil {
		kind = *ref.Kind
	}
	return group, kind
}

// checkTargets keeps a tenant route's traffic on core Services in the
// tenant's namespaces and backendNamespaces, and warns about every route's
// cross-namespace targets that no ReferenceGrant admits.
func (c *routeCheck) checkTargets() {
	t := c.tenant
	c.route.targets(func(tg target) {
		ns := c.ns
		if tg.ref.Namespace != nil && *tg.ref.Namespace != "" {
			ns = string(*tg.ref.Namespace)
		}
		group, kind := backendKind(tg.ref)
		denied := false
		if t != nil && !isService(tg.ref) {
			denied = true
			shown := string(kind)
			if group != "" {
				shown += "." + string(group)
			}
			c.deny(violation(tg.path().Child("kind"), shown,
				"%q is not a core Service; routes of tenant %q may send traffic only to Services",
				shown, t.name))
		}
		if t != nil && c.p.members.owner[ns] != t && !t.backendNamespaces[ns] {
			denied = true
			c.deny(violation(tg.path().Child("namespace"), ns,
				"%q is outside tenant %q; send traffic only to the tenant's namespaces (%s) or add it to Tenant %s spec.backendNamespaces",
				ns, t.name, orNone(c.p.members.members[t.name]), t.name))
		}
		if denied || !c.warnings || ns == c.ns {
			return
		}
		ok, ignored := c.p.granted(c.route.kind, c.ns, ns, group, kind, tg.ref.Name)
		if ok {
			return
		}
		c.warn(tg.path(), "no ReferenceGrant in namespace %q lets %ss in namespace %q use %s %q%s; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does",
			ns, c.route.kind, c.ns, kind, tg.ref.Name, parenthesised(ignored))
	})
}

// parenthesised is " (s)", or "" for an empty s.
func parenthesised(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
