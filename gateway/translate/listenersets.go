package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
)

const kindListenerSet = "ListenerSet"

// listenerSetState is one ListenerSet whose parent is one of our Gateways.
type listenerSetState struct {
	set     *gatewayv1.ListenerSet
	key     types.NamespacedName
	gateway *gatewayState
	// precedence of its listeners among the Gateway's: 1 for the oldest
	// attached ListenerSet, then counting up.
	precedence int
	// reject is why none of its listeners is attached: the Gateway is not
	// accepted (ParentNotAccepted) or does not allow it (NotAllowed).
	reject    problem
	listeners []*listenerState
}

// listenerSets attaches every ListenerSet the model found naming one of our
// Gateways, in the model's precedence order (oldest first, then by
// namespace/name), so each one's listeners lose port conflicts to the
// Gateway's and to older ListenerSets'.
func (b *builder) listenerSets() {
	for _, ms := range b.model.ListenerSets() {
		g := b.gatewayByKey[ms.Parent.Key]
		st := &listenerSetState{set: ms.Object, key: ms.Key, gateway: g}
		b.setByKey[st.key] = st
		b.orderedSets = append(b.orderedSets, st)
		if !g.reject.ok() {
			st.reject = newProblem(gatewayv1.ListenerSetReasonParentNotAccepted,
				"Gateway %s is not accepted, so ListenerSet %s cannot attach to it; see the Gateway's Accepted condition.", g.key, st.key)
			continue
		}
		if ms.Refusal != "" {
			st.reject = problem{reason: string(gatewayv1.ListenerSetReasonNotAllowed), message: model.ListenerSetNotAllowed(g.key, ms.Key.Namespace, ms.Refusal)}
			continue
		}
		g.sets = append(g.sets, st)
		st.precedence = len(g.sets)
		refused := b.listenerRefusals(nil, ms.Object)
		for _, ml := range ms.Listeners {
			st.listeners = append(st.listeners, b.listener(g, st, ml, refused(ml.Spec.Name)))
		}
	}
}

// allListeners are a Gateway's own listeners, then those of its attached
// ListenerSets in precedence order.
func (g *gatewayState) allListeners() []*listenerState {
	all := g.listeners
	for _, st := range g.sets {
		all = append(slices.Clip(all), st.listeners...)
	}
	return all
}

// valid reports whether the listener can be served: supported, accepted,
// not conflicted and, for HTTPS, with a usable certificate.
func (l *listenerState) valid() bool {
	return l.supported && l.accept.ok() && l.conflict.ok() && (l.spec.Protocol != gatewayv1.HTTPSProtocolType || len(l.certificates) > 0)
}

// invalidListeners names a ListenerSet's listeners that cannot be served.
func (st *listenerSetState) invalidListeners() []string {
	var out []string
	for _, l := range st.listeners {
		if !l.valid() {
			out = append(out, string(l.spec.Name))
		}
	}
	return out
}

// attached reports whether the ListenerSet counts in its Gateway's
// attachedListenerSets: allowed, and with at least one valid listener.
func (st *listenerSetState) attached() bool {
	return st.reject.ok() && len(st.invalidListeners()) < len(st.listeners)
}

// listenerSetStatuses records the status of every ListenerSet of ours.
func (b *builder) listenerSetStatuses() {
	for _, st := range b.orderedSets {
		gen := st.set.Generation
		accepted, programmed := b.listenerSetConditions(st)
		status := gatewayv1.ListenerSetStatus{
			Conditions: []metav1.Condition{
				b.condition(string(gatewayv1.ListenerSetConditionAccepted), accepted.ok, accepted.reason, accepted.message, gen),
				b.condition(string(gatewayv1.ListenerSetConditionProgrammed), programmed.ok, programmed.reason, programmed.message, gen),
			},
			Listeners: make([]gatewayv1.ListenerEntryStatus, 0, len(st.listeners)),
		}
		for _, l := range st.listeners {
			if slices.ContainsFunc(status.Listeners, func(e gatewayv1.ListenerEntryStatus) bool { return e.Name == l.spec.Name }) {
				continue // status lists each name once
			}
			ls := b.listenerStatus(l)
			status.Listeners = append(status.Listeners, gatewayv1.ListenerEntryStatus{
				Name: ls.Name, SupportedKinds: ls.SupportedKinds, AttachedRoutes: ls.AttachedRoutes, Conditions: ls.Conditions,
			})
		}
		b.result.ListenerSets[st.key] = status
	}
}

// listenerSetConditions are a ListenerSet's Accepted and Programmed.
func (b *builder) listenerSetConditions(st *listenerSetState) (accepted, programmed acceptance) {
	if !st.reject.ok() {
		notProgrammed := acceptance{reason: st.reject.reason, message: st.reject.message}
		if st.reject.reason == string(gatewayv1.ListenerSetReasonParentNotAccepted) {
			notProgrammed.reason = "ParentNotProgrammed"
		}
		return acceptance{reason: st.reject.reason, message: st.reject.message}, notProgrammed
	}
	invalid := st.invalidListeners()
	switch {
	case len(invalid) == len(st.listeners):
		why := acceptance{reason: string(gatewayv1.ListenerSetReasonListenersNotValid),
			message: fmt.Sprintf("No listener is valid (%s); see the listeners' conditions.", strings.Join(invalid, ", "))}
		return why, why
	case len(invalid) > 0:
		accepted = acceptance{ok: true, reason: string(gatewayv1.ListenerSetReasonListenersNotValid),
			message: fmt.Sprintf("Of this ListenerSet, %s %s not valid and not served; the other listeners are.", listenerList(invalid), verb(len(invalid), "is", "are"))}
	default:
		accepted = acceptance{ok: true, reason: string(gatewayv1.ListenerSetReasonAccepted), message: "The ListenerSet and all its listeners are valid."}
	}
	g := st.gateway
	switch {
	case slices.ContainsFunc(st.listeners, func(l *listenerState) bool { return l.programmed.ok() }):
		programmed = acceptance{ok: true, reason: string(gatewayv1.ListenerSetReasonProgrammed), message: b.servedOn(g.address, "")}
	case !g.addressed.ok():
		programmed = acceptance{reason: "ParentNotProgrammed", message: fmt.Sprintf("Gateway %s has no usable address; see its Programmed condition.", g.key)}
	default:
		programmed = acceptance{reason: string(gatewayv1.ListenerSetReasonPending), message: fmt.Sprintf("Waiting for the data plane to listen on %s.", g.address)}
	}
	return accepted, programmed
}

// attachedSets counts the ListenerSets attached to a Gateway.
func (g *gatewayState) attachedSets() int32 {
	var n int32
	for _, st := range g.sets {
		if st.attached() {
			n++
		}
	}
	return n
}

// namedBySets reports whether any ListenerSet names the Gateway as parent,
// so its status shows attachedListenerSets even when that is 0.
func (b *builder) namedBySets(g *gatewayState) bool {
	return slices.ContainsFunc(b.orderedSets, func(st *listenerSetState) bool { return st.gateway == g })
}
