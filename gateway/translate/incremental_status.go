package translate

import (
	"hash/maphash"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Kept route statuses are shared: most routes on a Gateway have equal
// statuses (the same parentRef, conditions and message), so Incremental
// keeps one copy of each. Sharing is safe because no status in a Result is
// written in place (MergeRouteStatus and the status writer build new slices).

// maxSharedStatuses bounds the table of shared statuses; past it the table
// starts afresh, kept statuses keep their copies.
const maxSharedStatuses = 4096

// sharedStatus is st, as the copy kept for every equal status. Statuses
// are found by a hash of every field, then compared: a route stage computed
// again (20,000 of them after a Gateway edit) allocates no key.
func (inc *Incremental) sharedStatus(st gatewayv1.RouteStatus) gatewayv1.RouteStatus {
	if len(st.Parents) == 0 {
		return st
	}
	if inc.statuses == nil || inc.sharedCount >= maxSharedStatuses {
		inc.statuses, inc.sharedCount = map[uint64][][]gatewayv1.RouteParentStatus{}, 0
	}
	key := statusHash(st.Parents)
	for _, parents := range inc.statuses[key] {
		if sameParentStatuses(parents, st.Parents) {
			return gatewayv1.RouteStatus{Parents: parents}
		}
	}
	inc.statuses[key] = append(inc.statuses[key], st.Parents)
	inc.sharedCount++
	return st
}

// statusSeed keys the shared statuses of this process.
var statusSeed = maphash.MakeSeed()

// statusHash hashes every field of the parents' statuses that
// sameParentStatuses compares.
func statusHash(parents []gatewayv1.RouteParentStatus) uint64 {
	var h maphash.Hash
	h.SetSeed(statusSeed)
	field := func(s string) {
		h.WriteString(s)
		h.WriteByte(0)
	}
	optional := func(p *string) {
		if p == nil {
			h.WriteByte(1)
			return
		}
		field(*p)
	}
	for i := range parents {
		p := &parents[i]
		r := &p.ParentRef
		optional((*string)(r.Group))
		optional((*string)(r.Kind))
		optional((*string)(r.Namespace))
		field(string(r.Name))
		optional((*string)(r.SectionName))
		if r.Port != nil {
			maphash.WriteComparable(&h, *r.Port)
		}
		field(string(p.ControllerName))
		maphash.WriteComparable(&h, len(p.Conditions))
		for j := range p.Conditions {
			c := &p.Conditions[j]
			field(c.Type)
			field(string(c.Status))
			maphash.WriteComparable(&h, c.ObservedGeneration)
			maphash.WriteComparable(&h, c.LastTransitionTime.UnixNano())
			field(c.Reason)
			field(c.Message)
		}
	}
	return h.Sum64()
}

// sameParentStatuses says whether two statuses are equal in every field,
// transition times to the instant, zone and monotonic reading.
func sameParentStatuses(a, b []gatewayv1.RouteParentStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		rx, ry := &x.ParentRef, &y.ParentRef
		if rx.Name != ry.Name || !ptr.Equal(rx.Group, ry.Group) || !ptr.Equal(rx.Kind, ry.Kind) || !ptr.Equal(rx.Namespace, ry.Namespace) ||
			!ptr.Equal(rx.SectionName, ry.SectionName) || !ptr.Equal(rx.Port, ry.Port) || x.ControllerName != y.ControllerName ||
			(x.Conditions == nil) != (y.Conditions == nil) || len(x.Conditions) != len(y.Conditions) {
			return false
		}
		for j := range x.Conditions {
			if !sameCondition(&x.Conditions[j], &y.Conditions[j]) {
				return false
			}
		}
	}
	return true
}

func sameCondition(a, b *metav1.Condition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.ObservedGeneration == b.ObservedGeneration &&
		a.LastTransitionTime.Time == b.LastTransitionTime.Time && a.Reason == b.Reason && a.Message == b.Message
}
