package translate

import (
	"strconv"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Kept route statuses are shared: most routes on a Gateway have equal
// statuses (the same parentRef, conditions and message), so Incremental
// keeps one copy of each. Sharing is safe because no status in a Result is
// written in place (MergeRouteStatus and the status writer build new slices).

// maxSharedStatuses bounds the table of shared statuses (their keys are
// long); past it the table starts afresh, kept statuses keep their copies.
const maxSharedStatuses = 4096

// sharedStatus is st, as the copy kept for every equal status.
func (inc *Incremental) sharedStatus(st gatewayv1.RouteStatus) gatewayv1.RouteStatus {
	if len(st.Parents) == 0 {
		return st
	}
	if inc.statuses == nil || len(inc.statuses) >= maxSharedStatuses {
		inc.statuses = map[string][]gatewayv1.RouteParentStatus{}
	}
	key := statusKey(st.Parents)
	if parents, ok := inc.statuses[key]; ok {
		return gatewayv1.RouteStatus{Parents: parents}
	}
	inc.statuses[key] = st.Parents
	return st
}

// statusKey spells out every field of the parents' statuses.
func statusKey(parents []gatewayv1.RouteParentStatus) string {
	var k strings.Builder
	field := func(s string) {
		k.WriteString(strconv.Itoa(len(s)))
		k.WriteByte(':')
		k.WriteString(s)
	}
	optional := func(set bool, s string) {
		if !set {
			k.WriteByte('-')
			return
		}
		field(s)
	}
	for i := range parents {
		p := &parents[i]
		r := &p.ParentRef
		optional(r.Group != nil, string(deref(r.Group, "")))
		optional(r.Kind != nil, string(deref(r.Kind, "")))
		optional(r.Namespace != nil, string(deref(r.Namespace, "")))
		field(string(r.Name))
		optional(r.SectionName != nil, string(deref(r.SectionName, "")))
		optional(r.Port != nil, strconv.Itoa(int(deref(r.Port, 0))))
		field(string(p.ControllerName))
		optional(p.Conditions != nil, strconv.Itoa(len(p.Conditions)))
		for j := range p.Conditions {
			c := &p.Conditions[j]
			field(c.Type)
			field(string(c.Status))
			field(strconv.FormatInt(c.ObservedGeneration, 10))
			field(c.LastTransitionTime.String()) // instant, zone and any monotonic reading
			field(c.Reason)
			field(c.Message)
		}
	}
	return k.String()
}
