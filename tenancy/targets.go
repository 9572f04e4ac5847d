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

// forEachTarget calls yield for every traffic target of the route.
func forEachTarget(route *gatewayv1.HTTPRoute, yield func(target)) {
	filters := func(rule, backend int, fs []gatewayv1.HTTPRouteFilter) {
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
	for i := range route.Spec.Rules {
		rule := &route.Spec.Rules[i]
		filters(i, -1, rule.Filters)
		for j := range rule.BackendRefs {
			b := &rule.BackendRefs[j]
			yield(target{ref: &b.BackendObjectReference, rule: i, backend: j, filter: -1})
			filters(i, j, b.Filters)
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
	forEachTarget(c.route, func(tg target) {
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
		if denied || !c.warnings || ns == c.ns || c.p.granted(c.ns, ns, group, kind, tg.ref.Name) {
			return
		}
		c.warn(tg.path(), "no ReferenceGrant in namespace %q lets HTTPRoutes in namespace %q use %s %q; this backend gets no traffic (ResolvedRefs=False/RefNotPermitted) until one does",
			ns, c.ns, kind, tg.ref.Name)
	})
}
