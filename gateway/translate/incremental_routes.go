package translate

import (
	"cmp"
	"slices"
	"time"

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
}

// routeOrderMemo is every route of the last Build, by key and in route order.
type routeOrderMemo struct {
	byKey map[routeKey]*routeEntry
	order []*routeEntry
	gen   uint64
}

// compareEntries is routeOrder's order: oldest first, then by
// namespace/name, HTTPRoute first on a tie.
func compareEntries(x, y *routeEntry) int {
	return cmp.Or(x.created.Compare(y.created), cmp.Compare(x.key.namespace, y.key.namespace), cmp.Compare(x.key.name, y.key.name),
		cmp.Compare(boolInt(x.key.kind == kindGRPCRoute), boolInt(y.key.kind == kindGRPCRoute)))
}

// orderRoutes is every route of s in route order, each with its memory;
// ok is false when two routes share a key (the caller sorts instead).
func (m *routeOrderMemo) orderRoutes(s *Snapshot) (order []*routeEntry, ok bool) {
	if m.byKey == nil {
		m.byKey = make(map[routeKey]*routeEntry, len(s.HTTPRoutes)+len(s.GRPCRoutes))
	}
	m.gen++
	var added []*routeEntry
	seen := 0
	see := func(key routeKey, created time.Time, http *gatewayv1.HTTPRoute, grpc *gatewayv1.GRPCRoute) bool {
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
		e.gen, e.http, e.grpc = m.gen, http, grpc
		return true
	}
	for i := range s.HTTPRoutes {
		r := &s.HTTPRoutes[i]
		if !see(routeKey{kind: kindHTTPRoute, namespace: r.Namespace, name: r.Name}, r.CreationTimestamp.Time, r, nil) {
			m.byKey, m.order = nil, nil
			return nil, false
		}
	}
	for i := range s.GRPCRoutes {
		r := &s.GRPCRoutes[i]
		if !see(routeKey{kind: kindGRPCRoute, namespace: r.Namespace, name: r.Name}, r.CreationTimestamp.Time, nil, r) {
			m.byKey, m.order = nil, nil
			return nil, false
		}
	}
	if len(added) == 0 && seen == len(m.order) {
		return m.order, true // the same routes: the same order
	}
	// Keep the entries seen again, in their order; merge in the added ones.
	kept := make([]*routeEntry, 0, seen)
	for _, e := range m.order {
		if e.gen == m.gen && m.byKey[e.key] == e {
			kept = append(kept, e)
		} else if m.byKey[e.key] == e {
			delete(m.byKey, e.key) // deleted
		}
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
	return order, true
}

// entryRoutes runs the route stage over the remembered route order; false
// when there is none for this snapshot.
func (b *builder) entryRoutes(claims kindClaims) bool {
	if b.memo == nil {
		return false
	}
	order, ok := b.memo.inc.order.orderRoutes(b.s)
	if !ok {
		return false
	}
	for _, e := range order {
		b.current = e
		if e.http != nil {
			b.httpRoute(e.http, claims)
		} else {
			b.grpcRoute(e.grpc, claims)
		}
	}
	b.current = nil
	return true
}
