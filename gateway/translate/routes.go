package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// ReasonNotAllowedByTenant is the route Accepted reason when the tenancy
// policy refuses the route.
const ReasonNotAllowedByTenant gatewayv1.RouteConditionReason = "NotAllowedByTenant"

// attachment is a route attached to one listener, with the hostnames it
// serves there.
type attachment struct {
	listener  *listenerState
	hostnames []string
}

// routes attaches every HTTPRoute to the listeners of our Gateways it names
// and records one parent status per such parentRef.
func (b *builder) routes() {
	for _, r := range sortedPointers(b.s.HTTPRoutes) {
		b.route(r)
	}
}

func (b *builder) route(r *gatewayv1.HTTPRoute) {
	key := keyOf(&r.ObjectMeta)
	var parents []int // indexes of parentRefs naming our Gateways or their ListenerSets
	for i := range r.Spec.ParentRefs {
		if _, ok := b.parentOf(r, &r.Spec.ParentRefs[i]); ok {
			parents = append(parents, i)
		}
	}
	if len(parents) == 0 {
		if b.hasOurParents(r) {
			b.result.HTTPRoutes[key] = gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{}}}
		}
		return
	}
	refused := b.refusal(r)
	t := b.translateRoute(r)
	resolved := joinProblems(t.refs)
	var served []*listenerState // listeners this route already counts on
	statuses := make([]gatewayv1.RouteParentStatus, 0, len(parents))
	for _, i := range parents {
		ref := &r.Spec.ParentRefs[i]
		p, _ := b.parentOf(r, ref)
		attachments, accepted := b.attach(r, ref, p)
		accepted = firstProblem(refused, accepted, t.accepted())
		if accepted.ok() {
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
	b.result.HTTPRoutes[key] = gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: statuses}}
}

// parent is what a route's parentRef names: one of our Gateways, whose own
// listeners it may attach to, or a ListenerSet of one, whose listeners it
// may attach to.
type parent struct {
	gateway *gatewayState
	set     *listenerSetState // nil for a Gateway
}

// parentOf resolves a parentRef to a Gateway of ours or a ListenerSet
// whose parent is one.
func (b *builder) parentOf(r *gatewayv1.HTTPRoute, ref *gatewayv1.ParentReference) (parent, bool) {
	if deref(ref.Group, gatewayv1.GroupName) != gatewayv1.GroupName {
		return parent{}, false
	}
	key := types.NamespacedName{Namespace: string(deref(ref.Namespace, gatewayv1.Namespace(r.Namespace))), Name: string(ref.Name)}
	switch deref(ref.Kind, "Gateway") {
	case "Gateway":
		g := b.gatewayByKey[key]
		return parent{gateway: g}, g != nil
	case kindListenerSet:
		st := b.setByKey[key]
		if st == nil {
			return parent{}, false
		}
		return parent{gateway: st.gateway, set: st}, true
	}
	return parent{}, false
}

// listeners are the listeners the parent offers routes.
func (p parent) listeners() []*listenerState {
	if p.set != nil {
		return p.set.listeners
	}
	return p.gateway.listeners
}

// String names the parent in messages.
func (p parent) String() string {
	if p.set != nil {
		return "ListenerSet " + p.set.key.String()
	}
	return "Gateway " + p.gateway.key.String()
}

func (b *builder) hasOurParents(r *gatewayv1.HTTPRoute) bool {
	for _, p := range r.Status.Parents {
		if p.ControllerName == b.controller {
			return true
		}
	}
	return false
}

// refusal asks the tenancy policy about the route.
func (b *builder) refusal(r *gatewayv1.HTTPRoute) problem {
	if b.s.Policy == nil {
		return problem{}
	}
	violations := b.s.Policy.RouteViolations(r)
	if len(violations) == 0 {
		return problem{}
	}
	message := "Refused by tenant policy: " + strings.Join(violations, "; ")
	if !strings.HasSuffix(message, ".") {
		message += "."
	}
	return problem{reason: string(ReasonNotAllowedByTenant), message: message}
}

