package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// ReasonNotAllowedByTenant is the route and listener Accepted reason when
// the tenancy policy refuses the object.
const ReasonNotAllowedByTenant gatewayv1.RouteConditionReason = "NotAllowedByTenant"

// attachment is a route attached to one listener, with the hostnames it
// serves there.
type attachment struct {
	listener  *listenerState
	hostnames []string
}

// routeObject is what the route stages read of a route of any kind; the
// embedded ObjectMeta gives its namespace, name, generation and age.
type routeObject struct {
	*metav1.ObjectMeta
	kind       gatewayv1.Kind
	parentRefs []gatewayv1.ParentReference
	hostnames  []gatewayv1.Hostname
	status     *gatewayv1.RouteStatus
	// violations asks the tenant policy about the route itself.
	violations func(TenantPolicy) []string
	obj        any // the route: *gatewayv1.HTTPRoute or *gatewayv1.GRPCRoute
}

func httpRouteObject(r *gatewayv1.HTTPRoute) *routeObject {
	return &routeObject{ObjectMeta: &r.ObjectMeta, kind: kindHTTPRoute, parentRefs: r.Spec.ParentRefs, hostnames: r.Spec.Hostnames, status: &r.Status.RouteStatus,
		violations: func(p TenantPolicy) []string { return p.RouteViolations(r) }, obj: r}
}

// routes attaches every HTTPRoute and GRPCRoute to the listeners of our
// Gateways it names and records one parent status per such parentRef.
// Routes go oldest first, so where an HTTPRoute and a GRPCRoute claim the
// same hostname on a listener the older one is already served.
func (b *builder) routes() {
	var claims kindClaims // only one kind: nothing can conflict, nothing to claim
	if len(b.s.HTTPRoutes) > 0 && len(b.s.GRPCRoutes) > 0 {
		claims = kindClaims{}
	}
	if b.entryRoutes(claims) {
		return
	}
	statuses := make(map[types.NamespacedName]gatewayv1.HTTPRouteStatus, len(b.s.HTTPRoutes))
	for _, o := range b.routeOrder() {
		switch o := o.(type) {
		case *gatewayv1.HTTPRoute:
			if st, ok := b.httpRouteStatus(o, claims); ok {
				statuses[keyOf(&o.ObjectMeta)] = gatewayv1.HTTPRouteStatus{RouteStatus: st}
			}
		case *gatewayv1.GRPCRoute:
			b.grpcRoute(o, claims)
		}
	}
	b.result.HTTPRoutes = NewRouteStatuses(statuses)
}

// httpRouteStatus attaches one HTTPRoute; ok is false when it has no status of ours to write.
func (b *builder) httpRouteStatus(o *gatewayv1.HTTPRoute, claims kindClaims) (gatewayv1.RouteStatus, bool) {
	translate := func() *routeTranslation {
		return b.translated(kindHTTPRoute, &o.ObjectMeta, func() *routeTranslation { return b.translateRoute(o) })
	}
	if st, ok, hit := b.replayRoute(&o.ObjectMeta, kindHTTPRoute, o, translate); hit {
		return st, ok
	}
	return b.route(httpRouteObject(o), translate, claims)
}

// route attaches one route; ok is false when it has no status of ours to write.
func (b *builder) route(r *routeObject, translate func() *routeTranslation, claims kindClaims) (st gatewayv1.RouteStatus, ok bool) {
	if st, ok, hit := b.replayRoute(r.ObjectMeta, r.kind, r.obj, translate); hit {
		return st, ok
	}
	var (
		refused problem
		t       *routeTranslation
	)
	keep := b.recordRoute(r)
	defer func() { keep(&st, ok, refused, t) }()
	var parents []int // indexes of parentRefs naming our Gateways or their ListenerSets
	for i := range r.parentRefs {
		if _, ok := b.parentOf(r, &r.parentRefs[i]); ok {
			parents = append(parents, i)
		}
	}
	if len(parents) == 0 {
		if b.hasOurParents(r) {
			return gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{}}, true
		}
		return st, false
	}
	refused = b.routeRefusal(r)
	t = translate()
	resolved := joinProblems(t.refs)
	var served []*listenerState // listeners this route already counts on
	statuses := make([]gatewayv1.RouteParentStatus, 0, len(parents))
	for _, i := range parents {
		ref := &r.parentRefs[i]
		p, _ := b.parentOf(r, ref)
		attachments, accepted := b.attach(r, ref, p)
		accepted = firstProblem(refused, accepted, t.accepted())
		if accepted.ok() {
			accepted = claims.conflict(r, attachments)
		}
		if accepted.ok() {
			claims.claim(r, attachments)
			for _, a := range attachments {
				served = b.serve(r, a, t, served)
			}
			for _, policy := range t.policies {
				policy.addAncestor(p.gateway)
			}
		}
		statuses = append(statuses, gatewayv1.RouteParentStatus{
			ParentRef:      *ref.DeepCopy(),
			ControllerName: b.controller,
			Conditions:     b.routeConditions(r, p, attachments, accepted, resolved, t),
		})
	}
	return gatewayv1.RouteStatus{Parents: statuses}, true
}

