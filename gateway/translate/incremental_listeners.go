package translate

import (
	"cmp"
	"slices"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// A listener's routes are served in route order (oldest first) and handed
// to the data plane by namespace/name; Incremental keeps, per listener,
// the routes it served last Build and where each went in the sorted list.
// While the same routes are served in the same order (a route's rules may
// have changed) each goes straight to its place and nothing is sorted.

// listenerMemo is one listener's routes of the last Build, in the order
// served, and where each went in the sorted list.
type listenerMemo struct {
	entries []*routeEntry
	perm    []int32
}

// listenerTrack follows the routes served on one listener this Build
// against its memo.
type listenerTrack struct {
	memos map[string]*listenerMemo // this Build's, by listener name
	prev  *listenerMemo            // nil: none
	// placed: l.routes has len(prev.entries) slots and the first same
	// routes served, prev's first same, are in their sorted places.
	placed bool
	same   int
	seq    []*routeEntry // the routes served, once not placed
	broken bool          // a route without memory was served: sort, keep nothing
}

// trackListeners starts following every listener in the Config.
func (b *builder) trackListeners() {
	inc := b.memo.inc
	prev := inc.listenerMemos
	if inc.listenerEpoch != inc.stageEpoch {
		prev = nil // listeners may have changed
	}
	inc.listenerMemos, inc.listenerEpoch = make(map[string]*listenerMemo, len(prev)), inc.stageEpoch
	for _, l := range b.listenerOf {
		if !l.inConfig {
			continue
		}
		t := &listenerTrack{memos: inc.listenerMemos, prev: prev[l.name]}
		if changedParent(b.memo.stage.parents, l) {
			t.prev = nil // its Gateway or ListenerSet changed: the listener may be another
		}
		if t.prev != nil && len(t.prev.entries) > 0 {
			t.placed = true
			l.routes = make([]*routetable.Route, len(t.prev.entries))
		}
		l.track = t
	}
}

// place puts the route served at its sorted place when it is the one
// served there last Build; false when the caller appends it.
func (l *listenerState) place(route *routetable.Route, e *routeEntry) bool {
	t := l.track
	if t.placed {
		if e != nil && t.same < len(t.prev.entries) && t.prev.entries[t.same] == e {
			l.routes[t.prev.perm[t.same]] = route
			t.same++
			return true
		}
		l.unplace()
	}
	if e == nil {
		t.broken = true
	}
	t.seq = append(t.seq, e)
	return false
}

// unplace turns the placed routes back into the order served.
func (l *listenerState) unplace() {
	t := l.track
	routes := make([]*routetable.Route, t.same, max(len(t.prev.entries), t.same+1))
	for i := range t.same {
		routes[i] = l.routes[t.prev.perm[i]]
	}
	l.routes, t.placed = routes, false
	t.seq = slices.Clone(t.prev.entries[:t.same])
}

// sortedRoutes is sortedRoutes(l.routes), with no sort when every route
// went to its place, and remembers the order for the next Build.
func (l *listenerState) sortedRoutes() []*routetable.Route {
	if l.patch != nil {
		return l.patch.patched()
	}
	t := l.track
	if t == nil {
		return sortedRoutes(l.routes)
	}
	if t.placed {
		if t.same == len(t.prev.entries) {
			t.memos[l.name] = t.prev
			return l.routes
		}
		l.unplace()
	}
	if len(l.routes) == 0 {
		return nil
	}
	if t.broken || len(t.seq) != len(l.routes) {
		return sortedRoutes(l.routes) // routes served elsewhere (TLS) or without memory
	}
	order := make([]int32, len(l.routes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return compareServed(l.routes[x], l.routes[y]) })
	out := make([]*routetable.Route, len(order))
	perm := make([]int32, len(order))
	for j, i := range order {
		out[j] = l.routes[i]
		perm[i] = int32(j)
	}
	t.memos[l.name] = &listenerMemo{entries: t.seq, perm: perm}
	return out
}

// compareServed is sortedRoutes's order.
func compareServed(x, y *routetable.Route) int {
	return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name), cmp.Compare(boolInt(x.GRPC), boolInt(y.GRPC)))
}
