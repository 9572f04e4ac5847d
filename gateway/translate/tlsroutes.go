package translate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

const kindTLSRoute = model.KindTLSRoute

// tlsRoutes attaches every TLSRoute to the TLS listeners of our Gateways it
// names and records one parent status per such parentRef, as routes() does
// for HTTPRoutes: the model decides attachment, the tenant policy may
// refuse the route, and each backendRef resolves or keeps its weight share
// as refused connections.
func (b *builder) tlsRoutes() {
	for _, r := range sortedPointers(b.s.TLSRoutes) {
		b.tlsRoute(r)
	}
}

func (b *builder) tlsRoute(r *gatewayv1.TLSRoute) {
	key := keyOf(&r.ObjectMeta)
	var parents []int
	for i := range r.Spec.ParentRefs {
		if _, ok := b.parentIn(r.Namespace, &r.Spec.ParentRefs[i]); ok {
			parents = append(parents, i)
		}
	}
	if len(parents) == 0 {
		if b.ownsParentStatus(r.Status.RouteStatus) {
			b.result.TLSRoutes[key] = gatewayv1.TLSRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{}}}
		}
		return
	}
	var refused problem
	if b.s.Policy != nil {
		refused = tenantProblem(b.s.Policy.TLSRouteViolations(r))
	}
	rule, refs, ruleProblem := b.tlsRule(r)
	resolved := joinProblems(refs)
	var served []*listenerState
	statuses := make([]gatewayv1.RouteParentStatus, 0, len(parents))
	for _, i := range parents {
		ref := &r.Spec.ParentRefs[i]
		p, _ := b.parentIn(r.Namespace, ref)
		attachments, accepted := b.attachTLS(r, ref, p)
		accepted = firstProblem(refused, accepted, ruleProblem)
		if accepted.ok() {
			for _, a := range attachments {
				served = b.serveTLS(r, a, rule, served)
			}
		}
		gen := r.Generation
		statuses = append(statuses, gatewayv1.RouteParentStatus{
			ParentRef:      *ref.DeepCopy(),
			ControllerName: b.controller,
			Conditions: []metav1.Condition{
				b.routeCondition(string(gatewayv1.RouteConditionAccepted), accepted.ok(), orReason(accepted, gatewayv1.RouteReasonAccepted),
					orMessage(accepted, attachedMessage(p, attachments)), gen),
				b.routeCondition(string(gatewayv1.RouteConditionResolvedRefs), resolved.ok(), orReason(resolved, gatewayv1.RouteReasonResolvedRefs),
					orMessage(resolved, "All references resolved."), gen),
			},
		})
	}
	b.result.TLSRoutes[key] = gatewayv1.TLSRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: statuses}}
}

// parentIn resolves a parentRef of a route in namespace ns to one of our
// Gateways or a ListenerSet of one.
func (b *builder) parentIn(ns string, ref *gatewayv1.ParentReference) (parent, bool) {
	mp, ok := b.model.ParentRef(ref, ns)
	if !ok {
		return parent{}, false
	}
	p := parent{m: mp, gateway: b.gatewayByKey[mp.Gateway.Key]}
	if mp.Set != nil {
		p.set = b.setByKey[mp.Set.Key]
	}
	return p, true
}

// ownsParentStatus reports whether a route's status has entries of ours,
// which must be cleared when it names none of our Gateways any more.
func (b *builder) ownsParentStatus(s gatewayv1.RouteStatus) bool {
	for _, p := range s.Parents {
		if p.ControllerName == b.controller {
			return true
		}
	}
	return false
}

// attachTLS is the model's attachment of a TLSRoute to the parent's
// listeners; only TLS listeners admit the kind.
func (b *builder) attachTLS(r *gatewayv1.TLSRoute, ref *gatewayv1.ParentReference, p parent) ([]attachment, problem) {
	if p.set != nil && !p.set.reject.ok() {
		return nil, newProblem(gatewayv1.RouteReasonNoMatchingParent, "%s is not attached to its Gateway: %s", p, p.set.reject.message)
	}
	found, why := b.model.Attach(model.Route{Kind: kindTLSRoute, Namespace: r.Namespace, Hostnames: r.Spec.Hostnames}, ref, p.m)
	if why != nil {
		return nil, problem{reason: why.Reason, message: why.Message}
	}
	attachments := make([]attachment, len(found))
	for i, a := range found {
		attachments[i] = attachment{listener: b.listenerOf[a.Listener], hostnames: a.Hostnames}
	}
	return attachments, problem{}
}

// serveTLS counts an accepted TLSRoute on a listener once and, when the
// listener is in the Config, adds it there.
func (b *builder) serveTLS(r *gatewayv1.TLSRoute, a attachment, rule routetable.Rule, served []*listenerState) []*listenerState {
	for _, l := range served {
		if l == a.listener {
			return served
		}
	}
	l := a.listener
	l.attached++
	if l.inConfig {
		l.routes = append(l.routes, &routetable.Route{
			Namespace: r.Namespace,
			Name:      r.Name,
			Created:   r.CreationTimestamp.UTC(),
			Hostnames: a.hostnames,
			Rules:     []routetable.Rule{rule},
		})
	}
	return append(served, l)
}

// tlsRule translates the route's one rule: its weighted backends, the
// problems of those that do not resolve (ResolvedRefs), and a problem for
// Accepted when the route has no rule or more than the API allows.
func (b *builder) tlsRule(r *gatewayv1.TLSRoute) (routetable.Rule, []problem, problem) {
	switch n := len(r.Spec.Rules); {
	case n == 0:
		return routetable.Rule{}, nil, newProblem(gatewayv1.RouteReasonUnsupportedValue,
			"TLSRoute %s/%s has no rules; add one rule with backendRefs.", r.Namespace, r.Name)
	case n > 1:
		return routetable.Rule{}, nil, newProblem(gatewayv1.RouteReasonUnsupportedValue,
			"TLSRoute %s/%s has %d rules; a TLSRoute has exactly one, so merge their backendRefs.", r.Namespace, r.Name, n)
	}
	var rule routetable.Rule
	var refs []problem
	where := fieldPath{}.field("spec").index("rules", 0)
	for j, ref := range r.Spec.Rules[0].BackendRefs {
		backend, unresolved := b.tlsBackend(r, ref.BackendObjectReference, where.index("backendRefs", j))
		backend.Weight = deref(ref.Weight, 1)
		if !unresolved.ok() {
			backend.Unresolved = unresolved.reason
			refs = append(refs, unresolved)
		}
		rule.Backends = append(rule.Backends, backend)
	}
	return rule, refs, problem{}
}

// tlsBackend resolves a TLSRoute backendRef to a Service port's endpoints.
// The bytes are passed through, so the port's appProtocol and any
// BackendTLSPolicy do not apply.
func (b *builder) tlsBackend(r *gatewayv1.TLSRoute, ref gatewayv1.BackendObjectReference, where fieldPath) (routetable.Backend, problem) {
	key, sp, out, pr := b.servicePort(kindTLSRoute, r.Namespace, ref, where)
	if !pr.ok() {
		return out, pr
	}
	out.Endpoints = b.endpointsOf(servicePort{service: key, name: sp.Name})
	out.Source = routetable.EndpointSource{Namespace: key.Namespace, Service: key.Name, Port: sp.Name}
	return out, problem{}
}
