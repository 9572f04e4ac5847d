package translate

import (
	"cmp"
	"slices"
	"time"
	"unsafe"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Incremental keeps the routes of the last Build in route order
// (routeOrder), each with its kept verdict and stage, so that a Build in
// which no route was added, deleted or recreated finds every route with
// one lookup and sorts nothing; added routes are sorted among themselves
// and merged into the kept order.

// routeEntry is one route of the last Build, at its place in route order.
type routeEntry struct {
	key     routeKey
	created time.Time
	// The snapshot's object this Build: one of the two.
	http *gatewayv1.HTTPRoute
	grpc *gatewayv1.GRPCRoute
	gen  uint64 // the Build that saw it last

	translation *routeMemo
	refusal     *refusalMemo
	stage       *stageMemo

	// published is the route's status in the memo's statuses (an
	// HTTPRoute's), as the identity of its slices, while pubEpoch is the
	// memo's statusesEpoch.
	published statusIdentity
	pubEpoch  uint64
}

// statusIdentity tells a status apart from any other without reading it:
// kept statuses are never written in place, so the same slice is the same status.
type statusIdentity struct {
	parents *gatewayv1.RouteParentStatus
	n       int
	isNil   bool
}

func identityOf(st gatewayv1.RouteStatus) statusIdentity {
	return statusIdentity{parents: unsafe.SliceData(st.Parents), n: len(st.Parents), isNil: st.Parents == nil}
}

// routeOrderMemo is every route of the last Build, by key and in route order.
type routeOrderMemo struct {
	byKey map[routeKey]*routeEntry
	// byObject finds an entry by the object it saw last: the controller
	// hands over its cache's objects, which are replaced, never written,
	// so most routes are found by pointer without hashing their names.
	byObject map[unsafe.Pointer]*routeEntry
	order    []*routeEntry
	gen      uint64
	// statuses is the last Result's HTTPRoute statuses when that Build's
	// gen is statusesGen.
	statuses    RouteStatuses
	statusesGen uint64
	// statusesEpoch counts the times statuses started afresh: an entry's
	// published status is in statuses while its pubEpoch is this.
	statusesEpoch uint64
}

// compareEntries is routeOrder's order: oldest first, then by
// namespace/name, HTTPRoute first on a tie.
func compareEntries(x, y *routeEntry) int {
	return cmp.Or(x.created.Compare(y.created), cmp.Compare(x.key.namespace, y.key.namespace), cmp.Compare(x.key.name, y.key.name),
		cmp.Compare(boolInt(x.key.kind == kindGRPCRoute), boolInt(y.key.kind == kindGRPCRoute)))
}

// orderRoutes is every route of s in route order, each with its memory,
// and the routes of the last Build no longer there; ok is false when two
// routes share a key (the caller sorts instead).
func (m *routeOrderMemo) orderRoutes(s *Snapshot) (order, gone []*routeEntry, ok bool) {
	if m.byKey == nil {
		m.byKey = make(map[routeKey]*routeEntry, len(s.HTTPRoutes)+len(s.GRPCRoutes))
		m.byObject = make(map[unsafe.Pointer]*routeEntry, len(s.HTTPRoutes)+len(s.GRPCRoutes))
	}
	m.gen++
	var added []*routeEntry
	seen := 0
	see := func(key routeKey, created time.Time, http *gatewayv1.HTTPRoute, grpc *gatewayv1.GRPCRoute) bool {
		obj := objectPointer(http, grpc)
		if e := m.byObject[obj]; e != nil && e.gen != m.gen && e.key == key && e.created.Equal(created) {
			e.gen = m.gen // the same object as last Build
			seen++
			return true
		}
		e := m.byKey[key]
		if e != nil && e.gen == m.gen {
			return false // the key repeats
		}
		if e == nil || !e.created.Equal(created) {
			e = &routeEntry{key: key, created: created} // new or recreated: forget the old one's memory
			m.byKey[key] = e
			added = append(added, e)
		} else {
			seen++
		}
		if was := e.object(); was != obj && m.byObject[was] == e {
			delete(m.byObject, was)
		}
		// The key in this object's own strings: the next Build's check by
		// pointer then compares strings that are one, without reading them.
		e.key, e.gen, e.http, e.grpc = key, m.gen, http, grpc
		m.byObject[obj] = e
		return true
	}
	for _, r := range s.HTTPRoutes {
		if !see(routeKey{kind: kindHTTPRoute, namespace: r.Namespace, name: r.Name}, r.CreationTimestamp.Time, r, nil) {
			m.byKey, m.byObject, m.order, m.statuses = nil, nil, nil, RouteStatuses{}
			return nil, nil, false
		}
	}
	for _, r := range s.GRPCRoutes {
		if !see(routeKey{kind: kindGRPCRoute, namespace: r.Namespace, name: r.Name}, r.CreationTimestamp.Time, nil, r) {
			m.byKey, m.byObject, m.order, m.statuses = nil, nil, nil, RouteStatuses{}
			return nil, nil, false
		}
	}
	if len(added) == 0 && seen == len(m.order) {
		return m.order, nil, true // the same routes: the same order
	}
	// Keep the entries seen again, in their order; merge in the added ones.
	kept := make([]*routeEntry, 0, seen)
	for _, e := range m.order {
		if e.gen == m.gen {
			kept = append(kept, e) // seen this Build: still the key's entry
			continue
		}
		if m.byKey[e.key] == e {
			delete(m.byKey, e.key) // deleted
		} // else recreated: the key has a new entry
		if m.byObject[e.object()] == e {
			delete(m.byObject, e.object())
		}
		gone = append(gone, e)
	}
	slices.SortFunc(added, compareEntries)
	order = make([]*routeEntry, 0, len(kept)+len(added))
	i, j := 0, 0
	for i < len(kept) && j < len(added) {
		if compareEntries(kept[i], added[j]) <= 0 {
			order = append(order, kept[i])
			i++
		} else {
			order = append(order, added[j])
			j++
		}
	}
	order = append(append(order, kept[i:]...), added[j:]...)
	m.order = order
	return order, gone, true
}

// object is the snapshot object the entry saw last.
func (e *routeEntry) object() unsafe.Pointer { return objectPointer(e.http, e.grpc) }

func objectPointer(http *gatewayv1.HTTPRoute, grpc *gatewayv1.GRPCRoute) unsafe.Pointer {
	if http != nil {
		return unsafe.Pointer(http)
	}
	return unsafe.Pointer(grpc)
}

// entryRoutes runs the route stage over the remembered route order; false
// when there is none for this snapshot. The HTTPRoute statuses are the
// last Result's with those that changed laid over them (RouteStatuses).
func (b *builder) entryRoutes(claims kindClaims) bool {
	if b.memo == nil {
		return false
	}
	if b.skipping {
		b.skipRoutes(claims)
		return true
	}
	m := &b.memo.inc.order
	prevGen := m.gen
	order, gone, ok := m.orderRoutes(b.s)
	if !ok {
		b.memo.inc.skip.ready = false
		return false
	}
	// The last Result's statuses, with only the changed routes written over them.
	edit := m.editStatuses(prevGen, len(b.s.HTTPRoutes))
	for _, e := range gone {
		m.unpublish(edit, e)
	}
	b.memo.inc.stats.Walked = len(order)
	for _, e := range order {
		b.current = e
		if e.grpc != nil {
			b.grpcRoute(e.grpc, claims)
			continue
		}
		st, ok := b.httpRouteStatus(e.http, claims)
		m.publish(edit, e, st, ok)
	}
	b.current = nil
	m.doneStatuses(b, edit)
	b.memo.inc.skip.ready, b.memo.inc.skip.epoch = b.stagesReady(order), b.memo.inc.stageEpoch
	return true
}

// editStatuses starts this Build's statuses: the last Build's, when it
// made them (its gen is prevGen), else afresh.
func (m *routeOrderMemo) editStatuses(prevGen uint64, size int) *routeStatusEdit {
	if m.statusesGen == prevGen && m.statusesGen != 0 {
		return m.statuses.edit()
	}
	m.statusesEpoch++ // no entry's status is in the new ones yet
	return newRouteStatusEdit(size)
}

// publish writes an HTTPRoute's status, when it has one, unless the statuses hold it already.
func (m *routeOrderMemo) publish(edit *routeStatusEdit, e *routeEntry, st gatewayv1.RouteStatus, ok bool) {
	was := e.pubEpoch == m.statusesEpoch
	switch id := identityOf(st); {
	case ok && was && id == e.published:
	case ok:
		edit.set(keyOf(&e.http.ObjectMeta), gatewayv1.HTTPRouteStatus{RouteStatus: st})
		e.published, e.pubEpoch = id, m.statusesEpoch
	case was:
		edit.delete(keyOf(&e.http.ObjectMeta))
		e.pubEpoch = 0
	}
}

// unpublish takes a route no longer in the snapshot out of the statuses.
func (m *routeOrderMemo) unpublish(edit *routeStatusEdit, e *routeEntry) {
	if e.http != nil && e.pubEpoch == m.statusesEpoch {
		edit.delete(types.NamespacedName{Namespace: e.key.namespace, Name: e.key.name})
		e.pubEpoch = 0
	}
}

func (m *routeOrderMemo) doneStatuses(b *builder, edit *routeStatusEdit) {
	b.result.HTTPRoutes = edit.done()
	m.statuses, m.statusesGen = b.result.HTTPRoutes, m.gen
}