// served counts an accepted route on the listener and, when it is in the
// Config, adds the route to it; e is the route's memory (Incremental).
func (l *listenerState) served(route *routetable.Route, e *routeEntry) {
	l.attached++
	if l.inConfig {
		if l.patch != nil {
			l.patch.added = append(l.patch.added, route)
			return
		}
		if l.track != nil && l.place(route, e) {
			return
		}
		if l.routes == nil && l.routesHint > 0 {
			l.routes = make([]*routetable.Route, 0, l.routesHint) // grown once, not doubled
		}
		l.routes = append(l.routes, route)
	}
}

// parent is what a route's parentRef names in the model, with our state
// for it: one of our Gateways, or a ListenerSet of one.
type parent struct {
	m       model.Parent
	gateway *gatewayState
	set     *listenerSetState // nil for a Gateway
}

// parentOf resolves a parentRef to a Gateway of ours or a ListenerSet
// whose parent is one.
func (b *builder) parentOf(r *routeObject, ref *gatewayv1.ParentReference) (parent, bool) {
	return b.parentIn(r.Namespace, ref)
}

// String names the parent in messages.
func (p parent) String() string { return p.m.String() }

func (b *builder) hasOurParents(r *routeObject) bool {
	for _, p := range r.status.Parents {
		if p.ControllerName == b.controller {
			return true
		}
	}
	return false
}

// refusal asks the tenancy policy about the route.
func (b *builder) refusal(r *routeObject) problem {
	if b.s.Policy == nil {
		return problem{}
	}
	return tenantProblem(r.violations(b.s.Policy))
}

// tenantProblem is NotAllowedByTenant with the policy's violations, or no
// problem when there are none.
func tenantProblem(violations []string) problem {
	if len(violations) == 0 {
		return problem{}
	}
	message := "Refused by tenant policy: " + strings.Join(violations, "; ")
	if !strings.HasSuffix(message, ".") {
		message += "."
	}
	return problem{reason: string(ReasonNotAllowedByTenant), message: message}
}

// attach is the model's attachment of the route to the parent's listeners;
// a ListenerSet we did not attach (its Gateway is not accepted, or does
// not allow it) offers none.
func (b *builder) attach(r *routeObject, ref *gatewayv1.ParentReference, p parent) ([]attachment, problem) {
	if p.set != nil && !p.set.reject.ok() {
		return nil, newProblem(gatewayv1.RouteReasonNoMatchingParent, "%s is not attached to its Gateway: %s", p, p.set.reject.message)
	}
	found, why := b.model.Attach(model.Route{Kind: r.kind, Namespace: r.Namespace, Hostnames: r.hostnames}, ref, p.m)
	if why != nil {
		return nil, problem{reason: why.Reason, message: why.Message}
	}
	attachments := make([]attachment, len(found))
	for i, a := range found {
		attachments[i] = attachment{listener: b.listenerOf[a.Listener], hostnames: a.Hostnames}
	}
	return attachments, problem{}
}

// serve counts an accepted route on a listener once and, when the listener is
// in the Config, adds the route to it.
func (b *builder) serve(r *routeObject, a attachment, t *routeTranslation, served []*listenerState) []*listenerState {
	l := a.listener
	if slices.Contains(served, l) {
		return served
	}
	route := &routetable.Route{
		Namespace: r.Namespace,
		Name:      r.Name,
		Created:   r.CreationTimestamp.UTC(),
		Hostnames: a.hostnames,
		Rules:     t.rules,
		GRPC:      r.kind == kindGRPCRoute,
	}
	b.noteServed(l, route)
	l.served(route, b.current)
	return append(served, l)
}

// attachedMessage says where an accepted route is attached; the common
// message for one listener is built once per listener.
func attachedMessage(p parent, attachments []attachment) string {
	if len(attachments) == 1 {
		l := attachments[0].listener
		if l.attachedMessage == "" {
			l.attachedMessage = fmt.Sprintf("Attached to listener %s of %s.", l.spec.Name, p)
		}
		return l.attachedMessage
	}
	names := make([]string, len(attachments))
	for i, a := range attachments {
		names[i] = string(a.listener.spec.Name)
	}
	return fmt.Sprintf("Attached to %s of %s.", listenerList(names), p)
}

// routeConditions is one parent entry's conditions: Accepted, ResolvedRefs
// (even when not accepted) and PartiallyInvalid when rules were dropped.
func (b *builder) routeConditions(r *routeObject, p parent, attachments []attachment, accepted, resolved problem, t *routeTranslation) []metav1.Condition {
	gen := r.Generation
	conds := []metav1.Condition{
		b.routeCondition(string(gatewayv1.RouteConditionAccepted), accepted.ok(), orReason(accepted, gatewayv1.RouteReasonAccepted),
			orMessage(accepted, attachedMessage(p, attachments)), gen),
		b.routeCondition(string(gatewayv1.RouteConditionResolvedRefs), resolved.ok(), orReason(resolved, gatewayv1.RouteReasonResolvedRefs),
			orMessage(resolved, "All references resolved."), gen),
	}
	if msg := t.partiallyInvalid(); msg != "" && accepted.ok() {
		conds = append(conds, b.routeCondition(string(gatewayv1.RouteConditionPartiallyInvalid), true, string(gatewayv1.RouteReasonUnsupportedValue), msg, gen))
	}
	return conds
}
