package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// statusMemo remembers, per object, the resourceVersion at which its cached
// status was found to already hold the desired status, and that desired
// status. While neither moves, the status writer skips the object without
// merging and comparing: under churn of one route among thousands, only
// the changed route costs more than a map lookup. It also remembers what
// the writer itself wrote, so a build whose snapshot predates that write's
// echo does not write the same status again onto a stale resourceVersion
// (a conflict, and a retry of the whole job). Only the status writer's
// goroutine uses it.
type statusMemo[S any] struct {
	// same compares two desired statuses, ignoring the transition times
	// each build stamps afresh (the merge keeps the current ones).
	same    func(a, b S) bool
	entries map[types.NamespacedName]*memoEntry[S]
	pass    uint64
}

type memoEntry[S any] struct {
	resourceVersion string
	// writtenOver is the resourceVersion our own write of want replaced:
	// a snapshot taken before that write's echo reached the cache still
	// holds it, and writing again would only conflict.
	writtenOver string
	want        S
	pass        uint64
}

func newStatusMemo[S any](same func(a, b S) bool) *statusMemo[S] {
	return &statusMemo[S]{same: same, entries: map[types.NamespacedName]*memoEntry[S]{}}
}

// begin starts a pass over every object of a build.
func (m *statusMemo[S]) begin() {
	if m != nil {
		m.pass++
	}
}

// satisfied reports whether the object, at resourceVersion, was found to
// hold want already.
func (m *statusMemo[S]) satisfied(key types.NamespacedName, resourceVersion string, want S) bool {
	if m == nil {
		return false
	}
	e := m.entries[key]
	if e == nil {
		return false
	}
	e.pass = m.pass
	return (e.resourceVersion == resourceVersion || e.writtenOver != "" && e.writtenOver == resourceVersion) && m.same(e.want, want)
}

// record notes that the object, at resourceVersion, holds want.
func (m *statusMemo[S]) record(key types.NamespacedName, resourceVersion string, want S) {
	if m != nil {
		m.entries[key] = &memoEntry[S]{resourceVersion: resourceVersion, want: want, pass: m.pass}
	}
}

// written notes that our write of want over resourceVersion over succeeded
// and left the object at resourceVersion now.
func (m *statusMemo[S]) written(key types.NamespacedName, over, now string, want S) {
	if m != nil {
		m.entries[key] = &memoEntry[S]{resourceVersion: now, writtenOver: over, want: want, pass: m.pass}
	}
}

// end forgets the objects this pass did not see (deleted, or no longer ours).
func (m *statusMemo[S]) end() {
	if m == nil {
		return
	}
	for k, e := range m.entries {
		if e.pass != m.pass {
			delete(m.entries, k)
		}
	}
}

// sameRouteStatus compares route statuses as the memo needs.
func sameRouteStatus(a, b gatewayv1.RouteStatus) bool {
	if len(a.Parents) != len(b.Parents) {
		return false
	}
	for i := range a.Parents {
		x, y := &a.Parents[i], &b.Parents[i]
		if x.ControllerName != y.ControllerName || !sameParentRef(&x.ParentRef, &y.ParentRef) || !sameConditions(x.Conditions, y.Conditions) {
			return false
		}
	}
	return true
}

func sameParentRef(a, b *gatewayv1.ParentReference) bool {
	return a.Name == b.Name && ptr.Equal(a.Group, b.Group) && ptr.Equal(a.Kind, b.Kind) && ptr.Equal(a.Namespace, b.Namespace) &&
		ptr.Equal(a.SectionName, b.SectionName) && ptr.Equal(a.Port, b.Port)
}

// sameConditions compares conditions but for their transition times.
func sameConditions(a, b []metav1.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message || x.ObservedGeneration != y.ObservedGeneration {
			return false
		}
	}
	return true
}
