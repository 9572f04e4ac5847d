package translate

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The status writer reads each object afresh and merges Build's desired
// status into it with these helpers, so that it keeps what is not ours and
// transition times of conditions whose status did not change.

// ownedCondition reports whether Build writes conditions of this type; other
// types belong to someone else and are never removed or changed.
func ownedCondition(typ string) bool {
	switch typ {
	case "Accepted", "Programmed", "ResolvedRefs", "Conflicted", "OverlappingTLSConfig", "PartiallyInvalid", "InsecureFrontendValidationMode":
		return true
	}
	return false
}

// MergeConditions merges desired conditions into current ones with
// meta.SetStatusCondition's semantics, without its clock: a condition whose
// status is unchanged keeps its LastTransitionTime and takes the new reason,
// message and observedGeneration. A current condition observed at a newer
// generation than the desired one is kept as is. Conditions of types Build
// owns but no longer sets are removed; other types are kept in place.
func MergeConditions(current, desired []metav1.Condition) []metav1.Condition {
	return mergeConditions(current, desired, metav1.Time{})
}

// mergeConditions is MergeConditions, stamping with now each desired
// condition it takes (new, or of another status) that carries no time.
func mergeConditions(current, desired []metav1.Condition, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(current)+len(desired))
	for _, c := range current {
		if !ownedCondition(c.Type) || slices.ContainsFunc(desired, func(d metav1.Condition) bool { return d.Type == c.Type }) {
			out = append(out, c)
		}
	}
	for _, d := range desired {
		if d.LastTransitionTime.IsZero() {
			d.LastTransitionTime = now
		}
		i := slices.IndexFunc(out, func(c metav1.Condition) bool { return c.Type == d.Type })
		switch {
		case i < 0:
			out = append(out, d)
		case out[i].ObservedGeneration > d.ObservedGeneration:
		case out[i].Status != d.Status:
			out[i] = d
		default:
			out[i].Reason, out[i].Message, out[i].ObservedGeneration = d.Reason, d.Message, d.ObservedGeneration
		}
	}
	return out
}

// MergeGatewayClassStatus merges a desired GatewayClass status into the
// current one.
func MergeGatewayClassStatus(current, desired gatewayv1.GatewayClassStatus) gatewayv1.GatewayClassStatus {
	return gatewayv1.GatewayClassStatus{
		Conditions:        MergeConditions(current.Conditions, desired.Conditions),
		SupportedFeatures: desired.SupportedFeatures,
	}
}

// MergeGatewayStatus merges a desired Gateway status into the current one:
// addresses and listeners are Build's, conditions are merged, per listener
// too.
func MergeGatewayStatus(current, desired gatewayv1.GatewayStatus) gatewayv1.GatewayStatus {
	out := desired
	out.Conditions = MergeConditions(current.Conditions, desired.Conditions)
	out.Listeners = mergeListeners(current.Listeners, desired.Listeners, func(l *gatewayv1.ListenerStatus) (gatewayv1.SectionName, *[]metav1.Condition) {
		return l.Name, &l.Conditions
	})
	return out
}

// MergeListenerSetStatus merges a desired ListenerSet status into the
// current one the way MergeGatewayStatus does for Gateways.
func MergeListenerSetStatus(current, desired gatewayv1.ListenerSetStatus) gatewayv1.ListenerSetStatus {
	out := desired
	out.Conditions = MergeConditions(current.Conditions, desired.Conditions)
	out.Listeners = mergeListeners(current.Listeners, desired.Listeners, func(l *gatewayv1.ListenerEntryStatus) (gatewayv1.SectionName, *[]metav1.Condition) {
		return l.Name, &l.Conditions
	})
	return out
}

// mergeListeners returns the desired listener entries, each with its
// conditions merged into those of the current entry of the same name.
func mergeListeners[L any](current, desired []L, parts func(*L) (gatewayv1.SectionName, *[]metav1.Condition)) []L {
	out := make([]L, len(desired))
	for i, l := range desired {
		name, conds := parts(&l)
		if j := slices.IndexFunc(current, func(c L) bool { n, _ := parts(&c); return n == name }); j >= 0 {
			_, old := parts(&current[j])
			*conds = MergeConditions(*old, *conds)
		}
		out[i] = l
	}
	return out
}

// MergeRouteStatus merges our desired parent entries into a route's current
// status: entries of other controllers stay untouched and in place, ours are
// replaced (keeping transition times per parentRef) and ours that Build no
// longer produces are dropped. Build's route conditions carry no time (see
// Result.HTTPRoutes): a condition new or changed in this merge is stamped now.
func MergeRouteStatus(current, desired gatewayv1.HTTPRouteStatus, controller gatewayv1.GatewayController, now metav1.Time) gatewayv1.HTTPRouteStatus {
	parents := mergeOurs(current.Parents, desired.Parents, controller, now, func(p *gatewayv1.RouteParentStatus) (gatewayv1.GatewayController, *gatewayv1.ParentReference, *[]metav1.Condition) {
		return p.ControllerName, &p.ParentRef, &p.Conditions
	})
	return gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: parents}}
}

// MergePolicyStatus merges our desired ancestor entries into a policy's
// current status the way MergeRouteStatus merges parents (Build stamps a
// policy's conditions with its time itself).
func MergePolicyStatus(current, desired gatewayv1.PolicyStatus, controller gatewayv1.GatewayController) gatewayv1.PolicyStatus {
	ancestors := mergeOurs(current.Ancestors, desired.Ancestors, controller, metav1.Time{}, func(a *gatewayv1.PolicyAncestorStatus) (gatewayv1.GatewayController, *gatewayv1.ParentReference, *[]metav1.Condition) {
		return a.ControllerName, &a.AncestorRef, &a.Conditions
	})
	return gatewayv1.PolicyStatus{Ancestors: ancestors}
}

// mergeOurs keeps other controllers' entries in place and appends ours from
// desired, each merged with our current entry for the same reference; a
// condition taken without a time is stamped now.
func mergeOurs[E any](current, desired []E, controller gatewayv1.GatewayController, now metav1.Time,
	parts func(*E) (gatewayv1.GatewayController, *gatewayv1.ParentReference, *[]metav1.Condition)) []E {
	out := make([]E, 0, len(current)+len(desired))
	for i := range current {
		if owner, _, _ := parts(&current[i]); owner != controller {
			out = append(out, current[i])
		}
	}
	for _, d := range desired {
		_, ref, conds := parts(&d)
		i := slices.IndexFunc(current, func(c E) bool {
			owner, cref, _ := parts(&c)
			return owner == controller && sameParent(*cref, *ref)
		})
		switch {
		case i >= 0:
			_, _, old := parts(&current[i])
			*conds = mergeConditions(*old, *conds, now)
		case len(*conds) > 0:
			*conds = mergeConditions(nil, *conds, now) // a copy: desired is a Result's, read-only
		}
		out = append(out, d)
	}
	return out
}

// sameParent compares parentRefs with the API's defaults for group and kind
// applied.
func sameParent(a, b gatewayv1.ParentReference) bool {
	return deref(a.Group, gatewayv1.GroupName) == deref(b.Group, gatewayv1.GroupName) &&
		deref(a.Kind, "Gateway") == deref(b.Kind, "Gateway") &&
		deref(a.Namespace, "") == deref(b.Namespace, "") &&
		a.Name == b.Name &&
		deref(a.SectionName, "") == deref(b.SectionName, "") &&
		deref(a.Port, 0) == deref(b.Port, 0)
}