// attach finds the listeners of p the parentRef selects (sectionName, port),
// keeps those whose allowedRoutes admit the route, then those whose hostname
// intersects the route's. Attachment depends on nothing else, not even the
// listener's own conditions.
func (b *builder) attach(r *gatewayv1.HTTPRoute, ref *gatewayv1.ParentReference, p parent) ([]attachment, problem) {
	if p.set != nil && !p.set.reject.ok() {
		return nil, newProblem(gatewayv1.RouteReasonNoMatchingParent, "%s is not attached to its Gateway: %s", p, p.set.reject.message)
	}
	ns := b.namespaces[r.Namespace]
	var attachments []attachment
	selected, admitted := 0, 0
	for _, l := range p.listeners() {
		if !selects(ref, l) {
			continue
		}
		selected++
		if !l.admits(ns, r.Namespace) {
			continue
		}
		admitted++
		if hosts, ok := routeHostnames(l.hostname(), r.Spec.Hostnames); ok {
			attachments = append(attachments, attachment{listener: l, hostnames: hosts})
		}
	}
	switch {
	case selected == 0:
		return nil, newProblem(gatewayv1.RouteReasonNoMatchingParent,
			"%s has no listener%s; fix the parentRef.", p, parentSelector(ref))
	case admitted == 0:
		return nil, newProblem(gatewayv1.RouteReasonNotAllowedByListeners,
			"%s does not admit this route: %s; change the listener's allowedRoutes or the parentRef.", p, b.refusals(r, ref, p))
	case len(attachments) == 0:
		var hostnames []string
		for _, l := range p.listeners() {
			if selects(ref, l) && l.admits(ns, r.Namespace) {
				hostnames = append(hostnames, fmt.Sprintf("%s: %s", l.spec.Name, l.hostname()))
			}
		}
		return nil, newProblem(gatewayv1.RouteReasonNoMatchingListenerHostname,
			"None of the route's hostnames matches a listener of %s (%s); add a matching hostname.", p, strings.Join(hostnames, ", "))
	}
	return attachments, problem{}
}

// selects reports whether a parentRef's sectionName and port, when set,
// name the listener.
func selects(ref *gatewayv1.ParentReference, l *listenerState) bool {
	return (ref.SectionName == nil || *ref.SectionName == l.spec.Name) && (ref.Port == nil || *ref.Port == l.spec.Port)
}

// refusals says why each listener the parentRef selects refuses the route.
func (b *builder) refusals(r *gatewayv1.HTTPRoute, ref *gatewayv1.ParentReference, p parent) string {
	var out []string
	for _, l := range p.listeners() {
		switch {
		case !selects(ref, l):
		case !l.httpRoutes:
			out = append(out, fmt.Sprintf("listener %s does not allow HTTPRoutes", l.spec.Name))
		default:
			out = append(out, fmt.Sprintf("listener %s admits %s, not %s", l.spec.Name, l.namespaces.describe(), r.Namespace))
		}
	}
	return strings.Join(out, "; ")
}

func parentSelector(ref *gatewayv1.ParentReference) string {
	var parts []string
	if ref.SectionName != nil {
		parts = append(parts, fmt.Sprintf(" named %s", *ref.SectionName))
	}
	if ref.Port != nil {
		parts = append(parts, fmt.Sprintf(" on port %d", *ref.Port))
	}
	return strings.Join(parts, "")
}

// describe says which namespaces a listener admits, for messages.
func (f namespaceFilter) describe() string {
	switch f.from {
	case gatewayv1.NamespacesFromSame:
		return "only its own namespace " + f.own
	case gatewayv1.NamespacesFromSelector:
		if f.selector == nil {
			return "no namespace (its selector is invalid)"
		}
		return fmt.Sprintf("only namespaces matching %q", f.selector.String())
	}
	return "no namespace (allowedRoutes.namespaces.from is " + string(f.from) + ")"
}

// serve counts an accepted route on a listener once and, when the listener is
// in the Config, adds the route to it.
func (b *builder) serve(r *gatewayv1.HTTPRoute, a attachment, t *routeTranslation, served []*listenerState) []*listenerState {
	l := a.listener
	if slices.Contains(served, l) {
		return served
	}
	l.attached++
	if l.inConfig {
		l.routes = append(l.routes, routetable.Route{
			Namespace: r.Namespace,
			Name:      r.Name,
			Created:   r.CreationTimestamp.UTC(),
			Hostnames: a.hostnames,
			Rules:     t.rules,
		})
	}
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
func (b *builder) routeConditions(r *gatewayv1.HTTPRoute, p parent, attachments []attachment, accepted, resolved problem, t *routeTranslation) []metav1.Condition {
	gen := r.Generation
	conds := []metav1.Condition{
		b.condition(string(gatewayv1.RouteConditionAccepted), accepted.ok(), orReason(accepted, gatewayv1.RouteReasonAccepted),
			orMessage(accepted, attachedMessage(p, attachments)), gen),
		b.condition(string(gatewayv1.RouteConditionResolvedRefs), resolved.ok(), orReason(resolved, gatewayv1.RouteReasonResolvedRefs),
			orMessage(resolved, "All references resolved."), gen),
	}
	if msg := t.partiallyInvalid(); msg != "" && accepted.ok() {
		conds = append(conds, b.condition(string(gatewayv1.RouteConditionPartiallyInvalid), true, string(gatewayv1.RouteReasonUnsupportedValue), msg, gen))
	}
	return conds
}
